//! CSRF protection for every HTML form, applied as one layer over the HTML routes so that
//! no handler can forget it. Every form carries a token in a hidden `csrf_token` field. A
//! signed-in browser's token is derived from its session secret, so it is bound to that
//! session: a token planted before sign-in, or taken from another session, does not pass.
//! A browser without a session holds a random token in an HttpOnly cookie and must send
//! the same in the form (double-submit). The cookie always carries the token the pages
//! use. A request that changes state must present the right token and, if the browser sent
//! an `Origin` header, come from this site.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::cookies;
use super::error::AppError;
use crate::web::AppState;

/// The browser's CSRF token, for templates to put in their forms.
#[derive(Clone)]
pub struct CsrfToken(pub String);

/// Form bodies larger than this are refused before they are read into memory.
pub const MAX_FORM_BYTES: usize = 512 * 1024;
/// A form with a file (`multipart/form-data`, the administrators' import) may be larger.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// The only routes that take `multipart/form-data`.
const UPLOAD_PATHS: &[&str] = &["/admin/import", "/admin/import/confirm"];

/// The form token of a signed-in browser. The label keeps it apart from the digest the
/// session table stores (`secret_digest(secret)`), so a copy of the database yields no
/// form token, and the page's token reveals nothing about the session secret.
pub fn session_token(session_secret: &str) -> String {
    crate::crypto::secret_digest(&format!("wecare-csrf:{session_secret}"))
}

/// The token this browser's forms must carry, and whether its cookie must be (re)set.
fn expected(headers: &axum::http::HeaderMap) -> (String, bool) {
    let cookie = cookies::get(headers, cookies::CSRF);
    match cookies::get(headers, cookies::SESSION) {
        Some(session) => {
            let t = session_token(session);
            let stale = cookie != Some(t.as_str());
            (t, stale)
        }
        None => match cookie {
            Some(c) => (c.to_string(), false),
            None => (crate::crypto::random_hex(32), true),
        },
    }
}

pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (token, set_cookie) = expected(req.headers());
    let signed_in = cookies::get(req.headers(), cookies::SESSION).is_some();
    let is_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);

    let req = if is_write {
        match check(req, &token).await {
            Ok(req) => req,
            Err(e) => return e.into_response(),
        }
    } else {
        req
    };

    let mut req = req;
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    // A handler that starts or ends a session sets the cookie itself.
    let handler_set_it = resp.headers().get_all(header::SET_COOKIE).iter().any(|v| {
        v.as_bytes()
            .starts_with(format!("{}=", cookies::CSRF).as_bytes())
    });
    if set_cookie && !handler_set_it {
        let max_age = if signed_in {
            state.app.session_cookie_secs()
        } else {
            60 * 60 * 24 * 7
        };
        resp.headers_mut().append(
            header::SET_COOKIE,
            cookies::set(cookies::CSRF, &token, max_age, state.web.cookies_secure),
        );
    }
    resp
}

/// For the few routes that take writes without a form token (their URL holds a secret):
/// pages still get the browser's token for the forms in the shared layout.
pub async fn exempt(mut req: Request, next: Next) -> Response {
    let (token, _) = expected(req.headers());
    req.extensions_mut().insert(CsrfToken(token));
    next.run(req).await
}

async fn check(req: Request, expected: &str) -> Result<Request, AppError> {
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
    let (parts, body) = req.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
    let kind = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (is_form, is_upload) = (
        kind.starts_with("application/x-www-form-urlencoded"),
        kind.starts_with("multipart/form-data"),
    );
    // Uploads are held in memory whole (2 MB), so only the pages that take a file accept
    // them; anywhere else a form is a form.
    let upload_here = is_upload && UPLOAD_PATHS.contains(&parts.uri.path());
    if !(is_form || upload_here) {
        return Err(AppError::Csrf);
    }
    let limit = if is_upload {
        MAX_UPLOAD_BYTES
    } else {
        MAX_FORM_BYTES
    };
    let bytes: Bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        AppError::Invalid(crate::domain::Invalid::new(
            "form",
            if is_upload {
                "The file is too large to send here (at most 2 MB); split it, or use `wecare import accounts` on the server."
            } else {
                "The form is too large to send."
            },
        ))
    })?;
    let sent = match (is_upload, content_type) {
        (true, Some(ct)) => multipart_value(ct, &bytes, "csrf_token").await,
        _ => form_urlencoded_value(&bytes, "csrf_token"),
    };
    match sent {
        Some(s) if crate::crypto::secrets_equal(&s, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(AppError::Csrf),
    }
}

/// A text field of a `multipart/form-data` body (the token comes before the file in the
/// site's forms, so little is parsed).
async fn multipart_value(
    content_type: axum::http::HeaderValue,
    body: &Bytes,
    name: &str,
) -> Option<String> {
    use axum::extract::FromRequest;
    let req = Request::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.clone()))
        .ok()?;
    let mut fields = axum::extract::Multipart::from_request(req, &())
        .await
        .ok()?;
    while let Ok(Some(field)) = fields.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
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
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| AppError::from(anyhow::anyhow!("CSRF layer missing on an HTML route")))
    }
}
