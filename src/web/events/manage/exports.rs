//! CSV exports for coordinators: an event's registrations and attendance, and per-event
//! counts. Cells a spreadsheet would run as formulas are neutralised.

use crate::web::http::form::Query;
use axum::extract::{Path, State};

use super::events::SeriesQuery;
use crate::domain::ids::EventId;
use crate::web::AppState;
use crate::web::http::auth::Coordinator;
use crate::web::http::csv::{csv_response, csv_row};
use crate::web::http::error::PageResult;

/// Per-event counts as CSV.
pub async fn counts_csv(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Query(q): Query<SeriesQuery>,
) -> PageResult {
    let mut out = csv_row(
        &[
            "event_id",
            "title",
            "series",
            "starts_at",
            "registered",
            "waitlisted",
            "attended",
            "cancelled",
            "no_show_rate",
        ]
        .map(String::from),
    );
    for c in coordinator.event_counts(&q.series).await? {
        out.push_str(&csv_row(&[
            c.event_id.to_string(),
            c.title,
            c.series_title.unwrap_or_default(),
            crate::domain::format_time_iso(
                c.starts_at,
                &jiff::tz::TimeZone::get(&c.time_zone).unwrap_or(jiff::tz::TimeZone::UTC),
            ),
            c.registered.to_string(),
            c.waitlisted.to_string(),
            c.attended.to_string(),
            c.cancelled.to_string(),
            c.no_show_rate
                .map(|r| format!("{r:.2}"))
                .unwrap_or_default(),
        ]));
    }
    Ok(csv_response(out, "event-counts.csv"))
}

/// Registrations and attendance as CSV.
pub async fn registrations_csv(
    State(_state): State<AppState>,
    coordinator: Coordinator,
    Path(id): Path<EventId>,
) -> PageResult {
    let (e, regs) = coordinator.registrations(id).await?;
    let mut header: Vec<String> = [
        "registration_id",
        "name",
        "email",
        "status",
        "waitlist_position",
        "places",
        "registered_at",
        "checked_in_at",
    ]
    .map(String::from)
    .to_vec();
    header.extend(e.questions.iter().map(|q| q.label.clone()));
    if e.for_minors {
        header.extend(
            [
                "children",
                "guardian_relationship",
                "guardian_phone",
                "emergency_contact",
                "consent_version",
                "consented_at",
            ]
            .map(String::from),
        );
    }
    let mut out = csv_row(&header);
    // Times in the event's zone, with their offset: what the people at the door knew.
    let zone = e.tz();
    let at = |t: i64| crate::domain::format_time_iso(t, &zone);
    for r in &regs {
        let mut row = vec![
            r.id.to_string(),
            r.name.clone(),
            r.email.clone(),
            r.status.key().to_string(),
            r.position.map(|p| p.to_string()).unwrap_or_default(),
            r.places.to_string(),
            at(r.created_at),
            r.checked_in_at.map(at).unwrap_or_default(),
        ];
        for q in &e.questions {
            row.push(
                r.answers
                    .iter()
                    .find(|a| a.question == q.label)
                    .map(|a| a.answer.clone())
                    .unwrap_or_default(),
            );
        }
        if e.for_minors {
            row.push(
                r.children
                    .iter()
                    .map(|c| format!("{} (grade {}, {})", c.first_name, c.grade, c.school))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            row.push(r.guardian_relationship.clone().unwrap_or_default());
            let contact = r.guardian_contact.clone().unwrap_or_default();
            row.push(contact.phone);
            row.push(if contact.emergency_name.is_empty() {
                String::new()
            } else {
                format!("{} ({})", contact.emergency_name, contact.emergency_phone)
            });
            row.push(r.consent_version.clone().unwrap_or_default());
            row.push(r.consented_at.map(at).unwrap_or_default());
        }
        out.push_str(&csv_row(&row));
    }
    Ok(csv_response(out, &format!("event-{id}-registrations.csv")))
}
