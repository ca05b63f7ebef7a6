//! Public event pages: the listing with its filters, an event with its registration form,
//! calendar files and the programme's and each series' feeds.

use crate::web::http::form::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::app::events as eventwork;
use crate::domain::Invalid;
use crate::domain::calendar;
use crate::domain::events::{Audience, ConsentText, Event, Window};
use crate::domain::ids::EventId;
use crate::domain::series::Series;
use crate::store::{EventFilter, Registration};
use crate::web::AppState;
use crate::web::http::auth::{MaybeSignedIn, Member};
use crate::web::http::error::{AppError, PageResult};
use crate::web::http::fields::Offered;
use crate::web::http::layout::{Ctx, Layout, field_error, form_status, render, render_status};

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
/// `now` is where the listing starts: nothing past is shown.
pub fn filter_from(
    q: &ListQuery,
    series: &[Series],
    zone: &str,
    now: i64,
) -> (EventFilter, Option<String>) {
    let mut f = EventFilter {
        from: now,
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
            f.from = s.max(now);
            f.until = Some(e);
            month_label = Some(d.strftime("%B %Y").to_string());
        }
    }
    (f, month_label)
}

#[derive(Template)]
#[template(path = "events/list.html")]
struct ListView {
    l: Layout,
    events: Vec<Event>,
    series: Vec<Series>,
    q: ListQuery,
    month_label: Option<String>,
    months: Vec<(String, String)>,
}

/// The next twelve months, for the month filter.
fn months(today: jiff::civil::Date) -> Vec<(String, String)> {
    let today = today.first_of_month();
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
    let series = state.app.public().series_list().await?;
    let zone = state.app.public().time_zone().await?;
    let (f, month_label) = filter_from(&q, &series, &zone, state.app.now());
    let events = state.app.public().events(&f).await?;
    render(&ListView {
        l: ctx.layout("Events"),
        events,
        series,
        q,
        month_label,
        months: months(state.app.public().today()),
    })
}

#[derive(Template)]
#[template(path = "events/event.html")]
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

    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }

    /// Every value sent back for a field (a question with several choices).
    fn values(&self, name: &str) -> Vec<String> {
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn question_label(&self, q: &crate::domain::events::Question) -> String {
        if q.required {
            q.label.clone()
        } else {
            format!("{} (optional)", q.label)
        }
    }

    fn yes_no(&self) -> [Offered; 2] {
        [Offered::new("yes", "Yes"), Offered::new("no", "No")]
    }

    fn choices(&self, q: &crate::domain::events::Question) -> Vec<Offered> {
        q.options
            .iter()
            .map(|o| Offered::new(o.clone(), o.clone()))
            .collect()
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

pub(super) async fn event_page(
    state: &AppState,
    ctx: Ctx,
    member: Option<&Member>,
    e: Event,
    error: Option<Invalid>,
    form: Vec<(String, String)>,
) -> PageResult {
    event_page_with(state, ctx, member, e, error, form, None).await
}

pub(super) async fn event_page_with(
    state: &AppState,
    ctx: Ctx,
    member: Option<&Member>,
    e: Event,
    error: Option<Invalid>,
    form: Vec<(String, String)>,
    notice: Option<&'static str>,
) -> PageResult {
    let (mine, mine_secret) = match member {
        Some(m) => match m.registration_for(EventId(e.id)).await? {
            Some((r, secret)) => (Some(r), secret),
            None => (None, String::new()),
        },
        None => (None, String::new()),
    };
    let status = form_status(&error);
    render_status(
        status,
        &EventView {
            l: ctx.layout(e.title.clone()),
            body_html: e.body_html(),
            window: e.window(state.app.now()),
            mine,
            mine_secret,
            notice,
            error,
            form,
            consent: state.app.public().consent_text().await?,
            child_rows: (1..=3).collect(),
            e,
        },
    )
}

/// `/events/{id}` is the page; `/events/{id}.ics` its calendar file.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    MaybeSignedIn(member): MaybeSignedIn,
    Path(id): Path<String>,
) -> PageResult {
    if let Some(id) = id.strip_suffix(".ics") {
        let id = EventId(id.parse().map_err(|_| AppError::NotFound)?);
        let e = state.app.public().event(id).await?;
        // The online link goes only to people who hold a place.
        let with_link = match &member {
            Some(m) => m
                .registration_for(id)
                .await?
                .is_some_and(|(r, _)| r.status.holds_place()),
            None => false,
        };
        let body = calendar::calendar(
            e.public_title(),
            &[eventwork::entry(
                &e,
                state.app.public_url(),
                with_link,
                state.app.now(),
            )],
        );
        return Ok(ics(body, &format!("event-{id}.ics")));
    }
    let id = EventId(id.parse().map_err(|_| AppError::NotFound)?);
    let e = state.app.public().event(id).await?;
    event_page(&state, ctx, member.as_ref(), e, None, Vec::new()).await
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

/// The whole programme as a subscribable feed.
pub async fn programme_feed(State(state): State<AppState>) -> PageResult {
    let events = state.app.public().programme_feed().await?;
    let name = state.app.public().branding().await?.name;
    feed(&state, &name, &events)
}

/// One series as a subscribable feed.
pub async fn series_feed(State(state): State<AppState>, Path(slug): Path<String>) -> PageResult {
    let slug = slug.strip_suffix(".ics").unwrap_or(&slug);
    let (s, events) = state.app.public().series_feed(slug).await?;
    feed(&state, &s.title, &events)
}

fn feed(state: &AppState, name: &str, events: &[Event]) -> PageResult {
    let entries: Vec<_> = events
        .iter()
        .map(|e| eventwork::entry(e, state.app.public_url(), false, state.app.now()))
        .collect();
    Ok(ics(calendar::calendar(name, &entries), "events.ics"))
}
