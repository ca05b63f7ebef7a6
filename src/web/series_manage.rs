//! Coordinators' programme series: add one, change its words. A series' address never
//! changes once made, so its page and calendar feed keep working for subscribers.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};

use super::AppState;
use super::auth::Coordinator;
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, form_status, render_status};
use crate::domain::Invalid;
use crate::domain::series::{Series, SeriesInput};
use crate::store::StoreError;

#[derive(Template)]
#[template(path = "manage_series.html")]
struct View {
    l: Layout,
    series: Vec<Series>,
    error: Option<Invalid>,
    typed: SeriesInput,
}

async fn page(
    state: &AppState,
    ctx: Ctx,
    error: Option<Invalid>,
    typed: SeriesInput,
) -> PageResult {
    let status = form_status(&error);
    render_status(
        status,
        &View {
            l: ctx.layout("Programmes"),
            series: state.store.list_series().await?,
            error,
            typed,
        },
    )
}

pub async fn list(State(state): State<AppState>, ctx: Ctx, _: Coordinator) -> PageResult {
    page(&state, ctx, None, SeriesInput::default()).await
}

fn conflict_on_slug(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(m) => Invalid::new("slug", m).into(),
        e => e.into(),
    }
}

pub async fn add(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Coordinator,
    Form(typed): Form<SeriesInput>,
) -> PageResult {
    let result = match typed.parse() {
        Ok(s) => state
            .store
            .create_series(&s)
            .await
            .map_err(conflict_on_slug),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(s) => Ok(Redirect::to(&format!("/programmes/{}", s.slug)).into_response()),
        Err(AppError::Invalid(e)) => page(&state, ctx, Some(e), typed).await,
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Coordinator,
    Path(slug): Path<String>,
    Form(mut typed): Form<SeriesInput>,
) -> PageResult {
    typed.slug = slug.clone();
    match typed.parse() {
        Ok(s) => {
            state.store.update_series(&slug, &s).await?;
            Ok(Redirect::to("/manage/series").into_response())
        }
        Err(e) => page(&state, ctx, Some(e), SeriesInput::default()).await,
    }
}
