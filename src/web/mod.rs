//! Browser conventions, in one place that both adapters share: the HTTP routes (`http`) and
//! the server functions (`api`) import these, and this module imports neither, so neither
//! adapter reaches into the other.
//!
//! | file | owns |
//! |---|---|
//! | `query.rs` | reading query strings (each value decoded exactly once) and encoding values |
//! | `locale.rs` | the language a request is answered in |
//! | `next.rs` | `safe_next` and the login page URLs that carry `next` |
//! | `cookie.rs` | every cookie name, the `Cookie` reader and the `Set-Cookie` builders |
//! | `csrf.rs` | the CSRF token attached to page requests |
//! | `client_addr.rs` | the client's address behind trusted proxies |

pub mod locale;
pub mod query;

#[cfg(feature = "ssr")]
pub mod client_addr;
#[cfg(feature = "ssr")]
pub mod cookie;
#[cfg(feature = "ssr")]
pub mod csrf;
#[cfg(feature = "ssr")]
pub mod next;
