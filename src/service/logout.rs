//! Ending a login session, and telling the clients: RP-initiated logout (`/o/logout/`) decides
//! where the browser goes afterwards, and every client that was issued an ID Token within the
//! session and registered a back-channel logout URI gets a signed logout token.

use std::{sync::OnceLock, time::Duration};

use rand::rngs::OsRng;

use super::{ServiceError, Services};
use crate::{
    crypto::{random_id, sha256_hex},
    oauth::{
        id_token::session_id,
        logout::{
            logout_token_claims, post_logout_target, read_hint, requesting_client, LogoutError, LOGOUT_TOKEN_TYP,
        },
    },
    store::SessionClient,
};

/// How long a back-channel delivery may take, in all.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// An RP-initiated logout request's parameters (RP-Initiated Logout §2).
#[derive(Clone, Debug, Default)]
pub struct LogoutRequest {
    /// An ID Token issued to the client.
    pub id_token_hint: Option<String>,
    /// Where the client wants the browser afterwards.
    pub post_logout_redirect_uri: Option<String>,
    /// Returned to the client with the browser.
    pub state: Option<String>,
    /// The client, when there is no hint.
    pub client_id: Option<String>,
}

/// What a logout request will do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogoutPlan {
    /// The client that asked, by name.
    pub client_name: Option<String>,
    /// Where the browser goes afterwards (with `state`), if anywhere.
    pub target: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The client for outbound calls: short timeouts, no redirects (a logout token goes to the
/// registered URI or nowhere).
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

impl Services {
    /// Checks an RP-initiated logout request: the hint must be ours, the client named by the
    /// hint and by `client_id` the same, and `post_logout_redirect_uri` registered by it.
    pub async fn plan_logout(&self, req: &LogoutRequest) -> Result<LogoutPlan, ServiceError> {
        let invalid = |e: LogoutError| ServiceError::Invalid(e.to_string());
        let hint = match non_empty(&req.id_token_hint) {
            Some(token) => Some(read_hint(token, &self.jwks().await?, &self.settings.issuer).map_err(invalid)?),
            None => None,
        };
        let client_id = requesting_client(hint.as_ref(), non_empty(&req.client_id)).map_err(invalid)?;
        let (client_name, registered) = match client_id {
            Some(id) => {
                let client = self.store.client(id).await?;
                let logout = self.store.client_logout(id).await?;
                match (client, logout) {
                    (Some(c), Some(l)) => (Some(c.client.name), l.post_logout_redirect_uris),
                    _ => return Err(ServiceError::Invalid("unknown client_id".into())),
                }
            }
            None => (None, Vec::new()),
        };
        let target =
            post_logout_target(non_empty(&req.post_logout_redirect_uri), client_id, &registered, non_empty(&req.state))
                .map_err(invalid)?;
        Ok(LogoutPlan { client_name, target })
    }

    /// Ends the session whose cookie value is `token`, and tells its clients.
    pub async fn log_out(&self, token: &str) {
        self.end_session(&sha256_hex(token)).await;
    }

    /// Ends the session with this stored hash; every client that took part in it and
    /// registered a back-channel logout URI is sent a logout token, in the background (a slow
    /// or dead client delays nobody).
    pub async fn end_session(&self, session_hash: &str) {
        let clients = match self.store.end_session(session_hash).await {
            Ok(clients) => clients,
            Err(e) => {
                tracing::error!(error = %e, "cannot end a session");
                return;
            }
        };
        if clients.is_empty() {
            return;
        }
        let sid = match self.sid_key().await {
            Ok(key) => session_id(key, session_hash),
            Err(_) => return,
        };
        for client in clients {
            match self.logout_token(&client, &sid).await {
                Ok(token) => {
                    tokio::spawn(deliver(client, token));
                }
                Err(e) => {
                    tracing::error!(error = %e.description, client_id = %client.client_id, "cannot sign a logout token")
                }
            }
        }
    }

    /// Ends every session of the user but `keep`, each with its back-channel notices (sign
    /// out other browsers, password change, disabling or deleting the account).
    pub async fn end_user_sessions(&self, user_id: i64, keep: Option<&str>) -> crate::store::StoreResult<()> {
        for s in self.store.sessions_for_user(user_id, self.now(), 0).await? {
            if Some(s.session_hash.as_str()) != keep {
                self.end_session(&s.session_hash).await;
            }
        }
        Ok(())
    }

    async fn logout_token(&self, client: &SessionClient, sid: &str) -> Result<String, crate::oauth::error::OAuthError> {
        let key = self.signer().await?;
        let claims = logout_token_claims(
            &self.settings.issuer,
            &client.client_id,
            &client.user_id.to_string(),
            Some(sid),
            &random_id(),
            self.now(),
        );
        Ok(key.sign(LOGOUT_TOKEN_TYP, &claims, &mut OsRng))
    }
}

/// POSTs the logout token (Back-Channel Logout §2.5). The token is not logged.
async fn deliver(client: SessionClient, token: String) {
    let sent = http().post(&client.backchannel_logout_uri).form(&[("logout_token", token.as_str())]).send().await;
    match sent {
        Ok(r) if r.status().is_success() => {
            tracing::info!(client_id = %client.client_id, "back-channel logout delivered")
        }
        Ok(r) => {
            tracing::warn!(client_id = %client.client_id, status = r.status().as_u16(), "back-channel logout refused")
        }
        Err(e) => tracing::warn!(client_id = %client.client_id, error = %e, "back-channel logout not delivered"),
    }
}
