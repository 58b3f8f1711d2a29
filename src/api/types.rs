//! Data the server hands to the pages, shared by both builds (serialized for hydration).

use serde::{Deserialize, Serialize};

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
    pub granted_at: String,
    /// When it last obtained a token for the user.
    pub last_used_at: Option<String>,
}

/// A browser the user is signed in on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserSession {
    /// Opaque id (the stored hash of the session cookie; not the cookie).
    pub id: String,
    /// The browser's `User-Agent`.
    pub user_agent: String,
    /// The address it signed in from.
    pub ip: String,
    /// When it signed in.
    pub started_at: String,
    /// When it was last active.
    pub last_seen_at: String,
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
}
