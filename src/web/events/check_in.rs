//! Where a scanned check-in code lands: a coordinator sees who it is and checks them in.
//! The code is the registration id with its signature, so a guessed number finds nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::app::events::manage::CheckIn;
use crate::domain::conflict::Conflict;
use crate::domain::events::Event;
use crate::store::Registration;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::form::Form;
use crate::web::http::layout::{Ctx, Layout, render_status};

#[derive(Template)]
#[template(path = "events/check_in.html")]
struct CheckInView {
    l: Layout,
    e: Event,
    r: Registration,
    token: String,
    /// What the scan just did, if the button was pressed.
    done: Option<CheckIn>,
    /// Why it was refused, if it was.
    refused: Option<Conflict>,
}

impl CheckInView {
    fn arrived_at(&self) -> String {
        match (self.done, self.r.checked_in_at) {
            (Some(CheckIn::Already(at)), _) | (_, Some(at)) => self.e.time_of_day(at),
            _ => String::new(),
        }
    }
    fn not_today(&self) -> bool {
        self.refused == Some(Conflict::CheckInNotToday)
    }
}

async fn check_in_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    token: String,
    done: Option<CheckIn>,
    refused: Option<Conflict>,
) -> PageResult {
    let (r, e) = coordinator.check_in_code(&token).await?;
    let status = if refused.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &CheckInView {
            l: ctx.layout("Check-in"),
            e,
            r,
            token,
            done,
            refused,
        },
    )
}

/// Where a scanned QR code lands: who it is, and a button to check them in.
pub async fn scan(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(token): Path<String>,
) -> PageResult {
    check_in_page(&coordinator, ctx, token, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CheckInForm {
    /// "Check in anyway": on a day that is not the event's.
    #[serde(deserialize_with = "crate::domain::ticked")]
    any_day: bool,
}

pub async fn scan_confirm(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(token): Path<String>,
    Form(form): Form<CheckInForm>,
) -> PageResult {
    match coordinator.check_in_by_code(&token, form.any_day).await {
        Ok(done) => check_in_page(&coordinator, ctx, token, Some(done), None).await,
        // Refusals by the rules are shown on the same page, with who it is.
        Err(crate::app::Error::Conflict(why)) => {
            check_in_page(&coordinator, ctx, token, None, Some(why)).await
        }
        Err(e) => Err(e.into()),
    }
}
