//! The `tencent` SMS transport: Tencent Cloud SMS `SendSms` (API version 2021-01-11), a JSON
//! POST signed with TC3-HMAC-SHA256 ("Signature v3" in Tencent Cloud's API documentation,
//! "Common Params" → "Signature v3": CanonicalRequest, StringToSign, the derived key
//! `HMAC("TC3" + SecretKey, Date) → Service → "tc3_request"`, then the Authorization header).
//!
//! Tencent answers HTTP 200 whatever happened: a failed call carries `Response.Error`, and a
//! call that went through carries one `SendStatusSet` entry per number, each with its own
//! `Code` (`"Ok"` when sent).

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{call_provider, hmac_sha256, host_header, sha256_hex, SendError, Sms, SmsProvider, SmsTransport};
use crate::config::{ConfigError, SmsSettings};

/// The API's address.
pub const ENDPOINT: &str = "https://sms.tencentcloudapi.com/";
/// The service name in the credential scope.
const SERVICE: &str = "sms";
/// `X-TC-Version`.
const VERSION: &str = "2021-01-11";
/// `X-TC-Action`.
const ACTION: &str = "SendSms";
/// The body's type, signed as sent.
const CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// The signature's algorithm name.
const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// What a TC3-HMAC-SHA256 signature covers.
#[derive(Debug)]
pub struct Tc3Request<'a> {
    /// The SecretId, named in the credential.
    pub secret_id: &'a str,
    /// The service (`sms`, `cvm`), the first label of the API's host.
    pub service: &'a str,
    /// `X-TC-Timestamp`, Unix seconds; its UTC date is the credential's date.
    pub timestamp: i64,
    /// The signed headers, `content-type` and `host` among them (names lower-case).
    pub headers: &'a [(&'a str, &'a str)],
    /// The JSON body.
    pub payload: &'a [u8],
}

/// The `Authorization` header of a POST to `/` (Signature v3, steps 1–4). Header names and
/// values are lower-cased and sorted by name; the query string of a POST is empty.
pub fn tc3_authorization(req: &Tc3Request<'_>, secret_key: &str) -> String {
    let mut headers: Vec<(String, String)> =
        req.headers.iter().map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase())).collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_request = format!("POST\n/\n\n{canonical_headers}\n{signed_headers}\n{}", sha256_hex(req.payload));
    let date = utc_date(req.timestamp);
    let scope = format!("{date}/{}/tc3_request", req.service);
    let string_to_sign =
        format!("{ALGORITHM}\n{}\n{scope}\n{}", req.timestamp, sha256_hex(canonical_request.as_bytes()));
    let secret_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, req.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = super::hex(&hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    format!("{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}", req.secret_id)
}

/// `YYYY-MM-DD` of a Unix time, in UTC (the doc's note: never the local date).
fn utc_date(timestamp: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(timestamp).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = at.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Sends SMS through Tencent Cloud.
#[derive(Debug)]
pub struct TencentSms(SmsProvider);

impl TencentSms {
    /// The transport for validated `[sms]` settings.
    pub fn new(s: &SmsSettings) -> Result<Self, ConfigError> {
        SmsProvider::new(s, ENDPOINT).map(Self)
    }
}

#[async_trait]
impl SmsTransport for TencentSms {
    async fn send(&self, sms: &Sms) -> Result<(), SendError> {
        let s = &self.0.settings;
        let payload = json!({
            "PhoneNumberSet": [sms.to],
            "SmsSdkAppId": SmsProvider::field(&s.sdk_app_id),
            "SignName": SmsProvider::field(&s.sign_name),
            "TemplateId": s.template_for(sms.locale),
            "TemplateParamSet": [sms.code],
        })
        .to_string();
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let host = host_header(&self.0.endpoint);
        let signed = [("content-type", CONTENT_TYPE), ("host", host.as_str()), ("x-tc-action", ACTION)];
        let authorization = tc3_authorization(
            &Tc3Request {
                secret_id: SmsProvider::field(&s.access_key_id),
                service: SERVICE,
                timestamp,
                headers: &signed,
                payload: payload.as_bytes(),
            },
            SmsProvider::field(&s.access_key_secret),
        );
        let req = self
            .0
            .http
            .post(self.0.endpoint.clone())
            .header("Authorization", authorization)
            .header("Content-Type", CONTENT_TYPE)
            .header("X-TC-Action", ACTION)
            .header("X-TC-Version", VERSION)
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", SmsProvider::field(&s.region))
            .body(payload);
        let (status, answer) = call_provider(req).await?;
        outcome(status, &answer)
    }
}

/// Reads a `SendSms` answer: `Response.Error` if any, else every `SendStatusSet[].Code` must
/// be `Ok`.
pub fn outcome(status: u16, answer: &Value) -> Result<(), SendError> {
    let response = &answer["Response"];
    if let Some(code) = response["Error"]["Code"].as_str() {
        return Err(classify(code, response["Error"]["Message"].as_str()));
    }
    let Some(set) = response["SendStatusSet"].as_array().filter(|s| !s.is_empty()) else {
        let why = format!("Tencent SMS: HTTP {status}, no SendStatusSet");
        return Err(if status >= 500 { SendError::Transient(why) } else { SendError::Rejected(why) });
    };
    match set.iter().find(|entry| entry["Code"].as_str() != Some("Ok")) {
        None => Ok(()),
        Some(failed) => Err(classify(failed["Code"].as_str().unwrap_or("no Code"), failed["Message"].as_str())),
    }
}

/// Tencent's error codes (SMS API "Error Codes"): rate limits (`LimitExceeded.*`,
/// `RequestLimitExceeded*`) and internal errors (`InternalError*`) pass; anything else (a
/// signature failure, an unapproved template, a bad number) needs the operator.
fn classify(code: &str, message: Option<&str>) -> SendError {
    let text = format!("Tencent SMS: {code}: {}", message.unwrap_or_default().chars().take(120).collect::<String>());
    let transient = ["LimitExceeded.", "RequestLimitExceeded", "InternalError"].iter().any(|p| code.starts_with(p));
    if transient {
        SendError::Transient(text)
    } else {
        SendError::Rejected(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signature v3's worked example: DescribeInstances of CVM, SecretKey
    /// `Gu5t9xGARNpq86cd98joQYCN3EXAMPLE`, timestamp 1551113065, signed headers
    /// `content-type;host`; the doc gives the payload hash, the hashed canonical request and
    /// the signature.
    #[test]
    fn the_documented_example_signs_as_documented() {
        let payload = br#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(sha256_hex(payload), "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064");
        let canonical = "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n\
                         content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064";
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let req = Tc3Request {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            service: "cvm",
            timestamp: 1_551_113_065,
            headers: &[("Content-Type", "application/json; charset=utf-8"), ("Host", "cvm.tencentcloudapi.com")],
            payload,
        };
        assert_eq!(
            tc3_authorization(&req, "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn the_date_is_utc_and_every_signed_header_counts() {
        // 2019-02-26 00:44:25 in UTC+8 is still the 25th in UTC (the doc's own warning).
        assert_eq!(utc_date(1_551_113_065), "2019-02-25");
        let base = [("content-type", CONTENT_TYPE), ("host", "sms.tencentcloudapi.com"), ("x-tc-action", "SendSms")];
        let sign = |headers: &[(&str, &str)]| {
            tc3_authorization(
                &Tc3Request { secret_id: "id", service: "sms", timestamp: 1_700_000_000, headers, payload: b"{}" },
                "key",
            )
        };
        let signed = sign(&base);
        assert!(signed.contains("/2023-11-14/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, "));
        let mut other = base;
        other[2].1 = "SendStatus";
        assert_ne!(sign(&other), signed);
        // Header order does not matter: they are sorted.
        let reversed = [base[2], base[1], base[0]];
        assert_eq!(sign(&reversed), signed);
    }

    #[test]
    fn answers_are_read_per_number() {
        let ok =
            json!({"Response": {"SendStatusSet": [{"Code": "Ok", "PhoneNumber": "+8613800138000"}], "RequestId": "r"}});
        assert_eq!(outcome(200, &ok), Ok(()));
        let bad_sig = json!({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "m"}}});
        assert!(matches!(outcome(200, &bad_sig), Err(SendError::Rejected(e)) if e.contains("SignatureFailure")));
        let throttled = json!({"Response": {"SendStatusSet": [
            {"Code": "Ok"}, {"Code": "LimitExceeded.PhoneNumberThirtySecondLimit", "Message": "slow down"}]}});
        assert!(matches!(outcome(200, &throttled), Err(SendError::Transient(_))));
        let template =
            json!({"Response": {"SendStatusSet": [{"Code": "FailedOperation.TemplateIncorrectOrUnapproved"}]}});
        assert!(matches!(outcome(200, &template), Err(SendError::Rejected(_))));
        assert!(matches!(outcome(502, &json!({})), Err(SendError::Transient(_))));
        assert!(matches!(outcome(200, &json!({"Response": {"SendStatusSet": []}})), Err(SendError::Rejected(_))));
    }
}
