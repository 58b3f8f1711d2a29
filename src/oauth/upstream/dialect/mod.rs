//! Providers whose sign-in is not the standard code exchange plus one user-info request:
//! each is a small sans-IO state machine that says which HTTP request to send next and reads
//! the answer, until it knows the user. The service sends the requests ([`Call`]) and hands
//! back the answers ([`Answer`]); nothing here does I/O or reads the clock.
//!
//! | dialect | file | requests |
//! |---------|------|----------|
//! | QQ (`graph.qq.com`) | `qq.rs` | token (GET), `/oauth2.0/me` (JSONP) with `unionid=1`, `get_user_info` |
//! | DingTalk (`api.dingtalk.com`) | `dingtalk.rs` | `POST /v1.0/oauth2/userAccessToken` (JSON), `/v1.0/contact/users/me` |
//! | Feishu / Lark | `feishu.rs` | app access token, user access token, user info |
//! | WeCom (企业微信) | `wecom.rs` | `gettoken` (corp id + secret), `auth/getuserinfo` by code |
//! | Alipay (支付宝) | `alipay.rs` | `alipay.system.oauth.token`, `alipay.user.info.share`: RSA2-signed, answers verified |
//! | WeChat mini programs (微信小程序) | `wechat_mini_program.rs` | `jscode2session` with the mini program's `js_code` (no browser) |

pub mod alipay;
pub mod dingtalk;
pub mod feishu;
pub mod qq;
pub mod wechat_mini_program;
pub mod wecom;

use std::fmt;

use serde_json::Value;
use url::Url;

use super::{ExternalProfile, Secret, UpstreamError};

/// Which provider-specific flow a provider follows, with what only that flow needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// QQ Connect (QQ 互联).
    Qq,
    /// DingTalk's OAuth 2.0 of `api.dingtalk.com` (钉钉).
    DingTalk,
    /// Feishu (飞书) and Lark: the same API on `open.feishu.cn` or `open.larksuite.com`.
    Feishu,
    /// WeCom (企业微信): our client id is the corp id, the secret the application's.
    WeCom {
        /// The application's `agentid`.
        agent_id: String,
    },
    /// Alipay (支付宝) open platform: the client secret is our application's RSA private key.
    Alipay {
        /// Alipay's public key (base64 DER, as the open platform shows it, or PEM), which
        /// signs its answers.
        alipay_public_key: String,
    },
    /// A WeChat mini program: the code comes from `wx.login()` in the app, not from a
    /// browser's callback (`POST /o/login/wechat-mp/`).
    WechatMiniProgram,
}

impl Dialect {
    /// Whether people sign in through a browser (a button on the login page, a callback).
    pub fn browser_flow(&self) -> bool {
        !matches!(self, Dialect::WechatMiniProgram)
    }

    /// The callback parameters that may carry the authorization code, in order of
    /// preference (DingTalk sends `authCode`, Alipay `auth_code`).
    pub fn code_params(&self) -> &'static [&'static str] {
        match self {
            Dialect::DingTalk => &["authCode", "code"],
            Dialect::Alipay { .. } => &["auth_code"],
            _ => &["code"],
        }
    }

    /// The URL the browser is sent to: each provider's own parameter names.
    pub fn authorization_url(
        &self,
        endpoint: &str,
        client_id: &str,
        scopes: &[String],
        redirect_uri: &str,
        state: &str,
    ) -> Result<String, UpstreamError> {
        let scope = scopes.join(" ");
        let pairs: Vec<(&str, &str)> = match self {
            Dialect::Qq => vec![
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("state", state),
                ("scope", &scope),
            ],
            Dialect::DingTalk => vec![
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("client_id", client_id),
                ("scope", &scope),
                ("state", state),
                ("prompt", "consent"),
            ],
            Dialect::Feishu => vec![("app_id", client_id), ("redirect_uri", redirect_uri), ("state", state)],
            Dialect::WeCom { agent_id } => vec![
                ("login_type", "CorpApp"),
                ("appid", client_id),
                ("agentid", agent_id),
                ("redirect_uri", redirect_uri),
                ("state", state),
            ],
            Dialect::Alipay { .. } => {
                vec![("app_id", client_id), ("scope", &scope), ("redirect_uri", redirect_uri), ("state", state)]
            }
            Dialect::WechatMiniProgram => {
                return Err(UpstreamError::Unavailable("a mini program signs in without a browser".into()))
            }
        };
        Ok(url_with(endpoint, &pairs)?.into())
    }

    /// The flow that turns `input.code` into the user's profile.
    pub fn exchange(&self, input: ExchangeInput) -> Result<Box<dyn Exchange + Send>, UpstreamError> {
        Ok(match self {
            Dialect::Qq => Box::new(qq::QqExchange::new(input)),
            Dialect::DingTalk => Box::new(dingtalk::DingTalkExchange::new(input)),
            Dialect::Feishu => Box::new(feishu::FeishuExchange::new(input)),
            Dialect::WeCom { .. } => Box::new(wecom::WeComExchange::new(input)),
            Dialect::Alipay { alipay_public_key } => Box::new(alipay::AlipayExchange::new(input, alipay_public_key)?),
            Dialect::WechatMiniProgram => Box::new(wechat_mini_program::JsCodeExchange::new(input)),
        })
    }
}

/// What a flow starts from.
#[derive(Clone)]
pub struct ExchangeInput {
    /// Where the provider's API is (`https://graph.qq.com`; a loopback URL in tests).
    pub api_base: String,
    /// Our client id (QQ's appid, DingTalk's client id, Feishu's app id, the WeCom corp id,
    /// the Alipay app id).
    pub client_id: String,
    /// Our client secret (the Alipay application's private key).
    pub client_secret: Secret,
    /// The code from the callback.
    pub code: String,
    /// Our redirect URI, sent again where the provider wants it.
    pub redirect_uri: String,
    /// Unix seconds (Alipay's `timestamp`).
    pub now: i64,
}

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// A request body.
#[derive(Clone, PartialEq)]
pub enum Body {
    /// None.
    Empty,
    /// `application/x-www-form-urlencoded` (Alipay's gateway).
    Form(Vec<(String, String)>),
    /// `application/json` (DingTalk, Feishu).
    Json(Value),
}

/// One request to send. `Debug` shows neither the query nor headers nor body: they carry
/// secrets and tokens.
#[derive(Clone, PartialEq)]
pub struct Call {
    /// GET or POST.
    pub method: Method,
    /// The whole URL, query included.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl fmt::Debug for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = Url::parse(&self.url).map(|u| u.path().to_owned()).unwrap_or_default();
        f.debug_struct("Call").field("method", &self.method).field("path", &path).finish_non_exhaustive()
    }
}

impl Call {
    /// A GET of `base` + `path` with `query`.
    pub fn get(base: &str, path: &str, query: &[(&str, &str)]) -> Result<Self, UpstreamError> {
        Ok(Call {
            method: Method::Get,
            url: url_with(&join(base, path), query)?.into(),
            headers: Vec::new(),
            body: Body::Empty,
        })
    }

    /// A POST of a JSON body to `base` + `path`.
    pub fn post_json(base: &str, path: &str, body: Value) -> Result<Self, UpstreamError> {
        Ok(Call {
            method: Method::Post,
            url: url_with(&join(base, path), &[])?.into(),
            headers: Vec::new(),
            body: Body::Json(body),
        })
    }

    /// The same call with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What came back: the status and the body as text.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// What a flow wants next.
#[derive(Debug)]
pub enum Next {
    /// Send this and pass the answer to [`Exchange::answer`].
    Send(Call),
    /// The user, as the provider named them.
    Done(ExternalProfile),
}

/// A provider's sign-in after the callback, one request at a time.
pub trait Exchange {
    /// The first request.
    fn start(&mut self) -> Result<Call, UpstreamError>;
    /// Reads the answer to the last request.
    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError>;
}

/// The most requests any flow makes: more means a flow went round in circles.
pub const MAX_CALLS: usize = 4;

fn join(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

fn url_with(endpoint: &str, pairs: &[(&str, &str)]) -> Result<Url, UpstreamError> {
    let mut url =
        Url::parse(endpoint).map_err(|e| UpstreamError::Unavailable(format!("endpoint {endpoint:?}: {e}")))?;
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(url)
}

/// The answer's body as JSON; a body that is not JSON is an unusable answer.
fn json_body(answer: &Answer) -> Result<Value, UpstreamError> {
    serde_json::from_str(answer.body.trim())
        .map_err(|_| UpstreamError::Unavailable(format!("HTTP {}: not a JSON document", answer.status)))
}

/// A 2xx status, or an unusable answer.
fn ok_status(answer: &Answer, what: &str) -> Result<(), UpstreamError> {
    match answer.status {
        200..=299 => Ok(()),
        s => Err(UpstreamError::Unavailable(format!("{what} answered HTTP {s}"))),
    }
}

/// A non-empty string member.
fn string(doc: &Value, key: &str) -> Option<String> {
    super::profile::id_at(doc.get(key))
}

/// A non-empty string member that must be there.
fn required(doc: &Value, key: &str, what: &str) -> Result<String, UpstreamError> {
    string(doc, key).ok_or_else(|| UpstreamError::Rejected(format!("{what} has no {key}")))
}

/// A display text member (trimmed, bounded).
fn text(doc: &Value, key: &str) -> Option<String> {
    super::profile::text_at(doc.get(key))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Drives an exchange against canned answers.
    use super::*;

    /// Runs `ex`, answering each call with `answer(call)`; returns the calls and the end.
    pub fn run(
        mut ex: Box<dyn Exchange + Send>,
        mut answer: impl FnMut(&Call) -> Answer,
    ) -> (Vec<Call>, Result<ExternalProfile, UpstreamError>) {
        let mut calls = Vec::new();
        let mut call = match ex.start() {
            Ok(c) => c,
            Err(e) => return (calls, Err(e)),
        };
        for _ in 0..MAX_CALLS {
            let a = answer(&call);
            calls.push(call);
            match ex.answer(&a) {
                Ok(Next::Send(c)) => call = c,
                Ok(Next::Done(p)) => return (calls, Ok(p)),
                Err(e) => return (calls, Err(e)),
            }
        }
        (calls, Err(UpstreamError::Unavailable("too many calls".into())))
    }

    /// A 200 answer with `body`.
    pub fn ok(body: &str) -> Answer {
        Answer { status: 200, body: body.to_owned() }
    }

    /// The query parameter `name` of a call.
    pub fn param(call: &Call, name: &str) -> Option<String> {
        Url::parse(&call.url).ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// The input every test starts from.
    pub fn input(api: &str) -> ExchangeInput {
        ExchangeInput {
            api_base: api.into(),
            client_id: "our-app".into(),
            client_secret: Secret::new("our-secret"),
            code: "the-code".into(),
            redirect_uri: "https://id.example/o/login/callback/x".into(),
            now: 1_767_225_600,
        }
    }
}
