//! Public event pages: the listing with its filters, an event with its registration form,
//! the page a confirmation links to (status, check-in code, cancel), calendar files and
//! feeds, and a member's own registrations.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::SignedIn;
use super::error::{AppError, PageResult};
use super::layout::{Ctx, Layout, field_error, form_status, render, render_status};
use crate::domain::accounts::Email;
use crate::domain::calendar;
use crate::domain::events::{
    Audience, Child, ConsentText, Event, MAX_CHILDREN, Window, parse_answers, parse_consent,
};
use crate::domain::series::Series;
use crate::domain::{Invalid, now, required_line};
use crate::eventwork;
use crate::store::{EventFilter, NewRegistration, Registration};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    series: String,
    #[serde(default)]
    audience: String,
    /// YYYY-MM.
    #[serde(default)]
    month: String,
}

impl ListQuery {
    pub fn new(series: String, audience: String, month: String) -> Self {
        Self {
            series,
            audience,
            month,
        }
    }
}

/// The listing's filter, read from the query; a malformed month is ignored, not an error.
/// Months are the programme's own (its time zone, as set for the service level).
pub fn filter_from(q: &ListQuery, series: &[Series], zone: &str) -> (EventFilter, Option<String>) {
    let mut f = EventFilter {
        from: now(),
        ..Default::default()
    };
    f.series_id = series.iter().find(|s| s.slug == q.series).map(|s| s.id);
    f.audience = Audience::parse(q.audience.trim());
    let mut month_label = None;
    if let Ok(d) = format!("{}-01", q.month.trim()).parse::<jiff::civil::Date>() {
        let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let start = d.to_zoned(tz.clone()).map(|z| z.timestamp().as_second());
        let end = d
            .checked_add(jiff::ToSpan::months(1))
            .ok()
            .and_then(|e| e.to_zoned(tz).ok())
            .map(|z| z.timestamp().as_second());
        if let (Ok(s), Some(e)) = (start, end) {
            f.from = s.max(now());
            f.until = Some(e);
            month_label = Some(d.strftime("%B %Y").to_string());
        }
    }
    (f, month_label)
}

#[derive(Template)]
#[template(path = "events.html")]
struct ListView {
    l: Layout,
    events: Vec<Event>,
    series: Vec<Series>,
    q: ListQuery,
    month_label: Option<String>,
    months: Vec<(String, String)>,
}

/// The next twelve months, for the month filter.
fn months() -> Vec<(String, String)> {
    let today = jiff::Zoned::now().date().first_of_month();
    (0..12)
        .filter_map(|i| today.checked_add(jiff::ToSpan::months(i)).ok())
        .map(|d| {
            (
                d.strftime("%Y-%m").to_string(),
                d.strftime("%B %Y").to_string(),
            )
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let series = state.store.list_series().await?;
    let zone = state.store.service_level_settings().await?.time_zone;
    let (f, month_label) = filter_from(&q, &series, &zone);
    let events = state.store.list_events(&f).await?;
    render(&ListView {
        l: ctx.layout("Events"),
        events,
        series,
        q,
        month_label,
        months: months(),
    })
}

#[derive(Template)]
#[template(path = "event.html")]
struct EventView {
    l: Layout,
    e: Event,
    body_html: String,
    window: Window,
    mine: Option<Registration>,
    mine_secret: String,
    notice: Option<&'static str>,
    error: Option<Invalid>,
    form: Vec<(String, String)>,
    consent: ConsentText,
    child_rows: Vec<usize>,
}

impl EventView {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn chosen(&self, name: &str, value: &str) -> bool {
        self.form.iter().any(|(k, v)| k == name && v == value)
    }

    fn err(&self, field: &str) -> Option<&str> {
        field_error(&self.error, field)
    }

    fn opens_text(&self) -> String {
        match self.window {
            Window::NotYet(t) => crate::domain::events::instant_text(t, &self.e.tz()),
            _ => String::new(),
        }
    }

    fn draw_text(&self) -> String {
        self.e
            .lottery_at
            .map(|t| crate::domain::events::instant_text(t, &self.e.tz()))
            .unwrap_or_default()
    }
}

async fn event_page(
    state: &AppState,
    ctx: Ctx,
    e: Event,
    error: Option<Invalid>,
    form: Vec<(String, String)>,
) -> PageResult {
    event_page_with(state, ctx, e, error, form, None).await
}

async fn event_page_with(
    state: &AppState,
    ctx: Ctx,
    e: Event,
    error: Option<Invalid>,
    form: Vec<(String, String)>,
    notice: Option<&'static str>,
) -> PageResult {
    let mine = match &ctx.account {
        Some(a) => state.store.registration_for_account(e.id, a.id.0).await?,
        None => None,
    };
    let mine_secret = match &mine {
        Some(r) => state.store.registration_secret(r.id)?,
        None => String::new(),
    };
    let status = form_status(&error);
    render_status(
        status,
        &EventView {
            l: ctx.layout(e.title.clone()),
            body_html: e.body_html(),
            window: e.window(now()),
            mine,
            mine_secret,
            notice,
            error,
            form,
            consent: state.store.consent_text().await?,
            child_rows: (1..=3).collect(),
            e,
        },
    )
}

/// `/events/{id}` is the page; `/events/{id}.ics` its calendar file.
pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    if let Some(id) = id.strip_suffix(".ics") {
        let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
        let e = state.store.event(id).await?;
        let with_link = match &ctx.account {
            Some(a) => state
                .store
                .registration_for_account(id, a.id.0)
                .await?
                .is_some_and(|r| r.status.holds_place()),
            None => false,
        };
        let body = calendar::calendar(
            e.public_title(),
            &[eventwork::entry(&e, &state.web.public_url, with_link)],
        );
        return Ok(ics(body, &format!("event-{id}.ics")));
    }
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let e = state.store.event(id).await?;
    event_page(&state, ctx, e, None, Vec::new()).await
}

pub fn ics(body: String, filename: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Reads a registration form (or API body turned into pairs) against the event's rules.
pub fn registration_from_form(
    e: &Event,
    account: Option<&crate::domain::accounts::Account>,
    form: &[(String, String)],
    consent_text: &ConsentText,
) -> Result<NewRegistration, Invalid> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let (account_id, name, email) = match account {
        Some(a) => (
            Some(a.id.0),
            a.display_name.clone(),
            a.email.as_str().to_string(),
        ),
        None => {
            if !e.guests_allowed {
                return Err(Invalid::new(
                    "email",
                    "This event is for members: please sign in to register.",
                ));
            }
            let name = required_line("name", "Your name", get("name"), 120)?;
            let email = Email::parse(get("email"))?.as_str().to_string();
            (None, name, email)
        }
    };
    let given: Vec<(i64, String)> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix('q')
                .and_then(|id| id.parse().ok())
                .map(|id| (id, v.clone()))
        })
        .collect();
    let answers = parse_answers(&e.questions, &given)?;
    let (children, consent) = if e.for_minors {
        let mut children = Vec::new();
        for i in 1..=MAX_CHILDREN {
            if let Some(c) = Child::parse(
                get(&format!("child{i}_first_name")),
                get(&format!("child{i}_grade")),
                get(&format!("child{i}_school")),
            )? {
                children.push(c);
            }
        }
        if children.is_empty() {
            return Err(Invalid::new(
                "children",
                "Add at least one child: first name, grade and school.",
            ));
        }
        let consent = parse_consent(
            get("consent") == "yes",
            get("guardian_relationship"),
            consent_text,
            get("consent_version"),
        )?;
        (children, Some(consent))
    } else {
        (Vec::new(), None)
    };
    Ok(NewRegistration {
        event_id: e.id,
        account_id,
        name,
        email,
        answers,
        children,
        consent,
    })
}

/// Whether registration is open for this event now, as a user's mistake if not.
pub fn check_window(e: &Event) -> Result<(), Invalid> {
    match e.window(now()) {
        Window::Open => Ok(()),
        Window::NotYet(t) => Err(Invalid::new(
            "event",
            format!(
                "Registration opens on {}.",
                crate::domain::events::instant_text(t, &e.tz())
            ),
        )),
        Window::Closed => Err(Invalid::new(
            "event",
            "Registration for this event has closed.",
        )),
        Window::Cancelled => Err(Invalid::new("event", "This event has been cancelled.")),
    }
}

pub async fn register(
    State(state): State<AppState>,
    ctx: Ctx,
    super::auth::ClientAddr(address): super::auth::ClientAddr,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let e = state.store.event(id).await?;
    // Only students' events ask for consent: others skip reading its text.
    let consent = if e.for_minors {
        state.store.consent_text().await?
    } else {
        crate::domain::events::ConsentText::default()
    };
    let parsed = check_window(&e)
        .and_then(|()| registration_from_form(&e, ctx.account.as_ref(), &form, &consent));
    let r = match parsed {
        Ok(r) => r,
        Err(err) => return event_page(&state, ctx, e, Some(err), form).await,
    };
    let caller = eventwork::Caller {
        address: &address,
        guest_registrations_per_hour: state.web.guest_registrations_per_address,
    };
    let out = match eventwork::register(&state.store, &state.web.public_url, &e, &r, caller)
        .await
        .map_err(AppError::from)?
    {
        eventwork::Outcome::Registered(out) => out,
        eventwork::Outcome::CheckYourMail { .. } => {
            return event_page_with(
                &state,
                ctx,
                e,
                None,
                Vec::new(),
                Some(
                    "Check your e-mail: we have sent a link to the address you gave. Your place \
                     is held only once you follow it, within a day. If it does not arrive, \
                     check the address and your spam folder, then register again.",
                ),
            )
            .await;
        }
    };
    if !out.created && r.account_id.is_none() {
        return event_page_with(
            &state,
            ctx,
            e,
            None,
            Vec::new(),
            Some(
                "This e-mail address is already registered for this event. We have sent its \
                 confirmation again: the link in it shows the registration and cancels it.",
            ),
        )
        .await;
    }
    Ok(Redirect::to(&eventwork::manage_path(&out.secret)).into_response())
}

#[derive(Template)]
#[template(path = "registration.html")]
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

async fn manage_page(
    state: &AppState,
    ctx: Ctx,
    secret: String,
    notice: Option<&'static str>,
) -> PageResult {
    let r = state.store.registration_by_secret(&secret).await?;
    let e = state.store.event(r.event_id).await?;
    let check_in_url = format!(
        "{}/checkin/{}",
        state.web.public_url.as_str().trim_end_matches('/'),
        state.store.check_in_token(r.id)?
    );
    let qr_svg = if r.status.holds_place() {
        eventwork::qr_svg(&check_in_url)
    } else {
        String::new()
    };
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
    manage_page(&state, ctx, secret, None).await
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let r = state.store.registration_by_secret(&secret).await?;
    let e = state.store.event(r.event_id).await?;
    eventwork::cancel(&state.store, &state.web.public_url, &e, r.id).await?;
    manage_page(
        &state,
        ctx,
        secret,
        Some("Your registration is cancelled. Thank you for freeing the place."),
    )
    .await
}

pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(secret): Path<String>,
) -> PageResult {
    let r = state.store.registration_by_secret(&secret).await?;
    state.store.accept_place(r.id).await?;
    manage_page(
        &state,
        ctx,
        secret,
        Some("The place is yours. See you there."),
    )
    .await
}

/// The whole programme as a subscribable feed.
pub async fn programme_feed(State(state): State<AppState>) -> PageResult {
    let events = state
        .store
        .list_events(&EventFilter {
            from: now() - 30 * 86400,
            include_cancelled: true,
            ..Default::default()
        })
        .await?;
    let name = state.store.branding().await?.name;
    feed(&state, &name, &events)
}

/// One series as a subscribable feed.
pub async fn series_feed(State(state): State<AppState>, Path(slug): Path<String>) -> PageResult {
    let slug = slug.strip_suffix(".ics").unwrap_or(&slug);
    let s = state.store.series_by_slug(slug).await?;
    let events = state
        .store
        .list_events(&EventFilter {
            series_id: Some(s.id),
            from: now() - 30 * 86400,
            include_cancelled: true,
            ..Default::default()
        })
        .await?;
    feed(&state, &s.title, &events)
}

fn feed(state: &AppState, name: &str, events: &[Event]) -> PageResult {
    let entries: Vec<_> = events
        .iter()
        .map(|e| eventwork::entry(e, &state.web.public_url, false))
        .collect();
    Ok(ics(calendar::calendar(name, &entries), "events.ics"))
}

/// A member's personal feed: what they registered for, at a secret URL.
pub async fn personal_feed(State(state): State<AppState>, Path(token): Path<String>) -> PageResult {
    let token = token.strip_suffix(".ics").unwrap_or(&token);
    let account = state.store.calendar_owner(token).await?;
    let mine = state
        .store
        .registrations_of(account, now() - 30 * 86400)
        .await?;
    let entries: Vec<_> = mine
        .iter()
        .map(|(e, r)| {
            let mut entry = eventwork::entry(e, &state.web.public_url, r.status.holds_place());
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
#[template(path = "account_events.html")]
struct MineView {
    l: Layout,
    mine: Vec<(Event, Registration, String)>,
    feed_url: String,
    renewed: bool,
}

async fn mine_page(state: &AppState, ctx: Ctx, account: i64, renew: bool) -> PageResult {
    let token = state.store.calendar_token(account, renew).await?;
    let mut mine = Vec::new();
    for (e, r) in state.store.registrations_of(account, now()).await? {
        let secret = state.store.registration_secret(r.id)?;
        mine.push((e, r, secret));
    }
    render(&MineView {
        l: ctx.layout("My events"),
        mine,
        feed_url: format!(
            "{}/calendar/{token}.ics",
            state.web.public_url.as_str().trim_end_matches('/')
        ),
        renewed: renew,
    })
}

pub async fn mine(State(state): State<AppState>, ctx: Ctx, SignedIn(a): SignedIn) -> PageResult {
    mine_page(&state, ctx, a.id.0, false).await
}

/// A new feed address; the old one stops working.
pub async fn renew_feed(
    State(state): State<AppState>,
    ctx: Ctx,
    SignedIn(a): SignedIn,
) -> PageResult {
    mine_page(&state, ctx, a.id.0, true).await
}

impl From<eventwork::RegisterError> for AppError {
    fn from(e: eventwork::RegisterError) -> Self {
        match e {
            eventwork::RegisterError::TooMany => AppError::Limited(format!(
                "This e-mail address has been registered for {} events in the last hour without \
                 signing in. Please wait an hour, or sign in to register for more.",
                crate::domain::events::GUEST_REGISTRATIONS_PER_HOUR
            )),
            eventwork::RegisterError::TooManyFromAddress { per_hour } => {
                AppError::Limited(format!(
                    "More than {per_hour} registrations without an account came from your network \
                 in the last hour. Please try again in an hour, sign in to register, or ask the \
                 programme to register you."
                ))
            }
            eventwork::RegisterError::Store(e) => e.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "registration_confirm.html")]
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
    let pending = state.store.pending_guest(&secret).await.map_err(|e| match e {
        crate::store::StoreError::NotFound => AppError::Conflict(
            "This link has expired or has been used already. Register again from the event's page if you still want a place.".into(),
        ),
        e => e.into(),
    })?;
    let e = state.store.event(pending.event_id).await?;
    render(&ConfirmView {
        l: ctx.layout("Confirm your registration"),
        e,
        secret,
    })
}

pub async fn confirm(State(state): State<AppState>, Path(secret): Path<String>) -> PageResult {
    let out = eventwork::confirm_guest(&state.store, &state.web.public_url, &secret)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => AppError::Conflict(
                "This link has expired or has been used already. Register again from the event's page if you still want a place.".into(),
            ),
            e => e.into(),
        })?;
    Ok(Redirect::to(&eventwork::manage_path(&out.secret)).into_response())
}
