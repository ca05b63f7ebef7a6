//! Administrators' view of the outbox: what is queued, sent and failed, with the mail
//! server's answer, and the means to send a message again or stop it.

use crate::web::http::form::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::domain::ids::MessageId;
use crate::store::{JobInfo, OutboxEntry, OutboxStatus};
use crate::web::AppState;
use crate::web::http::IdPath;
use crate::web::http::auth::Admin;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::layout::{Ctx, Layout, render};

/// How many messages the page lists.
const PAGE_SIZE: i64 = 200;

#[derive(Template)]
#[template(path = "mail/outbox.html")]
struct OutboxView {
    l: Layout,
    route: String,
    counts: Vec<(OutboxStatus, i64)>,
    filter: Option<OutboxStatus>,
    messages: Vec<OutboxEntry>,
    jobs: Vec<JobInfo>,
}

impl OutboxView {
    fn is_filter(&self, s: &OutboxStatus) -> bool {
        self.filter == Some(*s)
    }
}

#[derive(Deserialize)]
pub struct Filter {
    #[serde(default)]
    status: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    admin: Admin,
    Query(f): Query<Filter>,
) -> PageResult {
    let filter = OutboxStatus::parse(&f.status);
    render(&OutboxView {
        l: ctx.layout("Outbox"),
        route: state.web.mail_route.clone(),
        counts: admin.outbox_counts().await?,
        filter,
        messages: admin.outbox(filter, PAGE_SIZE).await?,
        jobs: admin.jobs().await?,
    })
}

pub async fn retry(
    admin: Admin,
    Path(IdPath { id }): Path<IdPath<MessageId>>,
) -> Result<axum::response::Response, AppError> {
    admin.retry_message(id).await?;
    Ok(Redirect::to("/admin/outbox").into_response())
}

pub async fn cancel(
    admin: Admin,
    Path(IdPath { id }): Path<IdPath<MessageId>>,
) -> Result<axum::response::Response, AppError> {
    admin.cancel_message(id).await?;
    Ok(Redirect::to("/admin/outbox").into_response())
}
