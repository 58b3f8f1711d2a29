//! The admin pages: `/admin/users` (search, disable, enable), `/admin/clients` (the
//! switches only an operator may flip) and `/admin/events` (the security event trail). Anyone
//! but an admin gets 403.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::admin::{load_admin_clients, load_admin_events, load_admin_users},
    components::{
        forms::{AdminContactForm, ClientPolicyForm, ResetFactorsForm, UserEnabledForm},
        moment::LocalTime,
        ErrorBanner, Layout, Loading, Notice,
    },
    i18n::{done_text, t},
    view::{AdminClientsView, AdminEventsView, AdminUsersView},
};

/// The notices and errors a page shows after a form post (`?done=`, `?error=`).
#[component]
fn Outcome() -> impl IntoView {
    let query = use_query_map();
    let notice = move || query.with(|q| q.get("done")).and_then(|c| done_text(&c));
    let url_error = move || query.with(|q| q.get("error")).and_then(|c| error_for_code(&c));
    view! {
        {move || notice().map(|message| view! { <Notice message/> })}
        {move || url_error().map(|message| view! { <ErrorBanner message/> })}
    }
}

/// `/admin/users`.
#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|q| q.get("q").unwrap_or_default());
    let data = Resource::new_blocking(q, load_admin_users);
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.admin_users, t.site_title)/>
        <Layout labelled_by="admin-users-title" wide=true>
            <h1 id="admin-users-title">{t.admin_users}</h1>
            <Outcome/>
            <form method="get" action="/admin/users" class="search" role="search">
                <label for="q">{t.search_label}</label>
                <input id="q" name="q" type="search" value=q/>
                <button type="submit">{t.search}</button>
            </form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <UserRows v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn UserRows(v: AdminUsersView) -> impl IntoView {
    let t = t();
    if v.users.is_empty() {
        return view! { <p class="muted">{t.no_users}</p> }.into_any();
    }
    let (me, csrf) = (v.me, v.csrf);
    let rows = v
        .users
        .into_iter()
        .map(|u| {
            let csrf_contact = csrf.clone();
            let csrf_factors = csrf.clone();
            let csrf = csrf.clone();
            let username = u.username.clone();
            let reset_label = format!("{} {}", t.reset_factors, u.username);
            let reset = u.second_factor.then(move || {
                view! {
                    <ResetFactorsForm>
                        <input type="hidden" name="csrf" value=csrf_factors/>
                        <input type="hidden" name="user_id" value=u.id.to_string()/>
                        <button type="submit" class="danger" aria-label=reset_label>{t.reset_factors}</button>
                    </ResetFactorsForm>
                }
            });
            let toggle = (u.id != me).then(move || {
                let (label, enabled) = if u.active { (t.disable, "false") } else { (t.enable, "true") };
                view! {
                    <UserEnabledForm>
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="user_id" value=u.id.to_string()/>
                        <input type="hidden" name="enabled" value=enabled/>
                        <button type="submit" class=if u.active { "danger" } else { "primary" }
                            aria-label=format!("{label} {username}")>{label}</button>
                    </UserEnabledForm>
                }
            });
            view! {
                <li class="row admin-user" data-username=u.username.clone()>
                    <div>
                        <strong>{u.username.clone()}</strong>
                        {(!u.active).then(|| view! { " " <span class="badge warn">{t.disabled}</span> })}
                        {u.admin.then(|| view! { " " <span class="badge">{t.admin}</span> })}
                        {u.second_factor.then(|| view! { " " <span class="badge second-factor">{t.second_factor}</span> })}
                        <div class="muted">{u.display_name} " · " {u.email.clone()} " " {contact_badge(&u.email, u.email_verified)}
                            {(!u.phone.is_empty()).then(|| view! { " · " {u.phone.clone()} " " })} {contact_badge(&u.phone, u.phone_verified)}
                            " · " <LocalTime at=u.created_at/></div>
                    </div>
                    <div class="actions">
                        {contact_action(&csrf_contact, u.id, "verify", t.send_verification,
                            (!u.email.is_empty() && !u.email_verified) || (!u.phone.is_empty() && !u.phone_verified))}
                        {contact_action(&csrf_contact, u.id, "reset", t.send_reset_admin, u.email_verified || u.phone_verified)}
                        {reset}
                        {toggle}
                    </div>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="rows">{rows}</ul> }.into_any()
}

/// `/admin/clients`.
#[component]
pub fn AdminClientsPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_admin_clients());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.admin_clients, t.site_title)/>
        <Layout labelled_by="admin-clients-title" wide=true>
            <h1 id="admin-clients-title">{t.admin_clients}</h1>
            <Outcome/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <ClientRows v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn ClientRows(v: AdminClientsView) -> impl IntoView {
    let t = t();
    let csrf = v.csrf;
    let rows = v
        .clients
        .into_iter()
        .map(|c| {
            let (csrf, client_id, row_id) = (csrf.clone(), c.client_id.clone(), c.client_id.clone());
            let origins_id = format!("{}-origins", c.client_id);
            let origins_for = origins_id.clone();
            let kind = if c.confidential { t.confidential } else { t.public };
            let boxes = [
                ("trusted", t.skip_consent, c.trusted),
                ("password", t.password_grant, c.password),
                ("implicit", t.implicit_grant, c.implicit),
                ("device_code", t.device_grant, c.device),
                ("require_mfa", t.require_mfa, c.require_mfa),
                ("mfa_password_grant", t.mfa_password_grant, c.mfa_password_grant),
            ]
            .into_iter()
            .map(|(name, label, on)| {
                let id = format!("{}-{name}", c.client_id);
                let for_id = id.clone();
                view! {
                    <label class="check" for=for_id><input type="checkbox" id=id name=name checked=on/>{label}</label>
                }
            })
            .collect_view();
            view! {
                <li class="row admin-client" data-client-id=row_id>
                    <div>
                        <strong>{c.name.clone()}</strong> " " <span class="badge">{kind}</span>
                        <div class="muted"><code>{c.client_id.clone()}</code> " · " {c.grant_types.join(" · ")}</div>
                        {c.owner.map(|o| view! { <div class="muted">{t.owner} {o}</div> })}
                    </div>
                    <ClientPolicyForm class="inline">
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="client_id" value=client_id/>
                        {boxes}
                        <label for=origins_for>{t.allowed_origins}</label>
                        <input type="text" id=origins_id name="allowed_origins" value=c.allowed_origins.join(" ")/>
                        <button type="submit" aria-label=format!("{} {}", t.save, c.name)>{t.save}</button>
                    </ClientPolicyForm>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="rows">{rows}</ul> }
}

/// `/admin/events`: the security event trail, filtered by kind, user and address.
#[component]
pub fn AdminEventsPage() -> impl IntoView {
    let query = use_query_map();
    let field = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let (kind, user, ip) = (field("kind"), field("user"), field("ip"));
    let data = Resource::new_blocking(move || (kind(), user(), ip()), |(k, u, i)| load_admin_events(k, u, i));
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.admin_events, t.site_title)/>
        <Layout labelled_by="admin-events-title" wide=true>
            <h1 id="admin-events-title">{t.admin_events}</h1>
            <form method="get" action="/admin/events" class="search" role="search">
                <label for="kind">{t.event_kind}</label>
                <input id="kind" name="kind" type="search" value=kind placeholder="sign_in"/>
                <label for="user">{t.event_user}</label>
                <input id="user" name="user" type="search" value=user/>
                <label for="ip">{t.event_ip}</label>
                <input id="ip" name="ip" type="search" value=ip/>
                <button type="submit">{t.filter}</button>
            </form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <EventRows v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn EventRows(v: AdminEventsView) -> impl IntoView {
    let t = t();
    if v.events.is_empty() {
        return view! { <p class="muted">{t.no_events}</p> }.into_any();
    }
    let rows = v
        .events
        .into_iter()
        .map(|e| {
            let data_kind = e.kind.clone();
            view! {
                <tr class="event" data-kind=data_kind>
                    <td><LocalTime at=e.at/></td>
                    <td><code>{e.kind}</code></td>
                    <td>{e.user}</td>
                    <td>{e.actor}</td>
                    <td><code>{e.client_id}</code></td>
                    <td>{e.ip}</td>
                    <td>{e.detail}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="events">
            <thead><tr>
                <th scope="col">{t.event_time}</th>
                <th scope="col">{t.event_kind}</th>
                <th scope="col">{t.event_user}</th>
                <th scope="col">{t.admin}</th>
                <th scope="col">"client_id"</th>
                <th scope="col">{t.event_ip}</th>
                <th scope="col">"detail"</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// "Verified" or "Not verified" beside a contact, if there is one.
fn contact_badge(contact: &str, verified: bool) -> Option<impl IntoView + use<>> {
    let t = t();
    (!contact.is_empty()).then(|| {
        let (class, text) = if verified { ("badge ok", t.verified) } else { ("badge warn", t.not_verified) };
        view! { <span class=class>{text}</span> }
    })
}

/// A button that sends a user a verification (`verify`) or a reset (`reset`), when `shown`.
fn contact_action(
    csrf: &str,
    user_id: i64,
    action: &'static str,
    label: &'static str,
    shown: bool,
) -> Option<impl IntoView + use<>> {
    let csrf = csrf.to_owned();
    shown.then(move || {
        view! {
            <AdminContactForm>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="user_id" value=user_id.to_string()/>
                <input type="hidden" name="action" value=action/>
                <button type="submit">{label}</button>
            </AdminContactForm>
        }
    })
}
