//! The coordinators' queue, which names no one: a request with its shortlist and reasons,
//! offering it to a helper or the next on the list, taking it back, revealing who asked
//! (audited), and the optimal plan for the whole queue.

use crate::app::support::helpers::RequestView;
use crate::domain::accounts::AccountId;
use crate::domain::ids::RequestId;
use crate::domain::matching::{self, Candidate};
use crate::domain::sla::SlaState;
use crate::domain::support::Identity;
use crate::store::RequestSummary;
use crate::web::AppState;
use crate::web::http::IdPath;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::form::Form;
use crate::web::http::layout::{Ctx, Layout, render};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "support/queue.html")]
struct QueueView {
    l: Layout,
    requests: Vec<(RequestSummary, SlaState, String)>,
    feedback: crate::store::FeedbackSummary,
    now: i64,
}

impl QueueView {
    /// How long a request has waited, in words.
    fn age(&self, r: &RequestSummary) -> String {
        let mins = (self.now - r.created_at).max(0) / 60;
        match mins {
            0..=59 => format!("{mins} min"),
            60..=2879 => format!("{} h", mins / 60),
            _ => format!("{} days", mins / 1440),
        }
    }
}

/// The programme's business hours and the service-level settings in force, or the
/// defaults if the saved ones no longer parse.
pub async fn queue(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    let t = coordinator.now();
    let requests = coordinator
        .queue_with_service_levels()
        .await?
        .into_iter()
        .map(|q| (q.request, q.service, q.due))
        .collect();
    render(&QueueView {
        l: ctx.layout("Support queue"),
        requests,
        feedback: coordinator.feedback_summary().await?,
        now: t,
    })
}

#[derive(Template)]
#[template(path = "support/queue_case.html")]
struct CaseView {
    l: Layout,
    request: RequestSummary,
    candidates: Vec<(String, Candidate)>,
    excluded: Vec<(&'static str, usize)>,
    /// Whether this coordinator may ask to see who asked (open, and not blind unless
    /// escalated).
    can_reveal: bool,
    escalated: bool,
    /// Who asked, once revealed (and audited).
    revealed: Option<(Identity, Option<String>)>,
    /// Coordinator-blind: nothing derived from the person (scores, reasons, who is ruled
    /// out) is shown; the programme matches.
    blind: bool,
}

/// One request, for a coordinator: what it is about (no identity) and the best helpers
/// for it, each with the reasons for their score; and how many were ruled out, and why.
pub async fn case(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
) -> PageResult {
    case_page(&c, ctx, id, None).await
}

/// Shows a coordinator who asked, if the programme's rules allow it now; the view is
/// written to the audit log first.
pub async fn reveal(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
) -> PageResult {
    let (identity, message) = c.reveal(id).await?;
    case_page(&c, ctx, id, identity.map(|i| (i, message))).await
}

async fn case_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    id: RequestId,
    revealed: Option<(Identity, Option<String>)>,
) -> PageResult {
    let RequestView {
        request,
        escalated,
        blind,
    } = coordinator.request(id).await?;
    let can_reveal = request.status.is_open() && revealed.is_none() && (escalated || !blind);
    let (candidates, excluded) = if blind {
        (Vec::new(), Vec::new())
    } else {
        shortlist_with_exclusions(coordinator, id.0).await?
    };
    render(&CaseView {
        l: ctx.layout(format!("Request {}", request.reference)),
        request,
        candidates,
        excluded,
        can_reveal,
        escalated,
        revealed,
        blind,
    })
}

type Shortlist = (Vec<(String, Candidate)>, Vec<(&'static str, usize)>);

/// The best three helpers with their reasons, and how many were ruled out and why: for a
/// programme whose coordinators may know who asked.
async fn shortlist_with_exclusions(
    coordinator: &Coordinator,
    id: i64,
) -> Result<Shortlist, AppError> {
    let crate::app::support::MatchingInputs {
        helpers,
        request: wanted,
        weights,
        policy,
    } = coordinator.matching_inputs(id).await?;
    let t = coordinator.now();
    let list = matching::shortlist(&helpers, &wanted, &weights, policy, t, 3);
    let mut excluded: Vec<(&'static str, usize)> = Vec::new();
    for h in &helpers {
        if let Err(why) = matching::check(h, &wanted, policy, t) {
            match excluded.iter_mut().find(|(l, _)| *l == why.label()) {
                Some((_, n)) => *n += 1,
                None => excluded.push((why.label(), 1)),
            }
        }
    }
    let candidates = list
        .into_iter()
        .map(|c| {
            let name = helpers
                .iter()
                .find(|h| h.id == c.helper)
                .map(|h| h.name.clone())
                .unwrap_or_default();
            (name, c)
        })
        .collect();
    Ok((candidates, excluded))
}

#[derive(Template)]
#[template(path = "support/plan.html")]
struct PlanView {
    l: Layout,
    rows: Vec<(RequestSummary, Option<(String, i64)>)>,
    optimal_total: i64,
    greedy_total: i64,
    greedy_assigned: usize,
    /// Coordinator-blind: who is proposed and the scores are not shown.
    blind: bool,
}

/// The optimal assignment of the whole open queue, for a coordinator to review.
pub async fn plan(State(_state): State<AppState>, ctx: Ctx, c: Coordinator) -> PageResult {
    let blind = c.coordinator_blind().await?;
    let crate::app::support::QueuePlan {
        queue,
        helpers,
        scores,
        optimal,
    } = c.queue_plan().await?;
    let greedy = matching::assign_greedy(&helpers, &scores);
    let rows = queue
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let pick = optimal.helper_of[i]
                .and_then(|h| scores[i][h].map(|s| (helpers[h].name.clone(), s)))
                .filter(|_| !blind && !r.filed_blind);
            (r, pick)
        })
        .collect();
    render(&PlanView {
        l: ctx.layout("Plan for the queue"),
        rows,
        optimal_total: optimal.total,
        greedy_total: greedy.total,
        greedy_assigned: greedy.assigned(),
        blind,
    })
}

pub async fn offer_next_page(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
) -> Result<axum::response::Response, AppError> {
    coordinator.offer_next(id).await?;
    Ok(Redirect::to("/support/queue").into_response())
}

#[derive(Deserialize)]
pub struct OfferForm {
    helper: AccountId,
}

pub async fn offer(
    State(_state): State<AppState>,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
    Form(f): Form<OfferForm>,
) -> Result<axum::response::Response, AppError> {
    c.offer(id, f.helper).await?;
    Ok(Redirect::to("/support/queue").into_response())
}

/// Takes a request back from a helper who accepted but has not made contact, and passes
/// it to the next candidate.
pub async fn take_back(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
) -> Result<axum::response::Response, AppError> {
    coordinator.take_back(id).await?;
    Ok(Redirect::to(&format!("/support/queue/{id}")).into_response())
}

/// Offers every pair of the optimal plan.
pub async fn offer_plan(c: Coordinator) -> Result<axum::response::Response, AppError> {
    c.offer_plan().await?;
    Ok(Redirect::to("/support/queue").into_response())
}
