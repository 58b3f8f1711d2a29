//! `/account`: the signed-in user's profile, password, authorized apps and browsers.
//!
//! Every form posts to a server function and reloads the page with `?done=…` (or `?error=…`),
//! so the page works the same with and without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        account::{load_account, ChangePassword, EndSessions, RevokeApp, UpdateProfile},
        error::AppError,
        types::AccountView,
    },
    components::{follow, ErrorBanner, Layout},
};

fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "profile" => "Your profile was saved.",
        "password" => "Your password was changed. Your other browsers were signed out.",
        "revoked" => "The app's access was revoked.",
        "sessions" => "Signed out.",
        _ => return None,
    })
}

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map();
    let view_data = Resource::new_blocking(|| (), |_| load_account());
    let notice = move || query.with(|q| q.get("done")).and_then(|c| done_message(&c));
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| AppError::message_for_code(&c));
    view! {
        <Title text="Your account · Yaoshi"/>
        <Layout labelled_by="account-title" wide=true>
            <h1 id="account-title">"Your account"</h1>
            {move || notice().map(|m| view! { <p class="notice" role="status">{m}</p> })}
            {move || url_error().map(|message| view! { <ErrorBanner message/> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move { match view_data.await {
                    Ok(v) => view! { <Sections v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=e.to_string()/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn Sections(v: AccountView) -> impl IntoView {
    let profile = ServerAction::<UpdateProfile>::new();
    let password = ServerAction::<ChangePassword>::new();
    let revoke = ServerAction::<RevokeApp>::new();
    let sessions = ServerAction::<EndSessions>::new();
    follow(profile);
    follow(password);
    follow(revoke);
    follow(sessions);
    let failed = move || {
        [profile.value().get(), password.value().get(), revoke.value().get(), sessions.value().get()]
            .into_iter()
            .find_map(|r| r.and_then(|r| r.err()))
            .map(|e| e.to_string())
    };
    let apps = if v.apps.is_empty() {
        view! { <p class="muted">"You have not authorized any app."</p> }.into_any()
    } else {
        let rows = v.apps.into_iter().map(|app| {
            let csrf = v.csrf.clone();
            let scopes = app.scopes.iter().map(|s| s.description.clone()).collect::<Vec<_>>().join(" · ");
            let used = app.last_used_at.map(|t| format!(" · last used {t}"));
            view! {
                <li class="row app">
                    <div>
                        <strong>{app.client_name.clone()}</strong>
                        <div class="muted">{scopes}</div>
                        <div class="muted">"Authorized " {app.granted_at} {used}</div>
                    </div>
                    <ActionForm action=revoke>
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="client_id" value=app.client_id/>
                        <button type="submit" class="danger" aria-label=format!("Revoke {}", app.client_name)>"Revoke"</button>
                    </ActionForm>
                </li>
            }
        }).collect_view();
        view! { <ul class="rows" aria-labelledby="apps">{rows}</ul> }.into_any()
    };
    let browsers = v.sessions.into_iter().map(|s| {
        let csrf = v.csrf.clone();
        let agent = if s.user_agent.is_empty() { "Unknown browser".to_owned() } else { s.user_agent };
        let details = format!("{} · signed in {} · last seen {}", s.ip, s.started_at, s.last_seen_at);
        let sign_out = (!s.current).then(move || view! {
            <ActionForm action=sessions>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="session_id" value=s.id/>
                <button type="submit" class="danger">"Sign out"</button>
            </ActionForm>
        });
        view! {
            <li class="row session">
                <div>
                    <strong>{agent}</strong>
                    {s.current.then(|| view! { <span class="badge">"this browser"</span> })}
                    <div class="muted">{details}</div>
                </div>
                {sign_out}
            </li>
        }
    }).collect_view();
    let (csrf_profile, csrf_password, csrf_sessions) = (v.csrf.clone(), v.csrf.clone(), v.csrf);
    view! {
        {move || failed().map(|message| view! { <ErrorBanner message/> })}
        <p>"Signed in as " <strong class="who">{v.username}</strong> "."</p>

        <h2 id="profile">"Profile"</h2>
        <ActionForm action=profile attr:class="form" attr:aria-labelledby="profile">
            <input type="hidden" name="csrf" value=csrf_profile/>
            <label for="display_name">"Display name"</label>
            <input id="display_name" name="display_name" type="text" required value=v.display_name/>
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="email" value=v.email/>
            <button type="submit" class="primary">"Save profile"</button>
        </ActionForm>

        <h2 id="password">"Password"</h2>
        <ActionForm action=password attr:class="form" attr:aria-labelledby="password">
            <input type="hidden" name="csrf" value=csrf_password/>
            <label for="current_password">"Current password"</label>
            <input id="current_password" name="current_password" type="password" autocomplete="current-password" required/>
            <label for="new_password">"New password"</label>
            <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required/>
            <button type="submit" class="primary">"Change password"</button>
        </ActionForm>

        <h2 id="apps">"Authorized apps"</h2>
        {apps}

        <h2 id="sessions">"Signed-in browsers"</h2>
        <ul class="rows" aria-labelledby="sessions">{browsers}</ul>
        <ActionForm action=sessions>
            <input type="hidden" name="csrf" value=csrf_sessions/>
            <input type="hidden" name="session_id" value=""/>
            <button type="submit">"Sign out all other browsers"</button>
        </ActionForm>
    }
}
