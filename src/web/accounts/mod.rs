//! Accounts on the web: signing in and out (with a password or at the institution's
//! identity provider), one's own account (password, API tokens),
//! first-time setup from an administrator's link and "Forgotten your password?", and the
//! administrators' account list.

mod account;
mod admin;
mod import;
mod sessions;
mod sign_up;
mod single_sign_on;

use axum::Router;
use axum::routing::{get, post};

use crate::web::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(account::signin_form).post(account::signin))
        .route("/signin/oidc", get(single_sign_on::start))
        // The path the provider is told to send people back to (`oidc::CALLBACK_PATH`).
        .route("/signin/oidc/callback", get(single_sign_on::callback))
        // `app::sign_in::TRUSTED_HEADER_PATH`: the one route a SAML proxy's headers count on.
        .route("/signin/institution", get(single_sign_on::institution))
        .route("/signout", post(account::signout))
        .route("/account", get(account::show))
        .route(
            "/account/password",
            get(account::password_form).post(account::change_password),
        )
        .route("/account/developers", get(account::developers))
        .route("/account/sessions", get(sessions::list))
        .route("/account/sessions/end-others", post(sessions::end_others))
        .route("/account/sessions/{handle}/end", post(sessions::end_one))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/password-reset",
            get(account::reset_form).post(account::reset),
        )
        .route("/signup", get(sign_up::form).post(sign_up::ask))
        .route(
            "/signup/{secret}",
            get(sign_up::finish_form).post(sign_up::finish),
        )
        .route(
            "/setup/{secret}",
            get(account::setup_form).post(account::setup),
        )
        .route(
            "/admin/accounts",
            get(admin::accounts).post(admin::create_account),
        )
        .route("/admin/accounts/{id}", post(admin::update_account))
        .route(
            "/admin/import",
            get(import::form)
                .post(import::check)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::web::http::csrf::MAX_UPLOAD_BYTES,
                )),
        )
        .route(
            "/admin/import/confirm",
            post(import::import).layer(axum::extract::DefaultBodyLimit::max(
                crate::web::http::csrf::MAX_UPLOAD_BYTES,
            )),
        )
}
