//! Alipay (支付宝) open platform: every request goes to the gateway (`/gateway.do`) with the
//! common parameters (`app_id`, `method`, `charset`, `sign_type=RSA2`, `timestamp`,
//! `version`) and is signed RSA2: SHA256withRSA with our application's private key over the
//! parameters sorted by name, `sign` and empty values left out, joined as `k=v&k=v`. Each
//! answer is `{"<method>_response": {…}, "sign": "…"}`, signed by Alipay over the exact text
//! of the `<method>_response` member, which is verified with Alipay's public key before
//! anything in it is used.
//!
//! `alipay.system.oauth.token` turns the `auth_code` into a token and names the user
//! (`open_id` per application, and for older applications `user_id`, which is the same in all
//! of them); `alipay.user.info.share` gives the nickname.

use base64::{engine::general_purpose::STANDARD, Engine as _};
use rsa::{
    pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _},
    pkcs8::{DecodePrivateKey as _, DecodePublicKey as _},
    Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{string, text, Answer, Body, Call, Exchange, ExchangeInput, Method, Next};
use crate::oauth::upstream::{ExternalProfile, UpstreamError};

/// What a key is, for the error message.
#[derive(Clone, Copy, Debug)]
enum KeyKind {
    Private,
    Public,
}

fn der_of(text: &str, kind: KeyKind) -> Result<Vec<u8>, String> {
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).flat_map(|l| l.split_whitespace()).collect();
    STANDARD.decode(b64).map_err(|_| format!("the {kind:?} key is neither PEM nor base64 DER").to_lowercase())
}

/// Our application's private key: PKCS#8 or PKCS#1, PEM or the bare base64 DER that
/// Alipay's key tool writes.
pub fn private_key(text: &str) -> Result<RsaPrivateKey, String> {
    let der = der_of(text, KeyKind::Private)?;
    RsaPrivateKey::from_pkcs8_der(&der)
        .or_else(|_| RsaPrivateKey::from_pkcs1_der(&der))
        .map_err(|_| "the application private key is not an RSA key".into())
}

/// Alipay's public key: SubjectPublicKeyInfo (as the open platform shows it) or PKCS#1.
pub fn public_key(text: &str) -> Result<RsaPublicKey, String> {
    let der = der_of(text, KeyKind::Public)?;
    RsaPublicKey::from_public_key_der(&der)
        .or_else(|_| RsaPublicKey::from_pkcs1_der(&der))
        .map_err(|_| "the Alipay public key is not an RSA key".into())
}

/// The signed text of a request: parameters sorted by name, without `sign` or empty values,
/// as `k=v` joined by `&` (values as they are, not URL-encoded).
pub fn sign_content(params: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = params.iter().filter(|(k, v)| k != "sign" && !v.is_empty()).collect();
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// RSA2: base64 of SHA256withRSA (PKCS #1 v1.5) over `content`. Blinded with the OS's
/// randomness, so the time it takes says nothing of the key.
pub fn sign(content: &str, key: &RsaPrivateKey) -> Result<String, UpstreamError> {
    let digest = Sha256::digest(content.as_bytes());
    key.sign_with_rng(&mut rand::rngs::OsRng, Pkcs1v15Sign::new::<Sha256>(), &digest)
        .map(|s| STANDARD.encode(s))
        .map_err(|_| UpstreamError::Unavailable("cannot sign the Alipay request".into()))
}

/// Whether `signature` (base64) is Alipay's RSA2 signature of `content`.
pub fn verify(content: &str, signature: &str, key: &RsaPublicKey) -> bool {
    let Ok(sig) = STANDARD.decode(signature) else { return false };
    key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(content.as_bytes()), &sig).is_ok()
}

/// The exact text of the value of the top-level member `key` of the JSON object `doc`, as
/// sent: what Alipay signs. `None` if `doc` is not an object or has no such member.
pub fn raw_member<'a>(doc: &'a str, key: &str) -> Option<&'a str> {
    let b = doc.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i)?;
        let name = &doc[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = skip_ws(b, i + 1);
        let end = value_end(b, start)?;
        if name == key {
            return Some(&doc[start..end]);
        }
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i += 1,
            _ => return None,
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    i
}

/// The index just past the string starting at `i` (a `"`).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match b.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// The index just past the value starting at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while b.get(j).is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace()) {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8), the gateway's `timestamp`.
pub fn beijing_time(unix: i64) -> String {
    let t = unix + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The member an answer to `method` keeps its result in.
pub fn response_key(method: &str) -> String {
    format!("{}_response", method.replace('.', "_"))
}

const TOKEN_METHOD: &str = "alipay.system.oauth.token";
const INFO_METHOD: &str = "alipay.user.info.share";

/// Code → token and user ids → nickname, each answer verified.
pub struct AlipayExchange {
    input: ExchangeInput,
    key: RsaPrivateKey,
    alipay: RsaPublicKey,
    ids: Option<(String, Option<String>)>,
}

impl AlipayExchange {
    /// A flow for `input`; the client secret is our private key.
    pub fn new(input: ExchangeInput, alipay_public_key: &str) -> Result<Self, UpstreamError> {
        let key = private_key(input.client_secret.expose()).map_err(UpstreamError::Unavailable)?;
        let alipay = public_key(alipay_public_key).map_err(UpstreamError::Unavailable)?;
        Ok(Self { input, key, alipay, ids: None })
    }

    /// A signed gateway request of `method` with its own parameters.
    fn call(&self, method: &str, own: &[(&str, &str)]) -> Result<Call, UpstreamError> {
        let timestamp = beijing_time(self.input.now);
        let mut params: Vec<(String, String)> = [
            ("app_id", self.input.client_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", &timestamp),
            ("version", "1.0"),
        ]
        .iter()
        .chain(own)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let signature = sign(&sign_content(&params), &self.key)?;
        params.push(("sign".into(), signature));
        let url = format!("{}/gateway.do", self.input.api_base.trim_end_matches('/'));
        Ok(Call { method: Method::Post, url, headers: Vec::new(), body: Body::Form(params) })
    }

    /// The verified `<method>_response` of an answer, or the provider's error.
    fn read(&self, answer: &Answer, method: &str) -> Result<Value, UpstreamError> {
        let doc: Value = super::json_body(answer)?;
        let key = response_key(method);
        let node = doc.get(&key).or_else(|| doc.get("error_response"));
        let Some(node) = node.filter(|n| n.is_object()) else {
            return Err(UpstreamError::Unavailable(format!("the gateway's answer has no {key}")));
        };
        // `code` is "10000" on success where the method sends it at all.
        if let Some(code) = node.get("code").and_then(Value::as_str).filter(|c| *c != "10000") {
            let sub = |k: &str| node.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            let message = sub("sub_msg").or(sub("msg")).unwrap_or_default();
            return Err(UpstreamError::provider(sub("sub_code").unwrap_or(code), message));
        }
        super::ok_status(answer, "the gateway")?;
        let signed = raw_member(&answer.body, &key)
            .ok_or_else(|| UpstreamError::Rejected(format!("{key} is not a member of the answer")))?;
        let signature = doc.get("sign").and_then(Value::as_str).unwrap_or_default();
        if !verify(signed, signature, &self.alipay) {
            return Err(UpstreamError::Rejected("the Alipay signature of the answer does not verify".into()));
        }
        Ok(node.clone())
    }
}

impl Exchange for AlipayExchange {
    fn start(&mut self) -> Result<Call, UpstreamError> {
        let code = self.input.code.clone();
        self.call(TOKEN_METHOD, &[("grant_type", "authorization_code"), ("code", &code)])
    }

    fn answer(&mut self, answer: &Answer) -> Result<Next, UpstreamError> {
        match self.ids.take() {
            None => {
                let node = self.read(answer, TOKEN_METHOD)?;
                let token = string(&node, "access_token")
                    .ok_or_else(|| UpstreamError::Rejected("the token answer has no access_token".into()))?;
                let (open_id, user_id) = (string(&node, "open_id"), string(&node, "user_id"));
                // The per-application open_id names the identity; the platform-wide user_id,
                // when sent beside it, is its union id.
                let ids = match (open_id, user_id) {
                    (Some(o), u) => (o, u),
                    (None, Some(u)) => (u, None),
                    (None, None) => return Err(UpstreamError::Rejected("the token answer names no user".into())),
                };
                self.ids = Some(ids);
                Ok(Next::Send(self.call(INFO_METHOD, &[("auth_token", &token)])?))
            }
            Some((subject, union_id)) => {
                let node = self.read(answer, INFO_METHOD)?;
                let same = [("open_id", &subject), ("user_id", &subject)]
                    .iter()
                    .any(|(k, v)| string(&node, k).as_deref() == Some(v.as_str()));
                if !same && union_id.as_deref() != string(&node, "user_id").as_deref() {
                    return Err(UpstreamError::Rejected("the user info is of another user".into()));
                }
                let mut profile = ExternalProfile::with_ids(subject, union_id);
                profile.username = text(&node, "nick_name");
                profile.display_name = profile.username.clone();
                Ok(Next::Done(profile))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use rsa::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};

    use super::super::testing::{input, run};
    use super::*;
    use crate::oauth::upstream::Secret;

    fn keys() -> &'static (RsaPrivateKey, RsaPrivateKey) {
        static KEYS: OnceLock<(RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
        KEYS.get_or_init(|| {
            let mut rng = rand::rngs::OsRng;
            (RsaPrivateKey::new(&mut rng, 2048).unwrap(), RsaPrivateKey::new(&mut rng, 2048).unwrap())
        })
    }

    fn b64_private(k: &RsaPrivateKey) -> String {
        STANDARD.encode(k.to_pkcs8_der().unwrap().as_bytes())
    }

    fn b64_public(k: &RsaPrivateKey) -> String {
        STANDARD.encode(k.to_public_key().to_public_key_der().unwrap().as_bytes())
    }

    /// An answer of `method` signed by `by`.
    fn answer(method: &str, node: &str, by: &RsaPrivateKey) -> Answer {
        let sig = sign(node, by).unwrap();
        Answer { status: 200, body: format!("{{\"{}\":{node},\"sign\":\"{sig}\"}}", response_key(method)) }
    }

    fn params(call: &Call) -> Vec<(String, String)> {
        let Body::Form(p) = &call.body else { panic!("a form") };
        p.clone()
    }

    #[test]
    fn the_sign_content_is_sorted_and_skips_sign_and_empty_values() {
        let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let content =
            sign_content(&[p("method", "m"), p("app_id", "1"), p("sign", "x"), p("empty", ""), p("b", "a b")]);
        assert_eq!(content, "app_id=1&b=a b&method=m");
    }

    #[test]
    fn raw_members_are_cut_exactly() {
        let doc = r#"{ "a_response" : {"x":"}\"{","n":[1,{"y":2}]} , "sign":"S","n":12}"#;
        assert_eq!(raw_member(doc, "a_response"), Some(r#"{"x":"}\"{","n":[1,{"y":2}]}"#));
        assert_eq!(raw_member(doc, "sign"), Some("\"S\""));
        assert_eq!(raw_member(doc, "n"), Some("12"));
        assert_eq!(raw_member(doc, "nope"), None);
        assert_eq!(raw_member("[1]", "a"), None);
        assert_eq!(raw_member("{\"a\":", "a"), None);
    }

    #[test]
    fn timestamps_are_beijing_time() {
        assert_eq!(beijing_time(0), "1970-01-01 08:00:00");
        assert_eq!(beijing_time(1_767_225_600), "2026-01-01 08:00:00");
        assert_eq!(beijing_time(951_782_400 - 8 * 3600), "2000-02-29 00:00:00");
    }

    #[test]
    fn keys_are_read_as_pem_or_base64() {
        let (ours, _) = keys();
        let b64 = b64_private(ours);
        assert!(private_key(&b64).is_ok());
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", b64);
        assert!(private_key(&pem).is_ok());
        assert!(public_key(&b64_public(ours)).is_ok());
        assert!(private_key("not a key").is_err() && public_key("AAAA").is_err());
    }

    #[test]
    fn requests_are_signed_and_answers_verified() {
        let (ours, alipay) = keys();
        let mut i = input("https://openapi.alipay.example");
        i.client_secret = Secret::new(b64_private(ours));
        let ex = AlipayExchange::new(i.clone(), &b64_public(alipay)).unwrap();
        let (calls, profile) = run(Box::new(ex), |c| {
            let p = params(c);
            let sig = p.iter().find(|(k, _)| k == "sign").map(|(_, v)| v.clone()).unwrap();
            assert!(verify(&sign_content(&p), &sig, &ours.to_public_key()), "signed with our key");
            let method = p.iter().find(|(k, _)| k == "method").map(|(_, v)| v.clone()).unwrap();
            if method == TOKEN_METHOD {
                answer(
                    &method,
                    r#"{"user_id":"2088102150477652","open_id":"074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5","access_token":"authusrB","expires_in":1296000}"#,
                    alipay,
                )
            } else {
                answer(
                    &method,
                    r#"{"code":"10000","msg":"Success","user_id":"2088102150477652","nick_name":"支付宝用户","avatar":""}"#,
                    alipay,
                )
            }
        });
        let p = profile.unwrap();
        assert_eq!(p.subject, "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5");
        assert_eq!(p.union_id.as_deref(), Some("2088102150477652"));
        assert_eq!(p.username.as_deref(), Some("支付宝用户"));
        let first = params(&calls[0]);
        let get = |k: &str| first.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(
            (get("sign_type"), get("code"), get("grant_type")),
            (Some("RSA2"), Some("the-code"), Some("authorization_code"))
        );
        assert_eq!(get("timestamp"), Some("2026-01-01 08:00:00"));
        assert_eq!(
            params(&calls[1]).iter().find(|(k, _)| k == "auth_token").map(|(_, v)| v.as_str()),
            Some("authusrB")
        );

        // Signed by someone else, or tampered with after signing: refused.
        let ex = AlipayExchange::new(i.clone(), &b64_public(alipay)).unwrap();
        let (_, e) = run(Box::new(ex), |_| answer(TOKEN_METHOD, r#"{"user_id":"2088","access_token":"a"}"#, ours));
        assert!(matches!(e, Err(UpstreamError::Rejected(_))));
        let ex = AlipayExchange::new(i.clone(), &b64_public(alipay)).unwrap();
        let (_, e) = run(Box::new(ex), |_| {
            let mut a = answer(TOKEN_METHOD, r#"{"user_id":"2088","access_token":"a"}"#, alipay);
            a.body = a.body.replace("2088", "2099");
            a
        });
        assert!(matches!(e, Err(UpstreamError::Rejected(_))));

        // The gateway's errors.
        let ex = AlipayExchange::new(i, &b64_public(alipay)).unwrap();
        let (_, e) = run(Box::new(ex), |_| {
            Answer {
            status: 200,
            body: r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.code-invalid","sub_msg":"授权码code无效"},"sign":"x"}"#.into(),
        }
        });
        assert_eq!(
            e.unwrap_err(),
            UpstreamError::Provider { code: "isv.code-invalid".into(), message: "授权码code无效".into() }
        );
    }
}
