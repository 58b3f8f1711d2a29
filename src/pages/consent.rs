//! The consent page, rendered at `/o/authorize/` when a signed-in user must approve an app
//! (or see why a request cannot be answered).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        consent::Decide,
        types::{AuthorizeData, AuthorizePage, ConsentView},
    },
    components::{follow, ErrorBanner, Layout},
};

/// `/o/authorize/`. Its data comes from the handler that decided to render it.
#[component]
pub fn ConsentPage() -> impl IntoView {
    // Present only while the server renders; the browser receives the value with the page.
    let provided = use_context::<AuthorizeData>();
    let data = Resource::new_blocking(
        || (),
        move |_| {
            let provided = provided.clone();
            async move { provided.ok_or_else(|| "Reload this page to continue.".to_owned()) }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || data.get().map(|d| match d {
                Ok(AuthorizeData { page: AuthorizePage::Consent(view), csrf }) => view! { <Consent view csrf/> }.into_any(),
                Ok(AuthorizeData { page: AuthorizePage::Error { code, description }, .. }) => view! {
                    <Title text="Authorization error · Yaoshi"/>
                    <Layout labelled_by="error-title">
                        <h1 id="error-title">"This request cannot be completed"</h1>
                        <ErrorBanner message=description/>
                        <p class="muted">"Error code: " <code>{code}</code> ". Go back to the app you came from and try again, or contact its developer."</p>
                    </Layout>
                }.into_any(),
                Err(message) => view! { <Layout labelled_by="x"><ErrorBanner message/></Layout> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn Consent(view: ConsentView, csrf: String) -> impl IntoView {
    let action = ServerAction::<Decide>::new();
    follow(action);
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => None,
    };
    let title = format!("Authorize {} · Yaoshi", view.client_name);
    view! {
        <Title text=title/>
        <Layout labelled_by="consent-title">
            <h1 id="consent-title">"Authorize " {view.client_name.clone()}</h1>
            <p>
                <strong>{view.client_name.clone()}</strong> " wants to access your account "
                <strong>{view.username.clone()}</strong> "."
            </p>
            <h2>"It will be able to"</h2>
            <ul class="scopes">
                {view.scopes.iter().map(|s| view! {
                    <li>{s.description.clone()} " " <code>{s.name.clone()}</code></li>
                }).collect_view()}
            </ul>
            <p class="muted">"After you decide, you will be sent to " <strong>{view.redirect_host.clone()}</strong> "."</p>
            {move || error().map(|message| view! { <ErrorBanner message/> })}
            <ActionForm action>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="query" value=view.query.clone()/>
                <div class="actions">
                    <button type="submit" name="decision" value="deny" disabled=move || action.pending().get()>"Deny"</button>
                    <button type="submit" name="decision" value="approve" class="primary" disabled=move || action.pending().get()>"Approve"</button>
                </div>
            </ActionForm>
        </Layout>
    }
}
