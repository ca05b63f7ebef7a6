//! Who is asking. Browser requests are identified by the session cookie, API requests by a
//! bearer token; the API ignores cookies, so it needs no CSRF protection. Authorization is
//! in the types: a handler that takes `Admin` cannot run for anyone else.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::cookies;
use super::error::{ApiError, AppError};
use crate::domain::accounts::{Account, Role};

/// The signed-in account, if any (cached per request).
#[derive(Clone)]
pub struct MaybeSignedIn(pub Option<Account>);

/// Any signed-in account.
pub struct SignedIn(pub Account);
/// A signed-in coordinator.
pub struct Coordinator(pub Account);
/// A signed-in helper.
pub struct HelperRole(pub Account);
/// A signed-in administrator.
pub struct Admin(pub Account);

/// An API caller with a valid bearer token.
pub struct ApiCaller(pub Account);
pub struct ApiCoordinator(pub Account);
pub struct ApiAdmin(pub Account);
pub struct ApiHelper(pub Account);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(cached) = parts.extensions.get::<MaybeSignedIn>() {
            return Ok(cached.clone());
        }
        let account = match cookies::get(&parts.headers, cookies::SESSION) {
            Some(secret) => state.store.session_account(secret).await?,
            None => None,
        };
        let found = MaybeSignedIn(account);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

async fn session_with(
    parts: &mut Parts,
    state: &AppState,
    role: Option<Role>,
) -> Result<Account, AppError> {
    let MaybeSignedIn(account) = MaybeSignedIn::from_request_parts(parts, state).await?;
    // After signing in, a page that was asked for (a scanned check-in code, say) opens.
    let next = (parts.method == axum::http::Method::GET)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
        .flatten()
        .filter(|p| safe_next(p));
    let account = account.ok_or(AppError::SignInFirst { next })?;
    match role {
        Some(r) if !account.has(r) => Err(AppError::Forbidden),
        _ => Ok(account),
    }
}

async fn bearer_with(
    parts: &mut Parts,
    state: &AppState,
    role: Option<Role>,
) -> Result<Account, ApiError> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or(AppError::Unauthorized)?;
    let account = state
        .store
        .api_token_account(token)
        .await?
        .ok_or(AppError::Unauthorized)?;
    match role {
        Some(r) if !account.has(r) => Err(ApiError(AppError::Forbidden)),
        _ => Ok(account),
    }
}

macro_rules! extractor {
    ($name:ident, $via:ident, $role:expr, $rej:ty) => {
        impl FromRequestParts<AppState> for $name {
            type Rejection = $rej;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                Ok($name($via(parts, state, $role).await?))
            }
        }
    };
}

extractor!(SignedIn, session_with, None, AppError);
extractor!(HelperRole, session_with, Some(Role::Helper), AppError);
extractor!(Coordinator, session_with, Some(Role::Coordinator), AppError);
extractor!(Admin, session_with, Some(Role::Admin), AppError);
extractor!(ApiCaller, bearer_with, None, ApiError);
extractor!(
    ApiCoordinator,
    bearer_with,
    Some(Role::Coordinator),
    ApiError
);
extractor!(ApiAdmin, bearer_with, Some(Role::Admin), ApiError);
extractor!(ApiHelper, bearer_with, Some(Role::Helper), ApiError);

/// An API caller who may be anonymous: no `Authorization` header is None; a header with
/// a bad token is still refused.
pub struct MaybeApiCaller(pub Option<Account>);

impl FromRequestParts<AppState> for MaybeApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Ok(Self(Some(bearer_with(parts, state, None).await?)))
        } else {
            Ok(Self(None))
        }
    }
}

/// The client's address for throttling: the socket's peer, or with `--trust-proxy` the
/// first address in `X-Forwarded-For` set by the reverse proxy in front of wecare.
pub fn client_address(
    parts_headers: &axum::http::HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trust_proxy: bool,
) -> String {
    if trust_proxy
        && let Some(fwd) = parts_headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
    {
        return fwd.to_string();
    }
    peer.map(|p| p.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

/// The client's address, as used for throttling.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        Ok(ClientAddr(client_address(
            &parts.headers,
            peer,
            state.web.trust_proxy,
        )))
    }
}

/// Whether `next` may be sent to after sign-in: a path on this site only, never another
/// site (`//host`, `/\host`) or anything with control characters.
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 1000
        && !next.chars().any(|c| c.is_control() || c == '\\')
}
