//! The consent and waiver text guardians agree to for students' events. Coordinators
//! change it here; each change is a new version, earlier ones stay readable, and every
//! consent records the version that was agreed to.

use askama::Template;
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::AppState;
use super::api::ApiJson;
use super::auth::{Api, Coordinator};
use super::error::{ApiResult, ErrorBody, PageResult};
use super::layout::{Ctx, Layout, form_status, render_status};
use crate::domain::Invalid;
use crate::domain::events::ConsentText;

#[derive(Template)]
#[template(path = "manage_consent.html")]
struct View {
    l: Layout,
    current: ConsentText,
    typed: String,
    error: Option<Invalid>,
}

async fn page(
    coordinator: &Coordinator,
    ctx: Ctx,
    typed: Option<String>,
    error: Option<Invalid>,
) -> PageResult {
    let current = coordinator.public().consent_text().await?;
    let status = form_status(&error);
    render_status(
        status,
        &View {
            l: ctx.layout("Consent and waiver"),
            typed: typed.unwrap_or_else(|| current.text.clone()),
            current,
            error,
        },
    )
}

pub async fn show(ctx: Ctx, coordinator: Coordinator) -> PageResult {
    page(&coordinator, ctx, None, None).await
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ConsentIn {
    #[serde(default)]
    pub text: String,
}

pub async fn save(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Form(f): Form<ConsentIn>,
) -> PageResult {
    match c.replace_consent_text(&f.text).await {
        Ok(_) => Ok(Redirect::to("/manage/consent").into_response()),
        Err(crate::app::Error::Invalid(e)) => page(&c, ctx, Some(f.text), Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

/// The consent and waiver text guardians agree to now, with its version.
#[utoipa::path(get, path = "/api/v1/consent", tag = "events",
    responses((status = 200, body = ConsentText)))]
pub async fn get_current(State(state): State<AppState>) -> ApiResult<Json<ConsentText>> {
    Ok(Json(state.app.public().consent_text().await?))
}

/// Replaces the consent text (coordinators); it gets a new version.
#[utoipa::path(put, path = "/api/v1/consent", tag = "events", security(("bearer" = [])),
    request_body = ConsentIn,
    responses((status = 200, body = ConsentText), (status = 422, body = ErrorBody)))]
pub async fn put_current(
    State(_state): State<AppState>,
    Api(coordinator): Api<Coordinator>,
    ApiJson(body): ApiJson<ConsentIn>,
) -> ApiResult<Json<ConsentText>> {
    Ok(Json(coordinator.replace_consent_text(&body.text).await?))
}
