//! The roster of adults cleared to work with school students (background check and
//! youth-protection training), and placing them on students' events.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::AppState;
use super::auth::Coordinator;
use super::error::{AppError, PageResult};
use super::events_manage::registrations_page;
use super::layout::{Ctx, Layout, form_status, render_status};
use crate::domain::Invalid;
use crate::domain::accounts::Email;
use crate::domain::events::{Clearance, ClearancePolicy, Event};
use crate::store::StoreError;

#[derive(Template)]
#[template(path = "manage_volunteers.html")]
struct VolunteersView {
    l: Layout,
    policy: ClearancePolicy,
    /// Each adult, when each clearance runs out, and why they are not cleared today.
    roster: Vec<(Clearance, String, String, Option<String>)>,
    error: Option<Invalid>,
}

async fn roster(state: &AppState) -> PageResult<Vec<Clearance>> {
    Ok(state
        .store
        .clearances()
        .await?
        .into_iter()
        .filter_map(|(id, name, b, t)| {
            Some(Clearance {
                account_id: id,
                name,
                background_check_on: b.parse().ok()?,
                youth_training_on: t.parse().ok()?,
            })
        })
        .collect())
}

async fn volunteers_page(state: &AppState, ctx: Ctx, error: Option<Invalid>) -> PageResult {
    let today = jiff::Zoned::now().date();
    let policy = state.store.clearance_policy().await?;
    let roster = roster(state)
        .await?
        .into_iter()
        .map(|c| {
            let lapsed = c.lapsed_on(today, &policy);
            let b = c.background_until(&policy).to_string();
            let t = c.training_until(&policy).to_string();
            (c, b, t, lapsed)
        })
        .collect();
    let status = form_status(&error);
    render_status(
        status,
        &VolunteersView {
            l: ctx.layout("Volunteer clearances"),
            policy,
            roster,
            error,
        },
    )
}

pub async fn volunteers(State(state): State<AppState>, ctx: Ctx, _: Coordinator) -> PageResult {
    volunteers_page(&state, ctx, None).await
}

/// The adult's account; an unknown address is a mistake on the form.
async fn account_for(
    state: &AppState,
    email: &Email,
) -> Result<crate::domain::accounts::Account, AppError> {
    state
        .store
        .account_by_email(email)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => Invalid::new(
                "email",
                "No account has that e-mail address; add the person as a member first.",
            )
            .into(),
            e => AppError::from(e),
        })
}

#[derive(Deserialize)]
pub struct ClearanceForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    background_check_on: String,
    #[serde(default)]
    youth_training_on: String,
}

pub async fn save_clearance(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Coordinator,
    Form(f): Form<ClearanceForm>,
) -> PageResult {
    let result: Result<(), AppError> = async {
        let email = Email::parse(&f.email)?;
        let account = account_for(&state, &email).await?;
        let (b, t) = Clearance::parse(
            &f.background_check_on,
            &f.youth_training_on,
            jiff::Zoned::now().date(),
        )?;
        state
            .store
            .save_clearance(account.id.0, &b.to_string(), &t.to_string())
            .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/manage/volunteers").into_response()),
        Err(AppError::Invalid(e)) => volunteers_page(&state, ctx, Some(e)).await,
        Err(e) => Err(e),
    }
}

/// Checks an adult's clearance for a students' event on its date.
pub async fn clearance_problem(
    state: &AppState,
    e: &Event,
    account: i64,
) -> PageResult<Option<String>> {
    if !e.for_minors {
        return Ok(None);
    }
    let day = jiff::Timestamp::from_second(e.ends_at)
        .map(|t| t.to_zoned(e.tz()).date())
        .map_err(|err| {
            AppError::Internal(anyhow::Error::new(err).context("event date out of range"))
        })?;
    Ok(
        match roster(state)
            .await?
            .into_iter()
            .find(|c| c.account_id == account)
        {
            None => Some(
                "This person has no background check or youth-protection training on record."
                    .to_string(),
            ),
            Some(c) => c.lapsed_on(day, &state.store.clearance_policy().await?),
        },
    )
}

#[derive(Deserialize)]
pub struct VolunteerForm {
    #[serde(default)]
    email: String,
}

/// Places an adult on an event; for students' events only with a current clearance.
pub async fn add_volunteer(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Coordinator,
    Path(id): Path<i64>,
    Form(f): Form<VolunteerForm>,
) -> PageResult {
    let e = state.store.event(id).await?;
    let result: Result<(), AppError> = async {
        let email = Email::parse(&f.email)?;
        let account = account_for(&state, &email).await?;
        if let Some(problem) = clearance_problem(&state, &e, account.id.0).await? {
            return Err(Invalid::new(
                "email",
                format!("{problem} They cannot be placed on an event with school students."),
            )
            .into());
        }
        state.store.add_event_volunteer(id, account.id.0).await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response()),
        Err(AppError::Invalid(err)) => {
            registrations_page(&state, ctx, id, String::new(), Some(err)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn remove_volunteer(
    State(state): State<AppState>,
    _: Coordinator,
    Path((id, account)): Path<(i64, i64)>,
) -> PageResult {
    state.store.remove_event_volunteer(id, account).await?;
    Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response())
}

#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    background_check_years: String,
    #[serde(default)]
    youth_training_years: String,
}

/// How long clearances last: the institution's rule.
pub async fn save_policy(
    State(state): State<AppState>,
    ctx: Ctx,
    _: Coordinator,
    Form(f): Form<PolicyForm>,
) -> PageResult {
    match ClearancePolicy::parse(&f.background_check_years, &f.youth_training_years) {
        Ok(p) => {
            state.store.save_clearance_policy(&p).await?;
            Ok(Redirect::to("/manage/volunteers").into_response())
        }
        Err(e) => volunteers_page(&state, ctx, Some(e)).await,
    }
}
