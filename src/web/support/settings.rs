//! The programme's peer-support settings page: hours, service levels, alerts, matching.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::domain::Invalid;
use crate::domain::matching::{Policy, Weights};
use crate::domain::sla::{BusinessHours, ServiceLevelSettings};
use crate::store::SupportSettings;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, field_error, render, render_status};

#[derive(Template)]
#[template(path = "support/settings.html")]
struct SettingsView {
    l: Layout,
    s: ServiceLevelSettings,
    blind: bool,
    requires_sign_in: bool,
    requester_chooses: bool,
    weights: Weights,
    policy: Policy,
    saved: bool,
    error: Option<Invalid>,
}

impl SettingsView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

pub async fn settings_form(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    let current = coordinator.support_settings().await?;
    render(&SettingsView {
        l: ctx.layout("Service level"),
        s: current.service_level,
        blind: current.coordinator_blind,
        requires_sign_in: current.requires_sign_in,
        requester_chooses: current.requester_chooses,
        weights: current.weights,
        policy: current.policy,
        saved: false,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    first_contact_hours: String,
    #[serde(default)]
    urgent_first_contact_hours: String,
    #[serde(default)]
    routine_first_contact_hours: String,
    #[serde(default)]
    urgent_offer_hours: String,
    #[serde(default)]
    soon_offer_hours: String,
    #[serde(default)]
    routine_offer_hours: String,
    #[serde(default)]
    coordinator_blind: Option<String>,
    #[serde(default)]
    exclude_same_department: Option<String>,
    #[serde(default)]
    requires_sign_in: Option<String>,
    #[serde(default)]
    requester_chooses: Option<String>,
    #[serde(flatten)]
    rest: std::collections::HashMap<String, String>,
}

pub async fn save_settings(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Form(f): Form<SettingsForm>,
) -> PageResult {
    // A number left out of the form keeps its current value; a number not understood is
    // 0, which the check refuses with the field's name.
    let in_force = coordinator.support_settings().await?;
    let saved = &in_force.service_level;
    let number = |raw: &str, current: u32| {
        if raw.trim().is_empty() {
            current
        } else {
            raw.trim().parse::<u32>().unwrap_or(0)
        }
    };
    let s = ServiceLevelSettings {
        time_zone: f.time_zone.trim().to_string(),
        days: f.days.trim().to_string(),
        hours: f.hours.trim().to_string(),
        holidays: f.holidays.trim().to_string(),
        first_contact_hours: f.first_contact_hours.trim().parse::<u32>().unwrap_or(0),
        urgent_first_contact_hours: number(
            &f.urgent_first_contact_hours,
            saved.urgent_first_contact_hours,
        ),
        routine_first_contact_hours: number(
            &f.routine_first_contact_hours,
            saved.routine_first_contact_hours,
        ),
        urgent_offer_hours: number(&f.urgent_offer_hours, saved.urgent_offer_hours),
        soon_offer_hours: number(&f.soon_offer_hours, saved.soon_offer_hours),
        routine_offer_hours: number(&f.routine_offer_hours, saved.routine_offer_hours),
    };
    // A weight left out of the form keeps its current value.
    let current = in_force.weights;
    let weight = |name: &str| {
        f.rest
            .get(&format!("weight_{name}"))
            .cloned()
            .unwrap_or_else(|| {
                current
                    .labelled()
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, _, v)| v.to_string())
                    .unwrap_or_default()
            })
    };
    let policy = Policy {
        exclude_same_department: f.exclude_same_department.is_some(),
    };
    let checked = BusinessHours::parse(&s).and_then(|_| Weights::parse(weight));
    match checked {
        Ok(weights) => {
            let new = SupportSettings {
                service_level: s,
                weights,
                policy,
                coordinator_blind: f.coordinator_blind.is_some(),
                requires_sign_in: f.requires_sign_in.is_some(),
                requester_chooses: f.requester_chooses.is_some(),
            };
            coordinator.save_support_settings(&new).await?;
            render(&SettingsView {
                l: ctx.layout("Service level"),
                s: new.service_level,
                blind: new.coordinator_blind,
                requires_sign_in: new.requires_sign_in,
                requester_chooses: new.requester_chooses,
                weights: new.weights,
                policy: new.policy,
                saved: true,
                error: None,
            })
        }
        Err(e) => render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsView {
                l: ctx.layout("Service level"),
                s,
                blind: f.coordinator_blind.is_some(),
                requires_sign_in: f.requires_sign_in.is_some(),
                requester_chooses: f.requester_chooses.is_some(),
                weights: current,
                policy,
                saved: false,
                error: Some(e),
            },
        ),
    }
}
