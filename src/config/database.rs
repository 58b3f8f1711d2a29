//! How the server uses its database: how long a request waits for it, and how long startup
//! waits for it to come up. The `[database]` table of the settings file; every key may be
//! left out.
//!
//! The defaults favour fast, honest failure: while the database is unreachable (or an SQLite
//! write lock is held that long) a request answers 503 with `Retry-After` after about two
//! seconds instead of holding its client for ten. Nothing is cached across an outage, so
//! service resumes with the first connection that succeeds again.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// The database settings (`[database]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Seconds a request waits for a connection from the pool (PostgreSQL) or for SQLite's
    /// write lock (its busy timeout), default 2. Past it the request answers 503.
    pub timeout_secs: u64,
    /// Seconds `yaoshi serve` and `yaoshi migrate` keep retrying a database that does not
    /// answer at startup, default 60 (0: try once). Each attempt logs one line.
    pub startup_wait_secs: u64,
    /// Connections in the pool (default 8 on SQLite, 16 on PostgreSQL). On PostgreSQL, the
    /// instances' pools together must stay below the server's `max_connections`.
    pub max_connections: Option<u32>,
    /// When an SQLite commit is on disk (`synchronous`): `normal` (default) survives a crash of
    /// the process but may lose the last commits on a power loss; `full` syncs every commit, so
    /// nothing acknowledged is lost even then. Tokens, codes and sessions are committed in
    /// batches (one sync for many rows), which is what makes `full` affordable. PostgreSQL
    /// follows its own `synchronous_commit`.
    pub sqlite_synchronous: SqliteSync,
}

/// SQLite's `synchronous` level (see [`DatabaseSettings::sqlite_synchronous`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    /// WAL with `synchronous=NORMAL`: durable across process crashes.
    #[default]
    Normal,
    /// `synchronous=FULL`: durable across power loss too.
    Full,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { timeout_secs: 2, startup_wait_secs: 60, max_connections: None, sqlite_synchronous: SqliteSync::Normal }
    }
}

impl DatabaseSettings {
    /// [`DatabaseSettings::timeout_secs`] as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// [`DatabaseSettings::startup_wait_secs`] as a duration.
    pub fn startup_wait(&self) -> Duration {
        Duration::from_secs(self.startup_wait_secs)
    }

    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| Err(ConfigError::Invalid { key, reason: reason.into() });
        if !(1..=60).contains(&self.timeout_secs) {
            return invalid("database.timeout_secs", "must be between 1 and 60 seconds");
        }
        if self.startup_wait_secs > 3600 {
            return invalid("database.startup_wait_secs", "must be at most 3600 seconds");
        }
        if self.max_connections.is_some_and(|n| !(1..=1000).contains(&n)) {
            return invalid("database.max_connections", "must be between 1 and 1000");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ranges_are_checked() {
        assert!(DatabaseSettings::default().validate().is_ok());
        assert!(DatabaseSettings { timeout_secs: 0, ..Default::default() }.validate().is_err());
        assert!(DatabaseSettings { startup_wait_secs: 7200, ..Default::default() }.validate().is_err());
        assert!(DatabaseSettings { max_connections: Some(0), ..Default::default() }.validate().is_err());
        let file: DatabaseSettings = toml::from_str("timeout_secs = 5").unwrap();
        assert_eq!(file, DatabaseSettings { timeout_secs: 5, ..Default::default() });
        let full: DatabaseSettings = toml::from_str("sqlite_synchronous = \"full\"").unwrap();
        assert_eq!(full.sqlite_synchronous, SqliteSync::Full);
        assert!(toml::from_str::<DatabaseSettings>("sqlite_synchronous = \"off\"").is_err());
    }
}
