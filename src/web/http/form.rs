//! The one extractor for form posts. A form struct holds what the page sends, as text,
//! and a field that repeats (checkboxes: `topics=a&topics=b`) fills a `Vec`, which axum's
//! own `Form` (serde_urlencoded) cannot do. The struct then becomes its typed input with
//! `TryFrom`, where each mistake is named with its field.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::error::AppError;

pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        let unreadable = |message: &str| AppError::BadInput {
            field: "form".into(),
            message: message.into(),
        };
        if !is_form {
            return Err(unreadable(
                "This address takes a form (application/x-www-form-urlencoded).",
            ));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| unreadable("The form could not be read; send it again."))?;
        // Form structs are text, so what fails here is the form's shape, not a value
        // someone typed: nothing typed is echoed.
        serde_html_form::from_bytes(&body).map(Form).map_err(|_| {
            unreadable("The form could not be read; reload the page and send it again.")
        })
    }
}
