//! `/o/login/`: the sign-in form the authorize endpoint sends logged-out users to.
//!
//! Without JavaScript the form posts to the `login` server function and the browser follows its
//! 303; with the WASM loaded it submits in place, shows errors inline, then navigates.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        auth::{login_context, Login},
        error::AppError,
    },
    components::{follow, ErrorBanner, Layout},
};

/// `value` as a query-string component.
fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sign-in page. `next` is where to continue after signing in.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let error_from_url = move || query.with(|q| q.get("error")).and_then(|c| AppError::message_for_code(&c));
    let context = Resource::new_blocking(|| (), |_| login_context());
    let action = ServerAction::<Login>::new();
    follow(action);
    let error = move || match action.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        _ => error_from_url(),
    };
    view! {
        <Title text="Sign in · Yaoshi"/>
        <Layout labelled_by="login-title">
            <h1 id="login-title">"Sign in"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move { match context.await {
                    Err(e) => view! { <ErrorBanner message=e.to_string()/> }.into_any(),
                    Ok(ctx) => view! {
                        {ctx.signed_in_as.map(|name| view! {
                            <p class="muted">"You are signed in as " <strong>{name}</strong> ". Sign in again to switch accounts."</p>
                        })}
                        {move || error().map(|message| view! { <ErrorBanner message/> })}
                        <ActionForm action attr:class="form">
                            <input type="hidden" name="csrf" value=ctx.csrf.clone()/>
                            <input type="hidden" name="next" value=next/>
                            <label for="username">"Username or email"</label>
                            <input id="username" name="username" type="text" autocomplete="username" required autofocus/>
                            <label for="password">"Password"</label>
                            <input id="password" name="password" type="password" autocomplete="current-password" required/>
                            <button type="submit" class="primary" disabled=move || action.pending().get()>"Sign in"</button>
                        </ActionForm>
                        {ctx.registration_open.then(|| view! {
                            <p class="muted">"New here? " <a href=format!("/o/register/?next={}", urlencode(&next()))>"Create an account"</a></p>
                        })}
                    }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}
