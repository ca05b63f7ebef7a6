//! What every page and API call shares, whatever its capability: the extractors that
//! prove who is asking and return their role's handle (`auth`), the form extractor,
//! cookies, CSRF, the error pages and JSON errors, input hygiene, the page layout, and
//! request observation.

pub mod auth;
pub mod cookies;
pub mod csrf;
pub mod csv;
pub mod error;
pub mod fields;
pub mod form;
pub mod input;
pub mod layout;
pub mod observe;

/// A path with one `{id}`, of the entity the route names.
#[derive(serde::Deserialize)]
pub struct IdPath<T> {
    pub id: T,
}
