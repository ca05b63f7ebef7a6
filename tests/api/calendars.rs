//! Calendar files and feeds, read back by Python's `icalendar` (not the library that
//! wrote them): times agree across a daylight-saving change, excepted dates are absent,
//! a cancelled occurrence says so, and a personal feed's address can be revoked.

use std::io::Write;
use std::process::{Command, Stdio};

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};
use reqwest::Method;
use serde_json::{Value, json};

use crate::events::{coordinator_token, create_event};
use crate::helpers::{TestApp, TestDb, api};
use crate::on_both;

on_both!(
    feeds_agree_with_an_independent_parser,
    line_breaks_in_stored_text_add_no_calendar_property,
);

/// Whether Python's `icalendar` can be used; CI requires it.
fn parser_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import icalendar"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("WECARE_TEST_REQUIRE_ICALENDAR").is_some() {
        panic!("WECARE_TEST_REQUIRE_ICALENDAR is set but Python's icalendar is missing");
    }
    ok
}

/// Parses `ics` with Python and returns its events in `zone`'s local time.
fn parse(ics: &str, zone: &str) -> Value {
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/read_ics.py"
        ))
        .arg(zone)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(ics.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "icalendar refused the file: {}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = reqwest::get(app.url(path)).await.expect("get");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, r.text().await.unwrap_or_default())
}

async fn feeds_agree_with_an_independent_parser(db: TestDb) {
    if !parser_available() {
        eprintln!("skipped: Python's icalendar is not installed (pip install icalendar)");
        return;
    }
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    // Next year's March: daylight saving starts on its second Sunday in New York.
    let year = app.store.clock().today().year() + 1;
    let first = Date::new(year, 3, 1)
        .expect("date")
        .nth_weekday_of_month(1, Weekday::Wednesday)
        .expect("first Wednesday");
    let excepted = first.checked_add(14.days()).expect("date");
    let until = first.checked_add(28.days()).expect("date");
    let ids = create_event(
        &app,
        &token,
        json!({"title": "Lunchtime lecture", "series": "faculty-lecture-series",
               "date": first.to_string(), "start_time": "12:00", "end_time": "13:15",
               "repeat": "weekly", "repeat_until": until.to_string(),
               "except_dates": [excepted.to_string()], "capacity": 40}),
    )
    .await;
    assert_eq!(ids.len(), 4, "five Wednesdays, one excepted");
    // One occurrence in London, across the end of British summer time.
    let london = Date::new(year, 10, 1)
        .expect("date")
        .nth_weekday_of_month(-1, Weekday::Friday)
        .expect("last Friday");
    create_event(
        &app,
        &token,
        json!({"title": "Joint rounds (London)", "series": "faculty-lecture-series",
               "time_zone": "Europe/London", "date": london.to_string(),
               "start_time": "09:00", "end_time": "10:00", "repeat": "weekly",
               "repeat_until": london.checked_add(7.days()).expect("date").to_string()}),
    )
    .await;

    let (status, ct, feed) = get(&app, "/programmes/faculty-lecture-series/feed.ics").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/calendar"), "{ct}");
    let parsed = parse(&feed, "America/New_York");
    let ny: Vec<&Value> = parsed["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["summary"] == "Lunchtime lecture")
        .collect();
    assert_eq!(ny.len(), 4);
    let mut offsets = Vec::new();
    for e in &ny {
        let start = e["start_local"].as_str().expect("start");
        assert!(start.ends_with("12:00"), "{start}");
        assert!(e["end_local"].as_str().expect("end").ends_with("13:15"));
        assert!(
            !start.starts_with(&excepted.to_string()),
            "excepted date absent"
        );
        offsets.push(e["utc_offset_hours"].as_f64().expect("offset"));
    }
    assert!(
        offsets.contains(&-5.0) && offsets.contains(&-4.0),
        "the series spans the change: {offsets:?}"
    );
    let london_events = parse(&feed, "Europe/London");
    let uk: Vec<String> = london_events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["summary"] == "Joint rounds (London)")
        .map(|e| e["start_local"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(uk.len(), 2);
    assert!(uk.iter().all(|s| s.ends_with("09:00")), "{uk:?}");

    // Cancelling one occurrence: the feed keeps it, cancelled, with a higher sequence.
    let cancel = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{}/cancel", ids[1]),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(cancel.status, 200);
    let (_, _, feed) = get(&app, "/events/feed.ics").await;
    let parsed = parse(&feed, "America/New_York");
    let cancelled: Vec<&Value> = parsed["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["status"] == "CANCELLED")
        .collect();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["sequence"], 1);
    assert_eq!(
        cancelled[0]["uid"],
        format!("event-{}@127.0.0.1", ids[1]),
        "the same UID, so calendars update the entry"
    );

    // One event's file.
    let (status, _, one) = get(&app, &format!("/events/{}.ics", ids[0])).await;
    assert_eq!(status, 200);
    let single = parse(&one, "America/New_York");
    assert_eq!(single["events"].as_array().map(Vec::len), Some(1));
    assert!(
        !single["events"][0]["description"]
            .as_str()
            .unwrap_or("")
            .contains("video."),
        "no online link for someone without a place"
    );

    // A member's personal feed at a secret, revocable address.
    let mut member = app.signed_in("member@example.edu", &[]).await;
    let page = member.get(&format!("/events/{}", ids[2])).await;
    assert!(page.body.contains("Register"), "{}", page.body);
    let registered = member
        .post(&format!("/events/{}/register", ids[2]), &[])
        .await;
    assert_eq!(registered.status, 303, "{}", registered.body);
    let mine = member.get("/account/events").await;
    let feed_url = mine
        .body
        .split("value=\"")
        .find_map(|s| s.split('"').next().filter(|u| u.contains("/calendar/")))
        .expect("feed address on the page")
        .to_string();
    let path = feed_url
        .split("127.0.0.1:8080")
        .nth(1)
        .expect("path")
        .to_string();
    let (status, _, personal) = get(&app, &path).await;
    assert_eq!(status, 200);
    let p = parse(&personal, "America/New_York");
    assert_eq!(p["events"].as_array().map(Vec::len), Some(1));
    assert!(
        p["events"][0]["start_local"]
            .as_str()
            .unwrap_or("")
            .ends_with("12:00")
    );
    let renewed = member.post("/account/events/feed", &[]).await;
    assert!(renewed.body.contains("new address"));
    let (status, _, _) = get(&app, &path).await;
    assert_eq!(status, 404, "the old address stops working");
}

/// Titles with line breaks are refused at input now, but one stored before (or written
/// by another tool) must still not add properties to the files and feeds: every text
/// property is escaped, and Python's icalendar reads back exactly one title.
async fn line_breaks_in_stored_text_add_no_calendar_property(db: TestDb) {
    if !parser_available() {
        eprintln!("skipped: Python's icalendar is not installed (pip install icalendar)");
        return;
    }
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let ids = create_event(&app, &token, json!({"title": "Plain title"})).await;
    let evil = "Talk\r\nATTENDEE:mailto:x@evil.example\r\nORGANIZER:mailto:y@evil.example";
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(app.db.database().driver_url())
            .await
            .expect("connect");
        sqlx::query("UPDATE events SET title = $1, place = $1 WHERE id = $2")
            .bind(evil)
            .bind(ids[0])
            .execute(&mut conn)
            .await
            .expect("stored");
    }
    for path in [
        format!("/events/{}.ics", ids[0]),
        "/events/feed.ics".to_string(),
    ] {
        let (status, _, ics) = get(&app, &path).await;
        assert_eq!(status, 200, "{path}");
        let parsed = parse(&ics, "America/New_York");
        let events = parsed["events"].as_array().expect("events");
        let ev = events
            .iter()
            .find(|e| e["summary"].as_str().is_some_and(|s| s.starts_with("Talk")))
            .unwrap_or_else(|| panic!("{path}: {parsed}"));
        assert_eq!(ev["injected"], json!([]), "{path}: {ics}");
        assert!(
            ev["summary"]
                .as_str()
                .is_some_and(|s| s.contains("ATTENDEE:mailto:x@evil.example")),
            "the text stays text: {ev}"
        );
        assert!(!ics.contains("\nATTENDEE"), "{ics}");
    }
}
