//! Pieces shared by the pages.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_router::hooks::use_location;

pub mod captcha;
pub mod forms;
pub mod moment;
pub mod passkey;

use crate::{
    api::error::AppError,
    i18n::{t, Locale},
    view::BrowserName,
};

/// A client secret just made (registration or rotation), shown this once with its client_id.
#[component]
pub fn SecretOnce(
    /// The client and its new secret.
    secret: crate::view::OneTimeSecret,
) -> impl IntoView {
    let t = t();
    view! {
        <div class="secret" role="status">
            <p><strong>{t.secret_once}</strong></p>
            <dl>
                <dt>{t.client_id}</dt><dd><code class="client-id">{secret.client_id}</code></dd>
                <dt>{t.client_secret}</dt><dd><code class="client-secret">{secret.secret}</code></dd>
            </dl>
        </div>
    }
}

/// The frame around every page: brand line, language switch and a card.
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
            <div class="brand">
                <img src="/favicon.svg" alt="" width="24" height="24"/>{t().site_title}
                <LanguageSwitch/>
            </div>
            {children()}
        </section>
    }
}

/// A link to this page in the other language. A plain link to the server (not a client-side
/// route), so it works before and without the WASM bundle.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let location = use_location();
    let other = use_context::<Locale>().unwrap_or_default().other();
    let href = move || {
        // The router's `search` has no leading `?`.
        let search = location.search.get();
        let here =
            if search.is_empty() { location.pathname.get() } else { format!("{}?{search}", location.pathname.get()) };
        format!("/o/lang/?to={}&next={}", other.tag(), crate::web::query::urlencode(&here))
    };
    view! {
        <a class="lang" href=href rel="external" hreflang=other.tag() lang=other.tag()>{other.text().own_name}</a>
    }
}

/// A readable error message, announced to screen readers.
#[component]
pub fn ErrorBanner(
    /// What went wrong, in the page's language.
    message: String,
) -> impl IntoView {
    view! { <p class="error" role="alert">{message}</p> }
}

/// A success notice, announced politely.
#[component]
pub fn Notice(
    /// What was done, in the page's language.
    message: &'static str,
) -> impl IntoView {
    view! { <p class="notice" role="status">{message}</p> }
}

/// The "Loading…" placeholder of a `Suspense`.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted">{t().loading}</p> }
}

/// A browser in the page's language: "Chrome 156 on Linux" (or "Chrome 156" when the system
/// is unknown); "Unknown browser" for none.
pub fn browser_text(browser: Option<&BrowserName>) -> String {
    let t = t();
    let Some(b) = browser else { return t.unknown_browser.to_owned() };
    let name = if b.version.is_empty() { b.name.clone() } else { format!("{} {}", b.name, b.version) };
    if b.os.is_empty() {
        name
    } else {
        t.browser_on.replace("{browser}", &name).replace("{os}", &b.os)
    }
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
