//! The consent page, rendered at `/o/authorize/` when a signed-in user must approve an app
//! (or see why a request cannot be answered).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::error::error_text;
use crate::{
    api::consent::Decide,
    components::{follow, ErrorBanner, Layout},
    i18n::{scope_text, t},
    view::{AuthorizeData, AuthorizePage, ConsentView},
};

/// Id of the hidden field that carries the page's data to the browser for hydration.
const DATA_ID: &str = "authorize-data";

/// The page's data: from the rendering handler on the server, from the page in the browser.
/// No resource is involved, so nothing can keep the server's render waiting.
fn page_data() -> Option<AuthorizeData> {
    #[cfg(feature = "ssr")]
    {
        use_context::<AuthorizeData>()
    }
    #[cfg(not(feature = "ssr"))]
    {
        let raw = document().get_element_by_id(DATA_ID)?.get_attribute("value")?;
        serde_json::from_str(&raw).ok()
    }
}

/// `/o/authorize/`. Its data comes from the handler that decided to render it.
#[component]
pub fn ConsentPage() -> impl IntoView {
    let data = page_data();
    let embedded = data.as_ref().and_then(|d| serde_json::to_string(d).ok()).unwrap_or_default();
    let t = t();
    let d = data.ok_or_else(|| t.reload.to_owned());
    view! {
        <input type="hidden" id=DATA_ID value=embedded/>
        {match d {
                Ok(AuthorizeData { page: AuthorizePage::Consent(view), csrf }) => view! { <Consent view csrf/> }.into_any(),
                Ok(AuthorizeData { page: AuthorizePage::Error { code, description }, .. }) => view! {
                    <Title text=format!("{} · {}", t.authorization_error, t.site_title)/>
                    <Layout labelled_by="error-title">
                        <h1 id="error-title">{t.request_failed}</h1>
                        <ErrorBanner message=description/>
                        <p class="muted">{t.error_code.0} <code>{code}</code> {t.error_code.1}</p>
                    </Layout>
                }.into_any(),
                Err(message) => view! { <Layout labelled_by="x"><ErrorBanner message/></Layout> }.into_any(),
        }}
    }
}

#[component]
fn Consent(view: ConsentView, csrf: String) -> impl IntoView {
    let action = ServerAction::<Decide>::new();
    follow(action);
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(error_text(&e)),
        _ => None,
    };
    let t = t();
    let title = format!("{}{} · {}", t.authorize, view.client_name, t.site_title);
    view! {
        <Title text=title/>
        <Layout labelled_by="consent-title">
            <h1 id="consent-title">{t.authorize} {view.client_name.clone()}</h1>
            <p>
                <strong>{view.client_name.clone()}</strong> {t.wants_access.0}
                <strong>{view.username.clone()}</strong> {t.wants_access.1}
            </p>
            <h2>{t.will_be_able}</h2>
            <ul class="scopes">
                {view.scopes.iter().map(|s| view! {
                    <li>{scope_text(&s.name, &s.description)} " " <code>{s.name.clone()}</code></li>
                }).collect_view()}
            </ul>
            <p class="muted">{t.sent_to.0} <strong>{view.redirect_host.clone()}</strong> {t.sent_to.1}</p>
            {move || error().map(|message| view! { <ErrorBanner message/> })}
            <ActionForm action>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="query" value=view.query.clone()/>
                <div class="actions">
                    <button type="submit" name="decision" value="deny" disabled=move || action.pending().get()>{t.deny}</button>
                    <button type="submit" name="decision" value="approve" class="primary" disabled=move || action.pending().get()>{t.approve}</button>
                </div>
            </ActionForm>
        </Layout>
    }
}
