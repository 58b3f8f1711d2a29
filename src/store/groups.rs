//! Groups of users and the roles clients give to users or groups: what the `groups` scope
//! releases (`groups`, `roles`) and what the admin API manages.

use async_trait::async_trait;

use super::{
    sql::{PostgresStore, SqliteStore},
    users::USER_COLUMNS,
    StoreResult, User,
};

/// A stored group.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupRow {
    /// Row id: the group's stable id in the admin API.
    pub id: i64,
    /// The name as given (unique case-insensitively).
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last rename.
    pub updated_at: i64,
}

/// Who holds a role: one user, or every member of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleHolder {
    /// A user, by id.
    User(i64),
    /// A group, by id.
    Group(i64),
}

impl RoleHolder {
    /// The `(user_id, group_id)` columns of this holder.
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            RoleHolder::User(id) => (Some(id), None),
            RoleHolder::Group(id) => (None, Some(id)),
        }
    }
}

/// One role of one client given to one holder.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RoleAssignment {
    /// The client whose role it is.
    pub client_id: String,
    /// The role's name (e.g. `admin`).
    pub role: String,
    /// The user holding it, if given to a user.
    pub user_id: Option<i64>,
    /// The group holding it, if given to a group.
    pub group_id: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

/// Groups, their members and role assignments.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Creates a group; `Conflict` when the normalised name is taken.
    async fn create_group(&self, name: &str, normalized: &str, now: i64) -> StoreResult<GroupRow>;
    /// The group with this id.
    async fn group(&self, id: i64) -> StoreResult<Option<GroupRow>>;
    /// The group with this normalised name.
    async fn group_by_name(&self, normalized: &str) -> StoreResult<Option<GroupRow>>;
    /// Groups by id, those after `after_id`, at most `limit`.
    async fn list_groups(&self, after_id: i64, limit: i64) -> StoreResult<Vec<GroupRow>>;
    /// Renames a group; `Conflict` when the new normalised name is taken. False if no such group.
    async fn rename_group(&self, id: i64, name: &str, normalized: &str, now: i64) -> StoreResult<bool>;
    /// Deletes a group with its memberships and role assignments (cascade). False if none.
    async fn delete_group(&self, id: i64) -> StoreResult<bool>;
    /// Makes the user a member; false if they already were. Both must exist.
    async fn add_group_member(&self, group_id: i64, user_id: i64, now: i64) -> StoreResult<bool>;
    /// Ends a membership; false if there was none.
    async fn remove_group_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool>;
    /// The members of a group, by id.
    async fn group_members(&self, group_id: i64) -> StoreResult<Vec<User>>;
    /// The groups a user belongs to, by name.
    async fn groups_of(&self, user_id: i64) -> StoreResult<Vec<GroupRow>>;
    /// Gives `role` of `client_id` to `holder`; false if it already had it. The client and
    /// holder must exist.
    async fn assign_role(&self, client_id: &str, role: &str, holder: RoleHolder, now: i64) -> StoreResult<bool>;
    /// Takes `role` of `client_id` from `holder`; false if it did not have it.
    async fn unassign_role(&self, client_id: &str, role: &str, holder: RoleHolder) -> StoreResult<bool>;
    /// Every role assignment, of one client when given, by client, role and holder.
    async fn role_assignments(&self, client_id: Option<&str>) -> StoreResult<Vec<RoleAssignment>>;
    /// The roles of `client_id` the user holds, directly or through a group, by name, each once.
    async fn user_roles(&self, user_id: i64, client_id: &str) -> StoreResult<Vec<String>>;
}

const GROUP_COLUMNS: &str = "id, name, created_at, updated_at";

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! group_sql {
    ($store:ty) => {
        #[async_trait]
        impl GroupStore for $store {
            async fn create_group(&self, name: &str, normalized: &str, now: i64) -> StoreResult<GroupRow> {
                let sql = format!(
                    "INSERT INTO user_groups (name, name_normalized, created_at, updated_at) VALUES ($1, $2, $3, $3)
                     RETURNING {GROUP_COLUMNS}"
                );
                Ok(sqlx::query_as::<_, GroupRow>(&sql).bind(name).bind(normalized).bind(now).fetch_one(&self.pool).await?)
            }

            async fn group(&self, id: i64) -> StoreResult<Option<GroupRow>> {
                let sql = format!("SELECT {GROUP_COLUMNS} FROM user_groups WHERE id = $1");
                Ok(sqlx::query_as::<_, GroupRow>(&sql).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn group_by_name(&self, normalized: &str) -> StoreResult<Option<GroupRow>> {
                let sql = format!("SELECT {GROUP_COLUMNS} FROM user_groups WHERE name_normalized = $1");
                Ok(sqlx::query_as::<_, GroupRow>(&sql).bind(normalized).fetch_optional(&self.pool).await?)
            }

            async fn list_groups(&self, after_id: i64, limit: i64) -> StoreResult<Vec<GroupRow>> {
                let sql = format!("SELECT {GROUP_COLUMNS} FROM user_groups WHERE id > $1 ORDER BY id LIMIT $2");
                Ok(sqlx::query_as::<_, GroupRow>(&sql).bind(after_id).bind(limit).fetch_all(&self.pool).await?)
            }

            async fn rename_group(&self, id: i64, name: &str, normalized: &str, now: i64) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE user_groups SET name = $1, name_normalized = $2, updated_at = $3 WHERE id = $4")
                    .bind(name)
                    .bind(normalized)
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_group(&self, id: i64) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM user_groups WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn add_group_member(&self, group_id: i64, user_id: i64, now: i64) -> StoreResult<bool> {
                let done = sqlx::query(
                    "INSERT INTO user_group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(group_id)
                .bind(user_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn remove_group_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM user_group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn group_members(&self, group_id: i64) -> StoreResult<Vec<User>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users
                     WHERE id IN (SELECT user_id FROM user_group_members WHERE group_id = $1) ORDER BY id"
                );
                Ok(sqlx::query_as::<_, User>(&sql).bind(group_id).fetch_all(&self.pool).await?)
            }

            async fn groups_of(&self, user_id: i64) -> StoreResult<Vec<GroupRow>> {
                let sql = format!(
                    "SELECT {GROUP_COLUMNS} FROM user_groups
                     WHERE id IN (SELECT group_id FROM user_group_members WHERE user_id = $1) ORDER BY name_normalized"
                );
                Ok(sqlx::query_as::<_, GroupRow>(&sql).bind(user_id).fetch_all(&self.pool).await?)
            }

            async fn assign_role(&self, client_id: &str, role: &str, holder: RoleHolder, now: i64) -> StoreResult<bool> {
                let (user_id, group_id) = holder.columns();
                let done = sqlx::query(
                    "INSERT INTO client_roles (client_id, role, user_id, group_id, created_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT DO NOTHING",
                )
                .bind(client_id)
                .bind(role)
                .bind(user_id)
                .bind(group_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn unassign_role(&self, client_id: &str, role: &str, holder: RoleHolder) -> StoreResult<bool> {
                let (user_id, group_id) = holder.columns();
                let done = sqlx::query(
                    "DELETE FROM client_roles WHERE client_id = $1 AND role = $2
                        AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
                )
                .bind(client_id)
                .bind(role)
                .bind(user_id)
                .bind(group_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() >= 1)
            }

            async fn role_assignments(&self, client_id: Option<&str>) -> StoreResult<Vec<RoleAssignment>> {
                Ok(sqlx::query_as::<_, RoleAssignment>(
                    "SELECT client_id, role, user_id, group_id, created_at FROM client_roles
                     WHERE $1 IS NULL OR client_id = $1 ORDER BY client_id, role, user_id, group_id",
                )
                .bind(client_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn user_roles(&self, user_id: i64, client_id: &str) -> StoreResult<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT DISTINCT role FROM client_roles WHERE client_id = $1
                        AND (user_id = $2 OR group_id IN (SELECT group_id FROM user_group_members WHERE user_id = $2))
                     ORDER BY role",
                )
                .bind(client_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(r,)| r).collect())
            }
        }
    };
}

group_sql!(SqliteStore);
group_sql!(PostgresStore);
