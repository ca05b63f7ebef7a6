//! The one extractor for form posts. A form struct holds what the page sends, as text,
//! and a field that repeats (checkboxes: `topics=a&topics=b`) fills a `Vec`, which axum's
//! own `Form` (serde_urlencoded) cannot do. The struct then becomes its typed input with
//! `TryFrom`, where each mistake is named with its field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::error::AppError;

pub struct Form<T>(pub T);

/// One form read as two structs: what the person answered, and how they move through a
/// form of several steps (which step they were on, which button they pressed).
pub struct Both<T, U>(pub T, pub U);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let body = form_body(req, state).await?;
        read(&body).map(Form)
    }
}

impl<T: DeserializeOwned, U: DeserializeOwned, S: Send + Sync> FromRequest<S> for Both<T, U> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let body = form_body(req, state).await?;
        Ok(Both(read(&body)?, read(&body)?))
    }
}

/// A page's query string, read as forms are (a key that repeats fills a `Vec`). One that
/// does not read (a key given twice, a filter typed by hand) is a page that says so, not
/// axum's plain-text 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, AppError> {
        serde_html_form::from_str(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(|_| AppError::BadInput {
                field: "query".into(),
                message: "This address asks for something the page cannot read: follow a link \
                          from the site, or remove what comes after the question mark."
                    .into(),
            })
    }
}

fn unreadable(message: &str) -> AppError {
    AppError::BadInput {
        field: "form".into(),
        message: message.into(),
    }
}

async fn form_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, AppError> {
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(unreadable(
            "This address takes a form (application/x-www-form-urlencoded).",
        ));
    }
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|_| unreadable("The form could not be read; send it again."))
}

/// Form structs are text, so what fails here is the form's shape, not a value someone
/// typed: nothing typed is echoed.
fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_html_form::from_bytes(body)
        .map_err(|_| unreadable("The form could not be read; reload the page and send it again."))
}
