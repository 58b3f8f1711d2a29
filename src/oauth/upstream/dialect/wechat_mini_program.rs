//! WeChat mini programs (微信小程序): no browser and no redirect. The mini program calls
//! `wx.login()`, which gives it a code (`js_code`) for its own appid, valid for five minutes
//! and once; the server holding the appid's secret trades it at `GET /sns/jscode2session`
//! for the person's `openid` in that mini program, the `unionid` when the mini program is
//! bound to an Open Platform account, and a `session_key`. Errors are WeChat's: HTTP 200
//! with `errcode`/`errmsg` (40029 invalid code, 40163 code already used, 45011 too many
//! requests, -1 busy).
//!
//! The `session_key` decrypts the mini program's user data; this server never needs it, so
//! it is dropped here and neither stored nor logged.

use super::{json_body, ok_status, required, string, Answer, Call, Exchange, ExchangeInput, Next};
use crate::oauth::upstream::{profile::errcode_error, ExternalProfile, UpstreamError};

/// One `jscode2session` request.
pub struct JsCodeExchange {
    input: ExchangeInput,
}

impl JsCodeExchange {
    /// A flow for `input` (whose `code` is the `js_code`).
    pub fn new(input: ExchangeInput) -> Self {
        Self { input }
    }
}

impl Exchange for JsCodeExchange {
    fn start(&mut self) -> Result<Call, UpstreamError> {
        let i = &self.input;
        Call::get(
            &i.api_base,
            "/sns/jscode2session",
            &[
                ("appid", i.client_id.as_str()),
                ("secret", i.client_secret.expose()),
                ("js_code", i.code.as_str()),
                ("grant_type", "authorization_code"),
            ],
        )
    }

    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError> {
        let doc = json_body(answer)?;
        if let Some(e) = errcode_error(&doc) {
            return Err(e);
        }
        ok_status(answer, "jscode2session")?;
        let openid = required(&doc, "openid", "jscode2session")?;
        Ok(Next::Done(ExternalProfile::with_ids(openid, string(&doc, "unionid"))))
    }
}

/// Whether WeChat's `errcode` says to try again later (busy, rate limited) rather than that
/// the code is bad.
pub fn is_transient(code: &str) -> bool {
    matches!(code, "-1" | "45011")
}

#[cfg(test)]
mod tests {
    use super::super::testing::{input, ok, param, run};
    use super::*;

    #[test]
    fn a_js_code_gives_openid_and_unionid() {
        let body = r#"{"openid":"oMP-li","session_key":"c2Vzc2lvbg==","unionid":"union-li"}"#;
        let (calls, profile) = run(Box::new(JsCodeExchange::new(input("https://api.wx.example"))), |_| ok(body));
        let p = profile.unwrap();
        assert_eq!((p.subject.as_str(), p.union_id.as_deref()), ("oMP-li", Some("union-li")));
        assert_eq!(p.key(), "union-li");
        assert_eq!(calls.len(), 1);
        let c = &calls[0];
        assert!(c.url.starts_with("https://api.wx.example/sns/jscode2session?"), "{}", c.url);
        assert_eq!(param(c, "appid").as_deref(), Some("our-app"));
        assert_eq!(param(c, "secret").as_deref(), Some("our-secret"));
        assert_eq!(param(c, "js_code").as_deref(), Some("the-code"));
        assert_eq!(param(c, "grant_type").as_deref(), Some("authorization_code"));
        assert!(!format!("{c:?}").contains("our-secret"), "Debug hides the query");
    }

    #[test]
    fn an_unbound_mini_program_gives_openid_only() {
        let (_, p) = run(Box::new(JsCodeExchange::new(input("https://api.wx.example"))), |_| {
            ok(r#"{"openid":"oMP-mei","session_key":"a2V5"}"#)
        });
        let p = p.unwrap();
        assert_eq!((p.key(), p.union_id.as_deref()), ("oMP-mei", None));
    }

    #[test]
    fn wechat_errors_are_the_providers() {
        for (body, code) in
            [(r#"{"errcode":40029,"errmsg":"invalid code"}"#, "40029"), (r#"{"errcode":-1,"errmsg":"busy"}"#, "-1")]
        {
            let (_, p) = run(Box::new(JsCodeExchange::new(input("https://api.wx.example"))), |_| ok(body));
            match p {
                Err(UpstreamError::Provider { code: c, .. }) => assert_eq!(c, code),
                other => panic!("{other:?}"),
            }
        }
        assert!(is_transient("-1") && is_transient("45011") && !is_transient("40029") && !is_transient("40163"));
        let (_, p) = run(Box::new(JsCodeExchange::new(input("https://api.wx.example"))), |_| ok(r#"{"errcode":0}"#));
        assert!(matches!(p, Err(UpstreamError::Rejected(_))), "no openid: {p:?}");
        let (_, p) = run(Box::new(JsCodeExchange::new(input("https://api.wx.example"))), |_| ok("<html>"));
        assert!(matches!(p, Err(UpstreamError::Unavailable(_))), "{p:?}");
    }
}
