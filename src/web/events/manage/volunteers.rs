//! The roster of adults cleared to work with school students (background check and
//! youth-protection training), and placing them on students' events.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::events::registrations_page;
use crate::domain::Invalid;
use crate::domain::accounts::AccountId;
use crate::domain::events::{Clearance, ClearancePolicy};
use crate::domain::ids::EventId;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, form_status, render_status};

#[derive(Template)]
#[template(path = "events/manage/volunteers.html")]
struct VolunteersView {
    l: Layout,
    policy: ClearancePolicy,
    /// Each adult, when each clearance runs out, and why they are not cleared today.
    roster: Vec<(Clearance, String, String, Option<String>)>,
    error: Option<Invalid>,
    /// What was typed into the form that came back.
    clearance: ClearanceForm,
    policy_typed: Option<PolicyForm>,
}

impl VolunteersView {
    fn err(&self, field: &str) -> Option<String> {
        crate::web::http::layout::field_error(&self.error, field)
    }
    fn background_years(&self) -> String {
        self.policy_typed.as_ref().map_or_else(
            || self.policy.background_check_years.to_string(),
            |p| p.background_check_years.clone(),
        )
    }
    fn training_years(&self) -> String {
        self.policy_typed.as_ref().map_or_else(
            || self.policy.youth_training_years.to_string(),
            |p| p.youth_training_years.clone(),
        )
    }
}

async fn volunteers_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    error: Option<Invalid>,
    clearance: ClearanceForm,
    policy_typed: Option<PolicyForm>,
) -> PageResult {
    let today = coordinator.today();
    let (policy, roster) = coordinator.clearances().await?;
    let roster = roster
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
            clearance,
            policy_typed,
        },
    )
}

pub async fn volunteers(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    volunteers_page(&coordinator, ctx, None, ClearanceForm::default(), None).await
}

#[derive(Deserialize, Default)]
pub(crate) struct ClearanceForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    background_check_on: String,
    #[serde(default)]
    youth_training_on: String,
}

pub async fn save_clearance(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(f): Form<ClearanceForm>,
) -> PageResult {
    let saved = coordinator
        .save_clearance(&f.email, &f.background_check_on, &f.youth_training_on)
        .await;
    match saved {
        Ok(()) => Ok(Redirect::to("/manage/volunteers").into_response()),
        Err(crate::app::Error::Invalid(e)) => {
            volunteers_page(&coordinator, ctx, Some(e), f, None).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct VolunteerForm {
    #[serde(default)]
    email: String,
}

/// Places an adult on an event; for students' events only with a current clearance.
pub async fn add_volunteer(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(id): Path<EventId>,
    Form(f): Form<VolunteerForm>,
) -> PageResult {
    let result = coordinator.add_event_volunteer(id, &f.email).await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response()),
        Err(crate::app::Error::Invalid(err)) => {
            registrations_page(
                &coordinator,
                ctx,
                id,
                String::new(),
                Some(err),
                Default::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove_volunteer(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Path((id, account)): Path<(EventId, AccountId)>,
) -> PageResult {
    coordinator.remove_event_volunteer(id, account).await?;
    Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response())
}

#[derive(Deserialize)]
pub(crate) struct PolicyForm {
    #[serde(default)]
    background_check_years: String,
    #[serde(default)]
    youth_training_years: String,
}

/// How long clearances last: the institution's rule.
pub async fn save_policy(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(f): Form<PolicyForm>,
) -> PageResult {
    match ClearancePolicy::parse(&f.background_check_years, &f.youth_training_years) {
        Ok(p) => {
            coordinator.save_clearance_policy(&p).await?;
            Ok(Redirect::to("/manage/volunteers").into_response())
        }
        Err(e) => {
            volunteers_page(
                &coordinator,
                ctx,
                Some(e),
                ClearanceForm::default(),
                Some(f),
            )
            .await
        }
    }
}
