//! The Leptos pages and server functions as their own router, merged into the app by
//! [`super::app`]: the route list is made once per process, and the render-stall guard
//! covers the page routes of this router and nothing else.
//!
//! **Why once per process.** `RouteList::generate` (what `generate_route_list*` runs) sets a
//! process-wide flag, leptos_server's `SuppressResourceLoad`, while it renders the app once
//! to collect its routes. A `Resource` whose future is first polled while the flag is set
//! parks on a future that never wakes (leptos-rs/leptos#4773, open, unfixed in leptos 0.8.23,
//! the newest 0.8), and the page awaiting it never finishes. Every page here awaits a blocking
//! `Resource`, so any render that overlapped another server's start in the same process (the
//! test suites start hundreds) could hang. Made once in a `LazyLock`, the list exists before
//! the first router, so no render can overlap its generation.

use std::{
    collections::HashSet,
    sync::{Arc, LazyLock},
    time::Duration,
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::{self, Next},
    response::Response,
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list_with_exclusions, AxumRouteListing, LeptosRoutes};

use crate::{
    app::{shell, App},
    metrics::metrics,
    service::Services,
    state::AppState,
};

/// Rendered by its own handler in `http/`, which decides first whether to redirect.
const EXCLUDED: &str = "/o/authorize/";

/// The app's routes, generated on first use and shared by every router of the process.
static ROUTES: LazyLock<Vec<AxumRouteListing>> =
    LazyLock::new(|| generate_route_list_with_exclusions(App, Some(vec![EXCLUDED.to_owned()])));

/// How long a page render may take before it is abandoned and started again.
pub(crate) const PAGE_STALL: Duration = Duration::from_secs(8);

/// The route patterns of the pages (not of the server functions beside them).
type PagePaths = Arc<HashSet<String>>;

/// The pages and server functions, with the stall guard on the pages.
pub(super) fn router(state: &AppState, services: Services, leptos_options: LeptosOptions) -> Router<AppState> {
    let routes = ROUTES.clone();
    let pages = routes.iter().map(|r| r.path().to_owned()).filter(|p| p != EXCLUDED);
    let router = Router::new().leptos_routes_with_context(
        state,
        routes.clone(),
        move || provide_context(services.clone()),
        move || shell(leptos_options.clone()),
    );
    guard_pages(router, pages)
}

/// Puts [`retry_stalled_page`] on the routes of `router` whose pattern is in `pages`; the
/// other routes of `router` (and of any router it is merged with) go through untouched.
fn guard_pages<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    pages: impl IntoIterator<Item = String>,
) -> Router<S> {
    let pages: PagePaths = Arc::new(pages.into_iter().collect());
    // A route layer, so that the matched pattern is known when it runs.
    router.route_layer(middleware::from_fn_with_state(pages, retry_stalled_page))
}

/// Defence in depth, once the cause above is gone: should a page render still never finish
/// (another Leptos hang, like leptos-rs/leptos#4851, fixed in the 0.8.23 used here), it is dropped after
/// [`PAGE_STALL`] and done again, and counted in `yaoshi_page_render_stalls_total`. Only a GET
/// of a Leptos page is replayed: a page reads and changes nothing (its forms post to server
/// functions). The routes that act on a GET (`/o/authorize/` issues codes, the upstream
/// callback consumes its flow) are axum handlers in `http/` and never come here.
async fn retry_stalled_page(State(pages): State<PagePaths>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    let is_page = req.method() == Method::GET && route.is_some_and(|r| pages.contains(r));
    if !is_page {
        return next.run(req).await;
    }
    let (parts, _) = req.into_parts();
    let first = next.clone().run(Request::from_parts(parts.clone(), axum::body::Body::empty()));
    match tokio::time::timeout(PAGE_STALL, first).await {
        Ok(resp) => resp,
        Err(_) => {
            metrics().page_render_stalls.inc();
            tracing::warn!(path = %parts.uri.path(), "a page render stalled; rendering it again");
            next.run(Request::from_parts(parts, axum::body::Body::empty())).await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{body::Body, http::header, routing::get};
    use tower::ServiceExt as _;

    use super::*;

    /// A handler whose first call never finishes; counts its calls.
    fn stalls_once(calls: &Arc<AtomicUsize>) -> axum::routing::MethodRouter {
        let seen = calls.clone();
        get(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    std::future::pending::<()>().await;
                }
                "rendered"
            }
        })
    }

    fn page_get(path: &str) -> Request {
        Request::get(path).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_page_render_is_done_again_and_counted() {
        let calls = Arc::new(AtomicUsize::new(0));
        let app = guard_pages(Router::new().route("/page", stalls_once(&calls)), ["/page".to_owned()]);
        let before = metrics().page_render_stalls.get();
        let resp = tokio::time::timeout(Duration::from_secs(60), app.clone().oneshot(page_get("/page")))
            .await
            .expect("answered, not stalled")
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "the stalled render was abandoned and redone");
        assert!(metrics().page_render_stalls.get() > before, "the stall is counted");
        // A page that answers is rendered once.
        assert_eq!(app.oneshot(page_get("/page")).await.unwrap().status(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn routes_that_are_not_pages_are_never_replayed() {
        // `/o/authorize/`-like: a GET with effects, in a router merged beside the guarded one;
        // `/api/context`: a GET server function inside the guarded router, but not a page.
        let (authorize, server_fn, page) = (Arc::default(), Arc::default(), Arc::default());
        let pages = Router::new().route("/page", stalls_once(&page)).route("/api/context", stalls_once(&server_fn));
        let app = Router::new()
            .route("/o/authorize/", stalls_once(&authorize))
            .merge(guard_pages(pages, ["/page".to_owned()]));
        for (path, calls) in [("/o/authorize/", &authorize), ("/api/context", &server_fn)] {
            let answer = tokio::time::timeout(Duration::from_secs(60), app.clone().oneshot(page_get(path))).await;
            assert!(answer.is_err(), "{path} is left to the request timeout, not replayed");
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{path} ran once");
        }
        // The page of the same app is still guarded.
        let resp = tokio::time::timeout(Duration::from_secs(60), app.oneshot(page_get("/page"))).await;
        assert_eq!(resp.expect("the page was redone").unwrap().status(), 200);
        assert_eq!(page.load(Ordering::SeqCst), 2);
    }
}
