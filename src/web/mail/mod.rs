//! Mail on the web: a member's choice of optional messages, the coordinators' message
//! texts, one-click unsubscribe, and the administrators' outbox.

mod messages;
mod outbox;

use axum::Router;
use axum::routing::{get, post};

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account/mail", post(messages::save_choices))
        .route("/manage/messages", get(messages::list))
        .route(
            "/manage/messages/{kind}",
            get(messages::edit_form).post(messages::edit),
        )
        .route("/admin/outbox", get(outbox::show))
        .route("/admin/outbox/test", post(messages::send_test))
        .route("/admin/outbox/{id}/retry", post(outbox::retry))
        .route("/admin/outbox/{id}/cancel", post(outbox::cancel))
}

/// Reached from mail programs without a session: the link's secret is the authority, so
/// these routes sit outside the CSRF layer.
pub fn unsubscribe_routes() -> Router<AppState> {
    Router::new().route(
        "/unsubscribe/{secret}",
        get(messages::unsubscribe_page).post(messages::unsubscribe),
    )
}
