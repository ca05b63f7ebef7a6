//! The web layer: HTML pages, the JSON API, and what wraps every request (request ids and
//! logging, metrics, security headers, CSRF, panics turned into error pages).

mod account;
mod admin;
pub mod api;
mod api_cases;
mod api_events;
mod api_mail;
mod api_support;
mod audit;
pub mod auth;
mod cases;
mod check_in;
mod consent;
mod cookies;
mod csrf;
mod error;
mod event_exports;
mod events;
mod events_manage;
mod helpers;
mod input;
mod layout;
mod manage;
mod messages;
pub mod observe;
mod outbox;
mod resources;
mod series_manage;
mod site;
mod support;
mod volunteers;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

pub use error::{ApiError, AppError};
pub use observe::Metrics;

use crate::app::App;

/// Settings the web layer needs, fixed at start-up.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub cookies_secure: bool,
    pub proxy_trust: auth::ProxyTrust,
    /// Where messages go, in words, for the outbox page.
    pub mail_route: String,
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub web: Arc<WebSettings>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AppState) -> Router {
    let html = Router::new()
        .route("/", get(site::home))
        .route("/programmes", get(site::programmes))
        .route("/programmes/{slug}", get(site::series))
        .route("/programmes/{slug}/feed.ics", get(events::series_feed))
        .route("/events", get(events::list))
        .route("/events/feed.ics", get(events::programme_feed))
        .route("/events/{id}", get(events::show))
        .route("/events/{id}/register", post(events::register))
        .route(
            "/registration/confirm/{secret}",
            get(events::confirm_page).post(events::confirm),
        )
        .route("/registration/{secret}", get(events::manage))
        .route("/registration/{secret}/cancel", post(events::cancel))
        .route("/registration/{secret}/accept", post(events::accept))
        .route("/calendar/{token}", get(events::personal_feed))
        .route("/account/events", get(events::mine))
        .route("/account/events/feed", post(events::renew_feed))
        .route(
            "/checkin/{token}",
            get(check_in::scan).post(check_in::scan_confirm),
        )
        .route(
            "/manage/series",
            get(series_manage::list).post(series_manage::add),
        )
        .route("/manage/series/{slug}", post(series_manage::update))
        .route("/manage/events", get(events_manage::list))
        .route("/manage/events/counts.csv", get(event_exports::counts_csv))
        .route(
            "/manage/events/new",
            get(events_manage::new_form).post(events_manage::create),
        )
        .route(
            "/manage/events/{id}",
            get(events_manage::edit_form).post(events_manage::update),
        )
        .route(
            "/manage/events/{id}/cancel",
            post(events_manage::cancel_event),
        )
        .route("/manage/events/{id}/draw", post(events_manage::draw))
        .route(
            "/manage/events/{id}/registrations",
            get(events_manage::registrations).post(events_manage::add_registration),
        )
        .route(
            "/manage/events/{id}/registrations.csv",
            get(event_exports::registrations_csv),
        )
        .route(
            "/manage/events/{id}/registrations/{rid}/check-in",
            post(events_manage::check_in),
        )
        .route(
            "/manage/events/{id}/registrations/{rid}/place",
            post(events_manage::give_place),
        )
        .route(
            "/manage/events/{id}/registrations/{rid}/cancel",
            post(events_manage::cancel_registration),
        )
        .route(
            "/manage/events/{id}/volunteers",
            post(volunteers::add_volunteer),
        )
        .route(
            "/manage/events/{id}/volunteers/{account}/remove",
            post(volunteers::remove_volunteer),
        )
        .route("/manage/consent", get(consent::show).post(consent::save))
        .route("/manage/volunteers/policy", post(volunteers::save_policy))
        .route(
            "/manage/volunteers",
            get(volunteers::volunteers).post(volunteers::save_clearance),
        )
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signout", post(account::signout))
        .route("/account", get(account::show))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/account/mail", post(messages::save_choices))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/setup/{secret}",
            get(account::setup_form).post(account::setup),
        )
        .route(
            "/support/request",
            get(support::request_form).post(support::submit),
        )
        .route(
            "/support/status",
            get(support::status_form).post(support::status),
        )
        .route("/support/withdraw", post(support::withdraw))
        .route("/support/feedback", post(support::feedback))
        .route("/support/choose", post(support::choose))
        .route(
            "/support/refer",
            get(support::refer_form).post(support::refer),
        )
        .route("/support/mine", get(support::mine))
        .route("/support/queue", get(support::queue))
        .route(
            "/support/settings",
            get(support::settings_form).post(support::save_settings),
        )
        .route(
            "/support/queue/plan",
            get(helpers::plan).post(cases::offer_plan),
        )
        .route("/support/queue/{id}", get(helpers::case))
        .route("/support/queue/{id}/offer", post(cases::offer))
        .route(
            "/support/queue/{id}/offer-next",
            post(cases::offer_next_page),
        )
        .route("/support/queue/{id}/reveal", post(helpers::reveal))
        .route("/support/queue/{id}/take-back", post(cases::take_back))
        .route("/helper/cases/{id}/escalate", post(cases::escalate))
        .route("/helper/cases", get(cases::helper_cases))
        .route("/helper/cases/{id}", get(cases::case))
        .route("/helper/cases/{id}/contacts", post(cases::log_contact))
        .route("/helper/cases/{id}/close", post(cases::close))
        .route("/helper/offers/{id}/accept", post(cases::accept))
        .route("/helper/offers/{id}/decline", post(cases::decline))
        .route("/support/helpers", get(helpers::corps))
        .route(
            "/support/helpers/{id}/training",
            post(helpers::add_training),
        )
        .route(
            "/helper/profile",
            get(helpers::profile_form).post(helpers::save_profile),
        )
        .route("/helpers", get(helpers::public))
        .route(
            "/helpers/apply",
            get(helpers::apply_form).post(helpers::apply),
        )
        .route("/support/applications/{id}", post(helpers::decide))
        .route("/resources", get(resources::public))
        .route(
            "/support/resources",
            get(resources::manage).post(resources::add),
        )
        .route("/support/resources/{key}", post(resources::update))
        .route("/manage/pages", get(manage::pages))
        .route(
            "/manage/pages/{slug}",
            get(manage::edit_form).post(manage::edit),
        )
        .route("/manage/messages", get(messages::list))
        .route(
            "/manage/messages/{kind}",
            get(messages::edit_form).post(messages::edit),
        )
        .route(
            "/manage/settings",
            get(manage::settings_form).post(manage::save_settings),
        )
        .route(
            "/admin/accounts",
            get(admin::accounts).post(admin::create_account),
        )
        .route("/admin/accounts/{id}", post(admin::update_account))
        .route("/admin/audit", get(audit::show))
        .route("/admin/outbox", get(outbox::show))
        .route("/admin/outbox/test", post(messages::send_test))
        .route("/admin/outbox/{id}/retry", post(outbox::retry))
        .route("/admin/outbox/{id}/cancel", post(outbox::cancel))
        .route("/{slug}", get(site::page))
        .layer(from_fn_with_state(state.clone(), csrf::layer));

    // Reached from mail programs without a session: the link's secret is the authority.
    let unsubscribe = Router::new()
        .route(
            "/unsubscribe/{secret}",
            get(messages::unsubscribe_page).post(messages::unsubscribe),
        )
        .layer(axum::middleware::from_fn(csrf::exempt));

    let ops = Router::new()
        .route("/healthz", get(site::healthz))
        .route("/readyz", get(site::readyz))
        .route("/metrics", get(observe::metrics))
        .route("/static/style.css", get(site::stylesheet))
        .route("/theme.css", get(site::theme));

    Router::new()
        .merge(html)
        .merge(unsubscribe)
        .merge(ops)
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
