//! One check that every request passes before any handler: no control character (NUL
//! above all, which PostgreSQL cannot store) in the path, the query, a form or a JSON body,
//! except the line breaks and tabs of multi-line text. A request that has one is refused
//! with 422 and the name of the field, as a page or as a JSON error; handlers and the store
//! never see it. One-line fields (names, titles) refuse line breaks too, in the domain.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, AppError};
use crate::domain::allowed_in_text;

/// Forms are small (the CSRF layer takes at most 512 KiB); JSON bodies as axum's default.
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    match checked(req).await {
        Ok(req) => next.run(req).await,
        Err(e) if api => ApiError(e).into_response(),
        Err(e) => e.into_response(),
    }
}

fn bad(field: &str) -> AppError {
    let field: String = field.chars().filter(|c| !c.is_control()).take(64).collect();
    let field = if field.is_empty() {
        "input".to_string()
    } else {
        field
    };
    AppError::BadInput {
        message: format!(
            "'{field}' contains a control character (such as NUL) that cannot be kept; remove it and send again."
        ),
        field,
    }
}

async fn checked(req: Request) -> Result<Request, AppError> {
    let path = req.uri().path();
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if decoded.chars().any(char::is_control) {
        return Err(bad("path"));
    }
    if let Some(q) = req.uri().query()
        && let Some(field) = first_bad_pair(q.as_bytes(), |c| !c.is_control())
    {
        return Err(bad(&field));
    }
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(req);
    }
    let kind = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase())
        .unwrap_or_default();
    let form = kind.starts_with("application/x-www-form-urlencoded");
    let json = kind.starts_with("application/json") || kind.contains("+json");
    if !form && !json {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| AppError::BadInput {
            field: "body".into(),
            message: format!(
                "The request is too large: at most {} MiB.",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
        })?;
    let fault = if form {
        first_bad_pair(&bytes, allowed_in_text)
    } else {
        first_bad_json(&bytes)
    };
    match fault {
        Some(field) => Err(bad(&field)),
        None => Ok(Request::from_parts(parts, Body::from(bytes))),
    }
}

/// The name of the first `key=value` pair whose key or value has a character `ok` refuses.
fn first_bad_pair(raw: &[u8], ok: impl Fn(char) -> bool) -> Option<String> {
    url::form_urlencoded::parse(raw)
        .find(|(k, v)| k.chars().any(char::is_control) || !v.chars().all(&ok))
        .map(|(k, _)| k.into_owned())
}

/// The place (`children[0].name`) of the first JSON string with a refused character. JSON
/// can only carry control characters escaped (`\u0000`), so most bodies skip the parse.
fn first_bad_json(raw: &[u8]) -> Option<String> {
    let may_have = raw.windows(2).any(|w| w == b"\\u" || w[0] == 0xC2) || raw.contains(&0x7F);
    if !may_have {
        return None;
    }
    // A body that is not JSON is the handler's to refuse, with its own message.
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let mut at = Vec::new();
    bad_in_value(&value, &mut at).then(|| at.join(""))
}

fn bad_in_value(v: &serde_json::Value, at: &mut Vec<String>) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => !s.chars().all(allowed_in_text),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(format!("[{i}]"));
                if bad_in_value(item, at) {
                    return true;
                }
                at.pop();
            }
            false
        }
        Value::Object(map) => {
            for (k, item) in map {
                at.push(if at.is_empty() {
                    k.clone()
                } else {
                    format!(".{k}")
                });
                if k.chars().any(char::is_control) || bad_in_value(item, at) {
                    return true;
                }
                at.pop();
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_with_a_control_character_is_named() {
        assert_eq!(
            first_bad_pair(b"email=a%40b.edu&password=x%00y", allowed_in_text).as_deref(),
            Some("password")
        );
        assert_eq!(
            first_bad_pair(b"message=two%0D%0Alines%09tab", allowed_in_text),
            None
        );
        assert_eq!(
            first_bad_pair(b"q=a%1Bb", allowed_in_text).as_deref(),
            Some("q")
        );
        assert_eq!(
            first_bad_json(br#"{"title":"ok","children":[{"name":"x\u0000"}]}"#).as_deref(),
            Some("children[0].name")
        );
        assert_eq!(first_bad_json(br#"{"body_md":"a\nb\u00e9"}"#), None);
        assert_eq!(first_bad_json(b"{\"t\":\"caf\xc3\xa9\"}"), None);
        assert_eq!(
            first_bad_json("{\"t\":\"a\u{85}b\"}".as_bytes()).as_deref(),
            Some("t")
        );
        assert_eq!(first_bad_json(b"not json \\u0000"), None);
    }
}
