//! Pieces shared by the pages.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::api::error::AppError;

/// The frame around every page: brand line and a card.
#[component]
pub fn Layout(
    /// Id of the heading that names the page's main region.
    labelled_by: &'static str,
    /// Wider card for pages with tables.
    #[prop(optional)]
    wide: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <section class=if wide { "card wide" } else { "card" } aria-labelledby=labelled_by>
            <div class="brand"><img src="/favicon.svg" alt="" width="24" height="24"/>"Yaoshi"</div>
            {children()}
        </section>
    }
}

/// A readable error message, announced to screen readers.
#[component]
pub fn ErrorBanner(message: String) -> impl IntoView {
    view! { <p class="error" role="alert">{message}</p> }
}

/// Once `action` succeeds with a URL, loads that URL in the browser (a full navigation: the
/// next page may be another site, the client's redirect URI).
pub fn follow<S>(action: ServerAction<S>)
where
    S: ServerFn<Output = String, Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(url)) = action.value().get() {
            let _ = window().location().set_href(&url);
        }
    });
}
