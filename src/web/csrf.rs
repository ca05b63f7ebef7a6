//! CSRF protection for every HTML form, applied as one layer over the HTML routes so that
//! no handler can forget it. Each browser holds a random token in an HttpOnly cookie; every
//! form carries the same token in a hidden `csrf_token` field (double-submit). A request
//! that changes state must present both, equal, and, if the browser sent an `Origin`
//! header, come from this site.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::cookies;
use super::error::AppError;

/// The browser's CSRF token, for templates to put in their forms.
#[derive(Clone)]
pub struct CsrfToken(pub String);

/// Form bodies larger than this are refused before they are read into memory.
pub const MAX_FORM_BYTES: usize = 512 * 1024;

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let existing = cookies::get(req.headers(), cookies::CSRF).map(str::to_owned);
    let is_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    let req = if is_write {
        match check(req, existing.as_deref()).await {
            Ok(req) => req,
            Err(e) => return e.into_response(),
        }
    } else {
        req
    };

    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (crate::crypto::random_hex(32), true),
    };
    let mut req = req;
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if fresh {
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(
                cookies::CSRF,
                &token,
                60 * 60 * 24 * 7,
                state.web.cookies_secure,
            ),
        );
    }
    resp
}

/// For the few routes that take writes without a form token (their URL holds a secret):
/// pages still get the browser's token for the forms in the shared layout.
pub async fn exempt(mut req: Request, next: Next) -> Response {
    let token = cookies::get(req.headers(), cookies::CSRF)
        .map(str::to_owned)
        .unwrap_or_default();
    req.extensions_mut().insert(CsrfToken(token));
    next.run(req).await
}

async fn check(req: Request, cookie: Option<&str>) -> Result<Request, AppError> {
    // With `Referrer-Policy: no-referrer` (which every page sends) browsers post forms with
    // `Origin: null`: it says nothing either way, so only a real origin is compared, and
    // the token below is what decides.
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| o.as_bytes() != b"null");
    if let Some(origin) = origin {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| url::Url::parse(o).ok())
            .map(|u| match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or_default()),
                None => u.host_str().unwrap_or_default().to_string(),
            });
        if origin_host.as_deref() != Some(host) {
            return Err(AppError::Csrf);
        }
    }
    let cookie = cookie.ok_or(AppError::Csrf)?;
    let (parts, body) = req.into_parts();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::Csrf);
    }
    let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            AppError::Invalid(crate::domain::Invalid::new(
                "form",
                "The form is too large to send.",
            ))
        })?;
    let sent = form_urlencoded_value(&bytes, "csrf_token");
    match sent {
        Some(s) if crate::crypto::secrets_equal(&s, cookie) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(AppError::Csrf),
    }
}

fn form_urlencoded_value(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CsrfToken>().cloned().ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("CSRF layer missing on an HTML route"))
        })
    }
}
