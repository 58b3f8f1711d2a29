//! The page for any path no route claims.

use leptos::prelude::*;

/// A readable 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    let t = crate::i18n::t();
    view! {
        <crate::components::Layout labelled_by="not-found-title">
            <h1 id="not-found-title">{t.not_found}</h1>
            <p>{t.not_found_text}</p>
        </crate::components::Layout>
    }
}
