//! The consent and waiver text guardians agree to for students' events. Coordinators
//! change it here; each change is a new version, earlier ones stay readable, and every
//! consent records the version that was agreed to.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::domain::Invalid;
use crate::domain::events::ConsentText;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, form_status, render_status};

#[derive(Template)]
#[template(path = "events/manage/consent.html")]
struct View {
    l: Layout,
    current: ConsentText,
    typed: String,
    error: Option<Invalid>,
}

impl View {
    fn err(&self, field: &str) -> Option<String> {
        crate::web::http::layout::field_error(&self.error, field)
    }
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
