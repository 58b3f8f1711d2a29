//! `/o/logout/`: the end-session endpoint's page (OpenID Connect RP-Initiated Logout). It asks
//! before signing out, so a link planted anywhere cannot end a session; the client's
//! parameters ride along in the form and are checked again when it is posted.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::error_text;
use crate::{
    api::auth::{logout_context, LogoutParams},
    components::{forms::LogoutForm, ErrorBanner, Layout, Loading},
    i18n::t,
};

/// The sign-out page.
#[component]
pub fn LogoutPage() -> impl IntoView {
    let query = use_query_map();
    let params = move || {
        query.with(|q| LogoutParams {
            id_token_hint: q.get("id_token_hint"),
            post_logout_redirect_uri: q.get("post_logout_redirect_uri"),
            state: q.get("state"),
            client_id: q.get("client_id"),
        })
    };
    let context = Resource::new_blocking(params, logout_context);
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.sign_out, t.site_title)/>
        <Layout labelled_by="logout-title">
            <h1 id="logout-title">{t.sign_out}</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(v) => {
                        let p = params();
                        let hidden = |name: &'static str, value: Option<String>| {
                            value.map(|value| view! { <input type="hidden" name=name value=value/> })
                        };
                        // A request the server cannot follow is not carried into the form.
                        let carry = v.problem.is_none();
                        let asking = v.client_name.clone().map(|name| view! { <p>{t.logout_asked_by.0} <strong>{name}</strong> {t.logout_asked_by.1}</p> });
                        let question = match &v.signed_in_as {
                            Some(name) => view! { <p>{t.signed_in_as.0} <strong class="who">{name.clone()}</strong> {t.signed_in_as.1} " " {t.logout_question}</p> }.into_any(),
                            None => view! { <p>{t.not_signed_in}</p> }.into_any(),
                        };
                        view! {
                            {asking}
                            {v.problem.clone().map(|message| view! { <ErrorBanner message/> })}
                            {question}
                            <LogoutForm>
                                <input type="hidden" name="csrf" value=v.csrf.clone()/>
                                {carry.then(|| view! {
                                    {hidden("id_token_hint", p.id_token_hint)}
                                    {hidden("post_logout_redirect_uri", p.post_logout_redirect_uri)}
                                    {hidden("state", p.state)}
                                    {hidden("client_id", p.client_id)}
                                })}
                                <button type="submit" class="primary">
                                    {if v.signed_in_as.is_some() { t.sign_out } else { t.continue_ }}
                                </button>
                            </LogoutForm>
                        }.into_any()
                    }
                }})}
            </Suspense>
        </Layout>
    }
}
