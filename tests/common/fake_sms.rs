//! In-process fakes of the two SMS providers' `SendSms`, on a loopback port. Each checks the
//! request's signature the way the provider does, recomputed here from the request as it
//! arrived (not with the server's own signer), and answers a wrong one with the provider's own
//! error; each accepted message is recorded as (number, template, code). A fake can be told to
//! answer the next calls with the provider's throttling error.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use hmac::Mac as _;
use serde_json::{json, Value};
use sha2::Digest as _;
use yaoshi::config::{SmsSettings, SmsTransportKind};

/// Which provider a fake plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Alibaba Cloud `dysmsapi`, V3 signature (ACS3-HMAC-SHA256).
    Aliyun,
    /// Tencent Cloud SMS 2021-01-11, TC3-HMAC-SHA256.
    Tencent,
}

/// One message a fake accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentSms {
    /// The number in E.164 (`+8613800138000`).
    pub to: String,
    /// The template it was sent with.
    pub template: String,
    /// The code the template carried.
    pub code: String,
}

#[derive(Default)]
struct Record {
    sent: Vec<SentSms>,
    /// Calls refused for their signature or credentials.
    refused: usize,
    /// How many more calls get the throttling answer.
    throttle: usize,
}

struct Inner {
    provider: Provider,
    key_id: String,
    secret: String,
    record: Mutex<Record>,
}

/// A running fake provider.
#[derive(Clone)]
pub struct FakeSms {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    inner: Arc<Inner>,
}

impl FakeSms {
    /// Starts a fake of `provider` that accepts the credentials `key_id` / `secret`.
    pub async fn start(provider: Provider, key_id: &str, secret: &str) -> FakeSms {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let inner = Arc::new(Inner {
            provider,
            key_id: key_id.to_owned(),
            secret: secret.to_owned(),
            record: Mutex::default(),
        });
        let app = Router::new().route("/", post(send_sms)).with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSms { url, inner }
    }

    /// `[sms]` settings pointing at this fake, signing with `secret` (the right one or not).
    pub fn settings(&self, secret: &str) -> SmsSettings {
        let (transport, region, sdk_app_id) = match self.inner.provider {
            Provider::Aliyun => (SmsTransportKind::Aliyun, None, None),
            Provider::Tencent => (SmsTransportKind::Tencent, Some("ap-guangzhou".into()), Some("1400000001".into())),
        };
        SmsSettings {
            transport,
            access_key_id: Some(self.inner.key_id.clone()),
            access_key_secret: Some(secret.to_owned()),
            sign_name: Some("钥匙".into()),
            template: Some("TPL_ZH".into()),
            template_en: Some("TPL_EN".into()),
            region,
            sdk_app_id,
            endpoint: Some(self.url.clone()),
        }
    }

    /// Answers the next `calls` with the provider's throttling error.
    pub fn throttle(&self, calls: usize) {
        self.inner.record.lock().unwrap().throttle = calls;
    }

    /// Every message accepted so far.
    pub fn sent(&self) -> Vec<SentSms> {
        self.inner.record.lock().unwrap().sent.clone()
    }

    /// How many calls were refused for their signature or credentials.
    pub fn refused(&self) -> usize {
        self.inner.record.lock().unwrap().refused
    }

    /// Waits (at most 20 s) for a message to `to` and returns the latest one.
    pub async fn wait_for(&self, to: &str) -> SentSms {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(sms) = self.sent().into_iter().rev().find(|s| s.to == to) {
                return sms;
            }
            assert!(tokio::time::Instant::now() < deadline, "no SMS to {to} within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn send_sms(State(s): State<Arc<Inner>>, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let checked = match s.provider {
        Provider::Aliyun => check_aliyun(&s, &header, query.as_deref().unwrap_or_default(), &body),
        Provider::Tencent => check_tencent(&s, &header, &body),
    };
    let sms = match checked {
        Ok(sms) => sms,
        Err((status, answer)) => {
            s.record.lock().unwrap().refused += 1;
            return (status, Json(answer)).into_response();
        }
    };
    let throttled = {
        let mut r = s.record.lock().unwrap();
        let throttled = r.throttle > 0;
        if throttled {
            r.throttle -= 1;
        } else {
            r.sent.push(sms.clone());
        }
        throttled
    };
    let request_id = yaoshi::crypto::random_id();
    match (s.provider, throttled) {
        (Provider::Aliyun, false) => {
            Json(json!({"Code": "OK", "Message": "OK", "BizId": "900000000000000000^0", "RequestId": request_id}))
                .into_response()
        }
        (Provider::Aliyun, true) => Json(json!({
            "Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1", "RequestId": request_id
        }))
        .into_response(),
        (Provider::Tencent, throttled) => {
            let (code, message) = if throttled {
                ("LimitExceeded.PhoneNumberThirtySecondLimit", "the same number within 30 seconds")
            } else {
                ("Ok", "send success")
            };
            Json(json!({"Response": {"SendStatusSet": [{
                "SerialNo": request_id, "PhoneNumber": sms.to, "Fee": 1, "SessionContext": "",
                "Code": code, "Message": message, "IsoCode": "CN"
            }], "RequestId": request_id}}))
            .into_response()
        }
    }
}

/// The status and JSON body of a provider's refusal.
type Refusal = (StatusCode, Value);

fn hmac256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex(&sha2::Sha256::digest(b))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Unix seconds of an `x-acs-date` (`2023-10-26T10:22:32Z`).
fn acs_date(v: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| v.get(r).and_then(|s| s.parse::<u8>().ok());
    let year: i32 = v.get(0..4)?.parse().ok()?;
    if v.len() != 20 || &v[4..5] != "-" || &v[10..11] != "T" || !v.ends_with('Z') {
        return None;
    }
    let month = time::Month::try_from(n(5..7)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, n(8..10)?).ok()?;
    let at = date.with_hms(n(11..13)?, n(14..16)?, n(17..19)?).ok()?;
    Some(at.assume_utc().unix_timestamp())
}

/// `Key=Value` pairs of `Authorization` after the algorithm, split on `sep`.
fn auth_fields(auth: &str, algorithm: &str, sep: char) -> Option<BTreeMap<String, String>> {
    let rest = auth.strip_prefix(algorithm)?.strip_prefix(' ')?;
    rest.split(sep).map(|kv| kv.trim().split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned()))).collect()
}

/// Alibaba Cloud's V3 check ("V3 request structure and signature"): the canonical request over
/// the method, `/`, the query re-encoded and sorted, the signed headers as received and the
/// body's hash; the signature is `HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" + its hash)`.
fn check_aliyun(s: &Inner, header: &dyn Fn(&str) -> String, query: &str, body: &[u8]) -> Result<SentSms, Refusal> {
    let refuse = |status: StatusCode, code: &str, message: &str| -> Refusal {
        (status, json!({"Code": code, "Message": message, "RequestId": "fake", "HostId": "dysmsapi.aliyuncs.com"}))
    };
    let Some(f) = auth_fields(&header("authorization"), "ACS3-HMAC-SHA256", ',') else {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards.",
        ));
    };
    if f.get("Credential") != Some(&s.key_id) {
        return Err(refuse(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound", "Specified access key is not found."));
    }
    let signed: Vec<&str> = f.get("SignedHeaders").map(|h| h.split(';').collect()).unwrap_or_default();
    let required =
        ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"];
    if required.iter().any(|h| !signed.contains(h)) || header("x-acs-content-sha256") != sha256_hex(body) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "IncompleteSignature",
            "The request signature does not conform to Aliyun standards.",
        ));
    }
    if acs_date(&header("x-acs-date")).is_none_or(|at| (at - now()).abs() > 900) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    let enc = |v: &str| percent_encoding::utf8_percent_encode(v, SET).to_string();
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let canonical_query = params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    let canonical_headers: String = signed.iter().map(|h| format!("{h}:{}\n", header(h).trim())).collect();
    let canonical = format!(
        "POST\n/\n{canonical_query}\n{canonical_headers}\n{}\n{}",
        signed.join(";"),
        header("x-acs-content-sha256")
    );
    let to_sign = format!("ACS3-HMAC-SHA256\n{}", sha256_hex(canonical.as_bytes()));
    let want = hex(&hmac256(s.secret.as_bytes(), to_sign.as_bytes()));
    if f.get("Signature") != Some(&want) {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            "Specified signature does not match our calculation.",
        ));
    }
    if header("x-acs-action") != "SendSms" || header("x-acs-version") != "2017-05-25" {
        return Err(refuse(StatusCode::BAD_REQUEST, "InvalidAction.NotFound", "Specified api is not found."));
    }
    let param: Value = params.get("TemplateParam").and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
    match (params.get("PhoneNumbers"), params.get("TemplateCode"), param["code"].as_str(), params.get("SignName")) {
        (Some(number), Some(template), Some(code), Some(_)) if number.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(SentSms { to: format!("+{number}"), template: template.clone(), code: code.to_owned() })
        }
        _ => Err(refuse(StatusCode::OK, "isv.INVALID_PARAMETERS", "参数异常")),
    }
}

/// Tencent Cloud's Signature v3 check: the canonical request over the signed headers as
/// received (lower-cased), the credential scope's date from `X-TC-Timestamp`, and the key
/// derived from `"TC3" + SecretKey` through the date, the service and `tc3_request`.
fn check_tencent(s: &Inner, header: &dyn Fn(&str) -> String, body: &[u8]) -> Result<SentSms, Refusal> {
    // Tencent answers 200 whatever happened.
    let refuse = |code: &str, message: &str| -> Refusal {
        (StatusCode::OK, json!({"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "fake"}}))
    };
    let Some(f) = auth_fields(&header("authorization"), "TC3-HMAC-SHA256", ',') else {
        return Err(refuse("AuthFailure.InvalidAuthorization", "Authorization header is malformed."));
    };
    let credential: Vec<&str> = f.get("Credential").map(|c| c.split('/').collect()).unwrap_or_default();
    let [id, date, service, "tc3_request"] = credential[..] else {
        return Err(refuse("AuthFailure.InvalidAuthorization", "Authorization header is malformed."));
    };
    if id != s.key_id {
        return Err(refuse("AuthFailure.SecretIdNotFound", "The SecretId is not found."));
    }
    let timestamp: i64 = header("x-tc-timestamp").parse().unwrap_or_default();
    if (timestamp - now()).abs() > 300 {
        return Err(refuse("AuthFailure.SignatureExpire", "Signature expired."));
    }
    let signed: Vec<&str> = f.get("SignedHeaders").map(|h| h.split(';').collect()).unwrap_or_default();
    if !signed.contains(&"content-type") || !signed.contains(&"host") {
        return Err(refuse("AuthFailure.InvalidAuthorization", "content-type and host must be signed."));
    }
    let canonical_headers: String =
        signed.iter().map(|h| format!("{h}:{}\n", header(h).trim().to_ascii_lowercase())).collect();
    let canonical = format!("POST\n/\n\n{canonical_headers}\n{}\n{}", signed.join(";"), sha256_hex(body));
    let day = time::OffsetDateTime::from_unix_timestamp(timestamp).unwrap().date();
    let to_sign =
        format!("TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{}", sha256_hex(canonical.as_bytes()));
    let key = hmac256(
        &hmac256(&hmac256(format!("TC3{}", s.secret).as_bytes(), date.as_bytes()), service.as_bytes()),
        b"tc3_request",
    );
    let want = hex(&hmac256(&key, to_sign.as_bytes()));
    let date_ok = date == format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day());
    if f.get("Signature") != Some(&want) || !date_ok {
        return Err(refuse(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        ));
    }
    if header("x-tc-action") != "SendSms" || header("x-tc-version") != "2021-01-11" || header("x-tc-region").is_empty()
    {
        return Err(refuse("InvalidAction", "The action, version or region is missing or wrong."));
    }
    let req: Value = serde_json::from_slice(body).unwrap_or_default();
    let fields = (req["PhoneNumberSet"][0].as_str(), req["TemplateId"].as_str(), req["TemplateParamSet"][0].as_str());
    match fields {
        (Some(to), Some(template), Some(code)) if req["SmsSdkAppId"].is_string() && req["SignName"].is_string() => {
            Ok(SentSms { to: to.to_owned(), template: template.to_owned(), code: code.to_owned() })
        }
        _ => Err(refuse("InvalidParameter", "PhoneNumberSet, TemplateId, TemplateParamSet, SmsSdkAppId, SignName")),
    }
}
