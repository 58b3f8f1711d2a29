//! What the admin console's user and group pages show, built from the calls the admin API
//! makes ([`Services::user_overview`], the group and role functions), so the two never
//! disagree about an account.

use super::{account::browser_session, present::moment, session::Session, ServiceError, Services};
use crate::{
    store::RoleHolder,
    view::{AdminFactor, AdminGroup, AdminGroupsView, AdminUserView, GroupRef, HeldRole, LinkedIdentity},
};

impl Services {
    /// `/admin/users/{id}`: the account, its sessions, consents, linked providers, factors,
    /// groups and roles.
    pub async fn admin_user_view(
        &self,
        session: &Session,
        id: i64,
        csrf: String,
    ) -> Result<AdminUserView, ServiceError> {
        self.ensure_admin(session)?;
        let o = self.user_overview(id).await?;
        let now = self.now();
        let second_factor = !o.factors.totp.is_empty() || !o.factors.passkeys.is_empty();
        let sessions = o.sessions.into_iter().map(|s| browser_session(s, &session.hash, now)).collect();
        let consents = o.grants.into_iter().map(|g| self.app_grant(g, now)).collect();
        let identities = o
            .identities
            .into_iter()
            .map(|i| LinkedIdentity {
                provider: self.provider(&i.provider).map_or_else(|| i.provider.clone(), |p| p.name.clone()),
                subject: i.subject,
                email: i.email.unwrap_or_default(),
                linked_at: moment(i.created_at, now),
            })
            .collect();
        let totp = o.factors.totp.into_iter().map(|f| AdminFactor {
            kind: f.kind,
            name: String::new(),
            added_at: moment(f.added_at, now),
        });
        let passkeys = o.factors.passkeys.into_iter().map(|p| AdminFactor {
            kind: "passkey".into(),
            name: p.name,
            added_at: moment(p.created_at, now),
        });
        let all_groups = self.list_groups(0, 1000).await?;
        let other_groups = all_groups
            .iter()
            .filter(|g| !o.groups.iter().any(|mine| mine.id == g.id))
            .map(|g| GroupRef { id: g.id, name: g.name.clone() })
            .collect();
        let roles = self
            .store
            .role_assignments(None)
            .await?
            .into_iter()
            .filter(|r| r.user_id == Some(id))
            .map(|r| HeldRole { client_id: r.client_id, role: r.role })
            .collect();
        let client_ids = self.store.list_clients().await?.into_iter().map(|c| c.client.client_id).collect();
        let has_password = o.user.password_hash.is_some();
        let me = o.user.id == session.user.id;
        Ok(AdminUserView {
            user: super::admin::admin_user(o.user, now, second_factor),
            has_password,
            me,
            sessions,
            consents,
            identities,
            factors: totp.chain(passkeys).collect(),
            recovery_codes_left: o.factors.recovery_codes_left,
            groups: o.groups.into_iter().map(|g| GroupRef { id: g.id, name: g.name }).collect(),
            other_groups,
            roles,
            client_ids,
            csrf,
        })
    }

    /// `/admin/groups`: every group with its members and roles.
    pub async fn admin_groups_view(&self, session: &Session, csrf: String) -> Result<AdminGroupsView, ServiceError> {
        self.ensure_admin(session)?;
        let assignments = self.store.role_assignments(None).await?;
        let mut groups = Vec::new();
        for g in self.list_groups(0, 1000).await? {
            let members = self.group_members(g.id).await?.into_iter().map(|u| (u.id, u.username)).collect();
            let roles = assignments
                .iter()
                .filter(|r| r.group_id == Some(g.id))
                .map(|r| HeldRole { client_id: r.client_id.clone(), role: r.role.clone() })
                .collect();
            groups.push(AdminGroup { id: g.id, name: g.name, members, roles });
        }
        groups.sort_by_key(|g| g.name.to_lowercase());
        let client_ids = self.store.list_clients().await?.into_iter().map(|c| c.client.client_id).collect();
        Ok(AdminGroupsView { groups, client_ids, csrf })
    }

    /// Gives (`held`) or takes back a role of `client_id` from the user or group `holder`,
    /// as the admin API's role routes do.
    pub async fn admin_set_role(
        &self,
        session: &Session,
        client_id: &str,
        role: &str,
        holder: RoleHolder,
        held: bool,
    ) -> Result<(), ServiceError> {
        self.ensure_admin(session)?;
        let actor = Some(session.user.id);
        if held {
            self.assign_role(client_id, role.trim(), holder, actor).await?;
        } else {
            self.unassign_role(client_id, role, holder, actor).await?;
        }
        Ok(())
    }
}
