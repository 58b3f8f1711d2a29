//! The consent page, rendered at `/o/authorize/` when a signed-in user must approve an app
//! (or see why a request cannot be answered).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::{forms::DecideForm, ErrorBanner, Layout},
    i18n::{scope_text, t},
    view::{AuthorizeData, AuthorizePage, ConsentView, ScopeItem},
};

/// `/o/authorize/`. Its data comes from the handler that decided to render it.
#[component]
pub fn ConsentPage() -> impl IntoView {
    let t = t();
    let d = use_context::<AuthorizeData>().ok_or_else(|| t.reload.to_owned());
    view! {
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
            <ScopeList scopes=view.scopes.clone()/>
            <p class="muted">{t.sent_to.0} <strong>{view.redirect_host.clone()}</strong> {t.sent_to.1}</p>
            <DecideForm>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="query" value=view.query.clone()/>
                <DecisionButtons/>
            </DecideForm>
        </Layout>
    }
}

/// What the app asks to do, one line per scope: the words and the scope's name.
#[component]
pub fn ScopeList(
    /// The scopes asked for, in the order the request named them.
    scopes: Vec<ScopeItem>,
) -> impl IntoView {
    view! {
        <ul class="scopes">
            {scopes.into_iter().map(|s| view! {
                <li>{scope_text(&s.name, &s.description)} " " <code>{s.name}</code></li>
            }).collect_view()}
        </ul>
    }
}

/// Deny and Approve, posted as `decision`. Deny comes first: pressing Enter submits a form
/// with its first button.
#[component]
pub fn DecisionButtons() -> impl IntoView {
    let t = t();
    view! {
        <div class="actions">
            <button type="submit" name="decision" value="deny">{t.deny}</button>
            <button type="submit" name="decision" value="approve" class="primary">{t.approve}</button>
        </div>
    }
}
