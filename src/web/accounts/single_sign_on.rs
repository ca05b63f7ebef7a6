//! Signing in through the institution's identity provider: the button sends the browser
//! to the provider; the provider sends it back to the callback with a code. Or, with a
//! SAML proxy in front, the proxy signs the person in and passes their attributes to the
//! one route that reads them.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::account::{NextQuery, after_sign_in, user_agent, with_new_session};
use crate::app::Error;
use crate::app::sign_in::{ATTEMPT_SECS, Answer, ProxiedRequest};
use crate::domain::sign_in::Refusal;
use crate::web::AppState;
use crate::web::http::auth::Peer;
use crate::web::http::cookies;
use crate::web::http::error::PageResult;
use crate::web::http::form::Query;
use crate::web::http::layout::{Ctx, Layout, render_status};

#[derive(Template)]
#[template(path = "accounts/sign_in_problem.html")]
struct ProblemView {
    l: Layout,
    sentence: &'static str,
    /// Whether trying again may help (else: write to the programme).
    retry: bool,
}

fn status_of(r: Refusal) -> StatusCode {
    match r {
        Refusal::ProviderUnavailable => StatusCode::BAD_GATEWAY,
        Refusal::Cancelled | Refusal::Tampered | Refusal::Expired => StatusCode::BAD_REQUEST,
        Refusal::NotAllowed
        | Refusal::NoAccount
        | Refusal::EmailUnverified
        | Refusal::AccountInactive
        | Refusal::AlreadyLinked => StatusCode::FORBIDDEN,
    }
}

/// A page that says what happened and whom to write to, in the site's layout.
fn problem(ctx: &Ctx, r: Refusal) -> PageResult {
    let retry = matches!(
        r,
        Refusal::ProviderUnavailable | Refusal::Cancelled | Refusal::Tampered | Refusal::Expired
    );
    let mut resp = render_status(
        status_of(r),
        &ProblemView {
            l: ctx.layout("You are not signed in"),
            sentence: r.sentence(),
            retry,
        },
    )?;
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store".parse().map_err(anyhow::Error::new)?,
    );
    Ok(resp)
}

pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = after_sign_in(&q.next);
    match state.app.public().start_single_sign_on(&next).await {
        Ok(started) => {
            let mut resp = Redirect::to(&started.url).into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(
                    cookies::SIGN_IN_STATE,
                    &started.state,
                    ATTEMPT_SECS,
                    state.web.cookies_secure,
                ),
            );
            Ok(resp)
        }
        Err(Error::SignInRefused(r)) => problem(&ctx, r),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> PageResult {
    let answer = Answer {
        state: &q.state,
        browser_state: cookies::get(&headers, cookies::SIGN_IN_STATE),
        code: q.code.as_deref(),
        error: q.error.as_deref(),
        issuer: q.iss.as_deref(),
    };
    let old = cookies::get(&headers, cookies::SESSION);
    let outcome = state
        .app
        .public()
        .finish_single_sign_on(answer, old, user_agent(&headers))
        .await;
    let mut resp: Response = match outcome {
        Ok((session, next)) => with_new_session(
            &state,
            &session.secret,
            Redirect::to(&after_sign_in(&next)).into_response(),
        ),
        Err(Error::SignInRefused(r)) => problem(&ctx, r)?,
        Err(e) => return Err(e.into()),
    };
    // The state is spent either way.
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::SIGN_IN_STATE, state.web.cookies_secure),
    );
    Ok(resp)
}

/// The route a SAML proxy protects: it has signed the person in and sent their attributes
/// as headers. Only here are those headers read.
pub async fn institution(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
    Query(q): Query<NextQuery>,
) -> PageResult {
    // Attributes are UTF-8 (a name with accents), which `to_str` would refuse.
    let header = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
            .map(str::to_string)
            .collect()
    };
    let request = ProxiedRequest {
        peer,
        header: &header,
    };
    let old = cookies::get(&headers, cookies::SESSION);
    match state
        .app
        .public()
        .sign_in_with_trusted_headers(request, old, user_agent(&headers))
        .await
    {
        Ok(session) => Ok(with_new_session(
            &state,
            &session.secret,
            Redirect::to(&after_sign_in(&q.next)).into_response(),
        )),
        Err(Error::SignInRefused(r)) => problem(&ctx, r),
        Err(e) => Err(e.into()),
    }
}
