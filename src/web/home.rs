//! The coordinators' home (`/manage`): what needs them now, each item a link to act on.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::app::home::{CoordinatorHome, TRAINING_HORIZON_DAYS};
use crate::domain::accounts::Role;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, render};

#[derive(Template)]
#[template(path = "home/coordinator.html")]
struct HomeView {
    l: Layout,
    home: CoordinatorHome,
    /// Failed mail is the administrators' to send again; others are told whom to ask.
    is_admin: bool,
    training_days: i64,
}

impl HomeView {
    fn plural(&self, n: impl std::borrow::Borrow<usize>, one: &str, many: &str) -> String {
        crate::domain::plural(*n.borrow(), one, many)
    }

    fn topics(&self, r: &crate::store::RequestSummary) -> String {
        r.topics
            .iter()
            .map(|t| t.label())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Everyone with a place for an event: "12 of 30 places taken, 3 waiting".
    fn places(&self, e: &crate::domain::events::Event) -> String {
        let mut s = format!("{} of {} places taken", e.taken.min(e.capacity), e.capacity);
        if e.waitlisted > 0 {
            s.push_str(&format!(", {} waiting", e.waitlisted));
        }
        s
    }
}

pub async fn home(State(_state): State<AppState>, ctx: Ctx, c: Coordinator) -> PageResult {
    let is_admin = ctx.account.as_ref().is_some_and(|a| a.has(Role::Admin));
    render(&HomeView {
        l: ctx.layout("What needs you now"),
        home: c.home().await?,
        is_admin,
        training_days: TRAINING_HORIZON_DAYS,
    })
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/manage", get(home))
}
