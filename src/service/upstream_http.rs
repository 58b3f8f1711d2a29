//! Outbound HTTP to upstream providers: short timeouts, bounded bodies, JSON only, no
//! redirects, and a cache of each issuer's discovery document and JWK Set.
//!
//! Whatever the provider does (refuse the connection, never answer, answer slowly, send HTML
//! or a gigabyte), the caller gets an [`UpstreamError`] within the timeout; a callback's
//! calls together stay within [`CALLBACK_BUDGET`].

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use reqwest::{header, RequestBuilder};
use serde_json::Value;

use crate::oauth::{
    jose::JwkSet,
    upstream::{
        dialect::{Answer, Body, Call, Exchange, Method, Next, MAX_CALLS},
        discovery_url, parse_token_response, ExternalProfile, ProviderConfig, TokenAuth, TokenResponse, UpstreamError,
        UpstreamMetadata, UserinfoAuth,
    },
};

/// Time allowed to open a connection: a provider that is down fails fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for one whole request, connection and body included. Healthy providers have
/// been seen answering a token request in 9 s under load, so each call gets 12 s.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(12);
/// Time allowed for all the calls of one callback together: discovery (when not cached), the
/// code exchange, the JWK Set (again after a key rotation) and the user info, up to five
/// calls of [`REQUEST_TIMEOUT`] each. 20 s lets two slow calls (a 9 s token endpoint and a 9 s
/// user info) through, and leaves 10 s of the server's 30 s request timeout
/// (`server::app`) for our own database work, so a slow provider gives "provider
/// unavailable", never the 503 of the request timeout.
pub const CALLBACK_BUDGET: Duration = Duration::from_secs(20);
/// Largest response body read.
const MAX_BODY: usize = 512 * 1024;
/// How long a discovery document or JWK Set is reused.
const CACHE_SECONDS: i64 = 3600;

type Cache<T> = Mutex<HashMap<String, (i64, Arc<T>)>>;

/// The HTTP client and the caches; one per process, shared by clones of `Services`.
pub struct UpstreamClient {
    http: reqwest::Client,
    metadata: Cache<UpstreamMetadata>,
    jwks: Cache<JwkSet>,
}

impl UpstreamClient {
    /// A client with the timeouts above, no redirects and no cookies.
    pub fn new() -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("yaoshi/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { http, metadata: Mutex::default(), jwks: Mutex::default() })
    }

    /// Sends `req` and returns the status and the JSON body (at most [`MAX_BODY`] bytes).
    async fn send_json(&self, req: RequestBuilder) -> Result<(u16, Value), UpstreamError> {
        let (status, body) = self.read_body(req.header(header::ACCEPT, "application/json")).await?;
        let json = serde_json::from_slice(&body)
            .map_err(|_| UpstreamError::Unavailable(format!("HTTP {status}: not a JSON document")))?;
        Ok((status, json))
    }

    /// Sends `req` and returns the status and the body (at most [`MAX_BODY`] bytes).
    async fn read_body(&self, req: RequestBuilder) -> Result<(u16, Vec<u8>), UpstreamError> {
        let failed = |e: reqwest::Error| {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            };
            // Without the URL: a query may carry a token (WeChat's user info).
            UpstreamError::Unavailable(format!("{what}: {}", e.without_url()))
        };
        let mut resp = req.send().await.map_err(failed)?;
        let status = resp.status().as_u16();
        if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
            return Err(UpstreamError::Unavailable(format!("HTTP {status}: response too large")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(UpstreamError::Unavailable(format!("HTTP {status}: response too large")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body))
    }

    /// GETs a JSON document that must come with a 2xx status.
    async fn get_document(&self, url: &str) -> Result<Value, UpstreamError> {
        match self.send_json(self.http.get(url)).await? {
            (200..=299, json) => Ok(json),
            (status, _) => Err(UpstreamError::Unavailable(format!("{url} answered HTTP {status}"))),
        }
    }

    fn cached<T>(cache: &Cache<T>, key: &str, now: i64) -> Option<Arc<T>> {
        let map = cache.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).filter(|(at, _)| now - at < CACHE_SECONDS).map(|(_, v)| v.clone())
    }

    fn remember<T>(cache: &Cache<T>, key: &str, now: i64, value: T) -> Arc<T> {
        let value = Arc::new(value);
        cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_owned(), (now, value.clone()));
        value
    }

    /// The issuer's discovery document, checked ([`UpstreamMetadata::check`]) and cached.
    pub async fn metadata(&self, issuer: &str, now: i64) -> Result<Arc<UpstreamMetadata>, UpstreamError> {
        if let Some(m) = Self::cached(&self.metadata, issuer, now) {
            return Ok(m);
        }
        let doc = self.get_document(&discovery_url(issuer)).await?;
        let meta: UpstreamMetadata =
            serde_json::from_value(doc).map_err(|e| UpstreamError::Unavailable(format!("discovery document: {e}")))?;
        meta.check(issuer).map_err(UpstreamError::Rejected)?;
        Ok(Self::remember(&self.metadata, issuer, now, meta))
    }

    /// The JWK Set at `uri`, from the cache unless `fresh`.
    pub async fn jwks(&self, uri: &str, now: i64, fresh: bool) -> Result<Arc<JwkSet>, UpstreamError> {
        if !fresh {
            if let Some(k) = Self::cached(&self.jwks, uri, now) {
                return Ok(k);
            }
        }
        let doc = self.get_document(uri).await?;
        let set: JwkSet =
            serde_json::from_value(doc).map_err(|e| UpstreamError::Unavailable(format!("JWK Set: {e}")))?;
        Ok(Self::remember(&self.jwks, uri, now, set))
    }

    /// RFC 6749 §4.1.3: exchanges the code, authenticating as `p`'s client (§2.3.1: Basic
    /// with both halves form-urlencoded, or the body) and sending the PKCE verifier (RFC 7636
    /// §4.5).
    pub async fn exchange_code(
        &self,
        p: &ProviderConfig,
        endpoint: &str,
        auth: TokenAuth,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<TokenResponse, UpstreamError> {
        let mut form: Vec<(&str, &str)> =
            vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        let mut basic = None;
        match auth {
            TokenAuth::ClientSecretPost => {
                form.push((&p.quirks.client_id_param, &p.client_id));
                form.push((&p.quirks.client_secret_param, p.client_secret.expose()));
            }
            TokenAuth::ClientSecretBasic => {
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                let pair = format!("{}:{}", enc(&p.client_id), enc(p.client_secret.expose()));
                basic = Some(format!("Basic {}", STANDARD.encode(pair)));
            }
        }
        let mut req = if p.quirks.token_via_get {
            self.http.get(endpoint).query(&form)
        } else {
            self.http.post(endpoint).form(&form)
        };
        if let Some(b) = basic {
            req = req.header(header::AUTHORIZATION, b);
        }
        let (status, json) = self.send_json(req).await?;
        let parsed = parse_token_response(&json);
        match parsed {
            Ok(_) if !(200..=299).contains(&status) => {
                Err(UpstreamError::Unavailable(format!("token endpoint answered HTTP {status}")))
            }
            other => other,
        }
    }

    /// Runs a provider's own flow ([`crate::oauth::upstream::dialect`]): sends each request
    /// it asks for and hands it the answer, until it names the user.
    pub async fn run_exchange(&self, mut ex: Box<dyn Exchange + Send>) -> Result<ExternalProfile, UpstreamError> {
        let mut call = ex.start()?;
        for _ in 0..MAX_CALLS {
            let answer = self.send(&call).await?;
            match ex.answer(&answer)? {
                Next::Send(next) => call = next,
                Next::Done(profile) => return Ok(profile),
            }
        }
        Err(UpstreamError::Unavailable(format!("no answer after {MAX_CALLS} requests")))
    }

    /// Sends one request of a provider's flow; the body comes back as text (at most
    /// [`MAX_BODY`] bytes), whatever its type: QQ answers JSONP as `text/html`.
    async fn send(&self, call: &Call) -> Result<Answer, UpstreamError> {
        let mut req = match call.method {
            Method::Get => self.http.get(&call.url),
            Method::Post => self.http.post(&call.url),
        };
        for (name, value) in &call.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        req = match &call.body {
            Body::Empty => req,
            Body::Form(pairs) => req.form(pairs),
            Body::Json(v) => req.json(v),
        };
        let (status, body) = self.read_body(req).await?;
        let body = String::from_utf8(body)
            .map_err(|_| UpstreamError::Unavailable(format!("HTTP {status}: the answer is not UTF-8 text")))?;
        Ok(Answer { status, body })
    }

    /// The user-info document for `token` (RFC 6750 §2.1 header, or the provider's query
    /// style with the token response members it wants).
    pub async fn userinfo(
        &self,
        p: &ProviderConfig,
        endpoint: &str,
        token: &TokenResponse,
    ) -> Result<Value, UpstreamError> {
        let mut req = self.http.get(endpoint);
        req = match p.quirks.userinfo_auth {
            UserinfoAuth::Header => req.bearer_auth(&token.access_token),
            UserinfoAuth::Query => req.query(&[("access_token", token.access_token.as_str())]),
        };
        for name in &p.quirks.userinfo_params_from_token {
            if let Some(v) = token.raw.get(name).and_then(Value::as_str) {
                req = req.query(&[(name.as_str(), v)]);
            }
        }
        match self.send_json(req).await? {
            (200..=299, json) => Ok(json),
            (status, _) => Err(UpstreamError::Unavailable(format!("user info endpoint answered HTTP {status}"))),
        }
    }
}
