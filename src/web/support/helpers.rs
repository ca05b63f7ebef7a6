//! The helper corps: a helper's own profile, applying to become a helper and the decision,
//! the coordinators' list with training records, and the public "meet our helpers" page.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::domain::helpers::{HelperProfile, ProfileForm, ProfileInput};
use crate::domain::ids::ApplicationId;
use crate::domain::support::{Appointment, Topic};
use crate::domain::{Invalid, accounts::AccountId};
use crate::store::{Application, HelperSummary, PublicHelper};
use crate::web::AppState;
use crate::web::http::IdPath;
use crate::web::http::auth::{Coordinator, Helper};
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::fields::in_row;
use crate::web::http::layout::{Ctx, Layout, field_error, form_status, render, render_status};

#[derive(Template)]
#[template(path = "support/helper_profile.html")]
struct ProfileView {
    l: Layout,
    input: ProfileForm,
    saved: bool,
    error: Option<Invalid>,
}

impl ProfileView {
    fn err(&self, field: &str) -> Option<String> {
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

fn input_of(p: &HelperProfile) -> ProfileForm {
    ProfileForm {
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
    Form(input): Form<ProfileForm>,
) -> PageResult {
    let saved = match ProfileInput::try_from(&input) {
        Ok(typed) => a.save_profile(&typed).await,
        Err(e) => Err(e.into()),
    };
    match saved {
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
#[template(path = "support/helpers_corps.html")]
struct CorpsView {
    l: Layout,
    helpers: Vec<HelperSummary>,
    applications: Vec<Application>,
    now: i64,
    error: Option<Invalid>,
    /// What was typed into one helper's training form, sent back with its mistakes.
    typed: Option<(AccountId, TrainingForm)>,
}

impl CorpsView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
    fn typed(&self, row: &i64, field: &str) -> &str {
        match &self.typed {
            Some((id, f)) if id.0 == *row => match field {
                "kind" => &f.kind,
                "completed" => &f.completed,
                _ => &f.expires,
            },
            _ => "",
        }
    }
    fn training_state(&self, h: &HelperSummary) -> String {
        match h.trained_until {
            None => "no training on record: gets no offers".into(),
            Some(t) if t <= self.now => format!("lapsed on {}: gets no offers", date_text(Some(t))),
            Some(t) => format!("valid until {}", date_text(Some(t))),
        }
    }
}

async fn corps_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    error: Option<Invalid>,
    typed: Option<(AccountId, TrainingForm)>,
) -> PageResult {
    let status = form_status(&error);
    render_status(
        status,
        &CorpsView {
            l: ctx.layout("Helpers"),
            helpers: coordinator.helpers().await?,
            applications: coordinator.pending_applications().await?,
            now: coordinator.now(),
            error,
            typed,
        },
    )
}

pub async fn corps(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    corps_page(&coordinator, ctx, None, None).await
}

#[derive(Deserialize)]
pub(crate) struct TrainingForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    completed: String,
    #[serde(default)]
    expires: String,
}

pub async fn add_training(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(IdPath { id }): Path<IdPath<AccountId>>,
    Form(f): Form<TrainingForm>,
) -> PageResult {
    match c.add_training(id, &f.kind, &f.completed, &f.expires).await {
        Ok(()) => Ok(Redirect::to("/support/helpers").into_response()),
        Err(crate::app::Error::Invalid(e)) => {
            corps_page(&c, ctx, Some(in_row(e, id.0)), Some((id, f))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "support/helpers_public.html")]
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
#[template(path = "support/helper_apply.html")]
struct ApplyView {
    l: Layout,
    motivation: String,
    department: String,
    done: bool,
    already_helper: bool,
    /// The programme asks for a current pledge signature first, and there is none.
    pledge_needed: bool,
    error: Option<Invalid>,
}

impl ApplyView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

pub async fn apply_form(ctx: Ctx, a: crate::web::http::auth::Member) -> PageResult {
    render(&ApplyView {
        l: ctx.layout("Become a helper"),
        motivation: String::new(),
        department: String::new(),
        done: false,
        already_helper: a.has(crate::domain::accounts::Role::Helper),
        pledge_needed: a.pledge_needed_to_help().await?,
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
    a: crate::web::http::auth::Member,
    Form(f): Form<ApplyForm>,
) -> PageResult {
    let result = a
        .apply_to_help(&f.motivation, &f.department)
        .await
        .map_err(|e| AppError::from(crate::web::http::error::on_its_field(e)));
    let pledge_needed = a.pledge_needed_to_help().await?;
    let view = |done, error| ApplyView {
        l: ctx.layout("Become a helper"),
        motivation: f.motivation.clone(),
        department: f.department.clone(),
        done,
        already_helper: false,
        pledge_needed,
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
    Path(IdPath { id }): Path<IdPath<ApplicationId>>,
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
