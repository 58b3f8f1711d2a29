//! DingTalk (钉钉), the OAuth 2.0 of `api.dingtalk.com`: the code (`authCode` on the callback)
//! is exchanged by `POST /v1.0/oauth2/userAccessToken` with a JSON body (`clientId`,
//! `clientSecret`, `code`, `grantType`), and the user is read from `/v1.0/contact/users/me`
//! with the token in the `x-acs-dingtalk-access-token` header: `openId` per application,
//! `unionId` across the applications of one organisation's developer account. Errors: a 4xx
//! with `code` and `message`.

use serde_json::{json, Value};

use super::{json_body, required, string, text, Answer, Call, Exchange, ExchangeInput, Next};
use crate::oauth::upstream::{ExternalProfile, UpstreamError};

/// DingTalk's error document (`{"code": "…", "message": "…", "requestid": "…"}`).
fn error(answer: &Answer, doc: &Value, what: &str) -> Result<(), UpstreamError> {
    if let Some(code) = doc.get("code").filter(|_| !(200..=299).contains(&answer.status)) {
        let message = doc.get("message").and_then(Value::as_str).unwrap_or_default();
        return Err(UpstreamError::provider(code.as_str().unwrap_or_default(), message));
    }
    super::ok_status(answer, what)
}

/// Code → user access token → the user.
pub struct DingTalkExchange {
    input: ExchangeInput,
    token_sent: bool,
}

impl DingTalkExchange {
    /// A flow for `input`.
    pub fn new(input: ExchangeInput) -> Self {
        Self { input, token_sent: false }
    }
}

impl Exchange for DingTalkExchange {
    fn start(&mut self) -> Result<Call, UpstreamError> {
        let i = &self.input;
        let body = json!({
            "clientId": i.client_id,
            "clientSecret": i.client_secret.expose(),
            "code": i.code,
            "grantType": "authorization_code",
        });
        Call::post_json(&i.api_base, "/v1.0/oauth2/userAccessToken", body)
    }

    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError> {
        let doc = json_body(answer)?;
        if !self.token_sent {
            error(answer, &doc, "userAccessToken")?;
            let token = required(&doc, "accessToken", "the token response")?;
            self.token_sent = true;
            let call = Call::get(&self.input.api_base, "/v1.0/contact/users/me", &[])?
                .header("x-acs-dingtalk-access-token", &token);
            return Ok(Next::Send(call));
        }
        error(answer, &doc, "contact/users/me")?;
        let open_id = required(&doc, "openId", "contact/users/me")?;
        let mut profile = ExternalProfile::with_ids(open_id, string(&doc, "unionId"));
        profile.username = text(&doc, "nick");
        profile.display_name = profile.username.clone();
        // DingTalk does not say it verified the address.
        profile.email = text(&doc, "email");
        Ok(Next::Done(profile))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, ok, run};
    use super::super::Body;
    use super::*;

    #[test]
    fn the_token_is_a_json_post_and_the_user_a_header_get() {
        let (calls, profile) = run(Box::new(DingTalkExchange::new(input("https://api.dingtalk.example"))), |c| {
            if c.url.ends_with("/userAccessToken") {
                ok("{\"expireIn\":7200,\"accessToken\":\"AT\",\"refreshToken\":\"RT\",\"corpId\":\"ding1\"}")
            } else {
                ok("{\"nick\":\"张三\",\"openId\":\"OP\",\"unionId\":\"UN\",\"stateCode\":\"86\"}")
            }
        });
        let p = profile.unwrap();
        assert_eq!(
            (p.subject.as_str(), p.union_id.as_deref(), p.username.as_deref()),
            ("OP", Some("UN"), Some("张三"))
        );
        let Body::Json(body) = &calls[0].body else { panic!("a JSON body") };
        assert_eq!(body["clientSecret"], "our-secret");
        assert_eq!(body["grantType"], "authorization_code");
        assert_eq!(calls[1].headers, [("x-acs-dingtalk-access-token".to_owned(), "AT".to_owned())]);
    }

    #[test]
    fn errors_are_the_providers() {
        let (_, e) = run(Box::new(DingTalkExchange::new(input("https://d.example"))), |_| {
            Answer {
            status: 400,
            body: "{\"code\":\"invalidParameter.authCode.notFound\",\"message\":\"不合法的临时授权码\",\"requestid\":\"r\"}".into(),
        }
        });
        assert!(
            matches!(e, Err(UpstreamError::Provider { ref code, .. }) if code == "invalidParameter.authCode.notFound")
        );
        let (_, e) = run(Box::new(DingTalkExchange::new(input("https://d.example"))), |_| Answer {
            status: 503,
            body: "{}".into(),
        });
        assert!(matches!(e, Err(UpstreamError::Unavailable(_))));
    }
}
