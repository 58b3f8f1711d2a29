//! `yaoshi import django`: users, applications and live tokens from a django-oauth-toolkit
//! database, so that relying parties and people notice nothing at the cut-over.
//!
//! - Users keep their primary key as their id, so the ID Token `sub` (`str(user.pk)` in DOT) is
//!   unchanged. Django's rules are looser than Yaoshi's (150-character usernames with `@` and
//!   `+`, case-sensitive uniqueness, emails that need not be unique): each clash is reported
//!   per row and resolved by `--on-conflict` (skip the row, or rename the account), never fatal.
//! - Password hashes are stored as Django wrote them and replaced by argon2id at the first
//!   successful sign-in ([`crate::django::hash`]); `!…` (unusable) imports as no password.
//! - Applications keep their `client_id`; a hashed `client_secret` is kept as the hash and
//!   becomes Yaoshi's SHA-256 record at its first successful use, a plain one becomes that
//!   record now.
//! - Access tokens by DOT's `token_checksum` (the SHA-256 Yaoshi keys tokens by), refresh
//!   tokens by the SHA-256 of their value, each with its user, client, scope and expiry.
//!
//! Every copied row is marked with a fingerprint of what it was at the source
//! ([`crate::store::ImportStore`]): a re-run writes only what changed there (the "deltas" of a side-by-side
//! migration) and reports zero changes when nothing did. Writes go in batches of
//! [`BATCH`], one transaction each.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::{ServiceError, Services};
use crate::{
    crypto::{client_secret_record, sha256_hex},
    django::{
        hash::{identify, Stored},
        source::{DjangoAccessToken, DjangoApplication, DjangoRefreshToken, DjangoSource, DjangoUser},
    },
    oauth::model::{Client, GrantType},
    store::{ImportMark, ImportRow, ImportedClient, ImportedToken, ImportedUser},
};

/// Rows written per transaction.
pub const BATCH: usize = 500;
/// Longest username Yaoshi accepts.
const MAX_USERNAME: usize = 64;

/// What to do with a row that breaks one of Yaoshi's rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Leave the row out (and report it); the default.
    #[default]
    Skip,
    /// Import the account under a username Yaoshi accepts (invalid characters become `_`,
    /// and `-<id>` is appended if the name is taken).
    Rename,
}

/// Which Django flags make a Yaoshi admin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminFrom {
    /// `is_staff` or `is_superuser` (the default).
    #[default]
    Staff,
    /// `is_superuser` only.
    Superuser,
    /// Nobody: grant admin in Yaoshi afterwards.
    None,
}

/// How an import runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Plan and report only; write nothing.
    pub dry_run: bool,
    /// Clashes with Yaoshi's username rules.
    pub on_conflict: OnConflict,
    /// Who becomes an admin.
    pub admin_from: AdminFrom,
    /// Treat Django's email addresses as verified (Django never verified them): they become
    /// sign-in names and recovery addresses. A duplicate stays an unverified claim.
    pub emails_verified: bool,
}

/// Per kind of row, what the import did (or, in a dry run, would do).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// New in Yaoshi.
    pub created: u64,
    /// Changed at the source since the last import, and updated.
    pub updated: u64,
    /// As last imported.
    pub unchanged: u64,
    /// Left out (see `issues`, or for tokens: their user or application was left out).
    pub skipped: u64,
    /// Tokens already expired at the source: not imported.
    pub expired: u64,
}

impl Tally {
    fn count(&mut self, change: Change) {
        match change {
            Change::Created => self.created += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }
}

/// One row that could not be imported as it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// `user` or `application`.
    pub kind: &'static str,
    /// The row's primary key at the source.
    pub source_id: i64,
    /// What is wrong.
    pub problem: String,
    /// What the import did about it.
    pub resolution: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// `auth_user`.
    pub users: Tally,
    /// Imported password hashes by Django algorithm (`unusable`: no password).
    pub password_hashes: BTreeMap<String, u64>,
    /// `oauth2_provider_application`.
    pub applications: Tally,
    /// `oauth2_provider_accesstoken`.
    pub access_tokens: Tally,
    /// `oauth2_provider_refreshtoken`.
    pub refresh_tokens: Tally,
    /// Unexpired authorization codes (`oauth2_provider_grant`): not imported, since a code
    /// lives a minute; a client whose code is lost restarts its sign-in.
    pub unexpired_grants_skipped: i64,
    /// Rows that broke a rule, with what was done.
    pub issues: Vec<Issue>,
    /// Rows created or updated in all (0: the database already matched the source).
    pub changes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    Created,
    Updated,
    Unchanged,
}

/// The fingerprint marks already recorded, per kind.
type Marks = HashMap<String, String>;

fn fingerprint(value: &impl std::fmt::Debug) -> String {
    sha256_hex(&format!("{value:?}"))
}

/// The change a write with `fp` would make to the row marked `marks[key]`.
fn change(marks: &Marks, key: &str, fp: &str) -> Change {
    match marks.get(key) {
        None => Change::Created,
        Some(old) if old == fp => Change::Unchanged,
        Some(_) => Change::Updated,
    }
}

/// A Django username as Yaoshi accepts it: other characters become `_`, at most 64.
fn sanitize_username(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .take(MAX_USERNAME)
        .collect();
    if cleaned.is_empty() {
        "user".into()
    } else {
        cleaned
    }
}

/// `name-<id>`, cut so that it stays within 64 characters.
fn suffixed(name: &str, id: i64) -> String {
    let suffix = format!("-{id}");
    let keep = MAX_USERNAME.saturating_sub(suffix.chars().count());
    format!("{}{suffix}", name.chars().take(keep).collect::<String>())
}

/// Yaoshi's grants for DOT's one `authorization_grant_type`. DOT lets every grant that issues
/// refresh tokens refresh them.
fn grants_for(dot: &str) -> Option<Vec<GrantType>> {
    use GrantType::*;
    Some(match dot {
        "authorization-code" => vec![AuthorizationCode, RefreshToken],
        "implicit" => vec![Implicit],
        "password" => vec![Password, RefreshToken],
        "client-credentials" => vec![ClientCredentials],
        "openid-hybrid" => vec![AuthorizationCode, Implicit, RefreshToken],
        _ => return None,
    })
}

/// The plan: every write with its mark, in dependency order, and the report.
struct Plan {
    writes: Vec<(ImportRow, ImportMark)>,
    report: ImportReport,
}

impl Services {
    /// Imports the Django database at `source` (see the module documentation).
    pub async fn import_django(&self, source: &str, options: ImportOptions) -> Result<ImportReport, ServiceError> {
        let db = DjangoSource::open(source).await.map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let read = |e: crate::django::source::SourceError| ServiceError::Invalid(e.to_string());
        let users = db.users().await.map_err(read)?;
        let apps = db.applications().await.map_err(read)?;
        let access = db.access_tokens().await.map_err(read)?;
        let refresh = db.refresh_tokens().await.map_err(read)?;
        let now = self.now();
        let grants = db.unexpired("oauth2_provider_grant", now).await.map_err(read)?;
        let mut plan =
            Plan { writes: Vec::new(), report: ImportReport { dry_run: options.dry_run, ..Default::default() } };
        plan.report.unexpired_grants_skipped = grants;
        let imported_users = self.plan_users(&users, options, &mut plan).await?;
        let clients = self.plan_applications(&apps, &imported_users, &mut plan).await?;
        self.plan_tokens(&access, &refresh, &imported_users, &clients, now, &mut plan).await?;
        let r = &mut plan.report;
        r.changes = [&r.users, &r.applications, &r.access_tokens, &r.refresh_tokens]
            .iter()
            .map(|t| t.created + t.updated)
            .sum();
        if !options.dry_run {
            for batch in plan.writes.chunks(BATCH) {
                self.store.apply_import(batch, now).await?;
            }
        }
        Ok(plan.report)
    }

    /// Users and their passwords; returns the source ids that are (or will be) in Yaoshi.
    async fn plan_users(
        &self,
        users: &[DjangoUser],
        options: ImportOptions,
        plan: &mut Plan,
    ) -> Result<HashSet<i64>, ServiceError> {
        let marks = self.store.import_marks("user").await?;
        let password_marks = self.store.import_marks("password").await?;
        let existing = self.store.list_users().await?;
        // Who holds each normalised username and verified address now, and as planned.
        let mut names: HashMap<String, i64> =
            existing.iter().map(|u| (super::users::normalize_login(&u.username), u.id)).collect();
        let mut addresses: HashMap<String, i64> = existing
            .iter()
            .filter(|u| u.email_verified)
            .filter_map(|u| u.email.as_deref().map(|e| (super::users::normalize_login(e), u.id)))
            .collect();
        let existing_ids: HashSet<i64> = existing.iter().map(|u| u.id).collect();
        let mut imported = HashSet::new();
        for u in users {
            let key = u.id.to_string();
            let issue = |problem: String, resolution: &str| Issue {
                kind: "user",
                source_id: u.id,
                problem,
                resolution: resolution.into(),
            };
            if existing_ids.contains(&u.id) && !marks.contains_key(&key) {
                plan.report.issues.push(issue(
                    format!("id {} belongs to an account created in Yaoshi, not imported", u.id),
                    "skipped (the id is the sub and cannot change)",
                ));
                plan.report.users.skipped += 1;
                continue;
            }
            // The username: valid and free, or resolved by the option.
            let valid = super::users::validate_username(&u.username).is_ok();
            let taken = |name: &str, names: &HashMap<String, i64>| {
                names.get(&super::users::normalize_login(name)).is_some_and(|holder| *holder != u.id)
            };
            let mut username = u.username.clone();
            if !valid || taken(&username, &names) {
                let problem = if valid {
                    format!("username {:?} is taken (usernames compare without case in Yaoshi)", u.username)
                } else {
                    format!("username {:?} breaks Yaoshi's rules (1-64 letters, digits, . _ -)", u.username)
                };
                if options.on_conflict == OnConflict::Skip {
                    plan.report.issues.push(issue(problem, "skipped (--on-conflict rename imports it renamed)"));
                    plan.report.users.skipped += 1;
                    continue;
                }
                username = sanitize_username(&u.username);
                if taken(&username, &names) {
                    username = suffixed(&username, u.id);
                }
                if taken(&username, &names) {
                    plan.report.issues.push(issue(problem, "skipped (no free name found)"));
                    plan.report.users.skipped += 1;
                    continue;
                }
                plan.report.issues.push(issue(problem, &format!("renamed to {username:?}")));
            }
            let username_normalized = super::users::normalize_login(&username);
            names.insert(username_normalized.clone(), u.id);
            // The address: a claim, verified if the operator says so and no one else holds it.
            let email = Some(u.email.trim().to_owned()).filter(|e| !e.is_empty());
            let email = match email {
                Some(e) if super::users::validate_email(&e).is_err() => {
                    plan.report.issues.push(issue(format!("email {e:?} is not an address"), "imported without it"));
                    None
                }
                other => other,
            };
            let email_claim = email.as_deref().map(super::users::normalize_login);
            let mut email_verified = options.emails_verified && email_claim.is_some();
            if let (true, Some(claim)) = (email_verified, &email_claim) {
                match addresses.get(claim) {
                    Some(holder) if *holder != u.id => {
                        email_verified = false;
                        plan.report.issues.push(issue(
                            format!("email {claim:?} is another account's verified address"),
                            "imported as an unverified claim",
                        ));
                    }
                    _ => {
                        addresses.insert(claim.clone(), u.id);
                    }
                }
            }
            let display_name = format!("{} {}", u.first_name.trim(), u.last_name.trim()).trim().to_owned();
            let admin = match options.admin_from {
                AdminFrom::Staff => u.is_staff || u.is_superuser,
                AdminFrom::Superuser => u.is_superuser,
                AdminFrom::None => false,
            };
            let row = ImportedUser {
                id: u.id,
                display_name: if display_name.is_empty() { username.clone() } else { display_name },
                username,
                username_normalized,
                email,
                email_claim,
                email_verified,
                active: u.is_active,
                admin,
                created_at: u.date_joined,
            };
            let fp = fingerprint(&row);
            let user_change = change(&marks, &key, &fp);
            if marks.contains_key(&key) && !existing_ids.contains(&u.id) {
                // Imported before, deleted in Yaoshi since: an operator's decision to keep.
                plan.report.issues.push(issue(
                    "the account was deleted in Yaoshi after an earlier import".into(),
                    "left deleted (with its tokens)",
                ));
                plan.report.users.skipped += 1;
                continue;
            }
            if user_change != Change::Unchanged {
                let mark = ImportMark { kind: "user", source_key: key.clone(), fingerprint: fp, target: key.clone() };
                plan.writes.push((ImportRow::User(row), mark));
            }
            // The password: only when it changed at the source, so that a hash already
            // upgraded to argon2id at a sign-in is never put back.
            let (hash, algorithm) = match identify(&u.password) {
                Stored::Hash(a) => (Some(u.password.clone()), a.name().to_owned()),
                Stored::Unusable => (None, "unusable".to_owned()),
                Stored::Unsupported(name) => {
                    plan.report.issues.push(issue(
                        format!("password hash algorithm {name:?} is not supported"),
                        "imported without a password (the user can reset it)",
                    ));
                    (None, "unsupported".to_owned())
                }
            };
            *plan.report.password_hashes.entry(algorithm).or_default() += 1;
            let password_fp = sha256_hex(&u.password);
            let password_change = change(&password_marks, &key, &password_fp);
            if password_change != Change::Unchanged {
                let mark =
                    ImportMark { kind: "password", source_key: key.clone(), fingerprint: password_fp, target: key };
                plan.writes.push((ImportRow::Password { user_id: u.id, hash }, mark));
            }
            plan.report.users.count(match (user_change, password_change) {
                (Change::Created, _) => Change::Created,
                (Change::Unchanged, Change::Unchanged) => Change::Unchanged,
                _ => Change::Updated,
            });
            imported.insert(u.id);
        }
        Ok(imported)
    }

    /// Applications and their secrets; returns the client_id of each imported application id.
    async fn plan_applications(
        &self,
        apps: &[DjangoApplication],
        users: &HashSet<i64>,
        plan: &mut Plan,
    ) -> Result<HashMap<i64, String>, ServiceError> {
        let marks = self.store.import_marks("application").await?;
        let secret_marks = self.store.import_marks("client_secret").await?;
        let existing: HashSet<String> =
            self.store.list_clients().await?.into_iter().map(|r| r.client.client_id).collect();
        let mut clients = HashMap::new();
        for a in apps {
            let key = a.id.to_string();
            let issue = |problem: String, resolution: &str| Issue {
                kind: "application",
                source_id: a.id,
                problem,
                resolution: resolution.into(),
            };
            if existing.contains(&a.client_id) && !marks.contains_key(&key) {
                plan.report.issues.push(issue(
                    format!("client_id {:?} belongs to a client created in Yaoshi", a.client_id),
                    "skipped",
                ));
                plan.report.applications.skipped += 1;
                continue;
            }
            let Some(grant_types) = grants_for(&a.authorization_grant_type) else {
                plan.report
                    .issues
                    .push(issue(format!("grant type {:?} is unknown", a.authorization_grant_type), "skipped"));
                plan.report.applications.skipped += 1;
                continue;
            };
            if a.algorithm.eq_ignore_ascii_case("HS256") {
                plan.report.issues.push(issue(
                    "HS256 ID Tokens (signed with the client secret) are unsupported".into(),
                    "imported; its ID Tokens are signed with Yaoshi's published keys (RS256 by default)",
                ));
            }
            let mut origins = Vec::new();
            for o in a.allowed_origins.split_whitespace() {
                match crate::oauth::cors::normalize(o) {
                    Ok(o) if !origins.contains(&o) => origins.push(o),
                    Ok(_) => {}
                    Err(e) => plan.report.issues.push(issue(format!("allowed origin {o:?}: {e}"), "left out")),
                }
            }
            origins.sort();
            let owner_id = a.user_id.filter(|id| users.contains(id));
            let confidential = a.client_type == "confidential";
            let row = ImportedClient {
                client: Client {
                    client_id: a.client_id.clone(),
                    name: if a.name.trim().is_empty() { a.client_id.clone() } else { a.name.clone() },
                    confidential,
                    redirect_uris: a.redirect_uris.split_whitespace().map(str::to_owned).collect(),
                    grant_types,
                    scopes: self.known_scopes.clone(),
                    trusted: a.skip_authorization,
                },
                post_logout_redirect_uris: a.post_logout_redirect_uris.split_whitespace().map(str::to_owned).collect(),
                origins,
                owner_id,
                created_at: a.created,
            };
            let fp = fingerprint(&row);
            let app_change = change(&marks, &key, &fp);
            if marks.contains_key(&key) && !existing.contains(&a.client_id) {
                plan.report.issues.push(issue(
                    "the client was deleted in Yaoshi after an earlier import".into(),
                    "left deleted (with its tokens)",
                ));
                plan.report.applications.skipped += 1;
                continue;
            }
            if app_change != Change::Unchanged {
                let mark = ImportMark {
                    kind: "application",
                    source_key: key.clone(),
                    fingerprint: fp,
                    target: a.client_id.clone(),
                };
                plan.writes.push((ImportRow::Client(row), mark));
            }
            // A Django hash stays one until its first use; a secret DOT kept in the clear
            // becomes the SHA-256 record now. Public clients have none.
            let record = match (confidential, identify(&a.client_secret)) {
                (false, _) => None,
                (true, Stored::Hash(_)) => Some(a.client_secret.clone()),
                (true, _) if a.client_secret.is_empty() => {
                    plan.report.issues.push(issue(
                        "a confidential client without a secret".into(),
                        "imported; it cannot authenticate until `yaoshi client rotate-secret`",
                    ));
                    None
                }
                (true, _) => Some(client_secret_record(&a.client_secret)),
            };
            let secret_fp = sha256_hex(&format!("{confidential}:{}", a.client_secret));
            let secret_change = change(&secret_marks, &key, &secret_fp);
            if secret_change != Change::Unchanged {
                let mark = ImportMark {
                    kind: "client_secret",
                    source_key: key,
                    fingerprint: secret_fp,
                    target: a.client_id.clone(),
                };
                plan.writes.push((ImportRow::ClientSecret { client_id: a.client_id.clone(), record }, mark));
            }
            plan.report.applications.count(match (app_change, secret_change) {
                (Change::Created, _) => Change::Created,
                (Change::Unchanged, Change::Unchanged) => Change::Unchanged,
                _ => Change::Updated,
            });
            clients.insert(a.id, a.client_id.clone());
        }
        Ok(clients)
    }

    /// Access and refresh tokens whose user and application were imported.
    async fn plan_tokens(
        &self,
        access: &[DjangoAccessToken],
        refresh: &[DjangoRefreshToken],
        users: &HashSet<i64>,
        clients: &HashMap<i64, String>,
        now: i64,
        plan: &mut Plan,
    ) -> Result<(), ServiceError> {
        // A refresh token and the access token issued with it are one family.
        let family_of: HashMap<i64, String> =
            refresh.iter().filter_map(|r| r.access_token_id.map(|a| (a, format!("django-{}", r.id)))).collect();
        let marks = self.store.import_marks("access_token").await?;
        for t in access {
            let client = t.application_id.and_then(|id| clients.get(&id));
            let user_ok = t.user_id.is_none_or(|id| users.contains(&id));
            let Some(client_id) = client.filter(|_| user_ok) else {
                plan.report.access_tokens.skipped += 1;
                continue;
            };
            if t.expires <= now {
                plan.report.access_tokens.expired += 1;
                continue;
            }
            let row = ImportedToken {
                token_hash: t.token_hash.clone(),
                family_id: family_of.get(&t.id).cloned(),
                client_id: client_id.clone(),
                user_id: t.user_id,
                scope: t.scope.clone(),
                created_at: t.created,
                expires_at: t.expires,
                revoked_at: None,
            };
            let key = t.id.to_string();
            let fp = fingerprint(&row);
            let c = change(&marks, &key, &fp);
            plan.report.access_tokens.count(c);
            if c != Change::Unchanged {
                let mark = ImportMark {
                    kind: "access_token",
                    source_key: key,
                    fingerprint: fp,
                    target: row.token_hash.clone(),
                };
                plan.writes.push((ImportRow::AccessToken(row), mark));
            }
        }
        let marks = self.store.import_marks("refresh_token").await?;
        for t in refresh {
            let Some(client_id) = clients.get(&t.application_id).filter(|_| users.contains(&t.user_id)) else {
                plan.report.refresh_tokens.skipped += 1;
                continue;
            };
            // DOT's refresh tokens do not expire by default: they get Yaoshi's lifetime from
            // the first import (not part of the fingerprint, so a re-run does not extend it).
            let mut row = ImportedToken {
                token_hash: t.token_hash.clone(),
                family_id: Some(format!("django-{}", t.id)),
                client_id: client_id.clone(),
                user_id: Some(t.user_id),
                scope: t.scope.clone(),
                created_at: t.created,
                expires_at: 0,
                revoked_at: t.revoked,
            };
            let key = t.id.to_string();
            let fp = fingerprint(&row);
            row.expires_at = now + self.settings.refresh_token_ttl;
            let c = change(&marks, &key, &fp);
            plan.report.refresh_tokens.count(c);
            if c != Change::Unchanged {
                let mark = ImportMark {
                    kind: "refresh_token",
                    source_key: key,
                    fingerprint: fp,
                    target: row.token_hash.clone(),
                };
                plan.writes.push((ImportRow::RefreshToken(row), mark));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_usernames_become_valid_yaoshi_ones() {
        assert_eq!(sanitize_username("ann+news@example.com"), "ann_news_example.com");
        assert_eq!(sanitize_username("   "), "user");
        let long = "a".repeat(150);
        assert_eq!(sanitize_username(&long).chars().count(), 64);
        let s = suffixed(&sanitize_username(&long), 12345);
        assert_eq!(s.chars().count(), 64);
        assert!(s.ends_with("-12345"));
        assert!(super::super::users::validate_username(&s).is_ok());
    }

    #[test]
    fn every_dot_grant_type_maps() {
        for (dot, ours) in [
            ("authorization-code", "authorization_code"),
            ("implicit", "implicit"),
            ("password", "password"),
            ("client-credentials", "client_credentials"),
            ("openid-hybrid", "implicit"),
        ] {
            let grants = grants_for(dot).unwrap();
            assert!(grants.iter().any(|g| g.as_str() == ours), "{dot}");
        }
        assert_eq!(grants_for("urn:unknown"), None);
    }

    #[test]
    fn a_row_is_new_changed_or_unchanged_by_its_mark() {
        let marks: Marks = [("1".to_owned(), "fp".to_owned())].into();
        assert_eq!(change(&marks, "1", "fp"), Change::Unchanged);
        assert_eq!(change(&marks, "1", "other"), Change::Updated);
        assert_eq!(change(&marks, "2", "fp"), Change::Created);
    }
}
