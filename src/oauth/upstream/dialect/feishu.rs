//! Feishu (飞书) and Lark: first our application's own token (`POST
//! /open-apis/auth/v3/app_access_token/internal` with `app_id`/`app_secret`), which
//! authenticates the exchange of the user's code (`POST /open-apis/authen/v1/oidc/access_token`),
//! whose token reads `/open-apis/authen/v1/user_info`: `open_id` per application, `union_id`
//! across one developer's applications. Every answer has `code` (0 is success) and `msg`.

use serde_json::{json, Value};

use super::{json_body, required, string, text, Answer, Call, Exchange, ExchangeInput, Next};
use crate::oauth::upstream::{ExternalProfile, UpstreamError};

/// Feishu's envelope: `code` 0 or the provider's error.
fn envelope(answer: &Answer, what: &str) -> Result<Value, UpstreamError> {
    let doc = json_body(answer)?;
    match doc.get("code").and_then(Value::as_i64) {
        Some(0) => {}
        Some(_) => {
            let msg = doc.get("msg").and_then(Value::as_str).unwrap_or_default();
            return Err(UpstreamError::provider(&doc["code"], msg));
        }
        None => return Err(UpstreamError::Unavailable(format!("{what}: no code in the answer"))),
    }
    super::ok_status(answer, what)?;
    Ok(doc)
}

enum Step {
    AppToken,
    UserToken,
    UserInfo,
}

/// App token → user token → the user.
pub struct FeishuExchange {
    input: ExchangeInput,
    step: Step,
}

impl FeishuExchange {
    /// A flow for `input`.
    pub fn new(input: ExchangeInput) -> Self {
        Self { input, step: Step::AppToken }
    }
}

impl Exchange for FeishuExchange {
    fn start(&mut self) -> Result<Call, UpstreamError> {
        let i = &self.input;
        let body = json!({"app_id": i.client_id, "app_secret": i.client_secret.expose()});
        Call::post_json(&i.api_base, "/open-apis/auth/v3/app_access_token/internal", body)
    }

    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError> {
        let base = &self.input.api_base;
        match self.step {
            Step::AppToken => {
                let doc = envelope(answer, "app_access_token")?;
                let app_token = required(&doc, "app_access_token", "the app token answer")?;
                self.step = Step::UserToken;
                let body = json!({"grant_type": "authorization_code", "code": self.input.code});
                let call = Call::post_json(base, "/open-apis/authen/v1/oidc/access_token", body)?
                    .header("Authorization", &format!("Bearer {app_token}"));
                Ok(Next::Send(call))
            }
            Step::UserToken => {
                let doc = envelope(answer, "oidc/access_token")?;
                let token = required(&doc["data"], "access_token", "the user token answer")?;
                self.step = Step::UserInfo;
                let call = Call::get(base, "/open-apis/authen/v1/user_info", &[])?
                    .header("Authorization", &format!("Bearer {token}"));
                Ok(Next::Send(call))
            }
            Step::UserInfo => {
                let doc = envelope(answer, "user_info")?;
                let data = &doc["data"];
                let mut profile =
                    ExternalProfile::with_ids(required(data, "open_id", "user_info")?, string(data, "union_id"));
                profile.display_name = text(data, "name");
                profile.username = text(data, "en_name").or_else(|| profile.display_name.clone());
                // Not said to be verified.
                profile.email = text(data, "email").or_else(|| text(data, "enterprise_email"));
                Ok(Next::Done(profile))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, ok, run};
    use super::super::Body;
    use super::*;

    #[test]
    fn the_app_token_authenticates_the_code_exchange() {
        let (calls, profile) = run(Box::new(FeishuExchange::new(input("https://open.feishu.example"))), |c| {
            if c.url.ends_with("/app_access_token/internal") {
                ok("{\"code\":0,\"msg\":\"ok\",\"app_access_token\":\"t-app\",\"expire\":7200}")
            } else if c.url.ends_with("/oidc/access_token") {
                ok("{\"code\":0,\"msg\":\"success\",\"data\":{\"access_token\":\"u-user\",\"token_type\":\"Bearer\",\"expires_in\":6900}}")
            } else {
                ok("{\"code\":0,\"msg\":\"success\",\"data\":{\"name\":\"李四\",\"en_name\":\"lisi\",\"open_id\":\"ou_1\",\"union_id\":\"on_1\",\"tenant_key\":\"t\"}}")
            }
        });
        let p = profile.unwrap();
        assert_eq!((p.subject.as_str(), p.union_id.as_deref()), ("ou_1", Some("on_1")));
        assert_eq!((p.username.as_deref(), p.display_name.as_deref()), (Some("lisi"), Some("李四")));
        let Body::Json(first) = &calls[0].body else { panic!() };
        assert_eq!((first["app_id"].as_str(), first["app_secret"].as_str()), (Some("our-app"), Some("our-secret")));
        assert_eq!(calls[1].headers[0].1, "Bearer t-app");
        assert_eq!(calls[2].headers[0].1, "Bearer u-user");
    }

    #[test]
    fn a_nonzero_code_is_the_providers_error() {
        let (_, e) = run(Box::new(FeishuExchange::new(input("https://f.example"))), |_| {
            ok("{\"code\":10014,\"msg\":\"app secret invalid\"}")
        });
        assert_eq!(
            e.unwrap_err(),
            UpstreamError::Provider { code: "10014".into(), message: "app secret invalid".into() }
        );
    }
}
