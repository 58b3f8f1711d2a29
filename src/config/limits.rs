//! How much a client may ask of the HTTP edge before any route runs: the size of a request's
//! head and body, how long they may take to arrive, and how many connections are served at
//! once. The `[limits]` table of the settings file; every key may be left out.
//!
//! The defaults are generous for what the endpoints take (forms of a few hundred bytes,
//! authorization URLs of a few kilobytes) and small enough that a client sending too much,
//! too slowly or on too many connections costs the server little.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;

/// The request limits (`[limits]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RequestLimits {
    /// Largest request body in bytes (default 65536); a larger one gets 413, whether it
    /// declares its length or streams it, and is not read beyond the limit.
    pub max_body_bytes: usize,
    /// Largest request head (request line and headers) in bytes (default 32768); a larger
    /// one gets 431.
    pub max_header_bytes: usize,
    /// Most header fields in a request (default 100); more get 431.
    pub max_headers: usize,
    /// Seconds a connection has to send a complete request head (default 10), counted from
    /// its first byte, or from the end of the previous answer on a kept-alive connection.
    /// A slower connection is closed without an answer.
    pub header_read_timeout_secs: u64,
    /// Seconds a request has to send its whole body once the head has arrived (default 10);
    /// a slower one gets 408.
    pub body_read_timeout_secs: u64,
    /// Connections served at once (default 1024). Further connections wait in the listen
    /// queue until one closes; the header timeout bounds how long an idle or slow one holds
    /// its place. Keep it below the process's open-file limit, with room for the database.
    pub max_connections: usize,
    /// Seconds requests in flight get to finish once the server is told to stop (SIGTERM or
    /// Ctrl-C), default 20; it stops accepting at once. Keep it below the orchestrator's
    /// kill timeout (Kubernetes: 30 s).
    pub shutdown_grace_secs: u64,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            max_header_bytes: 32 * 1024,
            max_headers: 100,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            max_connections: 1024,
            shutdown_grace_secs: 20,
        }
    }
}

impl RequestLimits {
    /// [`RequestLimits::header_read_timeout_secs`] as a duration.
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    /// [`RequestLimits::body_read_timeout_secs`] as a duration.
    pub fn body_read_timeout(&self) -> Duration {
        Duration::from_secs(self.body_read_timeout_secs)
    }

    /// [`RequestLimits::shutdown_grace_secs`] as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Checks the ranges: each limit must leave the endpoints usable and still be a limit.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checks: [(&'static str, u64, u64, u64); 7] = [
            ("limits.max_body_bytes", self.max_body_bytes as u64, 1024, 16 << 20),
            ("limits.max_header_bytes", self.max_header_bytes as u64, 4096, 1 << 20),
            ("limits.max_headers", self.max_headers as u64, 16, 1000),
            ("limits.header_read_timeout_secs", self.header_read_timeout_secs, 1, 300),
            ("limits.body_read_timeout_secs", self.body_read_timeout_secs, 1, 300),
            ("limits.max_connections", self.max_connections as u64, 1, 1 << 20),
            ("limits.shutdown_grace_secs", self.shutdown_grace_secs, 0, 300),
        ];
        for (key, value, low, high) in checks {
            if !(low..=high).contains(&value) {
                return Err(ConfigError::Invalid { key, reason: format!("must be between {low} and {high}") });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_table_may_set_some_keys() {
        RequestLimits::default().validate().unwrap();
        let parsed: RequestLimits = toml::from_str("max_body_bytes = 4096\nmax_connections = 8\n").unwrap();
        assert_eq!(
            parsed,
            RequestLimits { max_body_bytes: 4096, max_connections: 8, ..RequestLimits::default() },
            "unnamed keys keep their defaults"
        );
        assert!(toml::from_str::<RequestLimits>("max_body = 1\n").is_err(), "unknown keys are refused");
    }

    #[test]
    fn out_of_range_limits_are_refused() {
        let d = RequestLimits::default();
        let cases = [
            ("limits.max_body_bytes", RequestLimits { max_body_bytes: 100, ..d }),
            ("limits.max_header_bytes", RequestLimits { max_header_bytes: 2 << 20, ..d }),
            ("limits.max_headers", RequestLimits { max_headers: 0, ..d }),
            ("limits.header_read_timeout_secs", RequestLimits { header_read_timeout_secs: 0, ..d }),
            ("limits.body_read_timeout_secs", RequestLimits { body_read_timeout_secs: 301, ..d }),
            ("limits.max_connections", RequestLimits { max_connections: 0, ..d }),
        ];
        for (key, limits) in cases {
            match limits.validate() {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                other => panic!("{key}: expected an error, got {other:?}"),
            }
        }
    }
}
