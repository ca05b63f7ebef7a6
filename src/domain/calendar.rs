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

/// A value for a one-line property: every control character (CR and LF included) becomes
/// a space, so no text can end its line and start a property of its own.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A value for DESCRIPTION: line breaks of any kind become LF (which the crate writes as
/// `\n`), other control characters are dropped.
fn multi_line(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// RFC 5545 TEXT escaping, for the properties the crate writes without it (`NAME`,
/// `X-WR-CALNAME`).
fn escaped_text(s: &str) -> String {
    one_line(s)
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
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
        .append_property(("NAME", escaped_text(name).as_str()))
        .append_property(("X-WR-CALNAME", escaped_text(name).as_str()));
    for e in entries {
        let mut ev = icalendar::Event::new();
        ev.uid(&one_line(&e.uid))
            .sequence(u32::try_from(e.sequence).unwrap_or(0))
            .timestamp(utc(e.updated_at))
            .summary(&one_line(&e.summary))
            .starts(utc(e.starts_at))
            .ends(utc(e.ends_at))
            .status(if e.cancelled {
                EventStatus::Cancelled
            } else {
                EventStatus::Confirmed
            });
        if !e.description.is_empty() {
            ev.description(&multi_line(&e.description));
        }
        if !e.location.is_empty() {
            ev.location(&one_line(&e.location));
        }
        if !e.url.is_empty() {
            ev.url(&one_line(&e.url));
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

    #[test]
    fn line_breaks_in_any_text_start_no_property() {
        let evil = "Talk\r\nATTENDEE:mailto:x@evil.example\rORGANIZER:mailto:y@evil.example\nX";
        let text = calendar(
            evil,
            &[Entry {
                uid: format!("{evil}@example.edu"),
                sequence: 0,
                summary: evil.into(),
                description: evil.into(),
                location: evil.into(),
                url: format!("https://example.edu/{evil}"),
                starts_at: 1_800_000_000,
                ends_at: 1_800_003_600,
                cancelled: false,
                updated_at: 1_790_000_000,
            }],
        );
        // Unfold, then every line must start with a property we wrote.
        let unfolded = text.replace("\r\n ", "");
        for line in unfolded.split("\r\n") {
            assert!(
                !line.starts_with("ATTENDEE") && !line.starts_with("ORGANIZER"),
                "{text}"
            );
            assert!(!line.contains('\r') && !line.contains('\n'), "{line:?}");
        }
        assert!(unfolded.contains("X-WR-CALNAME:Talk  ATTENDEE:mailto:x@evil.example ORGANIZER"));
    }
}
