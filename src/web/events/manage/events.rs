//! Coordinators' event pages: creating and changing events (with repetition, questions
//! and readings), cancelling, drawing a lottery, the registrant list with check-in,
//! CSV exports, per-event counts, and the volunteer roster for students' events.

use crate::web::http::form::Form;
use crate::web::http::form::Query;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::app::events as eventwork;
use crate::app::events::manage::Registrants;
use crate::domain::Invalid;
use crate::domain::events::{
    Audience, Event, EventForm, EventInput, QuestionInput, ReadingInput, local_input,
};
use crate::domain::ids::{EventId, RegistrationId};
use crate::domain::series::Series;
use crate::store::{EventCounts, Registration};
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::error::PageResult;
use crate::web::http::layout::{Ctx, Layout, field_error, form_status, render, render_status};

/// Rows offered for questions and readings on the form.
const QUESTION_ROWS: usize = 6;
const READING_ROWS: usize = 4;

#[derive(Deserialize, Default)]
pub struct SeriesQuery {
    #[serde(default)]
    pub(super) series: String,
}

#[derive(Template)]
#[template(path = "events/manage/events.html")]
struct ListView {
    l: Layout,
    totals: Vec<eventwork::SeriesTotals>,
    /// Soonest first: what a coordinator prepares for.
    coming: Vec<EventCounts>,
    /// Most recent first: what a coordinator looks back on.
    past: Vec<EventCounts>,
    series: Vec<Series>,
    chosen: String,
}

impl ListView {
    /// The two tables: heading, rows, and the order the caption names.
    fn sections(&self) -> [(&'static str, &[EventCounts], &'static str); 2] {
        [
            ("Coming up", &self.coming, "Soonest first."),
            ("Past", &self.past, "Most recent first."),
        ]
    }
}

pub async fn list(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Query(q): Query<SeriesQuery>,
) -> PageResult {
    let counts = coordinator.event_counts(&q.series).await?;
    let totals = eventwork::series_totals(&counts);
    let now = coordinator.now();
    let (mut coming, past): (Vec<_>, Vec<_>) = counts.into_iter().partition(|c| c.starts_at > now);
    coming.reverse();
    render(&ListView {
        l: ctx.layout("Events"),
        totals,
        coming,
        past,
        series: coordinator.public().series_list().await?,
        chosen: q.series,
    })
}

#[derive(Template)]
#[template(path = "events/manage/event_form.html")]
struct FormView {
    l: Layout,
    id: Option<EventId>,
    /// Later occurrences of the same repetition, which a change may also apply to.
    later: usize,
    input: EventForm,
    series: Vec<Series>,
    error: Option<Invalid>,
    questions: Vec<QuestionInput>,
    readings: Vec<ReadingInput>,
}

impl FormView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }

    fn audiences(&self) -> &'static [Audience] {
        Audience::ALL
    }

    /// Questions and readings fold away unless they hold something (or a mistake).
    fn rows_open(&self, prefix: &str) -> bool {
        let typed = match prefix {
            "q" => self.questions.iter().any(|q| !q.label.trim().is_empty()),
            _ => self.readings.iter().any(|r| !r.title.trim().is_empty()),
        };
        typed
            || self.error.as_ref().is_some_and(|e| {
                e.mistakes().iter().any(|m| {
                    m.field
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
                })
            })
    }
}

fn padded<T: Default + Clone>(mut v: Vec<T>, n: usize) -> Vec<T> {
    while v.len() < n {
        v.push(T::default());
    }
    v
}

async fn form_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    id: Option<EventId>,
    input: EventForm,
    error: Option<Invalid>,
) -> PageResult {
    let status = form_status(&error);
    let later = match id {
        Some(id) => coordinator.later_dates(id).await?,
        None => 0,
    };
    let questions = padded(input.questions.clone(), QUESTION_ROWS);
    let readings = padded(input.readings.clone(), READING_ROWS);
    render_status(
        status,
        &FormView {
            l: ctx.layout(if id.is_some() {
                "Change event"
            } else {
                "New event"
            }),
            id,
            later,
            input,
            series: coordinator.public().series_list().await?,
            error,
            questions,
            readings,
        },
    )
}

/// The form's fields as typed; rows are numbered (`q1_label`, `r2_title`…).
pub fn input_from_form(form: &[(String, String)]) -> EventForm {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let on = |k: &str| form.iter().any(|(n, v)| n == k && !v.is_empty());
    let questions = (1..=QUESTION_ROWS)
        .map(|i| QuestionInput {
            kind: get(&format!("q{i}_kind")),
            label: get(&format!("q{i}_label")),
            required: on(&format!("q{i}_required")),
            options: get(&format!("q{i}_options")),
        })
        .filter(|q| !q.label.trim().is_empty())
        .collect();
    let readings = (1..=READING_ROWS)
        .map(|i| ReadingInput {
            kind: get(&format!("r{i}_kind")),
            title: get(&format!("r{i}_title")),
            authors: get(&format!("r{i}_authors")),
            isbn: get(&format!("r{i}_isbn")),
            journal: get(&format!("r{i}_journal")),
            year: get(&format!("r{i}_year")),
            doi: get(&format!("r{i}_doi")),
        })
        .filter(|r| !r.title.trim().is_empty())
        .collect();
    EventForm {
        title: get("title"),
        body_md: get("body_md"),
        series: get("series"),
        time_zone: get("time_zone"),
        date: get("date"),
        start_time: get("start_time"),
        end_time: get("end_time"),
        end_date: get("end_date"),
        place: get("place"),
        online_url: get("online_url"),
        audience: form
            .iter()
            .filter(|(k, _)| k == "audience")
            .map(|(_, v)| v.clone())
            .collect(),
        capacity: get("capacity"),
        opens: get("opens"),
        closes: get("closes"),
        guests_allowed: on("guests_allowed"),
        guests_confirm: Some(on("guests_confirm")),
        private: on("private"),
        for_minors: on("for_minors"),
        allocation: get("allocation"),
        lottery_at: get("lottery_at"),
        offer_hours: get("offer_hours"),
        repeat: get("repeat"),
        repeat_until: get("repeat_until"),
        except_dates: get("except_dates"),
        questions,
        readings,
    }
}

/// An event as the form shows it, in its own time zone.
pub fn input_from_event(e: &Event) -> EventForm {
    let tz = e.tz();
    let start = local_input(Some(e.starts_at), &tz);
    let end = local_input(Some(e.ends_at), &tz);
    let (date, start_time) = start.split_once('T').unwrap_or_default();
    let (end_date, end_time) = end.split_once('T').unwrap_or_default();
    EventForm {
        title: e.title.clone(),
        body_md: e.body_md.clone(),
        series: e.series_slug.clone().unwrap_or_default(),
        time_zone: e.time_zone.clone(),
        date: date.to_string(),
        start_time: start_time.to_string(),
        end_time: end_time.to_string(),
        end_date: if end_date == date {
            String::new()
        } else {
            end_date.to_string()
        },
        place: e.place.clone(),
        online_url: e.online_url.clone(),
        audience: e.audience.iter().map(|a| a.key().to_string()).collect(),
        capacity: e.capacity.to_string(),
        opens: local_input(e.opens_at, &tz),
        closes: local_input(e.closes_at, &tz),
        guests_allowed: e.guests_allowed,
        guests_confirm: Some(e.guests_confirm),
        private: e.private,
        for_minors: e.for_minors,
        allocation: e.allocation.key().to_string(),
        lottery_at: local_input(e.lottery_at, &tz),
        offer_hours: e.offer_hours.to_string(),
        repeat: String::new(),
        repeat_until: String::new(),
        except_dates: String::new(),
        questions: e
            .questions
            .iter()
            .map(|q| QuestionInput {
                kind: q.kind.key().to_string(),
                label: q.label.clone(),
                required: q.required,
                options: q.options.join("\n"),
            })
            .collect(),
        readings: e
            .readings
            .iter()
            .map(|r| ReadingInput {
                kind: r.kind.key().to_string(),
                title: r.title.clone(),
                authors: r.authors.clone(),
                isbn: r.isbn.clone(),
                journal: r.journal.clone(),
                year: r.year.map(|y| y.to_string()).unwrap_or_default(),
                doi: r.doi.clone(),
            })
            .collect(),
    }
}

pub async fn new_form(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
) -> PageResult {
    let input = EventForm {
        // The programme's own zone, as set for the service level.
        time_zone: coordinator.public().time_zone().await?,
        audience: vec!["faculty".into()],
        capacity: "30".into(),
        start_time: "12:00".into(),
        end_time: "13:00".into(),
        // Members sign in; letting anyone register is the coordinator's choice.
        guests_allowed: false,
        guests_confirm: Some(true),
        ..Default::default()
    };
    form_page(&coordinator, ctx, None, input, None).await
}

/// Refusals of the event's form (an unknown series, a private flag fixed by registrations)
/// are shown beside their field like any other mistake.
fn on_form(e: crate::app::Error) -> crate::app::Error {
    crate::web::http::error::on_its_field(e)
}

pub async fn create(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let input = input_from_form(&form);
    let typed = EventInput::try_from(&input).map_err(crate::app::Error::from);
    let created = match typed {
        Ok(typed) => c.create_events(&typed).await.map_err(on_form),
        Err(e) => Err(e),
    };
    match created {
        Ok(ids) => {
            let first = ids.first().copied().unwrap_or_default();
            Ok(Redirect::to(&format!("/manage/events/{first}/registrations")).into_response())
        }
        Err(crate::app::Error::Invalid(e)) => form_page(&c, ctx, None, input, Some(e)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn edit_form(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(id): Path<EventId>,
) -> PageResult {
    let e = coordinator.event(id).await?;
    form_page(&coordinator, ctx, Some(id), input_from_event(&e), None).await
}

pub async fn update(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(id): Path<EventId>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let input = input_from_form(&form);
    let every_later_date = form.iter().any(|(k, v)| k == "apply_to_later" && v == "1");
    let changed = match EventInput::try_from(&input) {
        Ok(typed) => coordinator
            .change_event(id, typed, every_later_date)
            .await
            .map_err(on_form),
        Err(e) => Err(e.into()),
    };
    match changed {
        Ok(()) => Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response()),
        // What was typed comes back with the reason beside its field.
        Err(crate::app::Error::Invalid(e)) => {
            form_page(&coordinator, ctx, Some(id), input, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ConfirmForm {
    #[serde(default, rename = "confirm-draw")]
    draw: String,
    #[serde(default, rename = "confirm-cancel")]
    cancel: String,
}

/// Cancelling an event and drawing a lottery cannot be undone: the form has a box to tick.
async fn confirmed(
    coordinator: &Coordinator,
    ctx: Ctx,
    id: EventId,
    box_id: &'static str,
    ticked: &str,
) -> Option<PageResult> {
    if !ticked.is_empty() && ticked != "0" {
        return None;
    }
    let err = Invalid::new(box_id, "Tick the box to confirm: this cannot be undone.");
    Some(
        registrations_page(
            coordinator,
            ctx,
            id,
            String::new(),
            Some(err),
            AddForm::default(),
        )
        .await,
    )
}

pub async fn cancel_event(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(id): Path<EventId>,
    Form(f): Form<ConfirmForm>,
) -> PageResult {
    if let Some(page) = confirmed(&coordinator, ctx, id, "confirm-cancel", &f.cancel).await {
        return page;
    }
    coordinator.cancel_event(id).await?;
    Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response())
}

/// Draws the lottery now rather than waiting for its time.
pub async fn draw(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(id): Path<EventId>,
    Form(f): Form<ConfirmForm>,
) -> PageResult {
    if let Some(page) = confirmed(&c, ctx, id, "confirm-draw", &f.draw).await {
        return page;
    }
    c.draw_lottery(id).await?;
    Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response())
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "events/manage/registrations.html")]
struct RegistrationsView {
    l: Layout,
    e: Event,
    /// When the lottery draws, in the event's zone.
    draws: String,
    registrations: Vec<Registration>,
    q: String,
    attended: i64,
    /// Each adult placed on the event, with why their clearance no longer covers it.
    volunteers: Vec<(i64, String, Option<String>)>,
    error: Option<Invalid>,
    /// The name and address typed into "Register someone", sent back with a mistake.
    added: AddForm,
}

impl RegistrationsView {
    fn err(&self, field: &str) -> Option<String> {
        field_error(&self.error, field)
    }
}

pub(super) async fn registrations_page(
    coordinator: &Coordinator,
    ctx: Ctx,
    id: EventId,
    q: String,
    error: Option<Invalid>,
    added: AddForm,
) -> PageResult {
    let Registrants {
        event: e,
        registrations: all,
        volunteers,
    } = coordinator.registrants(id).await?;
    let attended = all
        .iter()
        .filter(|r| r.checked_in_at.is_some())
        .map(|r| r.places)
        .sum();
    let needle = q.trim().to_lowercase();
    let registrations = all
        .into_iter()
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.email.contains(&needle)
                || r.children
                    .iter()
                    .any(|c| c.first_name.to_lowercase().contains(&needle))
        })
        .collect();
    let status = form_status(&error);
    render_status(
        status,
        &RegistrationsView {
            l: ctx.layout(format!("Registrations: {}", e.title)),
            draws: e
                .lottery_at
                .map(|t| crate::domain::events::instant_text(t, &e.tz()))
                .unwrap_or_default(),
            volunteers,
            e,
            registrations,
            q,
            attended,
            error,
            added,
        },
    )
}

pub async fn registrations(
    State(_state): State<AppState>,
    ctx: Ctx,
    coordinator: Coordinator,
    Path(id): Path<EventId>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    registrations_page(&coordinator, ctx, id, q.q, None, AddForm::default()).await
}

#[derive(Deserialize)]
pub struct CheckInForm {
    #[serde(default)]
    arrived: String,
    #[serde(default)]
    q: String,
}

/// Ticks someone as arrived (or undoes it) from the list, keeping the search.
pub async fn check_in(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Path((id, rid)): Path<(EventId, RegistrationId)>,
    Form(f): Form<CheckInForm>,
) -> PageResult {
    coordinator
        .set_checked_in(id, rid, f.arrived == "yes")
        .await?;
    let back = if f.q.is_empty() {
        format!("/manage/events/{id}/registrations#r{rid}")
    } else {
        format!(
            "/manage/events/{id}/registrations?q={}#r{rid}",
            url::form_urlencoded::byte_serialize(f.q.as_bytes()).collect::<String>()
        )
    };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// A coordinator registers someone who asked by phone or at the door.
pub async fn add_registration(
    State(_state): State<AppState>,
    ctx: Ctx,
    c: Coordinator,
    Path(id): Path<EventId>,
    Form(f): Form<AddForm>,
) -> PageResult {
    match c.register_on_behalf(id, &f.name, &f.email).await {
        Ok(out) => Ok(
            Redirect::to(&format!("/manage/events/{id}/registrations#r{}", out.id)).into_response(),
        ),
        Err(crate::app::Error::Invalid(err)) => {
            registrations_page(&c, ctx, id, String::new(), Some(err), f).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A coordinator gives someone waiting a place now, even when the event is full.
pub async fn give_place(
    State(_state): State<AppState>,
    c: Coordinator,
    Path((id, rid)): Path<(EventId, RegistrationId)>,
) -> PageResult {
    c.give_place(id, rid).await?;
    Ok(Redirect::to(&format!("/manage/events/{id}/registrations#r{rid}")).into_response())
}

/// A coordinator cancels someone's registration (they asked by phone, say).
pub async fn cancel_registration(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Path((id, rid)): Path<(EventId, RegistrationId)>,
) -> PageResult {
    coordinator.cancel_registration(id, rid).await?;
    Ok(Redirect::to(&format!("/manage/events/{id}/registrations")).into_response())
}
