//! Reading and writing wecare's cookies: the session, the CSRF token, and the state of a
//! sign-in at the institution's provider.

use axum::http::{HeaderMap, HeaderValue, header};

pub const SESSION: &str = "wecare_session";
pub const CSRF: &str = "wecare_csrf";
/// The state of a sign-in sent to the institution's provider: only this browser may
/// finish it.
pub const SIGN_IN_STATE: &str = "wecare_sign_in_state";

pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A `Set-Cookie` value. HttpOnly always (no script reads these), SameSite=Lax (sent when
/// following a link into the site, never on a cross-site form post), Secure behind https.
pub fn set(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", 0, secure)
}
