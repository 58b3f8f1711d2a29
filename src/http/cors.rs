//! Cross-origin requests (CORS, the Fetch standard's §3.2) for the endpoints a single-page app
//! calls from its own origin: the token, revocation, introspection and user info endpoints
//! allow an origin some client registered (`allowed_origins`), and the token, revocation and
//! introspection endpoints only an origin of the client that made the request, once the
//! handler has read which one it was ([`RequestingClient`]). The discovery documents and the
//! JWK Set are public and answer `*`. Every other path, the authorization endpoint and the
//! pages included, never carries a CORS header: a browser keeps their answers from any other
//! origin's scripts.
//!
//! No credentials mode: cookies play no part in these endpoints, so
//! `Access-Control-Allow-Credentials` is never sent.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::service::Services;

/// The client a token, revocation or introspection request named (by HTTP Basic or by
/// `client_id` in the body), put on the response by the handler so that the CORS check can
/// ask for that client's origins.
#[derive(Clone, Debug)]
pub(crate) struct RequestingClient(pub(crate) String);

/// How a path takes part in CORS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    /// Allowed for registered origins; `methods` is what a preflight may ask for.
    Registered { methods: &'static str },
    /// Public documents, readable from anywhere.
    Public,
}

/// The CORS policy of `path`, if it has one.
fn policy(path: &str) -> Option<Policy> {
    let bare = path.strip_suffix('/').unwrap_or(path);
    match bare {
        "/o/token" | "/o/revoke_token" | "/o/introspect" | "/o/par" => Some(Policy::Registered { methods: "POST" }),
        "/o/userinfo" => Some(Policy::Registered { methods: "GET, POST" }),
        "/o/.well-known/jwks.json"
        | "/.well-known/openid-configuration"
        | "/o/.well-known/openid-configuration"
        | "/.well-known/oauth-authorization-server" => Some(Policy::Public),
        _ => None,
    }
}

/// The headers a cross-origin script may send: client authentication, an access token, the
/// form's content type and a DPoP proof (RFC 9449 §4.1).
const ALLOW_HEADERS: &str = "authorization, content-type, dpop";
/// How long a browser may remember a preflight's answer.
const MAX_AGE: &str = "600";
/// The answer headers a script may read besides the safelisted ones: the challenge (RFC 6750
/// §3), when to come back after a 503, and the DPoP nonce (RFC 9449 §8.1).
const EXPOSE_HEADERS: &str = "www-authenticate, retry-after, dpop-nonce";

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// The answers are per origin: shared caches must key them on it.
fn vary_origin(headers: &mut HeaderMap) {
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

/// Answers CORS preflights and adds the CORS headers for the paths that have a policy; passes
/// everything else through untouched.
pub async fn cors(State(s): State<Services>, req: Request, next: Next) -> Response {
    let Some(policy) = policy(req.uri().path()) else { return next.run(req).await };
    let origin = origin_of(req.headers());
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if let (true, Some(origin)) = (preflight, origin.as_deref()) {
        return answer_preflight(&s, policy, origin).await;
    }
    let mut resp = next.run(req).await;
    let requester = resp.extensions_mut().remove::<RequestingClient>();
    let headers = resp.headers_mut();
    match policy {
        Policy::Public => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        Policy::Registered { .. } => {
            vary_origin(headers);
            let Some(origin) = origin else { return resp };
            if let Some(allowed) = s.cors_origin(&origin, requester.as_ref().map(|c| c.0.as_str())).await {
                let headers = resp.headers_mut();
                set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, &allowed);
                headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
            }
        }
    }
    resp
}

/// A preflight (Fetch §4.8): 204, with the permissions only for an allowed origin. A preflight
/// carries no credentials, so the requesting client is unknown: any client's registration
/// lets it through, and the actual request is checked against its own client.
async fn answer_preflight(s: &Services, policy: Policy, origin: &str) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let (allowed, methods) = match policy {
        Policy::Public => (Some("*".to_owned()), "GET"),
        Policy::Registered { methods } => (s.cors_origin(origin, None).await, methods),
    };
    let headers = resp.headers_mut();
    if policy != Policy::Public {
        vary_origin(headers);
    }
    if let Some(allowed) = allowed {
        set(headers, header::ACCESS_CONTROL_ALLOW_ORIGIN, &allowed);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_endpoints_and_documents_have_a_policy() {
        for path in ["/o/token/", "/o/token", "/o/revoke_token/", "/o/introspect/", "/o/par/"] {
            assert_eq!(policy(path), Some(Policy::Registered { methods: "POST" }), "{path}");
        }
        assert_eq!(policy("/o/userinfo/"), Some(Policy::Registered { methods: "GET, POST" }));
        for path in
            ["/o/.well-known/jwks.json", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]
        {
            assert_eq!(policy(path), Some(Policy::Public), "{path}");
        }
        for path in ["/o/authorize/", "/o/login/", "/account", "/api/login", "/o/logout/", "/o/token/x", "/"] {
            assert_eq!(policy(path), None, "{path}");
        }
    }
}
