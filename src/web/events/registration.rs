//! Registering and what follows: the form's answer, confirming a guest's address, the page a
//! confirmation links to (status, check-in code, cancel, accept a place), a member's own
//! registrations and their personal calendar feed.

use crate::web::http::form::Form;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};

use super::listing::{event_page, event_page_with, ics};
use crate::app::events as eventwork;
use crate::app::events::registration::Registrant;
use crate::domain::calendar;
use crate::domain::events::Event;
use crate::domain::ids::EventId;
use crate::store::Registration;
use crate::web::AppState;
use crate::web::http::auth::{MaybeSignedIn, Member};
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, render};

/// Reads a registration form (or API body turned into pairs) against the event's rules.
pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSignedIn(member): MaybeSignedIn,
    crate::web::http::auth::ClientAddr(address): crate::web::http::auth::ClientAddr,
    Path(id): Path<EventId>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let public = state.app.public();
    let member = member.as_ref();
    let outcome = match public.register(id, &form, member, &address).await {
        Ok(done) => done,
        // What was typed comes back, with the reason beside its field.
        Err(crate::app::Error::Invalid(err)) => {
            let e = public.event(id).await?;
            return event_page(&state, ctx, member, e, Some(err), form).await;
        }
        Err(e) => return Err(e.into()),
    };
    let notice = match outcome {
        eventwork::Outcome::Registered(out) if out.created || member.is_some() => {
            return Ok(Redirect::to(&eventwork::manage_path(&out.secret)).into_response());
        }
        eventwork::Outcome::Registered(_) => {
            "This e-mail address is already registered for this event. We have sent its \
             confirmation again: the link in it shows the registration and cancels it."
        }
        eventwork::Outcome::CheckYourMail { .. } => {
            "Check your e-mail: we have sent a link to the address you gave. Your place \
             is held only once you follow it, within a day. If it does not arrive, \
             check the address and your spam folder, then register again."
        }
    };
    let e = public.event(id).await?;
    event_page_with(&state, ctx, member, e, None, Vec::new(), Some(notice)).await
}

#[derive(Template)]
#[template(path = "events/registration.html")]
struct ManageView {
    l: Layout,
    e: Event,
    r: Registration,
    secret: String,
    qr_svg: String,
    notice: Option<&'static str>,
}

impl ManageView {
    fn offer_until(&self) -> String {
        self.r
            .offer_expires_at
            .map(|t| crate::domain::events::instant_text(t, &self.e.tz()))
            .unwrap_or_default()
    }
}

fn manage_page(ctx: Ctx, registrant: Registrant, notice: Option<&'static str>) -> PageResult {
    let qr_svg = if registrant.registration.status.holds_place() {
        eventwork::qr_svg(&registrant.check_in_url()?)
    } else {
        String::new()
    };
    let Registrant {
        registration: r,
        event: e,
        secret,
        ..
    } = registrant;
    render(&ManageView {
        l: ctx.layout(format!("Your registration: {}", e.title)),
        e,
        r,
        secret,
        qr_svg,
        notice,
    })
}

pub async fn manage(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    manage_page(ctx, state.app.public().registrant(&secret).await?, None)
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let registrant = state
        .app
        .public()
        .registrant(&secret)
        .await?
        .cancel()
        .await?;
    manage_page(
        ctx,
        registrant,
        Some("Your registration is cancelled. Thank you for freeing the place."),
    )
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let registrant = state
        .app
        .public()
        .registrant(&secret)
        .await?
        .accept_place()
        .await?;
    manage_page(ctx, registrant, Some("The place is yours. See you there."))
}

/// A member's personal feed: what they registered for, at a secret URL.
pub async fn personal_feed(State(state): State<AppState>, Path(token): Path<String>) -> PageResult {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    let mine = state.app.public().personal_feed(token).await?;
    let entries: Vec<_> = mine
        .iter()
        .map(|(e, r)| {
            let mut entry = eventwork::entry(
                e,
                state.app.public_url(),
                r.status.holds_place(),
                state.app.now(),
            );
            if !r.status.holds_place() {
                entry.summary = format!("{} ({})", entry.summary, r.status.label().to_lowercase());
            }
            entry
        })
        .collect();
    Ok(ics(
        calendar::calendar("My events", &entries),
        "my-events.ics",
    ))
}

#[derive(Template)]
#[template(path = "events/mine.html")]
struct MineView {
    l: Layout,
    mine: Vec<(Event, Registration, String)>,
    feed_url: String,
    renewed: bool,
}

async fn mine_page(ctx: Ctx, member: &Member, renew: bool) -> PageResult {
    let feed_url = member.calendar_feed_url(renew).await?;
    render(&MineView {
        l: ctx.layout("My events"),
        mine: member.my_events().await?,
        feed_url,
        renewed: renew,
    })
}

pub async fn mine(State(_state): State<AppState>, ctx: Ctx, a: Member) -> PageResult {
    mine_page(ctx, &a, false).await
}

/// A new feed address; the old one stops working.
pub async fn renew_feed(State(_state): State<AppState>, ctx: Ctx, a: Member) -> PageResult {
    mine_page(ctx, &a, true).await
}

#[derive(Template)]
#[template(path = "events/registration_confirm.html")]
struct ConfirmView {
    l: Layout,
    e: Event,
    secret: String,
}

/// The page a guest's confirmation link opens: a button, so that a mail program that
/// follows links to scan them does not confirm for the person.
pub async fn confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let (_, e) = state.app.public().pending_guest(&secret).await?;
    render(&ConfirmView {
        l: ctx.layout("Confirm your registration"),
        e,
        secret,
    })
}

pub async fn confirm(State(state): State<AppState>, Path(secret): Path<String>) -> PageResult {
    let out = state.app.public().confirm_guest(&secret).await?;
    Ok(Redirect::to(&eventwork::manage_path(&out.secret)).into_response())
}
