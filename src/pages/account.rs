//! `/account`: the signed-in user's profile, password, authorized apps, browsers, and deleting
//! the account.
//!
//! Every form posts to a server function and reloads the page with `?done=…` (or `?error=…`),
//! so the page works the same with and without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::account::load_account,
    components::{
        browser_text,
        forms::{
            DeleteAccountForm, EndSessionsForm, LinkProviderForm, PasswordForm, ProfileForm, RevokeAppForm,
            UnlinkProviderForm,
        },
        moment::{LocalTime, TimeAgo},
        ErrorBanner, Layout, Loading, Notice,
    },
    i18n::{done_text, scope_text, t},
    pages::contacts::{ContactSection, Contacts},
    view::{AccountView, IdentityItem},
};

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let query = use_query_map();
    let view_data = Resource::new_blocking(|| (), |_| load_account());
    let notice = move || query.with(|q| q.get("done")).and_then(|c| done_text(&c));
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.account_title, t.site_title)/>
        <Layout labelled_by="account-title" wide=true>
            <h1 id="account-title">{t.account_title}</h1>
            {move || notice().map(|message| view! { <Notice message/> })}
            {move || url_error().map(|message| view! { <ErrorBanner message/> })}
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match view_data.await {
                    Ok(v) => view! { <Sections v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn Sections(v: AccountView) -> impl IntoView {
    let t = t();
    let apps = if v.apps.is_empty() {
        view! { <p class="muted">{t.no_authorized_apps}</p> }.into_any()
    } else {
        let rows = v.apps.into_iter().map(|app| {
            let csrf = v.csrf.clone();
            let scopes = app.scopes.iter().map(|s| scope_text(&s.name, &s.description)).collect::<Vec<_>>().join(" · ");
            let used = app.last_used_at.map(|at| view! { {t.last_used} <TimeAgo at/> });
            view! {
                <li class="row app">
                    <div>
                        <strong>{app.client_name.clone()}</strong>
                        <div class="muted">{scopes}</div>
                        <div class="muted">{t.authorized_at} <LocalTime at=app.granted_at/> {used}</div>
                    </div>
                    <RevokeAppForm>
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="client_id" value=app.client_id/>
                        <button type="submit" class="danger" aria-label=format!("{} {}", t.revoke, app.client_name)>{t.revoke}</button>
                    </RevokeAppForm>
                </li>
            }
        }).collect_view();
        view! { <ul class="rows" aria-labelledby="apps">{rows}</ul> }.into_any()
    };
    let browsers = v
        .sessions
        .into_iter()
        .map(|s| {
            let csrf = v.csrf.clone();
            let agent = browser_text(s.browser.as_ref());
            let sign_out = (!s.current).then(move || {
                view! {
                    <EndSessionsForm>
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="session_id" value=s.id/>
                        <button type="submit" class="danger">{t.sign_out}</button>
                    </EndSessionsForm>
                }
            });
            view! {
                <li class="row session">
                    <div>
                        <strong>{agent}</strong>
                        {s.current.then(|| view! { <span class="badge">{t.this_browser}</span> })}
                        <div class="muted">
                            {s.ip} {t.signed_in_at} <LocalTime at=s.started_at/> {t.last_seen} <TimeAgo at=s.last_seen_at/>
                        </div>
                    </div>
                    {sign_out}
                </li>
            }
        })
        .collect_view();
    let activity = v
        .activity
        .into_iter()
        .map(|a| {
            let agent = a.browser.map(|b| format!(" · {}", browser_text(Some(&b))));
            let data_kind = a.kind.clone();
            view! {
                <li class="row activity" data-kind=data_kind>
                    <div>
                        <strong><code>{a.kind}</code></strong> " " <span class="muted">{a.detail}</span>
                        <div class="muted"><LocalTime at=a.at/> " · " {a.ip} {agent}</div>
                    </div>
                </li>
            }
        })
        .collect_view();
    let [csrf_profile, csrf_password, csrf_sessions, csrf_delete] = std::array::from_fn(|_| v.csrf.clone());
    let contacts = Contacts {
        csrf: v.csrf.clone(),
        email: v.email.clone(),
        email_verified: v.email_verified,
        phone: v.phone.clone(),
        phone_verified: v.phone_verified,
        claim_dropped: v.claim_dropped,
    };
    let identities = (!v.identities.is_empty()).then(|| {
        let rows = v.identities.into_iter().map(|i| view! { <IdentityRow i csrf=v.csrf.clone()/> }).collect_view();
        view! {
            <h2 id="identities">{t.sign_in_methods}</h2>
            <ul class="rows" aria-labelledby="identities">{rows}</ul>
        }
    });
    let has_password = v.has_password;
    let current = if has_password {
        view! {
            <label for="current_password">{t.current_password}</label>
            <input id="current_password" name="current_password" type="password" autocomplete="current-password" required/>
        }.into_any()
    } else {
        view! {
            <p class="muted">{t.no_password_yet}</p>
            <input type="hidden" name="current_password" value=""/>
        }
        .into_any()
    };
    view! {
        <p>{t.signed_in_as.0} <strong class="who">{v.username}</strong> {t.signed_in_as.1}
           " " <a href="/account/apps">{t.developer_apps}</a> " · " <a href="/account/security">{t.security_title}</a></p>

        <h2 id="profile">{t.profile}</h2>
        <ProfileForm class="form" labelled_by="profile">
            <input type="hidden" name="csrf" value=csrf_profile/>
            <label for="display_name">{t.display_name}</label>
            <input id="display_name" name="display_name" type="text" required value=v.display_name/>
            <label for="email">{t.email}</label>
            <input id="email" name="email" type="email" autocomplete="email" value=v.email/>
            <button type="submit" class="primary">{t.save_profile}</button>
        </ProfileForm>

        <ContactSection c=contacts/>

        <h2 id="password">{t.password}</h2>
        <PasswordForm class="form" labelled_by="password">
            <input type="hidden" name="csrf" value=csrf_password/>
            {current}
            <label for="new_password">{t.new_password}</label>
            <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required/>
            <button type="submit" class="primary">{if has_password { t.change_password } else { t.set_password }}</button>
        </PasswordForm>

        {identities}

        <h2 id="apps">{t.authorized_apps}</h2>
        {apps}

        <h2 id="sessions">{t.browsers}</h2>
        <ul class="rows" aria-labelledby="sessions">{browsers}</ul>
        <EndSessionsForm>
            <input type="hidden" name="csrf" value=csrf_sessions/>
            <input type="hidden" name="session_id" value=""/>
            <button type="submit">{t.sign_out_others}</button>
        </EndSessionsForm>

        <h2 id="activity">{t.recent_activity}</h2>
        <ul class="rows" aria-labelledby="activity">{activity}</ul>

        <h2 id="delete">{t.delete_account}</h2>
        <p class="muted">{t.delete_warning}</p>
        <DeleteAccountForm class="form" labelled_by="delete">
            <input type="hidden" name="csrf" value=csrf_delete/>
            <label for="delete_password">{t.your_password}</label>
            <input id="delete_password" name="password" type="password" autocomplete="current-password" required/>
            <button type="submit" class="danger">{t.delete_my_account}</button>
        </DeleteAccountForm>
    }
}

/// One provider on the account page: linked (with Unlink) or not (with Link).
#[component]
fn IdentityRow(i: IdentityItem, csrf: String) -> impl IntoView {
    let t = t();
    let provider = i.provider.clone();
    let status = match (i.linked_at, i.detail.is_empty()) {
        (Some(at), true) => view! { {t.linked_at} <LocalTime at/> }.into_any(),
        (Some(at), false) => view! { {i.detail} " · " {t.linked_at} <LocalTime at/> }.into_any(),
        (None, _) => t.not_linked.into_any(),
    };
    let button = if i.linked {
        let label = format!("{} {}", t.unlink, i.name);
        view! {
            <UnlinkProviderForm>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="provider" value=i.provider.clone()/>
                <button type="submit" class="danger" aria-label=label>{t.unlink}</button>
            </UnlinkProviderForm>
        }
        .into_any()
    } else {
        let label = format!("{} {}", t.link, i.name);
        view! {
            <LinkProviderForm>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="provider" value=i.provider.clone()/>
                <button type="submit" aria-label=label>{t.link}</button>
            </LinkProviderForm>
        }
        .into_any()
    };
    view! {
        <li class="row identity" data-provider=provider>
            <div>
                <strong>{i.name.clone()}</strong>
                <div class="muted">{status}</div>
            </div>
            {button}
        </li>
    }
}
