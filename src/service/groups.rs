//! Groups, their members, and the roles clients give to users or groups; and what the
//! `groups` scope releases from them (`groups`, `roles`). The command line, the admin API and
//! the token endpoints all come through here.

use super::{
    events::{kind, Event, Origin},
    unavailable,
    users::normalize_login,
    ServiceError, Services,
};
use crate::{
    oauth::{error::OAuthError, id_token::Memberships, scope},
    store::{GroupRow, RoleAssignment, RoleHolder, StoreError, User},
};

/// Longest group or role name.
const MAX_NAME: usize = 64;

/// Checks a group name: 1-64 letters, digits, `.`, `_`, `-`.
fn validate_group_name(name: &str) -> Result<(), ServiceError> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.chars().count() > MAX_NAME || !name.chars().all(ok_char) {
        return Err(ServiceError::InvalidField(
            "name",
            "a group name must be 1-64 letters, digits, dots, underscores or hyphens".into(),
        ));
    }
    Ok(())
}

/// Checks a role name: 1-64 ASCII letters, digits, `.`, `_`, `-`, `:`.
fn validate_role(role: &str) -> Result<(), ServiceError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if role.is_empty() || role.len() > MAX_NAME || !role.chars().all(ok_char) {
        return Err(ServiceError::InvalidField(
            "role",
            "a role must be 1-64 ASCII letters, digits, dots, underscores, hyphens or colons".into(),
        ));
    }
    Ok(())
}

/// A taken group name, said the same way wherever it comes from.
fn name_taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => ServiceError::Conflict("a group with that name exists already".into()),
        other => other.into(),
    }
}

fn no_group(id: i64) -> ServiceError {
    ServiceError::NotFound(format!("no group {id}"))
}

impl Services {
    /// What the `groups` scope releases for `user_id` to `client_id`; `None` when `scope` does
    /// not hold `groups`, so nothing is read for tokens that were not granted it.
    pub(super) async fn memberships_for(
        &self,
        granted: &crate::oauth::scope::Scope,
        user_id: i64,
        client_id: &str,
    ) -> Result<Option<Memberships>, OAuthError> {
        if !granted.contains(scope::GROUPS) {
            return Ok(None);
        }
        let groups = self.store.groups_of(user_id).await.map_err(unavailable)?;
        let roles = self.store.user_roles(user_id, client_id).await.map_err(unavailable)?;
        Ok(Some(Memberships { groups: groups.into_iter().map(|g| g.name).collect(), roles }))
    }

    /// Creates a group; `Conflict` when the name is taken (case-insensitively).
    pub async fn create_group(&self, name: &str, actor: Option<i64>) -> Result<GroupRow, ServiceError> {
        let name = name.trim();
        validate_group_name(name)?;
        let group = self.store.create_group(name, &normalize_login(name), self.now()).await.map_err(name_taken)?;
        self.admin_event(actor, format!("create_group {}", group.id)).await;
        Ok(group)
    }

    /// The group with this id, or `NotFound`.
    pub async fn find_group(&self, id: i64) -> Result<GroupRow, ServiceError> {
        self.store.group(id).await?.ok_or_else(|| no_group(id))
    }

    /// The group named `name` (case-insensitively), or `NotFound`.
    pub async fn group_named(&self, name: &str) -> Result<GroupRow, ServiceError> {
        self.store
            .group_by_name(&normalize_login(name))
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no group {name:?}")))
    }

    /// Groups by id after `after_id`, at most `limit` (1-1000).
    pub async fn list_groups(&self, after_id: i64, limit: i64) -> Result<Vec<GroupRow>, ServiceError> {
        Ok(self.store.list_groups(after_id, limit.clamp(1, 1000)).await?)
    }

    /// Renames a group; `Conflict` when the new name is taken, `NotFound` if no such group.
    pub async fn rename_group(&self, id: i64, name: &str, actor: Option<i64>) -> Result<GroupRow, ServiceError> {
        let name = name.trim();
        validate_group_name(name)?;
        if !self.store.rename_group(id, name, &normalize_login(name), self.now()).await.map_err(name_taken)? {
            return Err(no_group(id));
        }
        self.admin_event(actor, format!("rename_group {id}")).await;
        self.find_group(id).await
    }

    /// Deletes a group with its memberships and role assignments; false if there was none.
    pub async fn delete_group(&self, id: i64, actor: Option<i64>) -> Result<bool, ServiceError> {
        let deleted = self.store.delete_group(id).await?;
        if deleted {
            self.admin_event(actor, format!("delete_group {id}")).await;
        }
        Ok(deleted)
    }

    /// The members of a group, by id.
    pub async fn group_members(&self, id: i64) -> Result<Vec<User>, ServiceError> {
        self.find_group(id).await?;
        Ok(self.store.group_members(id).await?)
    }

    /// The groups a user belongs to, by name.
    pub async fn groups_of(&self, user_id: i64) -> Result<Vec<GroupRow>, ServiceError> {
        Ok(self.store.groups_of(user_id).await?)
    }

    /// Adds a user to a group; false if they were a member already. `NotFound` for an unknown
    /// group or user.
    pub async fn add_group_member(
        &self,
        group_id: i64,
        user_id: i64,
        actor: Option<i64>,
    ) -> Result<bool, ServiceError> {
        self.find_group(group_id).await?;
        self.store.user_by_id(user_id).await?.ok_or_else(|| ServiceError::NotFound(format!("no user {user_id}")))?;
        let added = self.store.add_group_member(group_id, user_id, self.now()).await?;
        if added {
            self.admin_event(actor, format!("add_member {group_id} {user_id}")).await;
        }
        Ok(added)
    }

    /// Removes a user from a group; false if they were not a member. `NotFound` for an
    /// unknown group.
    pub async fn remove_group_member(
        &self,
        group_id: i64,
        user_id: i64,
        actor: Option<i64>,
    ) -> Result<bool, ServiceError> {
        self.find_group(group_id).await?;
        let removed = self.store.remove_group_member(group_id, user_id).await?;
        if removed {
            self.admin_event(actor, format!("remove_member {group_id} {user_id}")).await;
        }
        Ok(removed)
    }

    /// Gives `role` of `client_id` to a user or group; false if it held it already.
    /// `NotFound` for an unknown client, user or group.
    pub async fn assign_role(
        &self,
        client_id: &str,
        role: &str,
        holder: RoleHolder,
        actor: Option<i64>,
    ) -> Result<bool, ServiceError> {
        validate_role(role)?;
        self.find_client(client_id).await?;
        self.ensure_holder(holder).await?;
        let added = self.store.assign_role(client_id, role, holder, self.now()).await?;
        if added {
            self.admin_event(actor, format!("assign_role {client_id} {role} {holder:?}")).await;
        }
        Ok(added)
    }

    /// Takes `role` of `client_id` from a user or group; false if it did not hold it.
    pub async fn unassign_role(
        &self,
        client_id: &str,
        role: &str,
        holder: RoleHolder,
        actor: Option<i64>,
    ) -> Result<bool, ServiceError> {
        validate_role(role)?;
        let removed = self.store.unassign_role(client_id, role, holder).await?;
        if removed {
            self.admin_event(actor, format!("unassign_role {client_id} {role} {holder:?}")).await;
        }
        Ok(removed)
    }

    /// Every role assignment, of one client when given.
    pub async fn role_assignments(&self, client_id: Option<&str>) -> Result<Vec<RoleAssignment>, ServiceError> {
        Ok(self.store.role_assignments(client_id).await?)
    }

    /// The roles of `client_id` a user holds, directly or through a group.
    pub async fn user_roles(&self, user_id: i64, client_id: &str) -> Result<Vec<String>, ServiceError> {
        Ok(self.store.user_roles(user_id, client_id).await?)
    }

    async fn ensure_holder(&self, holder: RoleHolder) -> Result<(), ServiceError> {
        match holder {
            RoleHolder::User(id) => {
                self.store.user_by_id(id).await?.ok_or_else(|| ServiceError::NotFound(format!("no user {id}")))?;
            }
            RoleHolder::Group(id) => {
                self.find_group(id).await?;
            }
        }
        Ok(())
    }

    /// Records what an operator or admin client changed (`actor`: the admin user, if a person).
    pub(super) async fn admin_event(&self, actor: Option<i64>, what: String) {
        self.record(Event::new(kind::ADMIN_ACTION).actor(actor).detail(what), &Origin::default()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_roles_are_checked() {
        for ok in ["staff", "billing-admins", "团队", "a.b_c"] {
            assert!(validate_group_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "has space", "x/y", &"g".repeat(65)] {
            assert!(validate_group_name(bad).is_err(), "{bad}");
        }
        for ok in ["admin", "billing:admin", "read.only"] {
            assert!(validate_role(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "rôle", &"r".repeat(65)] {
            assert!(validate_role(bad).is_err(), "{bad}");
        }
    }
}
