//! Registered clients: their registration, secret and logout settings.

use async_trait::async_trait;

use super::{
    records::{client_columns, ClientRow},
    sql::{PostgresStore, SqliteStore},
    ClientRecord, LogoutSettings, StoreError, StoreResult,
};
use crate::oauth::jwt_access::AccessTokenFormat;

/// Registered OAuth clients, including their OpenID Connect logout registration.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Registers a client; `Conflict` when the client_id is taken.
    async fn create_client(&self, client: &ClientRecord) -> StoreResult<()>;
    /// The client with this client_id.
    async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    /// Every client, by client_id.
    async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>>;
    /// The clients a user registered, oldest first.
    async fn clients_owned_by(&self, owner_id: i64) -> StoreResult<Vec<ClientRecord>>;
    /// Replaces a client's name, redirect URIs, grant types, scopes and trusted flag (its type,
    /// secret and owner stay). False if no such client.
    async fn update_client(&self, client: &crate::oauth::model::Client) -> StoreResult<bool>;
    /// Replaces a client's secret record. False if no such client.
    async fn set_client_secret(&self, client_id: &str, record: &str) -> StoreResult<bool>;
    /// Deletes a client and, by cascade, its codes, tokens and consents. False if none.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
    /// A client's logout registration (empty if it registered none). `None` if no such client.
    async fn client_logout(&self, client_id: &str) -> StoreResult<Option<LogoutSettings>>;
    /// Replaces a client's logout registration. False if no such client.
    async fn set_client_logout(&self, client_id: &str, settings: &LogoutSettings) -> StoreResult<bool>;
    /// The web origins a client registered for CORS (normalised), sorted.
    async fn client_origins(&self, client_id: &str) -> StoreResult<Vec<String>>;
    /// Replaces a client's web origins (already normalised), in one transaction.
    async fn set_client_origins(&self, client_id: &str, origins: &[String]) -> StoreResult<()>;
    /// Whether `origin` (normalised) is registered: by `client_id` when given, otherwise by
    /// any client.
    async fn origin_registered(&self, origin: &str, client_id: Option<&str>) -> StoreResult<bool>;
    /// How the client's access tokens are issued and its requests made; `None` for an unknown
    /// client.
    async fn client_token_policy(&self, client_id: &str) -> StoreResult<Option<ClientTokenPolicy>>;
    /// Replaces the client's token policy; false for an unknown client.
    async fn set_client_token_policy(&self, client_id: &str, policy: &ClientTokenPolicy) -> StoreResult<bool>;
    /// The admin API scopes an operator gave the client (space-separated, possibly empty);
    /// `None` for an unknown client.
    async fn client_admin_scopes(&self, client_id: &str) -> StoreResult<Option<String>>;
    /// Replaces the client's admin API scopes; false for an unknown client.
    async fn set_client_admin_scopes(&self, client_id: &str, scopes: &str) -> StoreResult<bool>;
}

/// How a client's access tokens are issued (RFC 9068, RFC 8707) and whether its authorization
/// requests must be pushed (RFC 9126). Opaque tokens, no resources, no push by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTokenPolicy {
    /// Opaque or JWT access tokens.
    pub format: AccessTokenFormat,
    /// The resource servers its tokens are for: the `aud` of JWT access tokens.
    pub resources: Vec<String>,
    /// Authorization requests must come through `POST /o/par/`.
    pub require_par: bool,
    /// Token requests must carry a DPoP proof (RFC 9449), so every token is sender-constrained.
    pub require_dpop: bool,
}

const CLIENT_COLUMNS: &str =
    "client_id, secret_hash, name, confidential, redirect_uris, grant_types, scopes, trusted, owner_id, created_at";

// One body for both back ends (`$N` placeholders work on SQLite and PostgreSQL alike).
macro_rules! client_sql {
    ($store:ty) => {
        #[async_trait]
        impl ClientStore for $store {
            async fn create_client(&self, r: &ClientRecord) -> StoreResult<()> {
                let c = &r.client;
                let (redirects, grants, scopes) = client_columns(c);
                sqlx::query(
                    "INSERT INTO clients (client_id, secret_hash, name, confidential, redirect_uris, grant_types,
                        scopes, trusted, owner_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&c.client_id)
                .bind(&r.secret_hash)
                .bind(&c.name)
                .bind(c.confidential)
                .bind(redirects)
                .bind(grants)
                .bind(scopes)
                .bind(c.trusted)
                .bind(r.owner_id)
                .bind(r.created_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
                let row = sqlx::query_as::<_, ClientRow>(&sql).bind(client_id).fetch_optional(&self.pool).await?;
                row.map(ClientRow::into_record).transpose()
            }

            async fn list_clients(&self) -> StoreResult<Vec<ClientRecord>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id");
                let rows = sqlx::query_as::<_, ClientRow>(&sql).fetch_all(&self.pool).await?;
                rows.into_iter().map(ClientRow::into_record).collect()
            }

            async fn clients_owned_by(&self, owner_id: i64) -> StoreResult<Vec<ClientRecord>> {
                let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE owner_id = $1 ORDER BY created_at, client_id");
                let rows = sqlx::query_as::<_, ClientRow>(&sql).bind(owner_id).fetch_all(&self.pool).await?;
                rows.into_iter().map(ClientRow::into_record).collect()
            }

            async fn update_client(&self, c: &crate::oauth::model::Client) -> StoreResult<bool> {
                let (redirects, grants, scopes) = client_columns(c);
                let done = sqlx::query(
                    "UPDATE clients SET name = $1, redirect_uris = $2, grant_types = $3, scopes = $4, trusted = $5
                     WHERE client_id = $6",
                )
                .bind(&c.name)
                .bind(redirects)
                .bind(grants)
                .bind(scopes)
                .bind(c.trusted)
                .bind(&c.client_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_client_secret(&self, client_id: &str, record: &str) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE clients SET secret_hash = $1 WHERE client_id = $2 AND confidential")
                    .bind(record)
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn client_logout(&self, client_id: &str) -> StoreResult<Option<LogoutSettings>> {
                let row: Option<(String, Option<String>)> =
                    sqlx::query_as("SELECT post_logout_redirect_uris, backchannel_logout_uri FROM clients WHERE client_id = $1")
                        .bind(client_id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(uris, backchannel_logout_uri)| LogoutSettings {
                    post_logout_redirect_uris: uris.split_whitespace().map(str::to_owned).collect(),
                    backchannel_logout_uri,
                }))
            }

            async fn set_client_logout(&self, client_id: &str, l: &LogoutSettings) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE clients SET post_logout_redirect_uris = $1, backchannel_logout_uri = $2 WHERE client_id = $3")
                    .bind(l.post_logout_redirect_uris.join(" "))
                    .bind(&l.backchannel_logout_uri)
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn client_origins(&self, client_id: &str) -> StoreResult<Vec<String>> {
                let rows: Vec<(String,)> =
                    sqlx::query_as("SELECT origin FROM client_origins WHERE client_id = $1 ORDER BY origin")
                        .bind(client_id)
                        .fetch_all(&self.pool)
                        .await?;
                Ok(rows.into_iter().map(|(o,)| o).collect())
            }

            async fn set_client_origins(&self, client_id: &str, origins: &[String]) -> StoreResult<()> {
                let mut tx = super::sql::begin(&self.pool).await?;
                sqlx::query("DELETE FROM client_origins WHERE client_id = $1").bind(client_id).execute(&mut *tx).await?;
                for origin in origins {
                    sqlx::query("INSERT INTO client_origins (client_id, origin) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(client_id)
                        .bind(origin)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn origin_registered(&self, origin: &str, client_id: Option<&str>) -> StoreResult<bool> {
                let row: Option<(i32,)> = match client_id {
                    Some(id) => sqlx::query_as("SELECT 1 FROM client_origins WHERE origin = $1 AND client_id = $2")
                        .bind(origin)
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?,
                    None => sqlx::query_as("SELECT 1 FROM client_origins WHERE origin = $1 LIMIT 1")
                        .bind(origin)
                        .fetch_optional(&self.pool)
                        .await?,
                };
                Ok(row.is_some())
            }

            async fn client_token_policy(&self, client_id: &str) -> StoreResult<Option<ClientTokenPolicy>> {
                let row: Option<(String, String, bool, bool)> = sqlx::query_as(
                    "SELECT access_token_format, resources, require_par, require_dpop FROM clients WHERE client_id = $1",
                )
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(format, resources, require_par, require_dpop)| {
                    Ok(ClientTokenPolicy {
                        format: format.parse().map_err(StoreError::Corrupt)?,
                        resources: resources.split_whitespace().map(str::to_owned).collect(),
                        require_par,
                        require_dpop,
                    })
                })
                .transpose()
            }

            async fn set_client_token_policy(&self, client_id: &str, p: &ClientTokenPolicy) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE clients SET access_token_format = $1, resources = $2, require_par = $3, require_dpop = $4
                     WHERE client_id = $5",
                )
                .bind(p.format.as_str())
                .bind(p.resources.join(" "))
                .bind(p.require_par)
                .bind(p.require_dpop)
                .bind(client_id)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn client_admin_scopes(&self, client_id: &str) -> StoreResult<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as("SELECT admin_scopes FROM clients WHERE client_id = $1")
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(s,)| s))
            }

            async fn set_client_admin_scopes(&self, client_id: &str, scopes: &str) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE clients SET admin_scopes = $1 WHERE client_id = $2")
                    .bind(scopes)
                    .bind(client_id)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}

client_sql!(SqliteStore);
client_sql!(PostgresStore);
