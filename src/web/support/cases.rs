//! A helper's own offers and cases: answer an offer, see who asked (each view audited), log
//! contacts without free text, escalate, and close a case, which erases the message.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::app::support::cases::CaseFile;
use crate::domain::Invalid;
use crate::domain::cases::{ContactForm, ContactInput, Outcome, Resource};
use crate::domain::ids::{OfferId, RequestId};
use crate::domain::sla::BusinessHours;
use crate::domain::support::{ContactMode, Identity};
use crate::store::{Contact, Offer, RequestSummary};
use crate::web::AppState;
use crate::web::http::IdPath;
use crate::web::http::auth::Helper;
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::layout::{Ctx, Layout, form_status, render, render_status};

#[derive(Template)]
#[template(path = "support/helper_cases.html")]
struct HelperCasesView {
    l: Layout,
    offers: Vec<(Offer, RequestSummary)>,
    cases: Vec<RequestSummary>,
}

pub async fn helper_cases(State(_state): State<AppState>, ctx: Ctx, a: Helper) -> PageResult {
    render(&HelperCasesView {
        l: ctx.layout("My offers and cases"),
        offers: a.offers().await?,
        cases: a.cases().await?,
    })
}

/// Accepts an offer; the person who asked is told, sealed, in the same transaction.
/// Shared by the page and the API.
pub async fn accept(
    State(_state): State<AppState>,
    a: Helper,
    Path(IdPath { id }): Path<IdPath<OfferId>>,
) -> Result<axum::response::Response, AppError> {
    let offer = a.accept_offer(id).await?;
    Ok(Redirect::to(&format!("/helper/cases/{}", offer.request_id)).into_response())
}

pub async fn decline(
    State(_state): State<AppState>,
    a: Helper,
    Path(IdPath { id }): Path<IdPath<OfferId>>,
) -> Result<axum::response::Response, AppError> {
    a.decline_offer(id).await?;
    Ok(Redirect::to("/helper/cases").into_response())
}

#[derive(Template)]
#[template(path = "support/helper_case.html")]
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
    /// The contact form: what was typed, or now in the programme's zone.
    contact: ContactForm,
}

impl CaseView {
    fn modes(&self) -> &'static [ContactMode] {
        ContactMode::ALL
    }
    fn err(&self, field: &str) -> Option<String> {
        crate::web::http::layout::field_error(&self.error, field)
    }
    fn active_resources(&self) -> Vec<&Resource> {
        self.resources.iter().filter(|r| r.active).collect()
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
    fn picked(&self, key: &str) -> bool {
        self.contact.resources.iter().any(|r| r == key)
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
    helper: &Helper,
    ctx: Ctx,
    id: RequestId,
    error: Option<Invalid>,
    typed: Option<ContactForm>,
) -> PageResult {
    let CaseFile {
        request,
        identity,
        message,
        contacts,
        resources,
        hours,
    } = helper.case(id).await?;
    let contact = typed.unwrap_or_else(|| {
        let (date, time) = hours.local_fields(helper.now());
        ContactForm {
            date,
            time,
            ..Default::default()
        }
    });
    let status = form_status(&error);
    render_status(
        status,
        &CaseView {
            l: ctx.layout(format!("Case {}", request.reference)),
            contacts,
            resources,
            request,
            identity,
            message,
            error,
            hours,
            contact,
        },
    )
}

pub async fn case(
    State(_state): State<AppState>,
    ctx: Ctx,
    a: Helper,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
) -> PageResult {
    case_page(&a, ctx, id, None, None).await
}

pub async fn log_contact(
    State(_state): State<AppState>,
    ctx: Ctx,
    a: Helper,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
    Form(form): Form<ContactForm>,
) -> PageResult {
    let logged = match ContactInput::try_from(&form) {
        Ok(input) => a.log_contact(id, &input).await,
        Err(e) => Err(e.into()),
    };
    match logged {
        Ok(()) => Ok(Redirect::to(&format!("/helper/cases/{id}")).into_response()),
        // Everything typed comes back, with the reason beside its field.
        Err(crate::app::Error::Invalid(e)) => case_page(&a, ctx, id, Some(e), Some(form)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn escalate(
    State(_state): State<AppState>,
    a: Helper,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
) -> Result<axum::response::Response, AppError> {
    a.raise_safety_concern(id).await?;
    Ok(Redirect::to(&format!("/helper/cases/{id}#safety")).into_response())
}

/// Closes a case; a declined outreach sends the person the resource directory, sealed, in
/// the same transaction. Shared by the page and the API.
#[derive(Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    outcome: String,
}

pub async fn close(
    State(_state): State<AppState>,
    ctx: Ctx,
    a: Helper,
    Path(IdPath { id }): Path<IdPath<RequestId>>,
    Form(f): Form<CloseForm>,
) -> PageResult {
    match Outcome::parse(&f.outcome) {
        Some(o) => {
            a.close_case(id, o).await?;
            Ok(Redirect::to("/helper/cases").into_response())
        }
        None => {
            case_page(
                &a,
                ctx,
                id,
                Some(Invalid::new("outcome", "Choose how the case ended.")),
                None,
            )
            .await
        }
    }
}
