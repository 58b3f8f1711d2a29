//! Request parameters with the rules of RFC 6749 §3.1 and §3.2.
//!
//! Both endpoints share two rules: "Parameters sent without a value MUST be
//! treated as if they were omitted from the request" and "Request and response
//! parameters MUST NOT be included more than once."

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::oauth::error::{quoted, OAuthError};

/// Parameters that may be sent more than once: RFC 8707 §2, "Multiple "resource" parameters
/// MAY be used to indicate that the requested token is intended to be used at multiple
/// resources." They are absolute URIs, so a value with a raw space in it is no such URI.
pub const REPEATABLE: &[&str] = &["resource"];

/// Decoded form or query parameters, each name present at most once and never
/// with an empty value.
///
/// `Debug` prints only the parameter names, since values include passwords,
/// client secrets, codes and refresh tokens.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Builds the parameter set from decoded name/value pairs.
    ///
    /// RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they
    /// were omitted from the request." Empty values are dropped.
    ///
    /// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more
    /// than once." A name seen twice where either occurrence has a value is an
    /// `invalid_request`; a name repeated only with empty values is simply omitted.
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Result<Params, OAuthError> {
        let mut seen = BTreeSet::new();
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in pairs {
            if REPEATABLE.contains(&name.as_str()) {
                if value.is_empty() {
                    continue;
                }
                // URIs hold no raw spaces, so a space keeps the values apart.
                match values.get_mut(&name) {
                    Some(v) => {
                        v.push(' ');
                        v.push_str(&value);
                    }
                    None => {
                        values.insert(name.clone(), value);
                    }
                }
                seen.insert(name);
                continue;
            }
            let repeated = seen.contains(&name) && (!value.is_empty() || values.contains_key(&name));
            if repeated {
                return Err(OAuthError::invalid_request(format!("parameter `{}` is repeated", quoted(&name))));
            }
            seen.insert(name.clone());
            if !value.is_empty() {
                values.insert(name, value);
            }
        }
        Ok(Params { values })
    }

    /// Decodes an `application/x-www-form-urlencoded` form body or query string (RFC 6749
    /// Appendix B), then applies [`Params::from_pairs`]. Bytes that are not UTF-8 become
    /// U+FFFD, as `url` decodes them.
    pub fn from_form(encoded: &[u8]) -> Result<Params, OAuthError> {
        Params::from_pairs(url::form_urlencoded::parse(encoded).map(|(k, v)| (k.into_owned(), v.into_owned())))
    }

    /// The value of `name`, if it was sent with a value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Every value of a parameter that may be repeated ([`REPEATABLE`]), in the order sent.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.get(name).map(|v| v.split(' ').filter(|p| !p.is_empty()).collect()).unwrap_or_default()
    }

    /// The parameters form-encoded again (Appendix B), without those named in `except`.
    pub fn to_form(&self, except: &[&str]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.values.iter().filter(|(k, _)| !except.contains(&k.as_str())) {
            out.append_pair(k, v);
        }
        out.finish()
    }

    /// The value of a REQUIRED parameter; absent -> `invalid_request`
    /// ("missing parameter `name`").
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("missing parameter `{name}`")))
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::error::ErrorCode;

    #[test]
    fn resource_may_repeat() {
        let p = Params::from_pairs(pairs(&[
            ("resource", "https://a/"),
            ("x", "1"),
            ("resource", "urn:b"),
            ("resource", ""),
        ]))
        .unwrap();
        assert_eq!(p.get_all("resource"), vec!["https://a/", "urn:b"]);
        assert_eq!(p.get_all("x"), vec!["1"]);
        assert!(p.get_all("absent").is_empty());
        assert!(Params::from_pairs(pairs(&[("scope", "a"), ("scope", "b")])).is_err(), "others still may not");
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn accepts_and_drops_empty_values() {
        let p = Params::from_pairs(pairs(&[("a", "1"), ("b", ""), ("c", ""), ("c", "")])).unwrap();
        let cases = [("a", Some("1")), ("b", None), ("c", None), ("d", None)];
        for (name, value) in cases {
            assert_eq!(p.get(name), value, "{name}");
        }
        assert_eq!(Params::from_pairs(Vec::new()), Ok(Params::default()));
    }

    #[test]
    fn rejects_repeated_parameters() {
        let cases: &[&[(&str, &str)]] = &[
            &[("scope", "a"), ("scope", "b")],
            &[("scope", "a"), ("scope", "a")],
            &[("scope", ""), ("scope", "a")],
            &[("scope", "a"), ("scope", "")],
            &[("scope", ""), ("scope", ""), ("scope", "a")],
        ];
        for input in cases {
            let err = Params::from_pairs(pairs(input)).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{input:?}");
            assert_eq!(err.description, "parameter `scope` is repeated");
        }
    }

    #[test]
    fn repeated_name_is_sanitised_in_description() {
        let err = Params::from_pairs(pairs(&[("x\"\n", "1"), ("x\"\n", "2")])).unwrap_err();
        assert_eq!(err.description, "parameter `x` is repeated");
        let err = Params::from_pairs(pairs(&[("\n", "1"), ("\n", "2")])).unwrap_err();
        assert_eq!(err.description, "parameter `?` is repeated");
    }

    #[test]
    fn require_reports_missing_parameter() {
        let p = Params::from_pairs(pairs(&[("code", "abc"), ("state", "")])).unwrap();
        assert_eq!(p.require("code"), Ok("abc"));
        for name in ["state", "grant_type"] {
            let err = p.require(name).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest);
            assert_eq!(err.description, format!("missing parameter `{name}`"));
        }
    }

    #[test]
    fn debug_hides_values() {
        let p = Params::from_pairs(pairs(&[("password", "hunter2")])).unwrap();
        let shown = format!("{p:?}");
        assert!(shown.contains("password"));
        assert!(!shown.contains("hunter2"));
    }
}
