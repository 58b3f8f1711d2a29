//! The process's metrics, served as OpenMetrics text at `GET /metrics` on `metrics_bind`
//! (never on the public address). Counters live in one registry for the process; the gauges
//! that describe a moment (hashing queue, database pool) are read at scrape time.

use std::sync::LazyLock;

use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// A request, by route and answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route pattern (`/o/token/`), or `other` (never the raw path: it would
    /// hold ids and grow without bound).
    pub route: String,
    /// The method.
    pub method: String,
    /// The status code.
    pub status: String,
}

/// A route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// As in [`RequestLabels::route`].
    pub route: String,
}

/// One label named `name`… each family below says which.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    /// The grant type.
    pub grant: String,
}

/// An OAuth error code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    /// RFC 6749 §5.2 code.
    pub error: String,
}

/// A throttle budget.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetLabels {
    /// `account_address`, `address`, `account`, `client_secret`, `signup`.
    pub budget: String,
}

/// A database pool's connections.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `idle` or `in_use`.
    pub state: String,
}

/// Every metric of the process.
pub struct Metrics {
    registry: Registry,
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Seconds to answer, by route.
    pub latency: Family<RouteLabels, Histogram>,
    /// Tokens issued, by grant.
    pub tokens: Family<GrantLabels, Counter>,
    /// OAuth errors answered, by code.
    pub oauth_errors: Family<ErrorLabels, Counter>,
    /// Attempts refused by the throttle, by the budget that refused them.
    pub throttled: Family<BudgetLabels, Counter>,
    /// Passwords (and chosen client secrets) checked with argon2.
    pub password_checks: Gauge,
    /// Hashes waiting for a worker.
    pub hash_queue: Gauge,
    /// Database connections.
    pub db_pool: Family<PoolLabels, Gauge>,
    /// Panics caught in request handlers.
    pub panics: Counter,
    /// Page renders abandoned after `server::pages::PAGE_STALL` and done again.
    pub page_render_stalls: Counter,
}

fn latency_histogram() -> Histogram {
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0].into_iter())
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("yaoshi");
        let m = Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            tokens: Family::default(),
            oauth_errors: Family::default(),
            throttled: Family::default(),
            password_checks: Gauge::default(),
            hash_queue: Gauge::default(),
            db_pool: Family::default(),
            panics: Counter::default(),
            page_render_stalls: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests answered", m.requests.clone());
        registry.register("http_request_duration_seconds", "Seconds to answer a request", m.latency.clone());
        registry.register("tokens_issued", "Access tokens issued, by grant", m.tokens.clone());
        registry.register("oauth_errors", "OAuth error answers, by RFC 6749 code", m.oauth_errors.clone());
        registry.register("throttled_attempts", "Attempts refused by the sign-in throttle", m.throttled.clone());
        registry.register("password_checks", "Passwords checked with argon2 since start", m.password_checks.clone());
        registry.register("password_hash_queue_depth", "Hashes waiting for a worker", m.hash_queue.clone());
        registry.register("db_pool_connections", "Database pool connections", m.db_pool.clone());
        registry.register("panics", "Panics caught while answering", m.panics.clone());
        registry.register(
            "page_render_stalls",
            "Page renders that did not finish in time and were done again",
            m.page_render_stalls.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Everything, as OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}
