//! Data the server hands to the pages, shared by both builds: the server functions that load
//! it return these types, and their signatures compile into the WASM bundle too.

use serde::{Deserialize, Serialize};

/// A moment a page shows. The server writes it in UTC (`text`), inside a `<time>` whose
/// `datetime` is `iso`; in the browser, `public/local-time.js` rewrites it in the reader's
/// time zone and language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moment {
    /// RFC 3339 in UTC, e.g. `2026-12-01T07:34:00Z`.
    pub iso: String,
    /// The same for people, e.g. `2026-12-01 07:34 UTC`.
    pub text: String,
    /// Seconds between it and the page being made (negative for a moment still to come).
    pub age: i64,
}

/// A browser as a `User-Agent` names it: "Chrome 156 on Linux".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserName {
    /// The browser, e.g. `Chrome`.
    pub name: String,
    /// Its major version, or empty.
    pub version: String,
    /// The operating system, or empty.
    pub os: String,
}

/// One requested scope, in plain words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeItem {
    /// The scope token, e.g. `read`.
    pub name: String,
    /// What it lets the app do.
    pub description: String,
}

/// Everything the consent page shows and posts back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    /// The app's name.
    pub client_name: String,
    /// The app's client_id.
    pub client_id: String,
    /// Where the answer will be sent (host only).
    pub redirect_host: String,
    /// The requested scopes.
    pub scopes: Vec<ScopeItem>,
    /// The signed-in user's name.
    pub username: String,
    /// The original authorization query, posted back with the decision.
    pub query: String,
}

/// What `/o/authorize/` renders when it does not redirect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthorizePage {
    /// Ask the user.
    Consent(ConsentView),
    /// The request cannot be answered to the client: explain it to the user.
    Error {
        /// The RFC 6749 error code.
        code: String,
        /// What went wrong, in plain words.
        description: String,
    },
}

/// What the consent page component receives from `GET /o/authorize/` during server rendering.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeData {
    /// The page to show.
    pub page: AuthorizePage,
    /// The CSRF token its form carries.
    pub csrf: String,
}

/// An app the user has authorized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppGrant {
    /// The app's client_id.
    pub client_id: String,
    /// The app's name.
    pub client_name: String,
    /// What it may do.
    pub scopes: Vec<ScopeItem>,
    /// When the user approved it.
    pub granted_at: Moment,
    /// When it last obtained a token for the user.
    pub last_used_at: Option<Moment>,
}

/// A browser the user is signed in on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserSession {
    /// Opaque id (the stored hash of the session cookie; not the cookie).
    pub id: String,
    /// The browser, from its `User-Agent`; `None` when that names none we know.
    pub browser: Option<BrowserName>,
    /// The address it signed in from.
    pub ip: String,
    /// When it signed in.
    pub started_at: Moment,
    /// When it was last active.
    pub last_seen_at: Moment,
    /// Whether this is the browser looking at the page.
    pub current: bool,
}

/// Everything the account page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The username (not editable).
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Email, or empty.
    pub email: String,
    /// Authorized apps.
    pub apps: Vec<AppGrant>,
    /// Signed-in browsers.
    pub sessions: Vec<BrowserSession>,
    /// The CSRF token the page's forms carry.
    pub csrf: String,
    /// The sign-in providers, linked or not.
    pub identities: Vec<IdentityItem>,
    /// Whether the account has a local password.
    pub has_password: bool,
    /// Recent sign-ins and failed attempts on the account.
    pub activity: Vec<ActivityItem>,
    /// Whether `email` is verified.
    pub email_verified: bool,
    /// Phone number in E.164, or empty.
    pub phone: String,
    /// Whether `phone` is verified.
    pub phone_verified: bool,
    /// Another account verified an address this one had claimed: shown until the owner gives
    /// a new one.
    pub claim_dropped: bool,
}

/// One line of an account's recent activity (a security event).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityItem {
    /// When.
    pub at: Moment,
    /// The event kind, e.g. `sign_in.success`.
    pub kind: String,
    /// The client address.
    pub ip: String,
    /// The browser, if the `User-Agent` names one we know.
    pub browser: Option<BrowserName>,
    /// A short reason or name.
    pub detail: String,
}

/// A security event as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminEvent {
    /// Increasing id.
    pub id: i64,
    /// When.
    pub at: Moment,
    /// The event kind.
    pub kind: String,
    /// The account it concerns, by username (or `#id` once deleted).
    pub user: String,
    /// The admin who acted, if one did.
    pub actor: String,
    /// The client it concerns.
    pub client_id: String,
    /// The client address.
    pub ip: String,
    /// A short reason or name.
    pub detail: String,
}

/// The admin events page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminEventsView {
    /// Newest first.
    pub events: Vec<AdminEvent>,
}

/// A sign-in provider on the account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityItem {
    /// The provider's id.
    pub provider: String,
    /// Its display name.
    pub name: String,
    /// Whether the account has an identity there.
    pub linked: bool,
    /// The linked identity's email (or id at the provider).
    pub detail: String,
    /// When it was linked.
    pub linked_at: Option<Moment>,
    /// Whether unlinking is allowed (it is not the last way to sign in).
    pub can_unlink: bool,
}

/// A "Sign in with …" button on the login page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLink {
    /// The provider's id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its name for the Chinese page, where it differs (a preset's 微信, 钉钉, …).
    pub name_zh: Option<String>,
    /// Its icon's name under `/providers/` (`wechat` for `/providers/wechat.svg`).
    pub icon: Option<String>,
}

impl ProviderLink {
    /// The name shown in `locale`.
    pub fn label(&self, locale: crate::i18n::Locale) -> &str {
        match (locale, &self.name_zh) {
            (crate::i18n::Locale::ZhCn, Some(zh)) => zh,
            _ => &self.name,
        }
    }
}

/// What `/o/login/finish/` shows after a first sign-in with a provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingView {
    /// The provider's display name.
    pub provider_name: String,
    /// The proposed (available) username.
    pub username: String,
    /// The provider's name for the person.
    pub display_name: String,
    /// The provider's email for the person, or empty.
    pub email: String,
    /// When linking is offered: the (masked) email of the account it would join.
    pub link_account: Option<String>,
    /// Whether new accounts may be created.
    pub registration_open: bool,
    /// The CSRF token of the page's forms.
    pub csrf: String,
}

/// One of the signed-in developer's registered clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevApp {
    /// The client_id.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Confidential (has a secret) or public.
    pub confidential: bool,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Grant types, e.g. `authorization_code`.
    pub grant_types: Vec<String>,
    /// Web origins allowed to call the token and user info endpoints (CORS).
    pub allowed_origins: Vec<String>,
    /// When it was registered.
    pub created_at: Moment,
}

/// A client secret shown once, right after it was generated.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeSecret {
    /// Whose secret it is.
    pub client_id: String,
    /// The secret itself.
    pub secret: String,
}

impl std::fmt::Debug for OneTimeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimeSecret").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// What `/account/apps` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppsView {
    /// The developer's clients, oldest first.
    pub apps: Vec<DevApp>,
    /// A secret generated by the previous request (registration or rotation), shown once.
    pub new_secret: Option<OneTimeSecret>,
    /// Token for the page's forms.
    pub csrf: String,
}

/// A user as the admin page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    /// Numeric id.
    pub id: i64,
    /// Username.
    pub username: String,
    /// Email, or empty.
    pub email: String,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// Phone number (E.164), or empty.
    pub phone: String,
    /// Whether the phone number is verified.
    pub phone_verified: bool,
    /// Display name.
    pub display_name: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// Whether the account is an admin.
    pub admin: bool,
    /// When it was created.
    pub created_at: Moment,
    /// Whether it has a second factor.
    pub second_factor: bool,
}

/// What `/admin/users` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUsersView {
    /// The matching users (at most a page of them).
    pub users: Vec<AdminUser>,
    /// The `after` of the next page, when there may be one.
    pub next_after: Option<i64>,
    /// The signed-in admin's id (they cannot disable themselves).
    pub me: i64,
    /// Token for the page's forms.
    pub csrf: String,
}

/// A group, by id and name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// An upstream identity linked to an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIdentity {
    /// The provider's display name.
    pub provider: String,
    /// The provider's id for the user.
    pub subject: String,
    /// The email it gave, or empty.
    pub email: String,
    /// When it was linked.
    pub linked_at: Moment,
}

/// A second factor as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminFactor {
    /// `totp` or `passkey`.
    pub kind: String,
    /// The passkey's name, or empty.
    pub name: String,
    /// When it was added.
    pub added_at: Moment,
}

/// A role of a client held by a user directly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRole {
    /// The client.
    pub client_id: String,
    /// The role.
    pub role: String,
}

/// What `/admin/users/{id}` shows: the account and everything that gives it access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUserView {
    /// The account.
    pub user: AdminUser,
    /// Whether it has a password.
    pub has_password: bool,
    /// Whether it is the signed-in admin's own account.
    pub me: bool,
    /// Its live browser sessions.
    pub sessions: Vec<BrowserSession>,
    /// The clients it consented to.
    pub consents: Vec<AppGrant>,
    /// The providers linked to it.
    pub identities: Vec<LinkedIdentity>,
    /// Its second factors.
    pub factors: Vec<AdminFactor>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
    /// Its groups.
    pub groups: Vec<GroupRef>,
    /// The groups it is not in (to add it to).
    pub other_groups: Vec<GroupRef>,
    /// The roles it holds itself (its groups' roles come with the groups).
    pub roles: Vec<HeldRole>,
    /// Every client's id, for giving a role.
    pub client_ids: Vec<String>,
    /// Token for the page's forms.
    pub csrf: String,
}

/// A group with its members, for `/admin/groups`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminGroup {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its members' ids and usernames.
    pub members: Vec<(i64, String)>,
    /// The roles the group holds, as `client_id: role`.
    pub roles: Vec<HeldRole>,
}

/// What `/admin/groups` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminGroupsView {
    /// Every group, by name.
    pub groups: Vec<AdminGroup>,
    /// Every client's id, for giving a role.
    pub client_ids: Vec<String>,
    /// Token for the page's forms.
    pub csrf: String,
}

/// A client as the admin page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminClient {
    /// The client_id.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Confidential or public.
    pub confidential: bool,
    /// The developer who registered it, if a user did.
    pub owner: Option<String>,
    /// Skips the consent page.
    pub trusted: bool,
    /// May use the password grant.
    pub password: bool,
    /// May use the implicit grant.
    pub implicit: bool,
    /// May use the device authorization grant.
    pub device: bool,
    /// Its users must have passed a second factor.
    pub require_mfa: bool,
    /// The password grant works for accounts with a second factor too.
    pub mfa_password_grant: bool,
    /// All its grant types.
    pub grant_types: Vec<String>,
    /// Its exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// Where the browser may go after RP-initiated logout.
    pub post_logout_redirect_uris: Vec<String>,
    /// Where logout tokens go, or empty.
    pub backchannel_logout_uri: String,
    /// Web origins allowed to call the token and user info endpoints (CORS).
    pub allowed_origins: Vec<String>,
}

/// What `/admin/clients` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminClientsView {
    /// Every client.
    pub clients: Vec<AdminClient>,
    /// A secret generated by the previous request (registration or rotation), shown once.
    pub new_secret: Option<OneTimeSecret>,
    /// Token for the page's forms.
    pub csrf: String,
}

/// The CAPTCHA a form that sends codes carries (see `service::captcha`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptchaWidget {
    /// A proof-of-work challenge the page's script solves.
    Pow {
        /// The challenge, as the server made it.
        challenge: String,
        /// The zero bits the answer's hash must start with.
        bits: u8,
    },
    /// A third-party widget.
    Provider {
        /// The widget's public site key.
        site_key: String,
        /// The class its script looks for.
        widget_class: String,
        /// Its script.
        script_url: String,
    },
}

/// A confirmed second factor on the security page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactorItem {
    /// Its id (for removing it).
    pub id: i64,
    /// `totp`.
    pub kind: String,
    /// When it was added.
    pub added_at: Moment,
    /// When a code of it was last accepted.
    pub last_used_at: Option<Moment>,
}

/// A TOTP enrolment in progress: what the authenticator app needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentView {
    /// The secret in base32, to type by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code, an SVG document rendered by the server.
    pub qr_svg: String,
}

/// What `/account/security` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityView {
    /// Token for the page's forms.
    pub csrf: String,
    /// Whether the account has a password (removing a factor asks for it).
    pub has_password: bool,
    /// The confirmed factors.
    pub factors: Vec<FactorItem>,
    /// The enrolment in progress, if any.
    pub enrolment: Option<EnrolmentView>,
    /// Unused recovery codes left.
    pub recovery_left: i64,
    /// Recovery codes made by the previous request, shown this once.
    pub new_codes: Vec<String>,
    /// Whether passkeys are offered (the issuer is a host name).
    pub passkeys_offered: bool,
    /// The account's passkeys.
    pub passkeys: Vec<PasskeyItem>,
}

/// One of the account's passkeys, as the security page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyItem {
    /// Its id (for removing it).
    pub id: i64,
    /// The name its owner gave it.
    pub name: String,
    /// When it was registered.
    pub added_at: Moment,
    /// When it last signed a sign-in.
    pub last_used_at: Option<Moment>,
}

/// What the second step of a sign-in (`/o/login/mfa/`) shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondStepView {
    /// Token for the form.
    pub csrf: String,
    /// Days a browser may be remembered for (0: the operator does not allow it).
    pub remember_days: i64,
    /// Whether the pending sign-in's account has a passkey (offered as the second step).
    pub passkey: bool,
}
