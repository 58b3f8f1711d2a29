//! `/admin/users/{id}`: one account and everything that gives it access. Its profile and
//! password, an invitation, its sessions (end one or all), its consents (revoke), its linked
//! providers, its second factors (reset), its groups and roles, disabling and deleting it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::admin::{contact_badge, AdminNav, HeldRoles, Outcome};
use crate::{
    api::{admin_users::load_admin_user, error::error_text},
    components::{
        browser_text,
        forms::{
            AdminDeleteUserForm, AdminEndSessionsForm, AdminInviteForm, AdminPasswordForm, AdminProfileForm,
            AdminRevokeConsentForm, AdminUserGroupForm, ResetFactorsForm, UserEnabledForm,
        },
        moment::LocalTime,
        ErrorBanner, Layout, Loading,
    },
    i18n::t,
    view::AdminUserView,
};

/// `/admin/users/{id}`.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new_blocking(id, load_admin_user);
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.admin_users, t.site_title)/>
        <Layout labelled_by="admin-user-title" wide=true>
            <AdminNav/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <UserDetail v/> }.into_any(),
                    Err(e) => view! {
                        <h1 id="admin-user-title">{t.admin_users}</h1>
                        <ErrorBanner message=error_text(&e)/>
                    }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

/// The hidden fields every form of the page carries.
fn hidden(csrf: &str, user_id: i64) -> impl IntoView + use<> {
    view! {
        <input type="hidden" name="csrf" value=csrf.to_owned()/>
        <input type="hidden" name="user_id" value=user_id.to_string()/>
    }
}

#[component]
fn UserDetail(v: AdminUserView) -> impl IntoView {
    let t = t();
    let (csrf, u) = (v.csrf.clone(), v.user.clone());
    let id = u.id;
    let badges = view! {
        {(!u.active).then(|| view! { " " <span class="badge warn">{t.disabled}</span> })}
        {u.admin.then(|| view! { " " <span class="badge">{t.admin}</span> })}
    };
    let [h_invite, h_toggle, h_delete, h_profile, h_password] = std::array::from_fn(|_| hidden(&csrf, id));
    let invite = (!v.has_password && !u.email.is_empty()).then(move || {
        view! {
            <AdminInviteForm class="inline">
                {h_invite}
                <button type="submit">{t.send_invitation}</button>
            </AdminInviteForm>
        }
    });
    let active = u.active;
    let toggle = (!v.me).then(move || {
        let (label, enabled) = if active { (t.disable, "false") } else { (t.enable, "true") };
        view! {
            <UserEnabledForm class="inline">
                {h_toggle}
                <input type="hidden" name="enabled" value=enabled/>
                <input type="hidden" name="back" value="user"/>
                <button type="submit" class=if active { "danger" } else { "primary" }>{label}</button>
            </UserEnabledForm>
        }
    });
    let delete = (!v.me).then(move || {
        view! {
            <h2 id="delete-user-title">{t.delete_user}</h2>
            <p class="muted">{t.delete_user_warning}</p>
            <AdminDeleteUserForm labelled_by="delete-user-title">
                {h_delete}
                <button type="submit" class="danger">{t.delete_user}</button>
            </AdminDeleteUserForm>
        }
    });
    let (display_name, email, phone) = (u.display_name.clone(), u.email.clone(), u.phone.clone());
    view! {
        <h1 id="admin-user-title">{u.username.clone()} {badges}</h1>
        <Outcome/>
        <p class="muted">
            {u.email.clone()} " " {contact_badge(&u.email, u.email_verified)}
            {(!u.phone.is_empty()).then(|| view! { " · " {u.phone.clone()} " " })} {contact_badge(&u.phone, u.phone_verified)}
            " · " <LocalTime at=u.created_at.clone()/>
        </p>
        <div class="actions">{invite} {toggle}</div>

        <h2 id="profile-title">{t.profile}</h2>
        <AdminProfileForm labelled_by="profile-title" class="stacked">
            {h_profile}
            <label for="display-name">{t.display_name}</label>
            <input id="display-name" name="display_name" value=display_name required/>
            <label for="email">{t.email}</label>
            <input id="email" name="email" type="email" value=email/>
            <label for="phone">{t.phone_number}</label>
            <input id="phone" name="phone_number" type="tel" value=phone/>
            <button type="submit">{t.save_profile}</button>
        </AdminProfileForm>

        <h2 id="password-title">{t.set_password}</h2>
        <AdminPasswordForm labelled_by="password-title" class="stacked">
            {h_password}
            <label for="new-password">{t.new_password_hint}</label>
            <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="8"/>
            <button type="submit">{t.set_password}</button>
        </AdminPasswordForm>

        <Sessions v=v.clone()/>
        <Consents v=v.clone()/>
        <Memberships v=v.clone()/>
        <h2>{t.roles}</h2>
        <HeldRoles roles=v.roles.clone() client_ids=v.client_ids.clone() csrf=csrf.clone() holder="user_id" id=id/>
        <Identities v=v.clone()/>
        <Factors v=v.clone()/>
        {delete}
    }
}

#[component]
fn Sessions(v: AdminUserView) -> impl IntoView {
    let t = t();
    let (csrf, id) = (v.csrf, v.user.id);
    let rows = v
        .sessions
        .into_iter()
        .map(|s| {
            let (session_id, browser, ip) = (s.id, browser_text(s.browser.as_ref()), s.ip);
            let hidden = hidden(&csrf, id);
            view! {
                <li class="row admin-session">
                    <div>
                        <strong>{browser}</strong>
                        {s.current.then(|| view! { " " <span class="badge">{t.this_browser}</span> })}
                        <div class="muted">{ip} {t.signed_in_at} <LocalTime at=s.started_at/> {t.last_seen} <LocalTime at=s.last_seen_at/></div>
                    </div>
                    <AdminEndSessionsForm class="inline">
                        {hidden}
                        <input type="hidden" name="session_id" value=session_id/>
                        <button type="submit">{t.end_session}</button>
                    </AdminEndSessionsForm>
                </li>
            }
        })
        .collect_view();
    let any = !rows.is_empty();
    let all = hidden(&csrf, id);
    view! {
        <h2 id="sessions-title">{t.browsers}</h2>
        {if any {
            view! {
                <ul class="rows">{rows}</ul>
                <AdminEndSessionsForm labelled_by="sessions-title">
                    {all}
                    <button type="submit" class="danger">{t.end_all_sessions}</button>
                </AdminEndSessionsForm>
            }.into_any()
        } else {
            view! { <p class="muted">{t.no_sessions}</p> }.into_any()
        }}
    }
}

#[component]
fn Consents(v: AdminUserView) -> impl IntoView {
    let t = t();
    let (csrf, id) = (v.csrf, v.user.id);
    if v.consents.is_empty() {
        return view! { <h2>{t.authorized_apps}</h2> <p class="muted">{t.no_consents}</p> }.into_any();
    }
    let rows = v
        .consents
        .into_iter()
        .map(|g| {
            let scopes = g.scopes.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(" ");
            let (hidden, label) = (hidden(&csrf, id), format!("{} {}", t.revoke, g.client_name));
            let client_id = g.client_id.clone();
            view! {
                <li class="row admin-consent" data-client-id=g.client_id.clone()>
                    <div>
                        <strong>{g.client_name.clone()}</strong> " " <code>{g.client_id.clone()}</code>
                        <div class="muted">{scopes} " · " {t.authorized_at} <LocalTime at=g.granted_at/></div>
                    </div>
                    <AdminRevokeConsentForm class="inline">
                        {hidden}
                        <input type="hidden" name="client_id" value=client_id/>
                        <button type="submit" class="danger" aria-label=label>{t.revoke}</button>
                    </AdminRevokeConsentForm>
                </li>
            }
        })
        .collect_view();
    view! { <h2>{t.authorized_apps}</h2> <ul class="rows">{rows}</ul> }.into_any()
}

#[component]
fn Memberships(v: AdminUserView) -> impl IntoView {
    let t = t();
    let (csrf, id) = (v.csrf, v.user.id);
    let rows = v
        .groups
        .into_iter()
        .map(|g| {
            let (hidden, label) = (hidden(&csrf, id), format!("{} {}", t.remove, g.name));
            view! {
                <li class="row admin-membership" data-group=g.name.clone()>
                    <strong>{g.name.clone()}</strong>
                    <AdminUserGroupForm class="inline">
                        {hidden}
                        <input type="hidden" name="group_id" value=g.id.to_string()/>
                        <input type="hidden" name="member" value="false"/>
                        <button type="submit" aria-label=label>{t.remove}</button>
                    </AdminUserGroupForm>
                </li>
            }
        })
        .collect_view();
    let any = !rows.is_empty();
    let add_hidden = hidden(&csrf, id);
    let add = (!v.other_groups.is_empty()).then(move || {
        let options = v
            .other_groups
            .into_iter()
            .map(|g| view! { <option value=g.id.to_string()>{g.name}</option> })
            .collect_view();
        view! {
            <AdminUserGroupForm class="inline">
                {add_hidden}
                <input type="hidden" name="member" value="true"/>
                <label for="add-group">{t.add_to_group}</label>
                <select id="add-group" name="group_id">{options}</select>
                <button type="submit">{t.add_to_group}</button>
            </AdminUserGroupForm>
        }
    });
    view! {
        <h2>{t.admin_groups}</h2>
        {if any { view! { <ul class="rows">{rows}</ul> }.into_any() } else { view! { <p class="muted">{t.not_in_groups}</p> }.into_any() }}
        {add}
    }
}

#[component]
fn Identities(v: AdminUserView) -> impl IntoView {
    let t = t();
    if v.identities.is_empty() {
        return view! { <h2>{t.linked_providers}</h2> <p class="muted">{t.no_identities}</p> }.into_any();
    }
    let rows = v
        .identities
        .into_iter()
        .map(|i| {
            view! {
                <li class="row admin-identity">
                    <div>
                        <strong>{i.provider}</strong> " " <code>{i.subject}</code>
                        <div class="muted">{i.email} " · " {t.linked_at} <LocalTime at=i.linked_at/></div>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! { <h2>{t.linked_providers}</h2> <ul class="rows">{rows}</ul> }.into_any()
}

#[component]
fn Factors(v: AdminUserView) -> impl IntoView {
    let t = t();
    let (csrf, id) = (v.csrf, v.user.id);
    if v.factors.is_empty() {
        return view! { <h2>{t.security_title}</h2> <p class="muted">{t.no_factors}</p> }.into_any();
    }
    let rows = v
        .factors
        .into_iter()
        .map(|f| {
            let label = if f.kind == "passkey" { format!("{} · {}", t.passkeys, f.name) } else { t.authenticator_app.to_owned() };
            view! { <li class="row admin-factor"><strong>{label}</strong> <span class="muted">{t.added_at} <LocalTime at=f.added_at/></span></li> }
        })
        .collect_view();
    let reset = hidden(&csrf, id);
    view! {
        <h2 id="factors-title">{t.security_title}</h2>
        <ul class="rows">{rows}</ul>
        <p class="muted">{t.recovery_left} {v.recovery_codes_left}</p>
        <ResetFactorsForm labelled_by="factors-title">
            {reset}
            <input type="hidden" name="back" value="user"/>
            <button type="submit" class="danger">{t.reset_factors}</button>
        </ResetFactorsForm>
    }
    .into_any()
}
