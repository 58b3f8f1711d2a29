//! `yaoshi serve --demo`: a demo user and a demo confidential client with every grant of the
//! seed, created once, so the README's curl commands work against a fresh server.

use super::{clients::ClientSpec, users::Registration, ServiceError, Services};
use crate::oauth::model::GrantType;

/// The demo user's username.
pub const USER: &str = "demo";
/// The demo user's password.
pub const PASSWORD: &str = "demo-password";
/// The demo client's id.
pub const CLIENT_ID: &str = "demo";
/// The demo client's secret.
pub const CLIENT_SECRET: &str = "demo-secret";
/// The demo client's redirect URI (loopback: nothing needs to listen there).
pub const REDIRECT_URI: &str = "http://127.0.0.1:8000/callback";

/// What the demo consists of, for printing.
#[derive(Debug)]
pub struct Demo {
    /// Whether this call created anything.
    pub created: bool,
}

impl Demo {
    /// Prints the demo credentials on stdout.
    pub fn print(&self) {
        let verb = if self.created { "created" } else { "already present" };
        println!(
            "demo ({verb}):\n  user:          {USER} / {PASSWORD}\n  client_id:     {CLIENT_ID}\n  client_secret: {CLIENT_SECRET}\n  redirect_uri:  {REDIRECT_URI}\n  grants:        authorization_code implicit password client_credentials refresh_token"
        );
    }
}

/// Creates the demo user and client if they do not exist yet.
pub async fn ensure(s: &Services) -> Result<Demo, ServiceError> {
    let mut created = false;
    if matches!(s.find_user(USER).await, Err(ServiceError::NotFound(_))) {
        s.create_user(Registration {
            username: USER.into(),
            email: Some("demo@example.com".into()),
            display_name: Some("Demo User".into()),
            password: Some(PASSWORD.into()),
            admin: false,
            email_verified: true,
            locale: None,
        })
        .await?;
        created = true;
    }
    if matches!(s.find_client(CLIENT_ID).await, Err(ServiceError::NotFound(_))) {
        s.create_client(ClientSpec {
            name: "Demo app".into(),
            public: false,
            redirect_uris: vec![REDIRECT_URI.into()],
            grants: GrantType::ALL.to_vec(),
            scopes: vec![],
            trusted: false,
            client_id: Some(CLIENT_ID.into()),
            secret: Some(CLIENT_SECRET.into()),
            owner_id: None,
            logout: Default::default(),
            allowed_origins: vec![],
        })
        .await?;
        created = true;
    }
    Ok(Demo { created })
}
