//! Ending a login session, and telling the clients: RP-initiated logout (`/o/logout/`) decides
//! where the browser goes afterwards, and every client that was issued an ID Token within the
//! session and registered a back-channel logout URI gets a signed logout token, through the
//! outbox that `logout_delivery` empties.

use super::{ServiceError, Services};
use crate::{
    crypto::{random_id, sha256_hex},
    oauth::{
        id_token::session_id,
        logout::{post_logout_target, read_hint, requesting_client, LogoutError},
    },
    store::NoticeSeed,
};

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

    /// Ends the session with this stored hash. Every client that took part in it and
    /// registered a back-channel logout URI gets a notice in the outbox, written in the same
    /// transaction, which the delivery worker sends (a slow or dead client delays nobody, and
    /// a crash or restart loses no notice).
    pub async fn end_session(&self, session_hash: &str) {
        let sid = match self.sid_key().await {
            Ok(key) => session_id(key, session_hash),
            Err(_) => {
                tracing::error!("cannot end a session: the sid key is unavailable");
                return;
            }
        };
        let seed = NoticeSeed { sid, jti_prefix: random_id(), now: self.now() };
        match self.store.end_session(session_hash, &seed).await {
            Ok(clients) if !clients.is_empty() => self.wake_logout_delivery(),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot end a session"),
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
}
