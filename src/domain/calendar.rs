//! iCalendar (RFC 5545) text for events: one file per event, feeds per series, for the
//! whole programme and per person. Times are written in UTC, so every client places them
//! at the same instant whatever zone database it carries; each occurrence of a repeating
//! event is its own entry, so an excepted date is simply absent and a cancelled one says
//! so (with a higher SEQUENCE, so that calendars replace their copy).

use icalendar::{Calendar, Component, EventLike, EventStatus};

/// One calendar entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Stable across changes: calendars match updates by it.
    pub uid: String,
    pub sequence: i64,
    pub summary: String,
    pub description: String,
    pub location: String,
    pub url: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub cancelled: bool,
    pub updated_at: i64,
}

fn utc(unix: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

/// A calendar named `name` holding `entries`. Feeds suggest a refresh interval so that
/// subscribed clients see changes within hours.
pub fn calendar(name: &str, entries: &[Entry]) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(("VERSION", "2.0"))
        .append_property(("PRODID", "-//wecare//programme events//EN"))
        .append_property(("CALSCALE", "GREGORIAN"))
        .append_property(("METHOD", "PUBLISH"))
        .append_property(("REFRESH-INTERVAL;VALUE=DURATION", "PT6H"))
        .append_property(("X-PUBLISHED-TTL", "PT6H"))
        .name(name);
    for e in entries {
        let mut ev = icalendar::Event::new();
        ev.uid(&e.uid)
            .sequence(u32::try_from(e.sequence).unwrap_or(0))
            .timestamp(utc(e.updated_at))
            .summary(&e.summary)
            .starts(utc(e.starts_at))
            .ends(utc(e.ends_at))
            .status(if e.cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        if !e.description.is_empty() {
            ev.description(&e.description);
        }
        if !e.location.is_empty() {
            ev.location(&e.location);
        }
        if !e.url.is_empty() {
            ev.url(&e.url);
        }
        cal.push(ev.done());
    }
    cal.done().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_and_special_text_is_escaped_and_folded() {
        let text = calendar(
            "Programme",
            &[Entry {
                uid: "event-1@example.edu".into(),
                sequence: 2,
                summary: "Book club; \"Being Mortal\", chapter 3".into(),
                description: "Line one\nLine two ".repeat(20),
                location: "Room 4, Main St".into(),
                url: "https://example.edu/events/1".into(),
                starts_at: 1_800_000_000,
                ends_at: 1_800_003_600,
                cancelled: true,
                updated_at: 1_790_000_000,
            }],
        );
        assert!(text.contains("SUMMARY:Book club\\; \"Being Mortal\"\\, chapter 3"));
        assert!(text.contains("STATUS:CANCELLED"));
        assert!(text.contains("SEQUENCE:2"));
        assert!(text.contains("DTSTART:20270115T080000Z"));
        assert!(text.lines().all(|l| l.len() <= 75), "lines are folded");
    }
}
