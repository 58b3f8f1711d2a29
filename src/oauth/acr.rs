//! How a user authenticated, as ID Tokens state it: `amr` (Authentication Methods References,
//! RFC 8176) and `acr` (Authentication Context Class Reference, OIDC Core §2), and whether an
//! authorization request asks for more than the session did (`acr_values`, OIDC Core
//! §3.1.2.1, or the client's own "require a second factor").

/// `acr` of a sign-in with one factor (a password, an SMS code or a provider).
pub const ACR_ONE_FACTOR: &str = "urn:yaoshi:acr:1fa";
/// `acr` of a sign-in that also passed a second factor.
pub const ACR_MFA: &str = "urn:yaoshi:acr:mfa";
/// What discovery lists as `acr_values_supported` (OIDC Discovery §3).
pub const ACR_VALUES_SUPPORTED: [&str; 2] = [ACR_ONE_FACTOR, ACR_MFA];

/// RFC 8176 §2: "mfa: Multiple-factor authentication"; present when the second step passed.
const AMR_MFA: &str = "mfa";

/// The `amr` values of a session's stored methods (space-separated), in order, without
/// repeats; empty when unknown (sessions older than this record).
pub fn amr_values(stored: &str) -> Vec<&str> {
    let mut values: Vec<&str> = Vec::new();
    for v in stored.split_whitespace() {
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values
}

/// Whether the stored methods include a second factor.
pub fn has_second_factor(stored: &str) -> bool {
    stored.split_whitespace().any(|v| v == AMR_MFA)
}

/// The `acr` a session satisfies: [`ACR_MFA`] after a second factor, else
/// [`ACR_ONE_FACTOR`].
pub fn acr_for(stored: &str) -> &'static str {
    if has_second_factor(stored) {
        ACR_MFA
    } else {
        ACR_ONE_FACTOR
    }
}

/// Whether an authorization request needs a session that passed a second factor: the client
/// requires it, or `acr_values` (OIDC Core §3.1.2.1: "Space-separated string that specifies
/// the acr values that the Authorization Server is being requested to use for processing this
/// Authentication Request, with the values appearing in order of preference") names
/// [`ACR_MFA`] before any other value this server supports. Values it does not support are
/// skipped: `acr` is a voluntary claim unless requested as essential (§5.5.1.1), which this
/// server does not take.
pub fn needs_second_factor(acr_values: Option<&str>, client_requires: bool) -> bool {
    let preferred = acr_values.and_then(|v| v.split_whitespace().find(|a| ACR_VALUES_SUPPORTED.contains(a)));
    client_requires || preferred == Some(ACR_MFA)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_and_acr_follow_the_stored_methods() {
        assert_eq!(amr_values("pwd otp mfa otp"), ["pwd", "otp", "mfa"]);
        assert!(amr_values("").is_empty());
        assert_eq!(acr_for("pwd"), ACR_ONE_FACTOR);
        assert_eq!(acr_for("pwd otp mfa"), ACR_MFA);
        assert_eq!(acr_for(""), ACR_ONE_FACTOR);
    }

    #[test]
    fn acr_values_ask_for_a_second_factor_by_their_first_known_value() {
        assert!(!needs_second_factor(None, false));
        assert!(needs_second_factor(None, true), "the client's own requirement");
        assert!(needs_second_factor(Some(ACR_MFA), false));
        assert!(needs_second_factor(Some(&format!("urn:other {ACR_MFA} {ACR_ONE_FACTOR}")), false));
        assert!(!needs_second_factor(Some(&format!("{ACR_ONE_FACTOR} {ACR_MFA}")), false), "one factor preferred");
        assert!(!needs_second_factor(Some("urn:other"), false), "unknown values are skipped");
    }
}
