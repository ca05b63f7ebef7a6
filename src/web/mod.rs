//! The web layer: HTML pages, the JSON API, and what wraps every request (request ids and
//! logging, metrics, security headers, CSRF, panics turned into error pages).

pub mod accounts;
pub mod api;
mod audit;
mod content;
mod events;
mod home;
pub mod http;
mod mail;
mod pledge;
mod site;
mod support;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;

pub use http::error::{ApiError, AppError};
pub use http::observe::Metrics;
use http::{csrf, error, input, observe};

use crate::app::App;

/// Settings the web layer needs, fixed at start-up.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub cookies_secure: bool,
    pub proxy_trust: http::auth::ProxyTrust,
    /// Where messages go, in words, for the outbox page.
    pub mail_route: String,
    /// Built once at start-up (`observe::content_security_policy`).
    pub csp: axum::http::HeaderValue,
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebSettings>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AppState) -> Router {
    // Every HTML route sits under the CSRF layer, so no form can forget it.
    let html = Router::new()
        .merge(site::routes())
        .merge(accounts::routes())
        .merge(content::routes())
        .merge(mail::routes())
        .merge(support::routes())
        .merge(events::routes())
        .merge(audit::routes())
        .merge(home::routes())
        .merge(pledge::routes())
        .layer(from_fn_with_state(state.clone(), csrf::layer));
    let unsubscribe = mail::unsubscribe_routes().layer(axum::middleware::from_fn(csrf::exempt));

    Router::new()
        .merge(html)
        .merge(unsubscribe)
        .merge(site::ops_routes())
        .merge(api::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(input::refuse_control_characters))
        .layer(from_fn_with_state(state.clone(), observe::layer))
        .layer(from_fn_with_state(state.clone(), observe::security_headers))
        .layer(CatchPanicLayer::custom(on_panic))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(AppError::NotFound).into_response()
    } else {
        AppError::NotFound.into_response()
    }
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error::error_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again in a moment.",
    )
}
