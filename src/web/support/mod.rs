//! Peer support on the web, by who meets it: the request form in steps (`asking`), people
//! who follow their requests (`requests`), coordinators'
//! queue and plan (`queue`), a helper's offers and cases (`cases`), the helper corps
//! (`helpers`), the programme's settings and its resource directory.

mod asking;
mod cases;
mod helpers;
mod queue;
mod requests;
mod resources;
mod settings;

use axum::Router;
use axum::routing::{get, post};

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/support/request",
            get(asking::request_form).post(asking::submit),
        )
        .route(
            "/support/status",
            get(requests::status_form).post(requests::status),
        )
        .route("/support/withdraw", post(requests::withdraw))
        .route("/support/feedback", post(requests::feedback))
        .route("/support/choose", post(requests::choose))
        .route(
            "/support/refer",
            get(requests::refer_form).post(requests::refer),
        )
        .route("/support/mine", get(requests::mine))
        .route("/support/mine/{id}/withdraw", post(requests::withdraw_mine))
        .route("/support/queue", get(queue::queue))
        .route(
            "/support/queue/plan",
            get(queue::plan).post(queue::offer_plan),
        )
        .route("/support/queue/{id}", get(queue::case))
        .route("/support/queue/{id}/offer", post(queue::offer))
        .route(
            "/support/queue/{id}/offer-next",
            post(queue::offer_next_page),
        )
        .route("/support/queue/{id}/reveal", post(queue::reveal))
        .route("/support/queue/{id}/take-back", post(queue::take_back))
        .route(
            "/support/settings",
            get(settings::settings_form).post(settings::save_settings),
        )
        .route("/helper/cases", get(cases::helper_cases))
        .route("/helper/cases/{id}", get(cases::case))
        .route("/helper/cases/{id}/contacts", post(cases::log_contact))
        .route("/helper/cases/{id}/escalate", post(cases::escalate))
        .route("/helper/cases/{id}/close", post(cases::close))
        .route("/helper/offers/{id}/accept", post(cases::accept))
        .route("/helper/offers/{id}/decline", post(cases::decline))
        .route(
            "/helper/profile",
            get(helpers::profile_form).post(helpers::save_profile),
        )
        .route("/helpers", get(helpers::public))
        .route(
            "/helpers/apply",
            get(helpers::apply_form).post(helpers::apply),
        )
        .route("/support/helpers", get(helpers::corps))
        .route(
            "/support/helpers/{id}/training",
            post(helpers::add_training),
        )
        .route("/support/applications/{id}", post(helpers::decide))
        .route("/resources", get(resources::public))
        .route(
            "/support/resources",
            get(resources::manage).post(resources::add),
        )
        .route("/support/resources/{key}", post(resources::update))
}
