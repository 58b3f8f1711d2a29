//! The admin console's lists: `/admin/users` (search, page, create, disable, enable),
//! `/admin/clients` (register, edit, rotate the secret, delete, and the switches only an
//! operator may flip) and `/admin/events` (the security event trail). One user's page is in
//! `admin_user.rs`, the groups in `admin_groups.rs`. Anyone but an admin gets 403.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::error::{error_for_code, error_text};
use crate::{
    api::{
        admin::{load_admin_events, load_admin_users},
        admin_clients::load_admin_clients,
        admin_users::user_page,
    },
    components::{
        forms::{
            AdminContactForm, AdminCreateClientForm, AdminCreateUserForm, AdminDeleteClientForm, AdminEditClientForm,
            AdminRoleForm, AdminRotateSecretForm, ClientPolicyForm, ResetFactorsForm, UserEnabledForm,
        },
        moment::LocalTime,
        ErrorBanner, Layout, Loading, Notice, SecretOnce,
    },
    i18n::{done_text, t},
    view::{AdminClient, AdminClientsView, AdminEventsView, AdminUsersView, HeldRole},
};

/// The links between the admin pages.
#[component]
pub(crate) fn AdminNav() -> impl IntoView {
    let t = t();
    view! {
        <nav class="admin-nav" aria-label=t.admin_nav>
            <a href="/admin/users">{t.admin_users}</a>
            <a href="/admin/groups">{t.admin_groups}</a>
            <a href="/admin/clients">{t.admin_clients}</a>
            <a href="/admin/events">{t.admin_events}</a>
        </nav>
    }
}

/// The roles a user or group holds (`holder` names its field: `user_id` or `group_id`), each
/// with a button taking it back, and the form giving another of any client's.
#[component]
pub(crate) fn HeldRoles(
    roles: Vec<HeldRole>,
    client_ids: Vec<String>,
    csrf: String,
    holder: &'static str,
    id: i64,
) -> impl IntoView {
    let t = t();
    let hidden = move || {
        view! {
            <input type="hidden" name="csrf" value=csrf.clone()/>
            <input type="hidden" name=holder value=id.to_string()/>
        }
    };
    let rows = roles
        .into_iter()
        .map(|r| {
            let label = format!("{}:{}", r.client_id, r.role);
            let (fields, remove, row) = (hidden(), format!("{} {label}", t.remove), label.clone());
            view! {
                <li class="row admin-role" data-role=row>
                    <code>{label}</code>
                    <AdminRoleForm class="inline">
                        {fields}
                        <input type="hidden" name="client_id" value=r.client_id/>
                        <input type="hidden" name="role" value=r.role/>
                        <input type="hidden" name="held" value="false"/>
                        <button type="submit" aria-label=remove>{t.remove}</button>
                    </AdminRoleForm>
                </li>
            }
        })
        .collect_view();
    let list = if rows.is_empty() {
        view! { <p class="muted">{t.no_roles}</p> }.into_any()
    } else {
        view! { <ul class="rows">{rows}</ul> }.into_any()
    };
    let options = client_ids
        .into_iter()
        .map(|c| {
            let value = c.clone();
            view! { <option value=value>{c}</option> }
        })
        .collect_view();
    let field = |name: &str| format!("{holder}-{id}-{name}");
    let (client_id, client_for, role_id, role_for) = (field("client"), field("client"), field("role"), field("role"));
    let fields = hidden();
    view! {
        {list}
        <AdminRoleForm class="inline">
            {fields}
            <input type="hidden" name="held" value="true"/>
            <label for=client_for>{t.client}</label>
            <select id=client_id name="client_id">{options}</select>
            <label for=role_for>{t.role}</label>
            <input id=role_id name="role" required placeholder="editor"/>
            <button type="submit">{t.give_role}</button>
        </AdminRoleForm>
    }
}

/// The notices and errors a page shows after a form post (`?done=`, `?error=`).
#[component]
pub(crate) fn Outcome() -> impl IntoView {
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
    let after = move || query.with(|q| q.get("after").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new_blocking(move || (q(), after()), |(q, after)| load_admin_users(q, after));
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.admin_users, t.site_title)/>
        <Layout labelled_by="admin-users-title" wide=true>
            <AdminNav/>
            <h1 id="admin-users-title">{t.admin_users}</h1>
            <Outcome/>
            <form method="get" action="/admin/users" class="search" role="search">
                <label for="q">{t.search_label}</label>
                <input id="q" name="q" type="search" value=q/>
                <button type="submit">{t.search}</button>
            </form>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => {
                        let next = v.next_after.map(|after| {
                            let href = format!("/admin/users?q={}&after={after}", crate::web::query::urlencode(&q()));
                            view! { <p><a class="next-page" href=href>{t.next_page}</a></p> }
                        });
                        let csrf = v.csrf.clone();
                        view! { <UserRows v/> {next} <NewUser csrf/> }.into_any()
                    }
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

/// The create-user form: with a password, or none (and an invitation by email).
#[component]
fn NewUser(csrf: String) -> impl IntoView {
    let t = t();
    view! {
        <h2 id="create-user-title">{t.create_user}</h2>
        <AdminCreateUserForm labelled_by="create-user-title" class="stacked">
            <input type="hidden" name="csrf" value=csrf/>
            <label for="new-username">{t.username}</label>
            <input id="new-username" name="username" required autocomplete="off"/>
            <label for="new-email">{t.email}</label>
            <input id="new-email" name="email" type="email" autocomplete="off"/>
            <label for="new-display-name">{t.display_name}</label>
            <input id="new-display-name" name="display_name" autocomplete="off"/>
            <label for="new-password">{t.password_optional}</label>
            <input id="new-password" name="password" type="password" autocomplete="new-password"/>
            <label class="check" for="new-invite"><input type="checkbox" id="new-invite" name="invite"/>{t.invite_by_email}</label>
            <label class="check" for="new-admin"><input type="checkbox" id="new-admin" name="admin"/>{t.make_admin}</label>
            <button type="submit" class="primary">{t.create_user}</button>
        </AdminCreateUserForm>
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
                        <strong><a href=user_page(u.id)>{u.username.clone()}</a></strong>
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
            <AdminNav/>
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
    let csrf = v.csrf;
    let secret = v.new_secret.map(|secret| view! { <SecretOnce secret/> });
    let rows = v.clients.into_iter().map(|c| view! { <ClientRow c csrf=csrf.clone()/> }).collect_view();
    view! {
        {secret}
        <ul class="rows">{rows}</ul>
        <NewClient csrf/>
    }
}

/// One client: its registration (name, redirect URIs), its switches, a new secret, delete.
#[component]
fn ClientRow(c: AdminClient, csrf: String) -> impl IntoView {
    let t = t();
    let id = c.client_id.clone();
    let field = |name: &str| format!("{id}-{name}");
    let (origins_id, name_id, uris_id) = (field("origins"), field("name"), field("uris"));
    let (scopes_id, logout_id, backchannel_id) = (field("scopes"), field("logout"), field("backchannel"));
    let (scopes_for, logout_for, backchannel_for) = (scopes_id.clone(), logout_id.clone(), backchannel_id.clone());
    let base_grants = ["authorization_code", "refresh_token", "client_credentials"]
        .into_iter()
        .map(|g| {
            let (box_id, for_id) = (field(g), field(g));
            let on = c.grant_types.iter().any(|have| have == g);
            view! { <label class="check" for=for_id><input type="checkbox" id=box_id name=g checked=on/><code>{g}</code></label> }
        })
        .collect_view();
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
        let (box_id, for_id) = (field(name), field(name));
        view! {
            <label class="check" for=for_id><input type="checkbox" id=box_id name=name checked=on/>{label}</label>
        }
    })
    .collect_view();
    // Each form's children are their own closure: each gets its own copies.
    let [edit, policy, rotate, delete] = std::array::from_fn(|_| hidden_client(&csrf, &id));
    let label = |action: &str| format!("{action} {}", c.name);
    let (save_uris, save, rotate_label, delete_label) =
        (label(t.save_uris), label(t.save), label(t.rotate_secret), label(t.delete));
    let rotate = c.confidential.then(move || {
        view! {
            <AdminRotateSecretForm class="inline">
                {rotate}
                <button type="submit" aria-label=rotate_label>{t.rotate_secret}</button>
            </AdminRotateSecretForm>
        }
    });
    let (name_for, uris_for, origins_for) = (name_id.clone(), uris_id.clone(), origins_id.clone());
    let (name, row_id) = (c.name.clone(), id.clone());
    view! {
        <li class="row admin-client" data-client-id=row_id>
            <div>
                <strong>{c.name}</strong> " " <span class="badge">{kind}</span>
                <div class="muted"><code>{id}</code> " · " {c.grant_types.join(" · ")}</div>
                {c.owner.map(|o| view! { <div class="muted">{t.owner} {o}</div> })}
            </div>
            <AdminEditClientForm class="inline">
                {edit}
                <label for=name_for>{t.app_name}</label>
                <input id=name_id name="name" value=name required/>
                <label for=uris_for>{t.redirect_uris}</label>
                <textarea id=uris_id name="redirect_uris" rows="2">{c.redirect_uris.join("\n")}</textarea>
                {base_grants}
                <label for=scopes_for>{t.client_scopes}</label>
                <input id=scopes_id name="scopes" value=c.scopes.join(" ")/>
                <label for=logout_for>{t.post_logout_uris}</label>
                <textarea id=logout_id name="post_logout_redirect_uris" rows="1">{c.post_logout_redirect_uris.join("\n")}</textarea>
                <label for=backchannel_for>{t.backchannel_uri}</label>
                <input id=backchannel_id name="backchannel_logout_uri" type="url" value=c.backchannel_logout_uri/>
                <button type="submit" aria-label=save_uris>{t.save_uris}</button>
            </AdminEditClientForm>
            <ClientPolicyForm class="inline">
                {policy}
                {boxes}
                <label for=origins_for>{t.allowed_origins}</label>
                <input type="text" id=origins_id name="allowed_origins" value=c.allowed_origins.join(" ")/>
                <button type="submit" aria-label=save>{t.save}</button>
            </ClientPolicyForm>
            <div class="actions">
                {rotate}
                <AdminDeleteClientForm class="inline">
                    {delete}
                    <button type="submit" class="danger" aria-label=delete_label>{t.delete}</button>
                </AdminDeleteClientForm>
            </div>
        </li>
    }
}

/// The hidden fields every form about client `id` carries.
fn hidden_client(csrf: &str, id: &str) -> impl IntoView + use<> {
    view! {
        <input type="hidden" name="csrf" value=csrf.to_owned()/>
        <input type="hidden" name="client_id" value=id.to_owned()/>
    }
}

/// The register-client form: confidential (its secret shown once) or public, its redirect
/// URIs and grants.
#[component]
fn NewClient(csrf: String) -> impl IntoView {
    let t = t();
    let grants = ["authorization_code", "refresh_token", "client_credentials", "device_code", "password"]
        .into_iter()
        .map(|g| {
            let (id, for_id) = (format!("new-client-{g}"), format!("new-client-{g}"));
            let on = g == "authorization_code" || g == "refresh_token";
            view! { <label class="check" for=for_id><input type="checkbox" id=id name=g checked=on/><code>{g}</code></label> }
        })
        .collect_view();
    view! {
        <h2 id="register-client-title">{t.register_client}</h2>
        <AdminCreateClientForm labelled_by="register-client-title" class="stacked">
            <input type="hidden" name="csrf" value=csrf/>
            <label for="new-client-name">{t.app_name}</label>
            <input id="new-client-name" name="name" required/>
            <fieldset>
                <legend>{t.client_type}</legend>
                <label class="check" for="new-client-confidential">
                    <input type="radio" id="new-client-confidential" name="client_type" value="confidential" checked=true/>
                    {t.confidential_choice}
                </label>
                <label class="check" for="new-client-public">
                    <input type="radio" id="new-client-public" name="client_type" value="public"/>{t.public_choice}
                </label>
            </fieldset>
            <label for="new-client-uris">{t.redirect_uris}</label>
            <textarea id="new-client-uris" name="redirect_uris" rows="3"></textarea>
            <fieldset><legend>{t.grant_types}</legend>{grants}</fieldset>
            <label class="check" for="new-client-trusted"><input type="checkbox" id="new-client-trusted" name="trusted"/>{t.skip_consent}</label>
            <button type="submit" class="primary">{t.register}</button>
        </AdminCreateClientForm>
    }
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
            <AdminNav/>
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
pub(crate) fn contact_badge(contact: &str, verified: bool) -> Option<impl IntoView + use<>> {
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
