//! Who the provider says the user is: from ID Token claims and UserInfo (OIDC Core §5.1,
//! §5.3.2) or from an OAuth 2.0 provider's own user document through a [`FieldMapping`].

use serde_json::Value;

use super::{FieldMapping, UpstreamError};

/// Longest subject accepted (OIDC Core §2: "It MUST NOT exceed 255 ASCII characters").
const MAX_SUBJECT: usize = 255;
/// Longest text kept from a provider's profile.
const MAX_TEXT: usize = 254;

/// The upstream user, as far as it matters here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalProfile {
    /// The provider's stable id for the user in our application (WeChat's `openid`).
    pub subject: String,
    /// The provider's id for the user across the applications of one platform account
    /// (WeChat's `unionid`), when it gives one: then it, not `subject`, names the person.
    pub union_id: Option<String>,
    /// A name to propose as username.
    pub username: Option<String>,
    /// A name to show.
    pub display_name: Option<String>,
    /// An email address.
    pub email: Option<String>,
    /// Whether the provider says it verified that address.
    pub email_verified: bool,
}

/// The value at a dotted `path` (`login`, `data.user.id`, `emails.0.address`).
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |v, part| match v {
        Value::Object(m) => m.get(part),
        Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A string (trimmed, non-empty, not too long) or a number as its decimal text.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty() && s.len() <= MAX_TEXT).map(str::to_owned),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `true`, or the string `"true"` that some providers send.
fn flag(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
}

/// A string (trimmed, non-empty, not too long) or a number as its decimal text.
pub(super) fn text_at(v: Option<&Value>) -> Option<String> {
    text(v)
}

/// An id the provider sent, usable as a subject or union id (at most 255 characters).
pub(super) fn id_at(v: Option<&Value>) -> Option<String> {
    text(v).filter(|s| s.len() <= MAX_SUBJECT)
}

fn subject(v: Option<&Value>) -> Result<String, UpstreamError> {
    match text(v) {
        Some(s) if s.len() <= MAX_SUBJECT => Ok(s),
        _ => Err(UpstreamError::Rejected("the provider named no usable subject".into())),
    }
}

/// The profile in verified ID Token claims: `sub`, `preferred_username` (or `nickname`),
/// `name`, `email`, `email_verified`.
pub fn profile_from_claims(claims: &Value) -> Result<ExternalProfile, UpstreamError> {
    Ok(ExternalProfile {
        subject: subject(claims.get("sub"))?,
        union_id: None,
        username: text(claims.get("preferred_username")).or_else(|| text(claims.get("nickname"))),
        display_name: text(claims.get("name")),
        email: text(claims.get("email")),
        email_verified: flag(claims.get("email_verified")),
    })
}

impl ExternalProfile {
    /// A profile with only its ids, for providers whose user document is read field by field.
    pub fn with_ids(subject: String, union_id: Option<String>) -> Self {
        Self { subject, union_id, username: None, display_name: None, email: None, email_verified: false }
    }

    /// The key the identity is stored under: the union id when there is one.
    pub fn key(&self) -> &str {
        self.union_id.as_deref().unwrap_or(&self.subject)
    }

    /// Whether the ID Token lacked something UserInfo may add.
    pub fn incomplete(&self) -> bool {
        self.username.is_none() || self.email.is_none()
    }

    /// Fills what is missing from a UserInfo response. OIDC Core §5.3.2: "The sub Claim in
    /// the UserInfo Response MUST be verified to exactly match the sub Claim in the ID Token;
    /// if they do not match, the UserInfo Response values MUST NOT be used."
    pub fn merge_userinfo(&mut self, userinfo: &Value) -> Result<(), UpstreamError> {
        if userinfo.get("sub").and_then(Value::as_str) != Some(self.subject.as_str()) {
            return Err(UpstreamError::Rejected("the UserInfo sub differs from the ID Token's".into()));
        }
        let more = profile_from_claims(userinfo)?;
        self.username = self.username.take().or(more.username);
        self.display_name = self.display_name.take().or(more.display_name);
        if self.email.is_none() {
            self.email = more.email;
            self.email_verified = more.email_verified;
        }
        Ok(())
    }
}

/// WeChat-style errors: HTTP 200 and a body of `{"errcode": 40001, "errmsg": "…"}` (an
/// `errcode` of 0 means success, where a provider sends it at all).
pub fn errcode_error(doc: &Value) -> Option<UpstreamError> {
    let code = doc.get("errcode")?;
    if code.as_i64() == Some(0) || code.as_str() == Some("0") {
        return None;
    }
    let message = doc.get("errmsg").and_then(Value::as_str).unwrap_or_default();
    Some(UpstreamError::provider(code, message))
}

/// The profile in an OAuth 2.0 provider's user document, read through `mapping`. A WeChat
/// error document ([`errcode_error`]) is the provider's error, not a user without a subject.
pub fn profile_from_mapping(userinfo: &Value, mapping: &FieldMapping) -> Result<ExternalProfile, UpstreamError> {
    if let Some(e) = errcode_error(userinfo) {
        return Err(e);
    }
    let at = |path: &Option<String>| path.as_deref().and_then(|p| lookup(userinfo, p));
    Ok(ExternalProfile {
        subject: subject(lookup(userinfo, &mapping.subject))?,
        union_id: text(at(&mapping.union_id)).filter(|u| u.len() <= MAX_SUBJECT),
        username: text(at(&mapping.username)),
        display_name: text(at(&mapping.display_name)),
        email: text(at(&mapping.email)),
        email_verified: flag(at(&mapping.email_verified)),
    })
}

/// `raw` reduced to what a username may hold (letters, digits, `.`, `_`, `-`; other runs
/// become one `-`), without leading or trailing punctuation, at most 64 characters.
fn sanitize(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(|c| matches!(c, '.' | '_' | '-'));
    trimmed.chars().take(64).collect::<String>().trim_end_matches(['.', '_', '-']).to_owned()
}

/// The username to propose for a new account: the provider's username, else the email's
/// local part, else the display name, else `user`, made valid. The caller checks it is free.
pub fn propose_username(p: &ExternalProfile) -> String {
    let local = p.email.as_deref().and_then(|e| e.split('@').next());
    [p.username.as_deref(), local, p.display_name.as_deref()]
        .into_iter()
        .flatten()
        .map(sanitize)
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "user".to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_reach_into_objects_and_arrays() {
        let doc = json!({"id": 42, "data": {"user": {"login": "octo"}}, "emails": [{"a": "x@y.z"}]});
        assert_eq!(lookup(&doc, "id"), Some(&json!(42)));
        assert_eq!(lookup(&doc, "data.user.login"), Some(&json!("octo")));
        assert_eq!(lookup(&doc, "emails.0.a"), Some(&json!("x@y.z")));
        assert_eq!(lookup(&doc, "data.nope"), None);
        assert_eq!(lookup(&doc, "id.x"), None);
    }

    #[test]
    fn a_github_user_document_maps_to_a_profile() {
        let mapping = crate::oauth::upstream::presets::Preset::Github.config("gh", "c", super::super::Secret::new("s"));
        let super::super::Protocol::OAuth2 { mapping, .. } = mapping.protocol else { panic!() };
        let doc = json!({"id": 583231, "login": "octocat", "name": "The Octocat", "email": "octo@github.com"});
        let p = profile_from_mapping(&doc, &mapping).unwrap();
        assert_eq!(p.subject, "583231", "numeric ids become text");
        assert_eq!((p.username.as_deref(), p.display_name.as_deref()), (Some("octocat"), Some("The Octocat")));
        assert_eq!((p.email.as_deref(), p.email_verified), (Some("octo@github.com"), false));
        assert!(profile_from_mapping(&json!({"login": "x"}), &mapping).is_err(), "no subject, no identity");
        let verified = FieldMapping { email_verified: Some("verified".into()), ..mapping };
        assert!(profile_from_mapping(&json!({"id": 1, "verified": "true"}), &verified).unwrap().email_verified);
    }

    #[test]
    fn claims_and_userinfo() {
        let mut p = profile_from_claims(&json!({"sub": "s1", "name": "Li Lei"})).unwrap();
        assert!(p.incomplete());
        assert!(p.merge_userinfo(&json!({"sub": "s2", "email": "x@y.z"})).is_err(), "another user's info is not used");
        assert_eq!(p.email, None);
        p.merge_userinfo(
            &json!({"sub": "s1", "preferred_username": "lilei", "email": "li@example.cn", "email_verified": true}),
        )
        .unwrap();
        assert_eq!(
            (p.username.as_deref(), p.email.as_deref(), p.email_verified),
            (Some("lilei"), Some("li@example.cn"), true)
        );
        assert_eq!(p.display_name.as_deref(), Some("Li Lei"), "the ID Token's value stays");
        assert!(profile_from_claims(&json!({"sub": ""})).is_err());
        assert!(profile_from_claims(&json!({"sub": "x".repeat(256)})).is_err());
    }

    #[test]
    fn proposed_usernames_are_valid() {
        let p = |username: Option<&str>, email: Option<&str>, name: Option<&str>| ExternalProfile {
            subject: "s".into(),
            union_id: None,
            username: username.map(Into::into),
            display_name: name.map(Into::into),
            email: email.map(Into::into),
            email_verified: false,
        };
        assert_eq!(propose_username(&p(Some("octocat"), None, None)), "octocat");
        assert_eq!(propose_username(&p(Some("Jane Doe!"), None, None)), "Jane-Doe");
        assert_eq!(propose_username(&p(Some("!!!"), Some("li.lei@example.cn"), None)), "li.lei");
        assert_eq!(propose_username(&p(None, None, Some("张三 (Zhang)"))), "张三-Zhang");
        assert_eq!(propose_username(&p(None, None, None)), "user");
        assert_eq!(propose_username(&p(Some(&"a".repeat(80)), None, None)).chars().count(), 64);
        assert_eq!(propose_username(&p(Some(&format!("{}-x", "a".repeat(63))), None, None)), "a".repeat(63));
    }
}
