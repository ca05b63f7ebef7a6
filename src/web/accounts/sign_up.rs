//! "Create an account", where the programme allows it: the address first, then, from
//! the e-mailed link, the name and password.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::account::{user_agent, with_new_session};
use crate::app::Error;
use crate::domain::Invalid;
use crate::web::AppState;
use crate::web::http::auth::ClientAddr;
use crate::web::http::error::PageResult;
use crate::web::http::form::Form;
use crate::web::http::layout::{Ctx, Layout, field_error, notice, render, render_status};

#[derive(Template)]
#[template(path = "accounts/sign_up.html")]
struct SignUpView {
    l: Layout,
    domains: String,
    email: String,
    error: Option<Invalid>,
}

impl SignUpView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

#[derive(Template)]
#[template(path = "accounts/sign_up_finish.html")]
struct FinishView {
    l: Layout,
    action: String,
    email: String,
    display_name: String,
    error: Option<Invalid>,
}

impl FinishView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

fn sign_up_page(state: &AppState, ctx: Ctx, email: String, error: Option<Invalid>) -> PageResult {
    let public = state.app.public();
    if !public.sign_up_open() {
        return Err(crate::web::http::error::AppError::NotFound);
    }
    let view = SignUpView {
        l: ctx.layout("Create an account"),
        domains: public.sign_up_domains().join(", "),
        email,
        error,
    };
    if view.error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
    } else {
        render(&view)
    }
}

pub async fn form(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    if ctx.account.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    sign_up_page(&state, ctx, String::new(), None)
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    email: String,
}

pub async fn ask(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientAddr(address): ClientAddr,
    Form(form): Form<SignUpForm>,
) -> PageResult {
    match state
        .app
        .public()
        .request_sign_up(&form.email, &address)
        .await
    {
        Ok(()) => {}
        Err(Error::Invalid(e)) => {
            return sign_up_page(&state, ctx, form.email.trim().to_string(), Some(e));
        }
        Err(e) => return Err(e.into()),
    }
    // The same words whether or not the address has an account.
    notice(
        ctx,
        "Check your e-mail",
        "We have sent a message to that address. Follow its link within 24 hours to choose your name and password; the account is made then. Nothing arrived? Look in the junk folder, check the address, or write to the programme.",
        None,
        "/signin",
        "Back to sign in",
    )
}

fn finish_page(
    ctx: Ctx,
    secret: &str,
    email: String,
    display_name: String,
    error: Option<Invalid>,
) -> PageResult {
    let view = FinishView {
        l: ctx.layout("Choose your name and password"),
        action: format!("/signup/{secret}"),
        email,
        display_name,
        error,
    };
    if view.error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
    } else {
        render(&view)
    }
}

/// Following the link shows a form and changes nothing: a mail scanner that opens links
/// makes no account.
pub async fn finish_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let email = state.app.public().sign_up_link(&secret).await?;
    finish_page(ctx, &secret, email, String::new(), None)
}

#[derive(Deserialize)]
pub struct FinishForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn finish(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<FinishForm>,
) -> PageResult {
    let public = state.app.public();
    let email = public.sign_up_link(&secret).await?;
    match public
        .finish_sign_up(
            &secret,
            &form.display_name,
            &form.password,
            &form.confirm,
            crate::web::http::cookies::get(&headers, crate::web::http::cookies::SESSION),
            user_agent(&headers),
        )
        .await
    {
        Ok(session) => Ok(with_new_session(
            &state,
            &session.secret,
            Redirect::to("/account").into_response(),
        )),
        Err(Error::Invalid(e)) if !e.mistakes().iter().any(|m| m.field == "link") => {
            finish_page(ctx, &secret, email, form.display_name, Some(e))
        }
        Err(e) => Err(e.into()),
    }
}
