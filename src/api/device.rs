//! The device verification page (`/o/device/`, RFC 8628 §3.3): looking a user code up, and
//! the user's decision on it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use crate::view::ScopeItem;

/// Where the page lives (the `verification_uri`).
pub const DEVICE_PAGE: &str = "/o/device/";

/// A pending request for the user to confirm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceConfirm {
    /// The code as shown on the device (`XXXX-XXXX`).
    pub user_code: String,
    /// The app on the device.
    pub client_name: String,
    /// What it asks for.
    pub scopes: Vec<ScopeItem>,
}

/// What the page shows: the request to confirm, or the form to type a code in (again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceView {
    /// Token for the page's form.
    pub csrf: String,
    /// Who is signed in.
    pub username: String,
    /// The code as typed, to fill the form in again.
    pub typed: String,
    /// The request the code names, if it names one.
    pub request: Option<DeviceConfirm>,
    /// Why the typed code was refused.
    pub error: Option<AppError>,
}

#[cfg(feature = "ssr")]
impl From<crate::service::device_grant::DeviceError> for AppError {
    fn from(e: crate::service::device_grant::DeviceError) -> Self {
        use crate::service::device_grant::DeviceError as E;
        match e {
            E::UnknownCode => AppError::WrongCode,
            E::Throttled { retry_after } => AppError::throttled(retry_after),
            E::Unavailable => AppError::Unavailable,
        }
    }
}

/// The page with `user_code` (as typed, or from `verification_uri_complete`), for the
/// signed-in user; a visitor is sent to sign in first and comes back here.
#[server(endpoint = "device", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_device(user_code: String) -> Result<DeviceView, AppError> {
    use super::ssr;
    let typed = user_code.trim().to_owned();
    let page = if typed.is_empty() {
        DEVICE_PAGE.to_owned()
    } else {
        let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("user_code", &typed).finish();
        format!("{DEVICE_PAGE}?{query}")
    };
    let (s, parts, session) = ssr::signed_in(&page).await?;
    let csrf = ssr::csrf_token(&parts)?;
    let mut view = DeviceView { csrf, username: session.user.username.clone(), typed, request: None, error: None };
    if view.typed.is_empty() {
        return Ok(view);
    }
    match s.device_request(&session, &view.typed, ssr::client_ip(&parts)).await {
        Ok(r) => {
            view.request = Some(DeviceConfirm { user_code: r.user_code, client_name: r.client_name, scopes: r.scopes })
        }
        Err(e) => view.error = Some(e.into()),
    }
    Ok(view)
}

/// Approves (`decision=approve`) or denies the request with `user_code`; on to the page's
/// last step, `?done=approved` or `?done=denied`.
#[server(endpoint = "device/decide")]
pub async fn decide_device(csrf: String, user_code: String, decision: String) -> Result<String, AppError> {
    use super::ssr;
    let _checked_by_guard = csrf;
    let (s, parts, session) = ssr::signed_in(DEVICE_PAGE).await?;
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return ssr::fail(&parts, AppError::Invalid("choose Approve or Deny".into()), DEVICE_PAGE),
    };
    match s.decide_device(&session, &user_code, approve, ssr::client_ip(&parts)).await {
        Ok(()) => {
            let done = if approve { "approved" } else { "denied" };
            Ok(ssr::go_to(&parts, format!("{DEVICE_PAGE}?done={done}")))
        }
        Err(e) => ssr::fail(&parts, e.into(), DEVICE_PAGE),
    }
}
