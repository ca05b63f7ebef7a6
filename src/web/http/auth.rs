//! Who is asking. Browser requests are identified by the session cookie, API requests by a
//! bearer token; the API ignores cookies, so it needs no CSRF protection. Each extractor hands
//! out an `app` handle: a handler that takes `Admin` cannot run for anyone else, and
//! without the handle the action is not there to call.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::cookies;
use super::error::{ApiError, AppError};
pub use crate::app::{Admin, Coordinator, Helper, Member};
use crate::web::AppState;

/// The signed-in person, if any (cached per request).
#[derive(Clone)]
pub struct MaybeSignedIn(pub Option<Member>);

/// A bearer-token caller of the JSON API with the handle `T`. The API ignores cookies and
/// answers with JSON errors, so its extractors are apart from the pages'.
pub struct Api<T>(pub T);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        if let Some(cached) = parts.extensions.get::<MaybeSignedIn>() {
            return Ok(cached.clone());
        }
        let member = match cookies::get(&parts.headers, cookies::SESSION) {
            Some(secret) => state.app.by_session(secret).await?,
            None => None,
        };
        let found = MaybeSignedIn(member);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

async fn session(parts: &mut Parts, state: &AppState) -> Result<Member, AppError> {
    let MaybeSignedIn(member) = MaybeSignedIn::from_request_parts(parts, state).await?;
    // After signing in, a page that was asked for (a scanned check-in code, say) opens.
    let next = (parts.method == axum::http::Method::GET)
        .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_string()))
        .flatten()
        .filter(|p| safe_next(p));
    member.ok_or(AppError::SignInFirst { next })
}

async fn bearer(parts: &mut Parts, state: &AppState) -> Result<Member, ApiError> {
    let token = bearer_token(&parts.headers).ok_or(AppError::Unauthorized)?;
    Ok(state
        .app
        .by_api_token(token)
        .await?
        .ok_or(AppError::Unauthorized)?)
}

impl FromRequestParts<AppState> for Member {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        session(parts, state).await
    }
}

impl FromRequestParts<AppState> for Api<Member> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Api(bearer(parts, state).await?))
    }
}

macro_rules! role_extractor {
    ($handle:ident, $as:ident) => {
        impl FromRequestParts<AppState> for $handle {
            type Rejection = AppError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, AppError> {
                session(parts, state)
                    .await?
                    .$as()
                    .ok_or(AppError::Forbidden)
            }
        }

        impl FromRequestParts<AppState> for Api<$handle> {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                let handle = bearer(parts, state).await?.$as();
                Ok(Api(handle.ok_or(AppError::Forbidden)?))
            }
        }
    };
}

role_extractor!(Helper, as_helper);
role_extractor!(Coordinator, as_coordinator);
role_extractor!(Admin, as_admin);

/// The token of an `Authorization: Bearer …` header. The scheme is case-insensitive
/// (RFC 9110, 11.1), so `bearer` and `BEARER` are taken too.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(char::is_whitespace)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 200)
        .then_some(token)
}

/// Whoever may read `/metrics`: a scraper with the `--metrics-token`, or an administrator's
/// API token. Per-route counters show when requests are filed and answered, so they are
/// not public.
pub struct MetricsReader(pub crate::app::observe::Observer);

impl FromRequestParts<AppState> for MetricsReader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(AppError::Unauthorized)?;
        match state.app.observer(token).await? {
            Some(observer) => Ok(Self(observer)),
            // A live token of someone else: not theirs to read; anything else: unknown.
            None if state.app.by_api_token(token).await?.is_some() => {
                Err(AppError::Forbidden.into())
            }
            None => Err(AppError::Unauthorized.into()),
        }
    }
}

/// An API caller who may be anonymous: no `Authorization` header is None; a header with
/// a bad token is still refused.
pub struct MaybeApiCaller(pub Option<Member>);

impl FromRequestParts<AppState> for MaybeApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            Ok(Self(Some(bearer(parts, state).await?)))
        } else {
            Ok(Self(None))
        }
    }
}

/// Which reverse proxies wecare believes about the client's address.
#[derive(Debug, Clone, Default)]
pub struct ProxyTrust {
    /// `--trust-proxy`: the peer is a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`.
    pub enabled: bool,
    /// `--trusted-proxies`: the addresses of every proxy in the chain. When set, the header
    /// is believed only from one of them, and their own entries are skipped.
    pub proxies: Vec<ipnet::IpNet>,
}

impl ProxyTrust {
    fn trusts(&self, ip: std::net::IpAddr) -> bool {
        self.proxies.iter().any(|n| n.contains(&ip))
    }
}

/// The client's address for throttling: the socket's peer, or behind a trusted reverse
/// proxy the address that proxy appended to `X-Forwarded-For`. Entries are read from the
/// right: the left ones are whatever the client chose to send, so believing the first
/// would let anyone pick their own address (and lock out somebody else's).
pub fn client_address(
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::SocketAddr>,
    trust: &ProxyTrust,
) -> String {
    let peer_ip = peer.map(|p| p.ip());
    let shown = |ip: Option<std::net::IpAddr>| {
        ip.map(|i| i.to_canonical().to_string())
            .unwrap_or_else(|| "unknown".to_string())
    };
    let peer_is_proxy = trust.enabled
        && (trust.proxies.is_empty() || peer_ip.is_some_and(|ip| trust.trusts(ip.to_canonical())));
    if !peer_is_proxy {
        return shown(peer_ip);
    }
    // Several header lines are one list, in order (RFC 9110, 5.3).
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.parse::<std::net::IpAddr>() else {
            // Not an address our proxy would write: do not believe anything to its left.
            return shown(peer_ip);
        };
        let ip = ip.to_canonical();
        if !trust.trusts(ip) {
            return ip.to_string();
        }
    }
    shown(peer_ip)
}

/// The address at the other end of the connection, whatever the headers say: the one
/// thing a client cannot choose (a proxy in front shows as itself).
pub struct Peer(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for Peer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
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
            &state.web.proxy_trust,
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn the_proxys_own_entry_is_taken_not_the_clients_claim() {
        let peer = Some("10.0.0.2:4000".parse().expect("addr"));
        let on = ProxyTrust {
            enabled: true,
            proxies: vec![],
        };
        // The client sent "198.51.100.7" itself; the proxy appended the real address.
        let h = forwarded(&["198.51.100.7, 203.0.113.9"]);
        assert_eq!(client_address(&h, peer, &on), "203.0.113.9");
        assert_eq!(
            client_address(&forwarded(&["1.1.1.1", "203.0.113.9"]), peer, &on),
            "203.0.113.9"
        );
        // Without --trust-proxy the header means nothing.
        assert_eq!(client_address(&h, peer, &ProxyTrust::default()), "10.0.0.2");
        // Garbage where the proxy's entry should be: the peer, not the claim before it.
        let h = forwarded(&["203.0.113.9, not-an-address"]);
        assert_eq!(client_address(&h, peer, &on), "10.0.0.2");
        assert_eq!(client_address(&HeaderMap::new(), peer, &on), "10.0.0.2");
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_skipped_and_others_are_not_believed() {
        let chain = ProxyTrust {
            enabled: true,
            proxies: vec![
                "10.0.0.0/8".parse().expect("net"),
                "192.0.2.1/32".parse().expect("net"),
            ],
        };
        let peer = Some("10.0.0.2:4000".parse().expect("addr"));
        let h = forwarded(&["198.51.100.7, 203.0.113.9, 192.0.2.1"]);
        assert_eq!(client_address(&h, peer, &chain), "203.0.113.9");
        // A client that reaches wecare directly is not a proxy: its header is ignored.
        let direct = Some("203.0.113.50:4000".parse().expect("addr"));
        assert_eq!(client_address(&h, direct, &chain), "203.0.113.50");
        // IPv4 written as IPv6 is one address.
        let h = forwarded(&["::ffff:203.0.113.9"]);
        assert_eq!(client_address(&h, peer, &chain), "203.0.113.9");
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        let mut h = HeaderMap::new();
        for v in ["Bearer wct_x", "bearer wct_x", "BEARER   wct_x "] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static("x"));
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).expect("v"));
            assert_eq!(bearer_token(&h), Some("wct_x"), "{v}");
        }
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic d2N0Cg=="),
        );
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(bearer_token(&h), None);
    }
}
