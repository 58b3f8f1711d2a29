//! The request body at the edge: at most `max_body_bytes`, arriving within the body timeout.
//!
//! Every endpoint takes a small form, so the body is read here, once, before any route runs.
//! A declared `Content-Length` over the limit gets 413 before a byte of the body is read; a
//! streamed (chunked) body is read only up to the limit, then refused the same way; a body
//! that arrives too slowly gets 408 instead of holding its handler until the request timeout
//! (which answers 503, a server error for a client's fault). Routes and server functions then
//! read a complete body from memory, so none of them meets a body error of its own.
//!
//! The refusals are OAuth error objects (RFC 6749 §5.2 `invalid_request`), which is what the
//! token, revocation and introspection endpoints answer with; pages never send bodies this
//! large.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use crate::{config::RequestLimits, http::OAuthResponse, oauth::error::OAuthError};

/// The middleware (with the limits as its state).
pub(super) async fn limit_body(State(limits): State<RequestLimits>, req: Request, next: Next) -> Response {
    let max = limits.max_body_bytes;
    if declared_length(req.headers()).is_some_and(|n| n > max as u64) {
        return too_large(max);
    }
    if axum::body::HttpBody::is_end_stream(req.body()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(limits.body_read_timeout(), Limited::new(body, max).collect()).await;
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(max),
        Ok(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "the request body could not be read".into()),
        Err(_) => return refuse(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time".into()),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The `Content-Length` the client declared (hyper has refused malformed ones already).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn too_large(max: usize) -> Response {
    refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is larger than {max} bytes"))
}

fn refuse(status: StatusCode, description: String) -> Response {
    let mut resp = OAuthResponse::from(OAuthError::invalid_request(description)).into_response();
    *resp.status_mut() = status;
    resp
}

#[cfg(test)]
mod tests {
    use axum::{middleware, routing::post, Router};
    use tower::ServiceExt as _;

    use super::*;

    fn app(limits: RequestLimits) -> Router {
        Router::new()
            .route("/", post(|body: String| async move { body.len().to_string() }))
            .layer(middleware::from_fn_with_state(limits, limit_body))
    }

    async fn status_and_body(app: Router, req: Request) -> (u16, String) {
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// A body of unknown length, as a chunked request has.
    fn chunked(chunks: Vec<&'static [u8]>) -> Body {
        Body::from_stream(futures_util::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>)))
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_whether_declared_or_streamed() {
        let limits = RequestLimits { max_body_bytes: 1024, ..RequestLimits::default() };
        let declared = Request::post("/").header(header::CONTENT_LENGTH, "1025").body(Body::empty()).unwrap();
        let (status, body) = status_and_body(app(limits), declared).await;
        assert_eq!(status, 413, "refused on the declared length alone");
        assert!(body.contains("\"invalid_request\""), "{body}");

        let streamed = Request::post("/").body(chunked(vec![&[b'a'; 1000], &[b'b'; 25]])).unwrap();
        assert_eq!(status_and_body(app(limits), streamed).await.0, 413);

        let at_limit = Request::post("/").body(chunked(vec![&[b'a'; 1000], &[b'b'; 24]])).unwrap();
        assert_eq!(status_and_body(app(limits), at_limit).await, (200, "1024".into()));
        let empty = Request::post("/").body(Body::empty()).unwrap();
        assert_eq!(status_and_body(app(limits), empty).await, (200, "0".into()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_does_not_arrive_in_time_gets_408() {
        let limits = RequestLimits { body_read_timeout_secs: 5, ..RequestLimits::default() };
        let never = futures_util::stream::pending::<Result<&'static [u8], std::io::Error>>();
        let req = Request::post("/").body(Body::from_stream(never)).unwrap();
        assert_eq!(status_and_body(app(limits), req).await.0, 408);
    }
}
