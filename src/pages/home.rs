//! `/`: where a sign-in without `next` lands: who is signed in, and signing out.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::error::error_text;
use crate::{
    api::auth::login_context,
    components::{forms::LogoutForm, ErrorBanner, Layout, Loading},
    i18n::t,
};

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let context = Resource::new_blocking(|| (), |_| login_context());
    let t = t();
    view! {
        <Title text=t.site_title/>
        <Layout labelled_by="home-title">
            <h1 id="home-title">{t.home_title}</h1>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                    Ok(ctx) => match ctx.signed_in_as {
                        Some(name) => view! {
                            <p>{t.signed_in_as.0} <strong class="who">{name}</strong> {t.signed_in_as.1}</p>
                            <p><a class="button primary" href="/account">{t.manage_account}</a></p>
                            <nav class="links">
                                <a href="/account/apps">{t.developer_apps}</a>
                                {ctx.admin.then(|| view! {
                                    <a href="/admin/users">{t.admin_users}</a>
                                    <a href="/admin/clients">{t.admin_clients}</a>
                                    <a href="/admin/events">{t.admin_events}</a>
                                })}
                            </nav>
                            <LogoutForm>
                                <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                                <button type="submit">{t.sign_out}</button>
                            </LogoutForm>
                        }.into_any(),
                        None => view! {
                            <p>{t.not_signed_in}</p>
                            <a class="button primary" href="/o/login/">{t.sign_in}</a>
                        }.into_any(),
                    },
                }})}
            </Suspense>
        </Layout>
    }
}
