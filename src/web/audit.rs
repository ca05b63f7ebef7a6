//! Administrators' view of the audit log: who looked at which request's identity (or
//! drew which lottery), and when, newest first; and the chain's head, to copy somewhere
//! safe. The list names accounts that acted and references what they looked at, never a
//! name from inside it.

use crate::web::http::form::Query;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

use crate::store::{AuditReport, AuditRow};
use crate::web::AppState;
use crate::web::http::auth::Admin;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, render};

const PAGE_SIZE: i64 = 100;

#[derive(Template)]
#[template(path = "audit/log.html")]
struct AuditView {
    l: Layout,
    rows: Vec<AuditRow>,
    report: AuditReport,
    /// The `before` of the next (older) page, if there is one.
    older: Option<i64>,
}

impl AuditView {
    fn action(&self, key: &str) -> &'static str {
        match key {
            "view_identity" => "A helper opened who asked, on their case",
            "coordinator_view_identity" => "A coordinator opened who asked",
            "coordinator_view_identity_refused" => {
                "A coordinator asked to see who asked, and was refused"
            }
            "settings.coordinator_blind_on" => "Coordinator-blind working was switched on",
            "settings.coordinator_blind_off" => "Coordinator-blind working was switched off",
            "coordinator_matching_view" => "A coordinator looked at the matching",
            "safety_escalation" => "A helper raised a safety concern",
            "event.lottery_drawn" => "A lottery was drawn",
            _ => "Other",
        }
    }
    /// A link for references the site has a page for.
    fn link(&self, subject: &str) -> Option<String> {
        subject
            .strip_prefix("support_request:")
            .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
            .map(|id| format!("/support/queue/{id}"))
    }
}

#[derive(Deserialize)]
pub struct Page {
    #[serde(default)]
    before: Option<i64>,
}

pub async fn show(
    State(_state): State<AppState>,
    ctx: Ctx,
    admin: Admin,
    Query(page): Query<Page>,
) -> PageResult {
    let rows = admin.audit_page(page.before, PAGE_SIZE).await?;
    let older = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let report = admin.verify_audit().await?;
    render(&AuditView {
        l: ctx.layout("Audit log"),
        rows,
        report,
        older,
    })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(show))
}
