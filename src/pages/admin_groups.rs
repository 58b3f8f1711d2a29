//! `/admin/groups`: every group with its members and roles; create, rename and delete groups,
//! add members by username or email, remove them, give and take back roles of clients.

use leptos::prelude::*;
use leptos_meta::Title;

use super::admin::{AdminNav, HeldRoles, Outcome};
use crate::{
    api::{admin_groups::load_admin_groups, admin_users::user_page, error::error_text},
    components::{
        forms::{AdminCreateGroupForm, AdminDeleteGroupForm, AdminGroupMemberForm, AdminRenameGroupForm},
        ErrorBanner, Layout, Loading,
    },
    i18n::t,
    view::{AdminGroup, AdminGroupsView},
};

/// `/admin/groups`.
#[component]
pub fn AdminGroupsPage() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_admin_groups());
    let t = t();
    view! {
        <Title text=format!("{} · {}", t.admin_groups, t.site_title)/>
        <Layout labelled_by="admin-groups-title" wide=true>
            <AdminNav/>
            <h1 id="admin-groups-title">{t.admin_groups}</h1>
            <Outcome/>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move { match data.await {
                    Ok(v) => view! { <Groups v/> }.into_any(),
                    Err(e) => view! { <ErrorBanner message=error_text(&e)/> }.into_any(),
                }})}
            </Suspense>
        </Layout>
    }
}

#[component]
fn Groups(v: AdminGroupsView) -> impl IntoView {
    let t = t();
    let csrf = v.csrf;
    let list = if v.groups.is_empty() {
        view! { <p class="muted">{t.no_groups}</p> }.into_any()
    } else {
        let rows = v
            .groups
            .into_iter()
            .map(|g| view! { <GroupRow g client_ids=v.client_ids.clone() csrf=csrf.clone()/> })
            .collect_view();
        view! { <ul class="rows">{rows}</ul> }.into_any()
    };
    view! {
        {list}
        <h2 id="new-group-title">{t.new_group}</h2>
        <AdminCreateGroupForm labelled_by="new-group-title" class="inline">
            <input type="hidden" name="csrf" value=csrf/>
            <label for="new-group-name">{t.group_name}</label>
            <input id="new-group-name" name="name" required/>
            <button type="submit" class="primary">{t.create}</button>
        </AdminCreateGroupForm>
    }
}

/// The hidden fields every form about group `id` carries.
fn hidden(csrf: &str, id: i64) -> impl IntoView + use<> {
    view! {
        <input type="hidden" name="csrf" value=csrf.to_owned()/>
        <input type="hidden" name="group_id" value=id.to_string()/>
    }
}

#[component]
fn GroupRow(g: AdminGroup, client_ids: Vec<String>, csrf: String) -> impl IntoView {
    let t = t();
    let id = g.id;
    let field = |name: &str| format!("group-{id}-{name}");
    let (rename_id, member_id) = (field("name"), field("member"));
    let members = if g.members.is_empty() {
        view! { <p class="muted">{t.no_members}</p> }.into_any()
    } else {
        let rows = g
            .members
            .into_iter()
            .map(|(user_id, username)| {
                let (hidden, label) = (hidden(&csrf, id), format!("{} {username}", t.remove));
                let (row, shown) = (username.clone(), username.clone());
                view! {
                    <li class="member" data-username=row>
                        <a href=user_page(user_id)>{shown}</a>
                        <AdminGroupMemberForm class="inline">
                            {hidden}
                            <input type="hidden" name="login" value=username/>
                            <input type="hidden" name="member" value="false"/>
                            <button type="submit" aria-label=label>{t.remove}</button>
                        </AdminGroupMemberForm>
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="members">{rows}</ul> }.into_any()
    };
    let [h_member, h_rename, h_delete] = std::array::from_fn(|_| hidden(&csrf, id));
    let (member_for, rename_for) = (member_id.clone(), rename_id.clone());
    let (rename_label, delete_label) = (format!("{} {}", t.rename, g.name), format!("{} {}", t.delete, g.name));
    let name = g.name.clone();
    view! {
        <li class="row admin-group" data-group=g.name.clone()>
            <div>
                <strong>{g.name.clone()}</strong>
                <h3>{t.members}</h3>
                {members}
                <AdminGroupMemberForm class="inline">
                    {h_member}
                    <input type="hidden" name="member" value="true"/>
                    <label for=member_for>{t.add_member}</label>
                    <input id=member_id name="login" required/>
                    <button type="submit">{t.add_member}</button>
                </AdminGroupMemberForm>
                <h3>{t.roles}</h3>
                <HeldRoles roles=g.roles client_ids=client_ids csrf=csrf.clone() holder="group_id" id=id/>
            </div>
            <div class="actions">
                <AdminRenameGroupForm class="inline">
                    {h_rename}
                    <label for=rename_for>{t.group_name}</label>
                    <input id=rename_id name="name" value=name required/>
                    <button type="submit" aria-label=rename_label>{t.rename}</button>
                </AdminRenameGroupForm>
                <AdminDeleteGroupForm class="inline">
                    {h_delete}
                    <button type="submit" class="danger" aria-label=delete_label>{t.delete}</button>
                </AdminDeleteGroupForm>
            </div>
        </li>
    }
}
