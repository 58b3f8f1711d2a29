//! A Django database, read-only: the rows `yaoshi import django` copies. SQLite
//! (`sqlite://…`, opened read-only) or PostgreSQL (`postgres://…`, in read-only
//! transactions). Columns that older django-oauth-toolkit releases lack (`token_checksum`,
//! `allowed_origins`, `post_logout_redirect_uris`, `algorithm`) read as absent.

use std::collections::HashSet;

use serde::Serialize;
use sqlx::Row as _;

/// Why the Django database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("the source must be a sqlite:// or postgres:// URL")]
    Scheme,
    /// Opening or reading failed (the text names the table when it is missing).
    #[error("cannot read the Django database: {0}")]
    Read(String),
}

impl From<sqlx::Error> for SourceError {
    fn from(e: sqlx::Error) -> Self {
        Self::Read(e.to_string())
    }
}

/// A row of `auth_user`.
#[derive(Clone, Debug, Serialize)]
pub struct DjangoUser {
    /// The primary key: DOT's ID Token `sub`.
    pub id: i64,
    /// `username` (up to 150 characters, may hold `@ + . - _`).
    pub username: String,
    /// `email` (may be empty, need not be unique).
    pub email: String,
    /// `first_name`.
    pub first_name: String,
    /// `last_name`.
    pub last_name: String,
    /// `password`: a Django hash, or `!…` when unusable.
    #[serde(skip)]
    pub password: String,
    /// `is_active`.
    pub is_active: bool,
    /// `is_staff`.
    pub is_staff: bool,
    /// `is_superuser`.
    pub is_superuser: bool,
    /// `date_joined`, unix seconds.
    pub date_joined: i64,
}

/// A row of `oauth2_provider_application`.
#[derive(Clone, Debug, Serialize)]
pub struct DjangoApplication {
    /// The primary key (tokens refer to it).
    pub id: i64,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`: a Django hash (DOT ≥ 2 hashes it) or the secret itself.
    #[serde(skip)]
    pub client_secret: String,
    /// `client_type`: `confidential` or `public`.
    pub client_type: String,
    /// `authorization_grant_type`: `authorization-code`, `implicit`, `password`,
    /// `client-credentials` or `openid-hybrid`.
    pub authorization_grant_type: String,
    /// `name`.
    pub name: String,
    /// `redirect_uris`, space-separated.
    pub redirect_uris: String,
    /// `post_logout_redirect_uris`, space-separated.
    pub post_logout_redirect_uris: String,
    /// `allowed_origins`, space-separated.
    pub allowed_origins: String,
    /// `skip_authorization`.
    pub skip_authorization: bool,
    /// `algorithm`: empty (no OIDC), `RS256` or `HS256`.
    pub algorithm: String,
    /// `user_id`, the owner.
    pub user_id: Option<i64>,
    /// `created`, unix seconds.
    pub created: i64,
}

/// A row of `oauth2_provider_accesstoken`.
#[derive(Clone, Debug, Serialize)]
pub struct DjangoAccessToken {
    /// The primary key.
    pub id: i64,
    /// The lowercase hex SHA-256 of the token: `token_checksum` when DOT stored it, else
    /// computed from `token`.
    #[serde(skip)]
    pub token_hash: String,
    /// `user_id` (absent for client credentials).
    pub user_id: Option<i64>,
    /// `application_id`.
    pub application_id: Option<i64>,
    /// `expires`, unix seconds.
    pub expires: i64,
    /// `scope`, space-separated.
    pub scope: String,
    /// `created`, unix seconds.
    pub created: i64,
}

/// A row of `oauth2_provider_refreshtoken`, with the scope of its access token.
#[derive(Clone, Debug, Serialize)]
pub struct DjangoRefreshToken {
    /// The primary key.
    pub id: i64,
    /// The lowercase hex SHA-256 of `token`.
    #[serde(skip)]
    pub token_hash: String,
    /// `user_id`.
    pub user_id: i64,
    /// `application_id`.
    pub application_id: i64,
    /// `access_token_id`: the access token it was issued with (none once revoked).
    pub access_token_id: Option<i64>,
    /// The scope of that access token (empty without one).
    pub scope: String,
    /// `revoked`, unix seconds.
    pub revoked: Option<i64>,
    /// `created`, unix seconds.
    pub created: i64,
}

/// An open Django database.
pub enum DjangoSource {
    /// A Django SQLite file, opened read-only.
    Sqlite(sqlx::SqlitePool),
    /// A Django PostgreSQL database, every transaction read-only.
    Postgres(sqlx::PgPool),
}

/// Runs `$sql` on whichever pool `$self` holds and maps each row with `$map` (a closure body
/// over `row`, generic over the back end's row type).
macro_rules! fetch {
    ($self:expr, $sql:expr, |$row:ident| $map:expr) => {
        match $self {
            DjangoSource::Sqlite(pool) => {
                let rows = sqlx::query(&$sql).fetch_all(pool).await?;
                rows.iter().map(|$row| -> Result<_, sqlx::Error> { Ok($map) }).collect::<Result<Vec<_>, _>>()?
            }
            DjangoSource::Postgres(pool) => {
                let rows = sqlx::query(&$sql).fetch_all(pool).await?;
                rows.iter().map(|$row| -> Result<_, sqlx::Error> { Ok($map) }).collect::<Result<Vec<_>, _>>()?
            }
        }
    };
}

impl DjangoSource {
    /// Opens `url` read-only.
    pub async fn open(url: &str) -> Result<Self, SourceError> {
        use std::str::FromStr as _;
        if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.read_only(true);
            let pool = sqlx::pool::PoolOptions::new().max_connections(1).connect_with(options).await?;
            Ok(Self::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options =
                sqlx::postgres::PgConnectOptions::from_str(url)?.options([("default_transaction_read_only", "on")]);
            let pool = sqlx::pool::PoolOptions::new().max_connections(1).connect_with(options).await?;
            Ok(Self::Postgres(pool))
        } else {
            Err(SourceError::Scheme)
        }
    }

    /// The columns `table` has (empty if there is no such table).
    async fn columns(&self, table: &str) -> Result<HashSet<String>, SourceError> {
        let names: Vec<String> = match self {
            DjangoSource::Sqlite(pool) => {
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1)").bind(table).fetch_all(pool).await?
            }
            DjangoSource::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
                     WHERE table_name = $1 AND table_schema = current_schema()",
                )
                .bind(table)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(names.into_iter().collect())
    }

    /// `column` as unix seconds (Django stores UTC: text on SQLite, `timestamptz` on
    /// PostgreSQL).
    fn epoch(&self, column: &str) -> String {
        match self {
            DjangoSource::Sqlite(_) => format!("CAST(strftime('%s', {column}) AS BIGINT)"),
            DjangoSource::Postgres(_) => format!("CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"),
        }
    }

    /// A text column that may be missing from older schemas.
    fn text_or_empty(columns: &HashSet<String>, table: &str, column: &str) -> String {
        if columns.contains(column) {
            format!("COALESCE({table}.{column}, '')")
        } else {
            "''".into()
        }
    }

    async fn require(&self, table: &str) -> Result<HashSet<String>, SourceError> {
        let columns = self.columns(table).await?;
        if columns.is_empty() {
            return Err(SourceError::Read(format!("there is no table {table}: is this a Django database?")));
        }
        Ok(columns)
    }

    /// Every row of `auth_user`, by id.
    pub async fn users(&self) -> Result<Vec<DjangoUser>, SourceError> {
        self.require("auth_user").await?;
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, username, COALESCE(email, '') AS email, first_name, last_name, password,
                    is_active, is_staff, is_superuser, {joined} AS date_joined
             FROM auth_user ORDER BY id",
            joined = self.epoch("date_joined"),
        );
        Ok(fetch!(self, sql, |row| DjangoUser {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            password: row.try_get("password")?,
            is_active: row.try_get("is_active")?,
            is_staff: row.try_get("is_staff")?,
            is_superuser: row.try_get("is_superuser")?,
            date_joined: row.try_get("date_joined")?,
        }))
    }

    /// Every row of `oauth2_provider_application`, by id.
    pub async fn applications(&self) -> Result<Vec<DjangoApplication>, SourceError> {
        let t = "oauth2_provider_application";
        let c = self.require(t).await?;
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, client_id, client_secret, client_type, authorization_grant_type, name,
                    COALESCE(redirect_uris, '') AS redirect_uris, {logout} AS post_logout_redirect_uris,
                    {origins} AS allowed_origins, skip_authorization, {algorithm} AS algorithm,
                    CAST(user_id AS BIGINT) AS user_id, {created} AS created
             FROM {t} ORDER BY id",
            logout = Self::text_or_empty(&c, t, "post_logout_redirect_uris"),
            origins = Self::text_or_empty(&c, t, "allowed_origins"),
            algorithm = Self::text_or_empty(&c, t, "algorithm"),
            created = self.epoch("created"),
        );
        Ok(fetch!(self, sql, |row| DjangoApplication {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            client_secret: row.try_get("client_secret")?,
            client_type: row.try_get("client_type")?,
            authorization_grant_type: row.try_get("authorization_grant_type")?,
            name: row.try_get("name")?,
            redirect_uris: row.try_get("redirect_uris")?,
            post_logout_redirect_uris: row.try_get("post_logout_redirect_uris")?,
            allowed_origins: row.try_get("allowed_origins")?,
            skip_authorization: row.try_get("skip_authorization")?,
            algorithm: row.try_get("algorithm")?,
            user_id: row.try_get("user_id")?,
            created: row.try_get("created")?,
        }))
    }

    /// Every row of `oauth2_provider_accesstoken`, by id.
    pub async fn access_tokens(&self) -> Result<Vec<DjangoAccessToken>, SourceError> {
        let t = "oauth2_provider_accesstoken";
        let c = self.require(t).await?;
        let sql = format!(
            "SELECT CAST(id AS BIGINT) AS id, token, {checksum} AS token_checksum, CAST(user_id AS BIGINT) AS user_id,
                    CAST(application_id AS BIGINT) AS application_id, {expires} AS expires,
                    COALESCE(scope, '') AS scope, {created} AS created
             FROM {t} ORDER BY id",
            checksum = Self::text_or_empty(&c, t, "token_checksum"),
            expires = self.epoch("expires"),
            created = self.epoch("created"),
        );
        Ok(fetch!(self, sql, |row| {
            let checksum: String = row.try_get("token_checksum")?;
            let token: String = row.try_get("token")?;
            DjangoAccessToken {
                id: row.try_get("id")?,
                token_hash: token_hash(&checksum, &token),
                user_id: row.try_get("user_id")?,
                application_id: row.try_get("application_id")?,
                expires: row.try_get("expires")?,
                scope: row.try_get("scope")?,
                created: row.try_get("created")?,
            }
        }))
    }

    /// Every row of `oauth2_provider_refreshtoken`, by id, with its access token's scope.
    pub async fn refresh_tokens(&self) -> Result<Vec<DjangoRefreshToken>, SourceError> {
        self.require("oauth2_provider_refreshtoken").await?;
        let sql = format!(
            "SELECT CAST(r.id AS BIGINT) AS id, r.token, CAST(r.user_id AS BIGINT) AS user_id,
                    CAST(r.application_id AS BIGINT) AS application_id,
                    CAST(r.access_token_id AS BIGINT) AS access_token_id, COALESCE(a.scope, '') AS scope,
                    {revoked} AS revoked, {created} AS created
             FROM oauth2_provider_refreshtoken r
             LEFT JOIN oauth2_provider_accesstoken a ON a.id = r.access_token_id
             ORDER BY r.id",
            revoked = self.epoch("r.revoked"),
            created = self.epoch("r.created"),
        );
        Ok(fetch!(self, sql, |row| {
            let token: String = row.try_get("token")?;
            DjangoRefreshToken {
                id: row.try_get("id")?,
                token_hash: crate::crypto::sha256_hex(&token),
                user_id: row.try_get("user_id")?,
                application_id: row.try_get("application_id")?,
                access_token_id: row.try_get("access_token_id")?,
                scope: row.try_get("scope")?,
                revoked: row.try_get("revoked")?,
                created: row.try_get("created")?,
            }
        }))
    }

    /// How many rows of `table` there are whose `expires` is after `now` (authorization codes,
    /// ID Tokens: not imported, only counted for the report). Zero without the table.
    pub async fn unexpired(&self, table: &str, now: i64) -> Result<i64, SourceError> {
        if self.columns(table).await?.is_empty() {
            return Ok(0);
        }
        let sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM {table} WHERE {} > $1", self.epoch("expires"));
        let n: i64 = match self {
            DjangoSource::Sqlite(pool) => sqlx::query_scalar(&sql).bind(now).fetch_one(pool).await?,
            DjangoSource::Postgres(pool) => sqlx::query_scalar(&sql).bind(now).fetch_one(pool).await?,
        };
        Ok(n)
    }
}

/// DOT ≥ 3 keeps `token_checksum`, the hex SHA-256 of the token, which is exactly how Yaoshi
/// keys its tokens; older rows have only the token, which is hashed here.
fn token_hash(checksum: &str, token: &str) -> String {
    let checksum = checksum.trim().to_ascii_lowercase();
    if checksum.len() == 64 && checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
        checksum
    } else {
        crate::crypto::sha256_hex(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_is_the_token_hash_and_old_rows_hash_the_token() {
        let token = "kJ1wVx9gQ2mQvA6b5rZ0yT8uLq3nHc";
        let sum = crate::crypto::sha256_hex(token);
        assert_eq!(token_hash(&sum.to_uppercase(), token), sum);
        assert_eq!(token_hash("", token), sum);
        assert_eq!(token_hash("not-a-checksum", token), sum);
    }
}
