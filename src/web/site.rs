//! The public site: home, the programme's pages, programmes, and operational endpoints.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::domain::accounts::Role;
use crate::domain::content::Page;
use crate::domain::series::Series;
use crate::web::AppState;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, render};

#[derive(Template)]
#[template(path = "site/page.html")]
struct PageView {
    l: Layout,
    page: Page,
    body_html: String,
    show_series: bool,
    series: Vec<Series>,
    can_edit: bool,
}

async fn show_page(state: &AppState, ctx: Ctx, slug: &str) -> PageResult {
    let page = state.app.public().page(slug).await?;
    let show_series = slug == "home";
    let series = if show_series {
        state.app.public().series_list().await?
    } else {
        Vec::new()
    };
    let can_edit = ctx
        .account
        .as_ref()
        .is_some_and(|a| a.has(Role::Coordinator));
    let title = if show_series {
        "Home".to_string()
    } else {
        page.title.clone()
    };
    render(&PageView {
        l: ctx.layout(title),
        body_html: page.body_html(),
        page,
        show_series,
        series,
        can_edit,
    })
}

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    show_page(&state, ctx, "home").await
}

pub async fn page(State(state): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> PageResult {
    if slug == "home" {
        return Ok(axum::response::Redirect::permanent("/").into_response());
    }
    show_page(&state, ctx, &slug).await
}

#[derive(Template)]
#[template(path = "site/programmes.html")]
struct ProgrammesView {
    l: Layout,
    series: Vec<Series>,
}

pub async fn programmes(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let series = state.app.public().series_list().await?;
    render(&ProgrammesView {
        l: ctx.layout("Programmes"),
        series,
    })
}

#[derive(Template)]
#[template(path = "site/series.html")]
struct SeriesView {
    l: Layout,
    series: Series,
    body_html: String,
    events: Vec<crate::domain::events::Event>,
}

pub async fn series(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> PageResult {
    let (series, events) = state.app.public().series(&slug).await?;
    render(&SeriesView {
        l: ctx.layout(series.title.clone()),
        body_html: series.body_html(),
        series,
        events,
    })
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.public().ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
        .into_response()
}

pub async fn theme(State(state): State<AppState>) -> PageResult {
    let css = state.app.public().branding().await?.theme_css();
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        css,
    )
        .into_response())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/programmes", get(programmes))
        .route("/programmes/{slug}", get(series))
        .route("/{slug}", get(page))
}

/// Probes, metrics and the stylesheets: no session, no CSRF, nothing personal.
pub fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::web::http::observe::metrics))
        .route("/static/style.css", get(stylesheet))
        .route("/theme.css", get(theme))
}
