//! `/`: where a sign-in without `next` lands: who is signed in, and signing out.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::auth::{login_context, Logout},
    components::{follow, ErrorBanner, Layout},
};

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    let context = Resource::new_blocking(|| (), |_| login_context());
    let logout = ServerAction::<Logout>::new();
    follow(logout);
    view! {
        <Title text="Yaoshi"/>
        <Layout labelled_by="home-title">
            <h1 id="home-title">"Your Yaoshi account"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=e.to_string()/> }.into_any(),
                    Ok(ctx) => match ctx.signed_in_as {
                        Some(name) => view! {
                            <p>"Signed in as " <strong class="who">{name}</strong> "."</p>
                            <p><a class="button primary" href="/account">"Manage your account"</a></p>
                            <ActionForm action=logout>
                                <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                                <button type="submit">"Sign out"</button>
                            </ActionForm>
                        }.into_any(),
                        None => view! {
                            <p>"You are not signed in."</p>
                            <a class="button primary" href="/o/login/">"Sign in"</a>
                        }.into_any(),
                    },
                }})}
            </Suspense>
        </Layout>
    }
}
