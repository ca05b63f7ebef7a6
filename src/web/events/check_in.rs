//! Where a scanned check-in code lands: a coordinator sees who it is and checks them in.
//! The code is the registration id with its signature, so a guessed number finds nothing.

use askama::Template;
use axum::extract::{Path, State};

use crate::domain::events::Event;
use crate::store::Registration;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, render};

#[derive(Template)]
#[template(path = "events/check_in.html")]
struct CheckInView {
    l: Layout,
    e: Event,
    r: Registration,
    token: String,
    done: bool,
}

async fn check_in_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    token: String,
    done: bool,
) -> PageResult {
    let (r, e) = coordinator.check_in_code(&token).await?;
    render(&CheckInView {
        l: ctx.layout("Check-in"),
        e,
        r,
        token,
        done,
    })
}

/// Where a scanned QR code lands: who it is, and a button to check them in.
pub async fn scan(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(token): Path<String>,
) -> PageResult {
    check_in_page(&coordinator, ctx, token, false).await
}

pub async fn scan_confirm(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(token): Path<String>,
) -> PageResult {
    coordinator.check_in_by_code(&token).await?;
    check_in_page(&coordinator, ctx, token, true).await
}
