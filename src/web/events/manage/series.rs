//! Coordinators' programme series: add one, change its words. A series' address never
//! changes once made, so its page and calendar feed keep working for subscribers.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};

use crate::domain::Invalid;
use crate::domain::series::{Series, SeriesInput};
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::layout::{Ctx, Layout, form_status, render_status};

#[derive(Template)]
#[template(path = "events/manage/series.html")]
struct View {
    l: Layout,
    series: Vec<Series>,
    error: Option<Invalid>,
    /// What was typed, sent back with its mistakes: into a series' form (its address)
    /// or the form that adds one ("").
    typed: (String, SeriesInput),
}

impl View {
    fn err(&self, field: &str) -> Option<String> {
        crate::web::http::layout::field_error(&self.error, field)
    }

    /// A series as its form shows it: as typed, if that form came back.
    fn shown<'a>(&'a self, s: &'a Series) -> SeriesInput {
        if self.typed.0 == s.slug {
            return self.typed.1.clone();
        }
        SeriesInput {
            slug: s.slug.clone(),
            title: s.title.clone(),
            summary: s.summary.clone(),
            body_md: s.body_md.clone(),
            audience: s.audience.clone(),
        }
    }

    fn adding(&self) -> &SeriesInput {
        &self.typed.1
    }
}

async fn page(
    coordinator: &Coordinator,
    ctx: Ctx,
    error: Option<Invalid>,
    typed: (String, SeriesInput),
) -> PageResult {
    let status = form_status(&error);
    render_status(
        status,
        &View {
            l: ctx.layout("Programmes"),
            series: coordinator.public().series_list().await?,
            error,
            typed,
        },
    )
}

pub async fn list(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    page(&coordinator, ctx, None, Default::default()).await
}

pub async fn add(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(typed): Form<SeriesInput>,
) -> PageResult {
    let result = match typed.parse() {
        Ok(s) => coordinator.create_series(&s).await.map_err(AppError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(s) => Ok(Redirect::to(&format!("/programmes/{}", s.slug)).into_response()),
        Err(AppError::Invalid(e)) => page(&coordinator, ctx, Some(e), (String::new(), typed)).await,
        Err(e) => Err(e),
    }
}

pub async fn update(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(slug): Path<String>,
    Form(mut typed): Form<SeriesInput>,
) -> PageResult {
    typed.slug = slug.clone();
    match typed.parse() {
        Ok(s) => {
            coordinator.update_series(&slug, &s).await?;
            Ok(Redirect::to("/manage/series").into_response())
        }
        Err(e) => {
            let e = crate::web::http::fields::in_row(e, &slug);
            page(&coordinator, ctx, Some(e), (slug, typed)).await
        }
    }
}
