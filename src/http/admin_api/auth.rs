//! The admin client behind a request, as an extractor that runs before the body or path is
//! read: a request without a usable token is a 401 whatever else is wrong with it, and one
//! whose token lacks the route's scope a 403.

use std::marker::PhantomData;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{header, request::Parts},
};

use super::Problem;
use crate::{
    oauth::scope::admin,
    service::{admin_token::AdminCaller, Services},
};

/// The admin scope a route needs, as a type.
pub trait RouteScope {
    /// The scope.
    const SCOPE: &'static str;
}

macro_rules! route_scopes {
    ($($(#[$doc:meta])* $name:ident => $scope:path),* $(,)?) => {
        $( $(#[$doc])* pub struct $name; impl RouteScope for $name { const SCOPE: &'static str = $scope; } )*
    };
}

route_scopes! {
    /// `admin:users:read`.
    UsersRead => admin::USERS_READ,
    /// `admin:users:write`.
    UsersWrite => admin::USERS_WRITE,
    /// `admin:groups:read`.
    GroupsRead => admin::GROUPS_READ,
    /// `admin:groups:write`.
    GroupsWrite => admin::GROUPS_WRITE,
    /// `admin:clients:read`.
    ClientsRead => admin::CLIENTS_READ,
    /// `admin:clients:write`.
    ClientsWrite => admin::CLIENTS_WRITE,
    /// `admin:events:read`.
    EventsRead => admin::EVENTS_READ,
}

/// The calling admin client, holding scope `S` (RFC 6750 §2.1 `Authorization: Bearer`).
pub struct Admin<S>(pub AdminCaller, pub PhantomData<S>);

impl<S: RouteScope, St: Send + Sync> FromRequestParts<St> for Admin<S>
where
    Services: FromRef<St>,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let caller = Services::from_ref(state).admin_caller(bearer, S::SCOPE).await?;
        Ok(Self(caller, PhantomData))
    }
}
