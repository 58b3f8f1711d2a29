//! The Leptos application: the HTML shell and the router of the pages Yaoshi renders.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::pages::{
    account::AccountPage,
    admin::{AdminClientsPage, AdminEventsPage, AdminUsersPage},
    admin_groups::AdminGroupsPage,
    admin_user::AdminUserPage,
    apps::AppsPage,
    consent::ConsentPage,
    device::DevicePage,
    home::HomePage,
    login::LoginPage,
    login_finish::FinishPage,
    login_mfa::SecondStepPage,
    logout::LogoutPage,
    not_found::NotFound,
    password::{ForgotPage, ResetPage},
    register::RegisterPage,
    security::SecurityPage,
    verify::VerifyPage,
};

/// The document around every page, rendered on the server.
#[cfg(feature = "ssr")]
pub fn shell(_options: LeptosOptions) -> impl IntoView {
    use leptos_meta::MetaTags;
    content_security_policy();
    // Islands mode: the page is rendered as inert HTML, without hydration markers or the
    // resources' data; only the islands (`components::forms`) render as the browser hydrates.
    if let Some(sc) = Owner::current_shared_context() {
        sc.set_is_hydrating(false);
    }
    // The browser reads the language back from here when it hydrates (`web::locale::detect`).
    let lang = crate::web::locale::detect().tag();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <SiteAssets/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The stylesheet and the hydration bundle, linked by content-versioned URLs (see `site`), and
/// the inline script (carrying the CSP nonce) that loads the WASM and hydrates each island: a
/// `<leptos-island>` element names the bundle's export that takes it over. Then it marks the
/// body, which tells tests (and curious users) that the bundle has taken over the page.
/// Times are made local by a script of their own (`public/local-time.js`), outside the bundle;
/// so are the CAPTCHA's (`public/captcha.js`) and the passkeys' (`public/passkey.js`), which do
/// nothing on a page without one.
#[cfg(feature = "ssr")]
#[component]
fn SiteAssets() -> impl IntoView {
    use crate::site::{Site, CAPTCHA, CSS, JS, LOCAL_TIME, PASSKEY, WASM};
    let site = Site::current();
    let (js, wasm) = (site.url(JS), site.url(WASM));
    let script = format!(
        "import({js:?}).then(m => m.default({{module_or_path: {wasm:?}}}).then(() => {{ m.hydrate(); \
         for (const el of document.querySelectorAll(\"leptos-island\")) m[el.dataset.component](el); \
         document.body.dataset.hydrated = \"true\"; }}));"
    );
    view! {
        <link rel="stylesheet" href=site.url(CSS)/>
        <link rel="modulepreload" href=js/>
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        <script type="module" nonce=leptos::nonce::use_nonce()>{script}</script>
        <script type="module" src=site.url(LOCAL_TIME)></script>
        <script type="module" src=site.url(CAPTCHA)></script>
        <script type="module" src=site.url(PASSKEY)></script>
    }
}

/// The routes of the browser-facing pages.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(crate::web::locale::detect());
    view! {
        <Title text="Yaoshi"/>
        <Router>
            <main class="page">
                <Routes fallback=NotFound>
                    // Async rendering sends each page whole, so it works without JavaScript.
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/o/login/") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/logout/") view=LogoutPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/login/finish/") view=FinishPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/login/mfa/") view=SecondStepPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/authorize/") view=ConsentPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/device/") view=DevicePage ssr=SsrMode::Async/>
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/register/") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/verify/") view=VerifyPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/password/forgot/") view=ForgotPage ssr=SsrMode::Async/>
                    <Route path=path!("/o/password/reset/") view=ResetPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/apps") view=AppsPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/security") view=SecurityPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=AdminUsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=AdminUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/groups") view=AdminGroupsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/clients") view=AdminClientsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/events") view=AdminEventsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Sets the page's Content-Security-Policy: scripts only from this origin plus the one inline
/// hydration script, which carries this response's nonce. A provider CAPTCHA's origin may
/// also serve scripts, frames and calls (its widget is all three).
#[cfg(feature = "ssr")]
fn content_security_policy() {
    use axum::http::{header, HeaderValue};
    let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    let captcha = use_context::<crate::service::Services>()
        .filter(|s| s.settings.captcha.kind == crate::config::CaptchaKind::Provider)
        .and_then(|s| s.settings.captcha.provider_origin())
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    let frames = if captcha.is_empty() { String::new() } else { format!(" frame-src 'self'{captcha};") };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'{captcha}; style-src 'self'{captcha}; \
         img-src 'self' data:; connect-src 'self'{captcha};{frames} frame-ancestors 'none'; base-uri 'none'; \
         object-src 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}
