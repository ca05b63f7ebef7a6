//! "Where you are signed in": a person's browser sessions, and signing out the others.

use askama::Template;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};

use crate::app::Error;
use crate::store::SessionEntry;
use crate::web::http::auth::Member;
use crate::web::http::cookies;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, render};

#[derive(Template)]
#[template(path = "accounts/sessions.html")]
struct SessionsView {
    l: Layout,
    sessions: Vec<SessionEntry>,
    /// How many were just signed out, to say so.
    ended: Option<u64>,
}

impl SessionsView {
    fn others(&self) -> usize {
        self.sessions.iter().filter(|s| !s.current).count()
    }
}

#[derive(serde::Deserialize, Default)]
pub struct EndedQuery {
    ended: Option<u64>,
}

/// The session the page is asked from (pages are reached with a session cookie only).
fn current(headers: &HeaderMap) -> Result<&str, Error> {
    cookies::get(headers, cookies::SESSION).ok_or(Error::SignInRequired)
}

pub async fn list(
    ctx: Ctx,
    member: Member,
    headers: HeaderMap,
    crate::web::http::form::Query(q): crate::web::http::form::Query<EndedQuery>,
) -> PageResult {
    let sessions = member.sessions(current(&headers)?).await?;
    render(&SessionsView {
        l: ctx.layout("Where you are signed in"),
        sessions,
        ended: q.ended,
    })
}

pub async fn end_one(member: Member, Path(handle): Path<String>) -> PageResult {
    if handle.len() > 64 || !handle.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound.into());
    }
    member.end_session(&handle).await?;
    Ok(Redirect::to("/account/sessions?ended=1").into_response())
}

pub async fn end_others(member: Member, headers: HeaderMap) -> PageResult {
    let n = member.end_other_sessions(current(&headers)?).await?;
    Ok(Redirect::to(&format!("/account/sessions?ended={n}")).into_response())
}
