//! Offers and cases on the web. Coordinators offer a request to a helper (or offer the
//! whole plan); helpers answer offers, see who asked only for their own cases (each view
//! audited), log contacts without free text, and close cases, which erases the message.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::AppState;
use super::auth::{Coordinator, HelperRole};
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, form_status, render, render_status};
use crate::casework::{self, MatchingInputs};
use crate::delivery::Writer;
use crate::domain::accounts::AccountId;
use crate::domain::cases::{ContactWhen, Outcome, Resource, parse_contact};
use crate::domain::mail::MessageKind;
use crate::domain::matching;
use crate::domain::sla::BusinessHours;
use crate::domain::support::{ContactMode, Identity};
use crate::domain::{Invalid, now};
use crate::store::{Contact, Offer, RequestSummary};

/// Offers a request to a helper, with their e-mail (see `casework::offer_to`).
pub async fn offer_to(
    state: &AppState,
    request_id: i64,
    helper: AccountId,
    by: Option<AccountId>,
) -> Result<Offer, AppError> {
    Ok(casework::offer_to(&state.store, &state.web.public_url, request_id, helper, by).await?)
}

/// Passes a request to its next candidate (see `casework::offer_next`).
pub async fn offer_next(state: &AppState, request_id: i64) -> Result<bool, AppError> {
    Ok(casework::offer_next(&state.store, &state.web.public_url, request_id).await?)
}

/// A coordinator looks at a request's matching (audited before anything is opened).
pub async fn matching_inputs(
    state: &AppState,
    request_id: i64,
    coordinator: AccountId,
) -> Result<MatchingInputs, AppError> {
    Ok(casework::matching_inputs(
        &state.store,
        request_id,
        casework::Opener::Coordinator(coordinator),
    )
    .await?)
}

/// A coordinator's offer to a chosen helper. The shortlist is only advice, but the hard
/// constraints are not: a helper who may not take the request is refused with the reason.
/// A coordinator-blind programme takes no hand-picked offers at all: even one sentence for
/// every refusal would let a coordinator who tries helper after helper work out whom the
/// person excluded; its requests go to the next suitable helper (`offer_next_for`).
pub async fn offer_checked(
    state: &AppState,
    request_id: i64,
    helper: i64,
    by: AccountId,
) -> Result<Offer, AppError> {
    if state.store.coordinator_blind().await? || state.store.filed_blind(request_id).await? {
        return Err(AppError::Conflict(matching::BLIND_REFUSAL.into()));
    }
    let m = matching_inputs(state, request_id, by).await?;
    let h = m
        .helpers
        .iter()
        .find(|h| h.id == helper)
        .ok_or_else(|| Invalid::new("helper", "This person is not an active helper."))?;
    if let Err(why) = matching::check(h, &m.request, m.policy, now()) {
        return Err(Invalid::new(
            "helper",
            format!("This helper cannot take this request: {}.", why.label()),
        )
        .into());
    }
    offer_to(state, request_id, AccountId(helper), Some(by)).await
}

/// A coordinator passes a waiting request to its next suitable helper, chosen by the
/// programme: what a coordinator-blind programme offers instead of a choice.
pub async fn offer_next_for(state: &AppState, request_id: i64) -> Result<(), AppError> {
    if offer_next(state, request_id).await? {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "No helper can take this request now: it waits in the queue, and is offered again when a helper is free.".into(),
        ))
    }
}

pub async fn offer_next_page(
    State(state): State<AppState>,
    _: Coordinator,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<axum::response::Response, AppError> {
    offer_next_for(&state, id).await?;
    Ok(Redirect::to("/support/queue").into_response())
}

#[derive(Deserialize)]
pub struct IdPath {
    id: i64,
}

#[derive(Deserialize)]
pub struct OfferForm {
    helper: i64,
}

pub async fn offer(
    State(state): State<AppState>,
    Coordinator(c): Coordinator,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<OfferForm>,
) -> Result<axum::response::Response, AppError> {
    offer_checked(&state, id, f.helper, c.id).await?;
    Ok(Redirect::to("/support/queue").into_response())
}

/// Takes a request back from a helper who accepted but has not made contact, and passes
/// it to the next candidate.
pub async fn take_back(
    State(state): State<AppState>,
    _: Coordinator,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<axum::response::Response, AppError> {
    state.store.take_back(id).await?;
    offer_next(&state, id).await?;
    Ok(Redirect::to(&format!("/support/queue/{id}")).into_response())
}

/// Offers every pair of the optimal plan.
pub async fn offer_plan(
    State(state): State<AppState>,
    Coordinator(c): Coordinator,
) -> Result<axum::response::Response, AppError> {
    let plan = casework::plan_queue(&state.store, casework::Opener::Coordinator(c.id)).await?;
    for (i, h) in plan.optimal.helper_of.iter().enumerate() {
        if let Some(h) = h {
            let (request, helper) = (plan.queue[i].id, plan.helpers[*h].id);
            match offer_to(&state, request, AccountId(helper), Some(c.id)).await {
                // Someone else offered it meanwhile: leave it.
                Ok(_) | Err(AppError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(Redirect::to("/support/queue").into_response())
}

#[derive(Template)]
#[template(path = "helper_cases.html")]
struct HelperCasesView {
    l: Layout,
    offers: Vec<(Offer, RequestSummary)>,
    cases: Vec<RequestSummary>,
}

pub async fn helper_cases(
    State(state): State<AppState>,
    ctx: Ctx,
    HelperRole(a): HelperRole,
) -> PageResult {
    render(&HelperCasesView {
        l: ctx.layout("My offers and cases"),
        offers: state.store.pending_offers(a.id).await?,
        cases: state.store.helper_cases(a.id).await?,
    })
}

/// Accepts an offer; the person who asked is told, sealed, in the same transaction.
/// Shared by the page and the API.
pub async fn accept_offer(
    state: &AppState,
    offer: i64,
    helper: AccountId,
) -> Result<Offer, AppError> {
    let writer = Writer::load(
        &state.store,
        &state.web.public_url,
        MessageKind::RequesterUpdate,
    )
    .await?;
    let status_link = writer.url("/support/status");
    let tell = |who: &Identity| {
        writer.to(
            &who.email,
            &[("link", &status_link)],
            format!("requester_update:accepted:{offer}"),
        )
    };
    Ok(state
        .store
        .answer_offer(offer, helper, true, Some(&tell))
        .await?)
}

/// Declines an offer; the request goes to the next candidate at once, or, with none,
/// waits in the coordinators' queue.
pub async fn decline_offer(
    state: &AppState,
    offer: i64,
    helper: AccountId,
) -> Result<Offer, AppError> {
    let o = state.store.answer_offer(offer, helper, false, None).await?;
    offer_next(state, o.request_id).await?;
    Ok(o)
}

pub async fn accept(
    State(state): State<AppState>,
    HelperRole(a): HelperRole,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<axum::response::Response, AppError> {
    let offer = accept_offer(&state, id, a.id).await?;
    Ok(Redirect::to(&format!("/helper/cases/{}", offer.request_id)).into_response())
}

pub async fn decline(
    State(state): State<AppState>,
    HelperRole(a): HelperRole,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<axum::response::Response, AppError> {
    decline_offer(&state, id, a.id).await?;
    Ok(Redirect::to("/helper/cases").into_response())
}

#[derive(Template)]
#[template(path = "helper_case.html")]
struct CaseView {
    l: Layout,
    request: RequestSummary,
    identity: Option<Identity>,
    message: Option<String>,
    contacts: Vec<Contact>,
    resources: Vec<Resource>,
    error: Option<Invalid>,
    /// The programme's business hours: its zone, for contact times.
    hours: BusinessHours,
    /// The contact form's date and time: what was typed, or now in the programme's zone.
    when: (String, String),
}

impl CaseView {
    fn modes(&self) -> &'static [ContactMode] {
        ContactMode::ALL
    }
    fn outcomes(&self) -> [Outcome; 4] {
        Outcome::ALL
    }
    fn resource_label(&self, key: &str) -> String {
        self.resources
            .iter()
            .find(|r| r.key == key)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| key.to_string())
    }
    fn local(&self, unix: &i64) -> String {
        self.hours.local_text(*unix)
    }
    fn escalated_text(&self) -> String {
        self.request
            .escalated_at
            .map(|t| self.hours.local_text(t))
            .unwrap_or_default()
    }
}

async fn case_page(
    state: &AppState,
    ctx: Ctx,
    helper: AccountId,
    id: i64,
    error: Option<Invalid>,
    typed: Option<(String, String)>,
) -> PageResult {
    let request = state.store.case_of(id, helper).await?;
    let (hours, _) = super::support::business_hours(&state.store).await?;
    let when = typed.unwrap_or_else(|| hours.local_fields(now()));
    let (identity, message) = if request.status.is_open() {
        state.store.case_identity(id, helper).await?
    } else {
        (None, None)
    };
    let status = form_status(&error);
    render_status(
        status,
        &CaseView {
            l: ctx.layout(format!("Case {}", request.reference)),
            contacts: state.store.list_contacts(id).await?,
            resources: state.store.list_resources(true).await?,
            request,
            identity,
            message,
            error,
            hours,
            when,
        },
    )
}

pub async fn case(
    State(state): State<AppState>,
    ctx: Ctx,
    HelperRole(a): HelperRole,
    Path(IdPath { id }): Path<IdPath>,
) -> PageResult {
    case_page(&state, ctx, a.id, id, None, None).await
}

pub async fn log_contact(
    State(state): State<AppState>,
    ctx: Ctx,
    HelperRole(a): HelperRole,
    Path(IdPath { id }): Path<IdPath>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let resources: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "resources")
        .map(|(_, v)| v.clone())
        .collect();
    let known = state.store.active_resource_keys().await?;
    let request = state.store.case_of(id, a.id).await?;
    let (hours, _) = super::support::business_hours(&state.store).await?;
    let when = ContactWhen {
        date: one("date"),
        time: one("time"),
        zone: hours.time_zone(),
        requested_at: request.created_at,
        now: now(),
    };
    match parse_contact(when, one("mode"), one("minutes"), &resources, &known) {
        Ok(c) => {
            state.store.log_contact(id, a.id, &c).await?;
            Ok(Redirect::to(&format!("/helper/cases/{id}")).into_response())
        }
        Err(e) => {
            let typed = (one("date").to_string(), one("time").to_string());
            case_page(&state, ctx, a.id, id, Some(e), Some(typed)).await
        }
    }
}

/// A helper raises a safety concern: coordinators may then see who asked, and the
/// escalation is in the audit log.
pub async fn escalate(
    State(state): State<AppState>,
    HelperRole(a): HelperRole,
    Path(IdPath { id }): Path<IdPath>,
) -> Result<axum::response::Response, AppError> {
    crate::casework::raise_safety_concern(&state.store, &state.web.public_url, id, a.id).await?;
    Ok(Redirect::to(&format!("/helper/cases/{id}#safety")).into_response())
}

/// Closes a case; a declined outreach sends the person the resource directory, sealed, in
/// the same transaction. Shared by the page and the API.
pub async fn close_case(
    state: &AppState,
    id: i64,
    helper: AccountId,
    outcome: Outcome,
) -> Result<(), AppError> {
    let writer = Writer::load(
        &state.store,
        &state.web.public_url,
        MessageKind::ResourceList,
    )
    .await?;
    let list: String = state
        .store
        .list_resources(false)
        .await?
        .iter()
        .map(|r| format!("- {}: {} ({})\n", r.name, r.how_to_reach, r.hours))
        .collect();
    let farewell = |who: &Identity| {
        writer.to(
            &who.email,
            &[("resources", &list)],
            format!("resource_list:{id}"),
        )
    };
    state
        .store
        .close_case(id, helper, outcome, Some(&farewell))
        .await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    outcome: String,
}

pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    HelperRole(a): HelperRole,
    Path(IdPath { id }): Path<IdPath>,
    Form(f): Form<CloseForm>,
) -> PageResult {
    match Outcome::parse(&f.outcome) {
        Some(o) => {
            close_case(&state, id, a.id, o).await?;
            Ok(Redirect::to("/helper/cases").into_response())
        }
        None => {
            case_page(
                &state,
                ctx,
                a.id,
                id,
                Some(Invalid::new("outcome", "Choose how the case ended.")),
                None,
            )
            .await
        }
    }
}
