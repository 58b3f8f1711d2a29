//! The `aliyun` SMS transport: Alibaba Cloud Short Message Service `SendSms` (`dysmsapi`, API
//! version 2017-05-25), signed with the V3 signature `ACS3-HMAC-SHA256` (Alibaba Cloud SDK
//! documentation, "V3 request structure and signature" → "Signature method": a canonical
//! request over the method, `/`, the sorted query, the `host` and `x-acs-*` headers and the
//! body's SHA-256; `HMAC-SHA256(AccessKeySecret, "ACS3-HMAC-SHA256\n" + hash)`).
//!
//! `SendSms` is an RPC-style API: its parameters travel in the query string of a POST with an
//! empty body, as in the doc's example. The answer's `Code` is `OK` when the message went out.

use async_trait::async_trait;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::{call_provider, hmac_sha256, host_header, sha256_hex, SendError, Sms, SmsProvider, SmsTransport};
use crate::config::{ConfigError, SmsSettings};

/// The API's address.
pub const ENDPOINT: &str = "https://dysmsapi.aliyuncs.com/";
/// `x-acs-version`.
const VERSION: &str = "2017-05-25";
/// `x-acs-action`.
const ACTION: &str = "SendSms";
/// The signature's algorithm name.
const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// RFC 3986 percent-encoding, as the doc asks: everything but `A-Z a-z 0-9 - _ . ~` (so a
/// space is `%20`, never `+`).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// One value percent-encoded for the canonical query.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The canonical query string: each name and value percent-encoded, sorted by name, joined
/// with `&`. It is also the query string sent, so that what is signed is what arrives.
pub fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params.iter().map(|(k, v)| (percent_encode(k), percent_encode(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// What an ACS3-HMAC-SHA256 signature covers.
#[derive(Debug)]
pub struct Acs3Request<'a> {
    /// The AccessKey ID, named in the credential.
    pub access_key_id: &'a str,
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The query parameters, not yet encoded.
    pub query: &'a [(&'a str, &'a str)],
    /// The signed headers: `host` and every `x-acs-*` (and `content-type` when there is one).
    pub headers: &'a [(&'a str, &'a str)],
}

/// The `Authorization` header of a request to `/`. The headers must include
/// `x-acs-content-sha256`, the hex SHA-256 of the body, which ends the canonical request.
pub fn acs3_authorization(req: &Acs3Request<'_>, secret: &str) -> String {
    let mut headers: Vec<(String, &str)> =
        req.headers.iter().map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim())).collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let payload_hash = headers.iter().find(|(k, _)| k == "x-acs-content-sha256").map(|(_, v)| *v).unwrap_or_default();
    let canonical_request = format!(
        "{}\n/\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        req.method,
        canonical_query(req.query)
    );
    let string_to_sign = format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()));
    let signature = super::hex(&hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()));
    format!("{ALGORITHM} Credential={},SignedHeaders={signed_headers},Signature={signature}", req.access_key_id)
}

/// `x-acs-date`: ISO 8601 in UTC, whole seconds (`2023-10-26T10:22:32Z`).
fn acs_date(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Sends SMS through Alibaba Cloud.
#[derive(Debug)]
pub struct AliyunSms(SmsProvider);

impl AliyunSms {
    /// The transport for validated `[sms]` settings.
    pub fn new(s: &SmsSettings) -> Result<Self, ConfigError> {
        SmsProvider::new(s, ENDPOINT).map(Self)
    }
}

#[async_trait]
impl SmsTransport for AliyunSms {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        let s = &self.0.settings;
        // `SendSms` takes mainland numbers with or without 86, and others as the country code
        // and number: E.164 without its `+`.
        let number = sms.to.trim().trim_start_matches('+');
        let template_param = json!({ "code": sms.code }).to_string();
        let query = [
            ("PhoneNumbers", number),
            ("SignName", SmsProvider::field(&s.sign_name)),
            ("TemplateCode", s.template_for(sms.locale)),
            ("TemplateParam", template_param.as_str()),
        ];
        let host = host_header(&self.0.endpoint);
        let date = acs_date(time::OffsetDateTime::now_utc());
        let nonce = crate::crypto::random_id();
        let empty_body = sha256_hex(b"");
        let headers = [
            ("host", host.as_str()),
            ("x-acs-action", ACTION),
            ("x-acs-content-sha256", empty_body.as_str()),
            ("x-acs-date", date.as_str()),
            ("x-acs-signature-nonce", nonce.as_str()),
            ("x-acs-version", VERSION),
        ];
        let authorization = acs3_authorization(
            &Acs3Request {
                access_key_id: SmsProvider::field(&s.access_key_id),
                method: "POST",
                query: &query,
                headers: &headers,
            },
            SmsProvider::field(&s.access_key_secret),
        );
        let mut url = self.0.endpoint.clone();
        url.set_query(Some(&canonical_query(&query)));
        let mut req = self.0.http.post(url).header("Authorization", authorization).header("Accept", "application/json");
        for (name, value) in headers.iter().filter(|(n, _)| *n != "host") {
            req = req.header(*name, *value);
        }
        let (status, answer) = call_provider(req).await?;
        outcome(status, &answer)
    }
}

/// Reads a `SendSms` answer: `Code` must be `OK`.
pub fn outcome(status: u16, answer: &Value) -> Result<(), SendError> {
    match answer["Code"].as_str() {
        Some("OK") => Ok(()),
        Some(code) => Err(classify(code, answer["Message"].as_str())),
        None => {
            let why = format!("Aliyun SMS: HTTP {status}, no Code");
            Err(if status >= 500 { SendError::Transient(why) } else { SendError::Rejected(why) })
        }
    }
}

/// `SendSms`'s error codes (SMS API "Error codes"): the flow controls (`isv.BUSINESS_LIMIT_CONTROL`,
/// `isv.DAY_LIMIT_CONTROL`), throttling (`Throttling*`) and the provider's own failures
/// (`isp.SYSTEM_ERROR`, `ServiceUnavailable`, `InternalError`) pass; anything else (a bad
/// signature, an unapproved template, a bad number) needs the operator.
fn classify(code: &str, message: Option<&str>) -> SendError {
    let text = format!("Aliyun SMS: {code}: {}", message.unwrap_or_default().chars().take(120).collect::<String>());
    let transient = matches!(
        code,
        "isv.BUSINESS_LIMIT_CONTROL"
            | "isv.DAY_LIMIT_CONTROL"
            | "isp.SYSTEM_ERROR"
            | "ServiceUnavailable"
            | "InternalError"
    ) || code.starts_with("Throttling");
    if transient {
        SendError::Transient(text)
    } else {
        SendError::Rejected(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The V3 doc's worked example: `RunInstances` of ECS (2014-05-26) in cn-shanghai, a POST
    /// with an empty body, AccessKey `YourAccessKeyId` / `YourAccessKeySecret`, date
    /// 2023-10-26T10:22:32Z, nonce 3156853299f313e23d1673dc12e1703d.
    #[test]
    fn the_documented_example_signs_as_documented() {
        let empty = sha256_hex(b"");
        assert_eq!(empty, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        let req = Acs3Request {
            access_key_id: "YourAccessKeyId",
            method: "POST",
            query: &[("RegionId", "cn-shanghai"), ("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd")],
            headers: &[
                ("host", "ecs.cn-shanghai.aliyuncs.com"),
                ("x-acs-action", "RunInstances"),
                ("x-acs-version", "2014-05-26"),
                ("x-acs-date", "2023-10-26T10:22:32Z"),
                ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
                ("x-acs-content-sha256", &empty),
            ],
        };
        assert_eq!(
            acs3_authorization(&req, "YourAccessKeySecret"),
            "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,\
             SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
             Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn the_query_is_encoded_the_documented_way() {
        assert_eq!(percent_encode("a b*c~d/é+="), "a%20b%2Ac~d%2F%C3%A9%2B%3D");
        assert_eq!(
            canonical_query(&[
                ("TemplateParam", r#"{"code":"123456"}"#),
                ("SignName", "钥匙"),
                ("PhoneNumbers", "86138")
            ]),
            "PhoneNumbers=86138&SignName=%E9%92%A5%E5%8C%99&TemplateParam=%7B%22code%22%3A%22123456%22%7D"
        );
        let at = time::OffsetDateTime::from_unix_timestamp(1_698_315_752).unwrap();
        assert_eq!(acs_date(at), "2023-10-26T10:22:32Z");
    }

    #[test]
    fn answers_other_than_ok_are_errors() {
        assert_eq!(outcome(200, &json!({"Code": "OK", "Message": "OK", "BizId": "1"})), Ok(()));
        let limit = json!({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"});
        assert!(matches!(outcome(200, &limit), Err(SendError::Transient(e)) if e.contains("BUSINESS_LIMIT")));
        assert!(matches!(outcome(400, &json!({"Code": "Throttling.User"})), Err(SendError::Transient(_))));
        let sig = json!({"Code": "SignatureDoesNotMatch", "Message": "Specified signature does not match"});
        assert!(matches!(outcome(400, &sig), Err(SendError::Rejected(_))));
        assert!(matches!(outcome(200, &json!({"Code": "isv.MOBILE_NUMBER_ILLEGAL"})), Err(SendError::Rejected(_))));
        assert!(matches!(outcome(503, &json!({})), Err(SendError::Transient(_))));
    }
}
