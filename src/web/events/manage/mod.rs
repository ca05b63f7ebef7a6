//! The coordinators' side of events, under `/manage`: events and their registrants
//! (`events`), CSV exports, series, volunteers and their clearances, and the consent text
//! for events with minors.

pub mod consent;
mod events;
mod exports;
mod series;
mod volunteers;

use axum::Router;
use axum::routing::{get, post};

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/manage/series", get(series::list).post(series::add))
        .route("/manage/series/{slug}", post(series::update))
        .route("/manage/events", get(events::list))
        .route("/manage/events/counts.csv", get(exports::counts_csv))
        .route(
            "/manage/events/new",
            get(events::new_form).post(events::create),
        )
        .route(
            "/manage/events/{id}",
            get(events::edit_form).post(events::update),
        )
        .route("/manage/events/{id}/cancel", post(events::cancel_event))
        .route("/manage/events/{id}/draw", post(events::draw))
        .route(
            "/manage/events/{id}/registrations",
            get(events::registrations).post(events::add_registration),
        )
        .route(
            "/manage/events/{id}/registrations.csv",
            get(exports::registrations_csv),
        )
        .route(
            "/manage/events/{id}/registrations/{rid}/check-in",
            post(events::check_in),
        )
        .route(
            "/manage/events/{id}/registrations/{rid}/place",
            post(events::give_place),
        )
        .route(
            "/manage/events/{id}/registrations/{rid}/cancel",
            post(events::cancel_registration),
        )
        .route(
            "/manage/events/{id}/volunteers",
            post(volunteers::add_volunteer),
        )
        .route(
            "/manage/events/{id}/volunteers/{account}/remove",
            post(volunteers::remove_volunteer),
        )
        .route("/manage/volunteers/policy", post(volunteers::save_policy))
        .route(
            "/manage/volunteers",
            get(volunteers::volunteers).post(volunteers::save_clearance),
        )
        .route("/manage/consent", get(consent::show).post(consent::save))
}
