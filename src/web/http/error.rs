//! Every failure a handler can return, and the one place where it becomes a response:
//! an HTML page for people, a JSON body (`{"error": {"code", "message", "field"}}`) for the API.
//! Unexpected failures are logged with their cause chain and shown without detail.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::domain::Invalid;
use crate::domain::conflict::Conflict;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    Unauthorized,
    /// A page that needs a signed-in person: sign in, then come back to `next`.
    #[error("sign-in required")]
    SignInFirst { next: Option<String> },
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    Conflict(Conflict),
    /// Input refused before any handler saw it (a control character), naming the field
    /// as the client sent it.
    #[error("{message}")]
    BadInput { field: String, message: String },
    #[error("too many attempts")]
    Throttled { minutes: i64 },
    /// A limit on how often something may be done, with the sentence that explains it.
    #[error("{0}")]
    Limited(String),
    #[error("form check failed")]
    Csrf,
    /// Logged, inside the span it failed in (the action's, within the request's), and
    /// answered with an apology.
    #[error("{0}")]
    Internal(anyhow::Error, tracing::Span),
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e, tracing::Span::current())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(what) => AppError::Conflict(what),
            // PostgreSQL refuses NUL in text (22021); every input is checked before it gets
            // here, so this is a last net that still answers with a sentence, not a 500.
            StoreError::Database(sqlx::Error::Database(d)) if d.code().as_deref() == Some("22021") => {
                AppError::BadInput {
                    field: "input".into(),
                    message: "The text contains a character that cannot be stored (NUL); remove it and send again.".into(),
                }
            }
            StoreError::Unsealable(what) => {
                AppError::from(anyhow::anyhow!("{what}").context("sealed data did not open"))
            }
            StoreError::Database(e) => {
                AppError::from(anyhow::Error::new(e).context("database request failed"))
            }
        }
    }
}

impl From<crate::app::Error> for AppError {
    fn from(e: crate::app::Error) -> Self {
        use crate::app::Error as E;
        match e {
            E::NotFound => AppError::NotFound,
            E::Forbidden => AppError::Forbidden,
            E::SignInRequired => AppError::Unauthorized,
            E::Invalid(i) => AppError::Invalid(i),
            // Keeping the last administrator is a rule about the roles typed in.
            E::Conflict(c @ Conflict::LastAdmin) => AppError::Invalid(Invalid::new("role", c)),
            E::Conflict(c) => AppError::Conflict(c),
            E::Throttled { minutes } => AppError::Throttled { minutes },
            E::Limited(m) => AppError::Limited(m),
            // Sign-in pages present refusals themselves; anywhere else it is a mistake.
            E::SignInRefused(r) => AppError::Invalid(Invalid::new("sign_in", r.sentence())),
            E::Database(e, during) => during.in_scope(|| e.into()),
            E::Unexpected(e, during) => AppError::Internal(e, during),
        }
    }
}

/// The field a refusal concerns, when it concerns one: shown beside it on the form that
/// asked, and named in the API's 409.
fn field_of(c: Conflict) -> Option<&'static str> {
    match c {
        Conflict::LastAdmin => Some("role"),
        Conflict::EmailTaken => Some("email"),
        Conflict::NoSuchSeries => Some("series"),
        Conflict::PrivateFlagFixed => Some("private"),
        Conflict::SeriesAddressTaken => Some("slug"),
        Conflict::ResourceNameTaken | Conflict::ResourceNameTakenChange => Some("name"),
        Conflict::ApplicationPending => Some("motivation"),
        Conflict::EventNeedsDate => Some("date"),
        Conflict::PledgeChangedMeanwhile => Some("text"),
        Conflict::PledgeChangedSinceRead => Some("agree"),
        Conflict::PledgeRequired => Some("motivation"),
        _ => None,
    }
}

/// A refusal that concerns one field becomes that field's mistake, so that a form is
/// shown again with the sentence beside the field instead of an error page.
pub fn on_its_field(e: crate::app::Error) -> crate::app::Error {
    match e {
        crate::app::Error::Conflict(c) => match field_of(c) {
            Some(field) => Invalid::new(field, c).into(),
            None => e,
        },
        e => e,
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::from(anyhow::Error::new(e).context("rendering a page failed"))
    }
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::SignInFirst { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Invalid(_) | AppError::BadInput { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Throttled { .. } | AppError::Limited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(..) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Unauthorized | AppError::SignInFirst { .. } => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf",
            AppError::Invalid(_) | AppError::BadInput { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::Throttled { .. } | AppError::Limited(_) => "throttled",
            AppError::Internal(..) => "internal",
        }
    }

    /// What the person is told. Never the internal cause, never anyone's identity.
    fn public_message(&self) -> String {
        match self {
            AppError::NotFound => "There is nothing at this address.".into(),
            AppError::Unauthorized | AppError::SignInFirst { .. } => {
                "Please sign in to continue.".into()
            }
            AppError::Forbidden => "Your account does not have access to this.".into(),
            AppError::Csrf => "This form has expired or was sent from another site. Go back, reload the page and try again.".into(),
            AppError::Invalid(i) => i.to_string(),
            AppError::BadInput { message, .. } => message.clone(),
            AppError::Conflict(c) => c.sentence().to_string(),
            AppError::Throttled { minutes } => format!(
                "Too many unsuccessful attempts. Please wait {minutes} minute{} and try again.",
                if *minutes == 1 { "" } else { "s" }
            ),
            AppError::Limited(m) => m.clone(),
            AppError::Internal(..) => "Something went wrong on our side. Please try again in a moment; if it keeps happening, tell the programme's administrators.".into(),
        }
    }

    fn log(&self) {
        if let AppError::Internal(e, during) = self {
            tracing::error!(parent: during, error = format!("{e:#}"), "request failed");
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        match &self {
            AppError::Unauthorized | AppError::SignInFirst { next: None } => {
                return Redirect::to("/signin").into_response();
            }
            AppError::SignInFirst { next: Some(next) } => {
                let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
                return Redirect::to(&format!("/signin?next={next}")).into_response();
            }
            _ => {}
        }
        let status = self.status();
        error_page(status, &self.public_message())
    }
}

/// A plain page for errors: it must render even when the database is what failed, so it
/// uses no template data beyond the message.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
<body><main id=\"main\" class=\"wrap narrow\"><h1>{title}</h1><p role=\"alert\">{}</p>\
<p><a href=\"/\">Go to the home page</a></p></main></body></html>",
        askama_escape(message)
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The JSON form of an error, for `/api/`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable machine-readable code: not_found, unauthorized, forbidden, invalid, conflict, throttled, internal.
    pub code: &'static str,
    pub message: String,
    /// The input field at fault, for `invalid`, and the one a `conflict` concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `invalid`: every mistake found, in the order of the input (`field` and
    /// `message` above are the first, and all the sentences).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log();
        let field = match &e {
            AppError::Invalid(i) => Some(i.field().to_string()),
            AppError::BadInput { field, .. } => Some(field.clone()),
            AppError::Conflict(c) => field_of(*c).map(str::to_string),
            _ => None,
        };
        let errors = match &e {
            AppError::Invalid(i) => i
                .mistakes()
                .iter()
                .map(|m| FieldError {
                    field: m.field.to_string(),
                    message: m.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut resp = (
            e.status(),
            Json(ErrorBody {
                error: ErrorDetail {
                    code: e.code(),
                    message: e.public_message(),
                    field,
                    errors,
                },
            }),
        )
            .into_response();
        if matches!(e, AppError::Unauthorized | AppError::SignInFirst { .. }) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

pub type PageResult<T = Response> = Result<T, AppError>;
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// What the log receives, as one string.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A database failure inside an action is logged, once the page answers, inside the
    /// request's and the action's spans: the line says which action failed.
    #[test]
    fn a_failure_is_logged_inside_the_action_it_happened_in() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = tracing::info_span!("request", request_id = "r-1");
            let failed: crate::app::Error = request.in_scope(|| {
                let action = tracing::info_span!("accept_offer", helper = 7);
                action.in_scope(|| StoreError::Database(sqlx::Error::PoolTimedOut).into())
            });
            // The action has returned; the answer is made outside its span.
            AppError::from(failed).log();
        });
        let log = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
        assert!(log.contains("request failed"), "{log}");
        assert!(
            log.contains("request{request_id=\"r-1\"}:accept_offer{helper=7}"),
            "{log}"
        );
        assert!(log.contains("database request failed"), "{log}");
    }
}
