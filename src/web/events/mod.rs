//! Events on the web: the public listing, pages and feeds (`listing`), registering and a
//! registrant's own pages (`registration`), check-in by scanned code, and the
//! coordinators' side under `/manage` (`manage`).

mod check_in;
pub mod listing;
pub mod manage;
mod registration;

use axum::Router;
use axum::routing::{get, post};

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/programmes/{slug}/feed.ics", get(listing::series_feed))
        .route("/events", get(listing::list))
        .route("/events/feed.ics", get(listing::programme_feed))
        .route("/events/{id}", get(listing::show))
        .route("/events/{id}/register", post(registration::register))
        .route(
            "/registration/confirm/{secret}",
            get(registration::confirm_page).post(registration::confirm),
        )
        .route("/registration/{secret}", get(registration::manage))
        .route("/registration/{secret}/cancel", post(registration::cancel))
        .route("/registration/{secret}/accept", post(registration::accept))
        .route("/calendar/{token}", get(registration::personal_feed))
        .route("/account/events", get(registration::mine))
        .route("/account/events/feed", post(registration::renew_feed))
        .route(
            "/checkin/{token}",
            get(check_in::scan).post(check_in::scan_confirm),
        )
        .merge(manage::routes())
}
