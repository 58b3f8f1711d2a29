//! WeCom (企业微信): the application's token comes from `GET /cgi-bin/gettoken` with the corp
//! id and the application's secret, and the member from `GET /cgi-bin/auth/getuserinfo` with
//! that token and the user's code: `userid`, unique within the corp, so the subject is
//! `corpid:userid`. Someone who is not a member gets an `openid` only and is refused. Errors
//! are WeChat's: HTTP 200 with `errcode`/`errmsg`.

use serde_json::Value;

use super::{json_body, required, string, Answer, Call, Exchange, ExchangeInput, Next};
use crate::oauth::upstream::{profile::errcode_error, ExternalProfile, UpstreamError};

fn read(answer: &Answer, what: &str) -> Result<Value, UpstreamError> {
    let doc = json_body(answer)?;
    if let Some(e) = errcode_error(&doc) {
        return Err(e);
    }
    super::ok_status(answer, what)?;
    Ok(doc)
}

/// Corp token → the member's userid.
pub struct WeComExchange {
    input: ExchangeInput,
    token_sent: bool,
}

impl WeComExchange {
    /// A flow for `input`.
    pub fn new(input: ExchangeInput) -> Self {
        Self { input, token_sent: false }
    }
}

impl Exchange for WeComExchange {
    fn start(&mut self) -> Result<Call, UpstreamError> {
        let i = &self.input;
        Call::get(
            &i.api_base,
            "/cgi-bin/gettoken",
            &[("corpid", &i.client_id), ("corpsecret", i.client_secret.expose())],
        )
    }

    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError> {
        if !self.token_sent {
            let doc = read(answer, "gettoken")?;
            let token = required(&doc, "access_token", "gettoken")?;
            self.token_sent = true;
            let call = Call::get(
                &self.input.api_base,
                "/cgi-bin/auth/getuserinfo",
                &[("access_token", &token), ("code", &self.input.code)],
            )?;
            return Ok(Next::Send(call));
        }
        let doc = read(answer, "getuserinfo")?;
        // The older endpoint spells it `UserId`.
        let Some(userid) = string(&doc, "userid").or_else(|| string(&doc, "UserId")) else {
            return Err(UpstreamError::Rejected("not a member of the organisation (no userid)".into()));
        };
        let mut profile = ExternalProfile::with_ids(format!("{}:{userid}", self.input.client_id), None);
        profile.username = Some(userid);
        Ok(Next::Done(profile))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, ok, param, run};
    use super::*;

    #[test]
    fn members_are_corp_and_userid() {
        let (calls, profile) = run(Box::new(WeComExchange::new(input("https://qyapi.example"))), |c| {
            if c.url.contains("/gettoken") {
                ok("{\"errcode\":0,\"errmsg\":\"ok\",\"access_token\":\"CT\",\"expires_in\":7200}")
            } else {
                ok("{\"errcode\":0,\"errmsg\":\"ok\",\"userid\":\"zhangsan\",\"user_ticket\":\"x\"}")
            }
        });
        let p = profile.unwrap();
        assert_eq!((p.subject.as_str(), p.username.as_deref()), ("our-app:zhangsan", Some("zhangsan")));
        assert_eq!(param(&calls[0], "corpsecret").as_deref(), Some("our-secret"));
        assert_eq!(
            (param(&calls[1], "access_token").as_deref(), param(&calls[1], "code").as_deref()),
            (Some("CT"), Some("the-code"))
        );
    }

    #[test]
    fn outsiders_and_errors_are_refused() {
        let (_, e) = run(Box::new(WeComExchange::new(input("https://q.example"))), |c| {
            if c.url.contains("/gettoken") {
                ok("{\"errcode\":0,\"access_token\":\"CT\"}")
            } else {
                ok("{\"errcode\":0,\"errmsg\":\"ok\",\"openid\":\"o1\",\"external_userid\":\"e1\"}")
            }
        });
        assert!(matches!(e, Err(UpstreamError::Rejected(_))));
        let (_, e) = run(Box::new(WeComExchange::new(input("https://q.example"))), |_| {
            ok("{\"errcode\":40013,\"errmsg\":\"invalid corpid\"}")
        });
        assert_eq!(e.unwrap_err(), UpstreamError::Provider { code: "40013".into(), message: "invalid corpid".into() });
    }
}
