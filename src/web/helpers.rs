//! The helper corps on the web: a helper's own profile, the coordinators' list with
//! training records, the public "meet our helpers" page; and the matching views: a
//! shortlist with reasons for one request, and the optimal plan for the whole queue.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::AppState;
use super::auth::{Coordinator, Helper};
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, field_error, form_status, render, render_status};
use crate::app::support::helpers::RequestView;
use crate::domain::helpers::{HelperProfile, ProfileInput};
use crate::domain::matching::{self, Candidate};
use crate::domain::support::{Appointment, Identity, Topic};
use crate::domain::{Invalid, accounts::AccountId, now};
use crate::store::{Application, HelperSummary, PublicHelper, RequestSummary};

#[derive(Template)]
#[template(path = "helper_profile.html")]
struct ProfileView {
    l: Layout,
    input: ProfileInput,
    saved: bool,
    error: Option<Invalid>,
}

impl ProfileView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
    fn topics(&self) -> &'static [Topic] {
        Topic::ALL
    }
    fn appointments(&self) -> &'static [Appointment] {
        Appointment::ALL
    }
    fn has_topic(&self, t: &Topic) -> bool {
        self.input.topics.iter().any(|x| x == t.key())
    }
}

fn date_text(t: Option<i64>) -> String {
    t.and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|ts| ts.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn input_of(p: &HelperProfile) -> ProfileInput {
    ProfileInput {
        department: p.department.clone(),
        appointment: p
            .appointment
            .map(|a| a.key().to_string())
            .unwrap_or_default(),
        rank: p.rank.clone(),
        genders: p.genders.join(", "),
        race_ethnicities: p.race_ethnicities.join(", "),
        languages: p.languages.join(", "),
        topics: p.topics.iter().map(|t| t.key().to_string()).collect(),
        capacity: p.capacity.to_string(),
        away_until: date_text(p.away_until),
        bio: p.bio.clone(),
        bio_public: p.bio_public,
    }
}

pub async fn profile_form(State(_state): State<AppState>, ctx: Ctx, a: Helper) -> PageResult {
    let p = a.profile().await?;
    render(&ProfileView {
        l: ctx.layout("My helper profile"),
        input: input_of(&p),
        saved: false,
        error: None,
    })
}

pub async fn save_profile(
    State(_state): State<AppState>,
    ctx: Ctx,
    a: Helper,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let input = ProfileInput {
        department: one("department"),
        appointment: one("appointment"),
        rank: one("rank"),
        genders: one("genders"),
        race_ethnicities: one("race_ethnicities"),
        languages: one("languages"),
        topics: pairs
            .iter()
            .filter(|(k, _)| k == "topics")
            .map(|(_, v)| v.clone())
            .collect(),
        capacity: one("capacity"),
        away_until: one("away_until"),
        bio: one("bio"),
        bio_public: one("bio_public") == "1",
    };
    match a.save_profile(&input).await {
        Ok(p) => render(&ProfileView {
            l: ctx.layout("My helper profile"),
            input: input_of(&p),
            saved: true,
            error: None,
        }),
        Err(crate::app::Error::Invalid(e)) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ProfileView {
                l: ctx.layout("My helper profile"),
                input,
                saved: false,
                error: Some(e),
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "helpers_corps.html")]
struct CorpsView {
    l: Layout,
    helpers: Vec<HelperSummary>,
    applications: Vec<Application>,
    now: i64,
    error: Option<Invalid>,
}

impl CorpsView {
    fn training_state(&self, h: &HelperSummary) -> String {
        match h.trained_until {
            None => "no training on record: gets no offers".into(),
            Some(t) if t <= self.now => format!("lapsed on {}: gets no offers", date_text(Some(t))),
            Some(t) => format!("valid until {}", date_text(Some(t))),
        }
    }
}

async fn corps_page(coordinator: &Coordinator, ctx: Ctx, error: Option<Invalid>) -> PageResult {
    let status = form_status(&error);
    render_status(
        status,
        &CorpsView {
            l: ctx.layout("Helpers"),
            helpers: coordinator.helpers().await?,
            applications: coordinator.pending_applications().await?,
            now: now(),
            error,
        },
    )
}

pub async fn corps(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    corps_page(&coordinator, ctx, None).await
}

#[derive(Deserialize)]
pub struct TrainingForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    completed: String,
    #[serde(default)]
    expires: String,
}

#[derive(Deserialize)]
pub struct IdPath {
    id: i64,
}

pub async fn add_training(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<TrainingForm>,
) -> PageResult {
    match c
        .add_training(AccountId(id), &f.kind, &f.completed, &f.expires)
        .await
    {
        Ok(()) => Ok(Redirect::to("/support/helpers").into_response()),
        Err(crate::app::Error::Invalid(e)) => corps_page(&c, ctx, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "helpers_public.html")]
struct PublicView {
    l: Layout,
    helpers: Vec<PublicHelper>,
}

pub async fn public(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    render(&PublicView {
        l: ctx.layout("Meet our helpers"),
        helpers: state.app.public().public_helpers().await?,
    })
}

#[derive(Template)]
#[template(path = "support_case.html")]
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
    Path(IdPath { id }): Path<IdPath>,
) -> PageResult {
    case_page(&c, ctx, id, None).await
}

/// Shows a coordinator who asked, if the programme's rules allow it now; the view is
/// written to the audit log first.
pub async fn reveal(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath>,
) -> PageResult {
    let (identity, message) = c.reveal(id).await?;
    case_page(&c, ctx, id, identity.map(|i| (i, message))).await
}

async fn case_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    id: i64,
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
        shortlist_with_exclusions(coordinator, id).await?
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
    let t = now();
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
#[template(path = "support_plan.html")]
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

#[derive(Template)]
#[template(path = "helper_apply.html")]
struct ApplyView {
    l: Layout,
    motivation: String,
    department: String,
    done: bool,
    already_helper: bool,
    error: Option<Invalid>,
}

impl ApplyView {
    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }
}

pub async fn apply_form(ctx: Ctx, a: super::auth::Member) -> PageResult {
    render(&ApplyView {
        l: ctx.layout("Become a helper"),
        motivation: String::new(),
        department: String::new(),
        done: false,
        already_helper: a.has(crate::domain::accounts::Role::Helper),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(default)]
    motivation: String,
    #[serde(default)]
    department: String,
}

pub async fn apply(
    State(_state): State<AppState>,
    ctx: Ctx,
    a: super::auth::Member,
    Form(f): Form<ApplyForm>,
) -> PageResult {
    let result = a
        .apply_to_help(&f.motivation, &f.department)
        .await
        .map_err(AppError::from);
    let view = |done, error| ApplyView {
        l: ctx.layout("Become a helper"),
        motivation: f.motivation.clone(),
        department: f.department.clone(),
        done,
        already_helper: false,
        error,
    };
    match result {
        Ok(()) => render(&view(true, None)),
        Err(AppError::Invalid(e)) => {
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &view(false, Some(e)))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
}

pub async fn decide(
    State(_state): State<AppState>,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<DecisionForm>,
) -> Result<axum::response::Response, AppError> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(Invalid::new("decision", "Approve or decline.").into()),
    };
    c.decide_application(id, approve).await?;
    Ok(Redirect::to("/support/helpers").into_response())
}
