//! Access token scope (RFC 6749 §3.3).
//!
//! "The value of the scope parameter is expressed as a list of space-delimited,
//! case-sensitive strings. ... If the value contains multiple space-delimited
//! strings, their order does not matter, and each string adds an additional
//! access range to the requested scope."

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::oauth::error::OAuthError;

/// A set of scope tokens, kept sorted so that equal scopes print equally.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a `scope` parameter.
    ///
    /// RFC 6749 §3.3: `scope = scope-token *( SP scope-token )` and
    /// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. Runs of spaces are
    /// tolerated; any other character makes the request `invalid_scope`.
    pub fn parse(s: &str) -> Result<Scope, OAuthError> {
        let mut tokens = BTreeSet::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token.bytes().all(is_scope_char) {
                return Err(OAuthError::invalid_scope("scope contains a character outside %x21 / %x23-5B / %x5D-7E"));
            }
            tokens.insert(token.to_owned());
        }
        Ok(Scope(tokens))
    }

    /// True when the scope has no token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `token` is part of this scope (case-sensitive).
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// True when every token of `self` is also in `other`.
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The tokens in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The tokens present in both scopes.
    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(self.0.intersection(&other.0).cloned().collect())
    }

    /// The tokens present in either scope.
    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    /// The first token (in sorted order) that `allowed` does not contain.
    pub fn unknown_in(&self, allowed: &Scope) -> Option<&str> {
        self.iter().find(|t| !allowed.contains(t))
    }
}

/// The scope that releases a user's groups and their roles in the requesting client.
pub const GROUPS: &str = "groups";

/// The scopes of the admin API, one per resource and access.
pub mod admin {
    /// Read users.
    pub const USERS_READ: &str = "admin:users:read";
    /// Create, change and delete users.
    pub const USERS_WRITE: &str = "admin:users:write";
    /// Read groups and role assignments.
    pub const GROUPS_READ: &str = "admin:groups:read";
    /// Manage groups, their members and role assignments.
    pub const GROUPS_WRITE: &str = "admin:groups:write";
    /// Read clients.
    pub const CLIENTS_READ: &str = "admin:clients:read";
    /// Register, change and delete clients.
    pub const CLIENTS_WRITE: &str = "admin:clients:write";
    /// Read the security events.
    pub const EVENTS_READ: &str = "admin:events:read";
}

/// Every admin API scope. They are never offered to ordinary clients: an operator gives them
/// to a client (an "admin client"), which obtains them through the client_credentials grant
/// only.
pub const ADMIN_SCOPES: &[&str] = &[
    admin::USERS_READ,
    admin::USERS_WRITE,
    admin::GROUPS_READ,
    admin::GROUPS_WRITE,
    admin::CLIENTS_READ,
    admin::CLIENTS_WRITE,
    admin::EVENTS_READ,
];

/// Whether `token` is one of [`ADMIN_SCOPES`].
pub fn is_admin_scope(token: &str) -> bool {
    ADMIN_SCOPES.contains(&token)
}

/// The `scope-token` character class of RFC 6749 §3.3.
fn is_scope_char(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

impl fmt::Display for Scope {
    /// The tokens joined with single spaces, in sorted order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
        }
        Ok(())
    }
}

/// Collects trusted tokens (for example read back from storage); untrusted input
/// goes through [`Scope::parse`].
impl FromIterator<String> for Scope {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Scope(iter.into_iter().filter(|t| !t.is_empty()).collect())
    }
}

/// Collects trusted tokens given as string slices, e.g. `Scope::from_iter(["openid"])`.
impl<'a> FromIterator<&'a str> for Scope {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        iter.into_iter().map(str::to_owned).collect()
    }
}

/// Serializes as the space-delimited string of [`fmt::Display`].
impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Deserializes a space-delimited string through [`Scope::parse`].
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Scope::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn parse_valid() {
        let cases = [
            ("openid profile", "openid profile"),
            ("profile openid", "openid profile"),
            ("  openid   profile  ", "openid profile"),
            ("openid openid", "openid"),
            ("", ""),
            ("a!#[]~:/", "a!#[]~:/"),
            ("Read read", "Read read"),
        ];
        for (input, shown) in cases {
            assert_eq!(Scope::parse(input).unwrap().to_string(), shown, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_bad_characters() {
        for input in ["a\"b", "a\\b", "a\tb", "a\nb", "caf\u{e9}", "x\u{7f}"] {
            let err = Scope::parse(input).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidScope, "{input:?}");
        }
    }

    #[test]
    fn subset_intersection_and_unknown() {
        let s = |t: &str| Scope::parse(t).unwrap();
        let cases = [
            ("a", "a b", true, "a", None),
            ("a b", "a b", true, "a b", None),
            ("", "a", true, "", None),
            ("a c", "a b", false, "a", Some("c")),
            ("A", "a", false, "", Some("A")),
            ("d c", "a", false, "", Some("c")),
        ];
        for (left, right, subset, both, unknown) in cases {
            assert_eq!(s(left).is_subset(&s(right)), subset, "{left} <= {right}");
            assert_eq!(s(left).intersection(&s(right)), s(both), "{left} & {right}");
            assert_eq!(s(left).unknown_in(&s(right)), unknown, "{left} \\ {right}");
        }
    }

    #[test]
    fn accessors_and_collecting() {
        let scope = Scope::from_iter(["b", "a", ""]);
        assert!(!scope.is_empty());
        assert!(scope.contains("a") && !scope.contains("c"));
        assert_eq!(scope.iter().collect::<Vec<_>>(), ["a", "b"]);
        let owned: Scope = vec!["a".to_owned(), "b".to_owned()].into_iter().collect();
        assert_eq!(owned, scope);
        assert!(Scope::default().is_empty());
    }

    #[test]
    fn serde_round_trip() {
        let scope = Scope::parse("profile openid").unwrap();
        let json = serde_json::to_string(&scope).unwrap();
        assert_eq!(json, "\"openid profile\"");
        assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        assert!(serde_json::from_str::<Scope>("\"a\\\"b\"").is_err());
    }
}
