//! `/o/login/finish/`: after a first sign-in with a provider, create an account (with the
//! username the provider suggested, editable) or, when offered, link the account that has the
//! email the provider verified.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::upstream::load_pending,
    components::{
        forms::{FinishLinkForm, FinishSignupForm},
        ErrorBanner, Layout, Loading,
    },
    i18n::t,
    view::PendingView,
};

/// The finish page.
#[component]
pub fn FinishPage() -> impl IntoView {
    let query = use_query_map();
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let data = Resource::new_blocking(|| (), |_| load_pending());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.finish_title, t.site_title)/>
        <Layout labelled_by="finish-title">
            <h1 id="finish-title">{t.finish_title}</h1>
            {move || url_error().map(|message| view! { <ErrorBanner message/> })}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <Choices v/> }.into_any(),
                    Err(e) => view! {
                        <ErrorBanner message=error_text(&e)/>
                        <p><a href="/o/login/" rel="external">{t.back_to_sign_in}</a></p>
                    }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn Choices(v: PendingView) -> impl IntoView {
    let t = t();
    let (csrf_signup, csrf_link) = (v.csrf.clone(), v.csrf.clone());
    let username = v.username.clone();
    let create = v.registration_open.then(move || {
        view! {
            <FinishSignupForm class="form" labelled_by="finish-title">
                <input type="hidden" name="csrf" value=csrf_signup/>
                <label for="username">{t.choose_username}</label>
                <input id="username" name="username" type="text" autocomplete="username" required value=username/>
                <button type="submit" class="primary">{t.create_my_account}</button>
            </FinishSignupForm>
        }
    });
    let existing = v.link_account.clone().map(move |account| {
        view! {
            <h2 id="link-existing">{t.link_existing}</h2>
            <p>{t.link_existing_text.0}<strong>{account}</strong>{t.link_existing_text.1}</p>
            <FinishLinkForm class="form" labelled_by="link-existing">
                <input type="hidden" name="csrf" value=csrf_link/>
                <label for="link_password">{t.password}</label>
                <input id="link_password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit" class="primary">{t.link_my_account}</button>
            </FinishLinkForm>
        }
    });
    let closed = (!v.registration_open && v.link_account.is_none())
        .then(|| view! { <ErrorBanner message=t.registration_closed.to_owned()/> });
    view! {
        <p>{t.finish_intro.0}<strong>{v.provider_name}</strong>{t.finish_intro.1}</p>
        {(!v.email.is_empty()).then(|| view! { <p class="muted">{t.email}": "{v.email.clone()}</p> })}
        {create}
        {existing}
        {closed}
        <p class="muted"><a href="/o/login/" rel="external">{t.back_to_sign_in}</a></p>
    }
}
