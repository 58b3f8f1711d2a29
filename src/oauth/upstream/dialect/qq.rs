//! QQ Connect (QQ 互联, `graph.qq.com`): the token request is a GET; `/oauth2.0/me` answers
//! JSONP, `callback( {"client_id":"…","openid":"…","unionid":"…"} );`, with the `unionid`
//! only when asked (`unionid=1`); `/user/get_user_info` answers `ret` (0 is success) and
//! `msg`. Errors of the OAuth endpoints come as `error`/`error_description`, in JSON or JSONP.

use serde_json::{Map, Value};

use super::{ok_status, required, string, text, Answer, Call, Exchange, ExchangeInput, Next};
use crate::oauth::upstream::{ExternalProfile, UpstreamError};

/// Reads a body that QQ may send as JSON, as JSONP (`callback( {...} );`) or as a form
/// (`access_token=…&expires_in=…`, the token endpoint without `fmt=json`).
pub fn parse_body(body: &str) -> Result<Value, UpstreamError> {
    let body = body.trim();
    let json = if let Some(rest) = body.strip_prefix("callback") {
        let inner = rest
            .trim_start()
            .strip_prefix('(')
            .and_then(|r| r.trim_end().trim_end_matches(';').trim_end().strip_suffix(')'));
        inner.ok_or_else(|| UpstreamError::Unavailable("a JSONP answer without its parentheses".into()))?.trim()
    } else if body.starts_with('{') {
        body
    } else {
        let pairs: Map<String, Value> = url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        if pairs.is_empty() {
            return Err(UpstreamError::Unavailable("an empty answer".into()));
        }
        return Ok(Value::Object(pairs));
    };
    serde_json::from_str(json).map_err(|_| UpstreamError::Unavailable("not a JSON document".into()))
}

/// QQ's `error` (a number) and `error_description`.
fn oauth_error(doc: &Value) -> Option<UpstreamError> {
    let code = doc.get("error")?;
    let message = doc.get("error_description").and_then(Value::as_str).unwrap_or_default();
    Some(UpstreamError::provider(code.to_string().trim_matches('"'), message))
}

enum Step {
    Token,
    Me { token: String },
    Info { openid: String, unionid: Option<String> },
}

/// Code → access token → openid (and unionid) → nickname.
pub struct QqExchange {
    input: ExchangeInput,
    step: Step,
}

impl QqExchange {
    /// A flow for `input`.
    pub fn new(input: ExchangeInput) -> Self {
        Self { input, step: Step::Token }
    }

    fn read(answer: &Answer, what: &str) -> Result<Value, UpstreamError> {
        let doc = parse_body(&answer.body);
        if let Some(e) = doc.as_ref().ok().and_then(oauth_error) {
            return Err(e);
        }
        ok_status(answer, what)?;
        doc
    }
}

impl Exchange for QqExchange {
    fn start(&mut self) -> Result<Call, UpstreamError> {
        let i = &self.input;
        Call::get(
            &i.api_base,
            "/oauth2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &i.client_id),
                ("client_secret", i.client_secret.expose()),
                ("code", &i.code),
                ("redirect_uri", &i.redirect_uri),
                ("fmt", "json"),
            ],
        )
    }

    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError> {
        let base = self.input.api_base.clone();
        match std::mem::replace(&mut self.step, Step::Token) {
            Step::Token => {
                let doc = Self::read(answer, "the token endpoint")?;
                let token = required(&doc, "access_token", "the token response")?;
                let call = Call::get(&base, "/oauth2.0/me", &[("access_token", &token), ("unionid", "1")])?;
                self.step = Step::Me { token };
                Ok(Next::Send(call))
            }
            Step::Me { token } => {
                let doc = Self::read(answer, "/oauth2.0/me")?;
                // The token must be one issued to us: `me` names the application it is for.
                if string(&doc, "client_id").as_deref() != Some(self.input.client_id.as_str()) {
                    return Err(UpstreamError::Rejected("/oauth2.0/me names another application".into()));
                }
                let openid = required(&doc, "openid", "/oauth2.0/me")?;
                let call = Call::get(
                    &base,
                    "/user/get_user_info",
                    &[("access_token", &token), ("oauth_consumer_key", &self.input.client_id), ("openid", &openid)],
                )?;
                self.step = Step::Info { openid, unionid: string(&doc, "unionid") };
                Ok(Next::Send(call))
            }
            Step::Info { openid, unionid } => {
                let doc = Self::read(answer, "get_user_info")?;
                match doc.get("ret").and_then(Value::as_i64) {
                    Some(0) => {}
                    _ => {
                        let msg = doc.get("msg").and_then(Value::as_str).unwrap_or_default();
                        return Err(UpstreamError::provider(doc.get("ret").cloned().unwrap_or(Value::Null), msg));
                    }
                }
                let mut profile = ExternalProfile::with_ids(openid, unionid);
                profile.username = text(&doc, "nickname");
                profile.display_name = profile.username.clone();
                Ok(Next::Done(profile))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, ok, param, run};
    use super::*;

    #[test]
    fn jsonp_json_and_forms_are_read() {
        let me = parse_body("callback( {\"client_id\":\"101\",\"openid\":\"OPENID\"} );\n").unwrap();
        assert_eq!(me["openid"], "OPENID");
        assert_eq!(parse_body("callback({\"error\":100016});").unwrap()["error"], 100016);
        assert_eq!(parse_body("{\"access_token\":\"T\"}").unwrap()["access_token"], "T");
        assert_eq!(parse_body("access_token=T&expires_in=7776000").unwrap()["access_token"], "T");
        for bad in ["callback( {\"a\": ", "callback {}", "", "<html>"] {
            assert!(parse_body(bad).is_err() || parse_body(bad).unwrap().get("access_token").is_none(), "{bad}");
        }
    }

    #[test]
    fn a_sign_in_asks_for_the_unionid_and_checks_the_application() {
        let (calls, profile) = run(Box::new(QqExchange::new(input("https://graph.qq.example"))), |c| {
            let path = url::Url::parse(&c.url).unwrap().path().to_owned();
            match path.as_str() {
                "/oauth2.0/token" => ok("{\"access_token\":\"AT\",\"expires_in\":\"7776000\"}"),
                "/oauth2.0/me" => ok("callback( {\"client_id\":\"our-app\",\"openid\":\"O1\",\"unionid\":\"U1\"} );"),
                _ => ok("{\"ret\":0,\"msg\":\"\",\"nickname\":\"小明\"}"),
            }
        });
        let p = profile.unwrap();
        assert_eq!(
            (p.subject.as_str(), p.union_id.as_deref(), p.username.as_deref()),
            ("O1", Some("U1"), Some("小明"))
        );
        assert_eq!(param(&calls[0], "client_secret").as_deref(), Some("our-secret"));
        assert_eq!(param(&calls[0], "fmt").as_deref(), Some("json"));
        assert_eq!(param(&calls[1], "unionid").as_deref(), Some("1"));
        assert_eq!(param(&calls[2], "oauth_consumer_key").as_deref(), Some("our-app"));
        assert!(!format!("{:?}", calls[0]).contains("our-secret"), "secrets stay out of Debug");

        let (_, other_app) = run(Box::new(QqExchange::new(input("https://q.example"))), |c| {
            if c.url.contains("/token") {
                ok("{\"access_token\":\"AT\"}")
            } else {
                ok("callback( {\"client_id\":\"1\",\"openid\":\"O\"} );")
            }
        });
        assert!(matches!(other_app, Err(UpstreamError::Rejected(_))), "a token issued to another application");
    }

    #[test]
    fn errors_are_the_providers() {
        let (_, e) = run(Box::new(QqExchange::new(input("https://q.example"))), |_| {
            ok("callback( {\"error\":100019,\"error_description\":\"code to access token error\"} );")
        });
        assert_eq!(
            e.unwrap_err(),
            UpstreamError::Provider { code: "100019".into(), message: "code to access token error".into() }
        );
        let (_, e) = run(Box::new(QqExchange::new(input("https://q.example"))), |c| {
            if c.url.contains("/token") {
                ok("{\"access_token\":\"AT\"}")
            } else if c.url.contains("/me") {
                ok("callback( {\"client_id\":\"our-app\",\"openid\":\"O\"} );")
            } else {
                ok("{\"ret\":-1,\"msg\":\"client request's parameters are invalid\"}")
            }
        });
        assert!(matches!(e, Err(UpstreamError::Provider { .. })));
        let (_, e) = run(Box::new(QqExchange::new(input("https://q.example"))), |_| Answer {
            status: 502,
            body: "<html>".into(),
        });
        assert!(matches!(e, Err(UpstreamError::Unavailable(_))));
    }
}
