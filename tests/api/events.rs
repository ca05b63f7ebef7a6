//! Events: creating them, registration with its waiting list under heavy concurrency (one
//! process, and two processes on one PostgreSQL), cancelling by link, offers that lapse,
//! lotteries, private and students' events, check-in, exports, reminders, and calendars
//! read back by Python's `icalendar`.

use std::process::Stdio;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use wecare::domain::accounts::Role;

use crate::cli::start_server_with;
use crate::helpers::{Backend, TestApp, TestDb, api};
use crate::on_both;

on_both!(
    registration_fills_places_then_the_waiting_list_and_cancelling_promotes,
    a_thousand_concurrent_registrations_never_exceed_capacity,
    a_lapsed_offer_passes_to_the_next_waiting,
    a_lottery_is_drawn_fairly_and_reproducibly,
    private_events_use_a_neutral_title_and_are_erased_after,
    students_events_need_a_guardian_consent_and_cleared_volunteers,
    check_in_by_code_and_by_list_and_csv_exports,
    changing_and_cancelling_an_event_tells_registrants,
    reminders_carry_the_readings_and_go_once,
    coordinators_create_and_change_events_through_the_form,
    coordinators_add_and_change_programmes,
    one_address_cannot_be_registered_as_a_guest_too_often,
    guardians_agree_to_the_current_consent_text,
);

pub async fn coordinator_token(app: &TestApp) -> String {
    let c = app.account("coord@example.edu", &[Role::Coordinator]).await;
    app.token_for(&c).await
}

/// A date `days` from today, for an event a test creates. From the real calendar: every
/// test app starts on the real clock, and a test that moves its app's clock moves it after.
pub fn future_date(days: i64) -> String {
    use jiff::ToSpan;
    #[allow(clippy::disallowed_methods)]
    jiff::Zoned::now()
        .date()
        .checked_add(days.days())
        .expect("date")
        .to_string()
}

/// Creates an event through the API with `extra` fields merged in; returns its ids.
pub async fn create_event(app: &TestApp, token: &str, extra: Value) -> Vec<i64> {
    let mut body = json!({
        "title": "Journal club",
        "time_zone": "America/New_York",
        "date": future_date(10),
        "start_time": "12:00",
        "end_time": "13:00",
        // Guests may register only where the audience is open beyond the institution.
        "audience": ["faculty", "public"],
        "capacity": 2,
        "guests_allowed": true,
        // Most tests register guests directly; confirming by e-mail is tested on its own.
        "guests_confirm": false,
        "place": "Room 3C",
        "online_url": "https://video.example.edu/club",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
        // An audience of colleagues only takes no guests, unless the test says otherwise.
        let open = b["audience"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "students" || x == "public"));
        if !open && !e.contains_key("guests_allowed") {
            b.insert("guests_allowed".into(), json!(false));
        }
    }
    let r = api(app, Method::POST, "/api/v1/events", Some(token), Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_i64().expect("id"))
        .collect()
}

pub async fn register_guest(app: &TestApp, event: i64, n: usize) -> crate::helpers::Reply {
    api(
        app,
        Method::POST,
        &format!("/api/v1/events/{event}/registrations"),
        None,
        Some(json!({"name": format!("Guest {n}"), "email": format!("guest{n}@example.org")})),
    )
    .await
}

pub fn secret_of(reply: &Value) -> String {
    reply["manage_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("manage url")
        .to_string()
}

async fn mail_to(app: &TestApp, address: &str, containing: &str) -> String {
    let to = format!("To: {address}");
    for _ in 0..200 {
        if let Some(m) = app
            .db
            .mail_files()
            .into_iter()
            .find(|m| m.contains(&to) && m.contains(containing))
        {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message to {address} containing {containing:?} arrived");
}

/// Moves the app's clock to `after` seconds past the end of event `id`.
async fn move_past_the_event(app: &TestApp, id: i64, after: i64) {
    let ends_at = app.store.event(id).await.expect("event").ends_at;
    app.store.clock().advance(ends_at + after - app.store.now());
}

async fn run_job(app: &TestApp, name: &str) {
    crate::cases::run_job_now(app, name).await;
}

async fn registrations_of(app: &TestApp, token: &str, event: i64) -> Vec<Value> {
    let r = api(
        app,
        Method::GET,
        &format!("/api/v1/events/{event}/registrations"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_array().expect("list").clone()
}

async fn registration_fills_places_then_the_waiting_list_and_cancelling_promotes(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/events",
        Some(&token),
        Some(json!({"title": "x", "time_zone": "Nowhere/Atlantis"})),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["error"]["field"], "date", "{}", bad.body);
    let bad = api(
        &app,
        Method::POST,
        "/api/v1/events",
        Some(&token),
        Some(
            json!({"title": "x", "time_zone": "Nowhere/Atlantis", "date": future_date(3),
                    "start_time": "12:00", "end_time": "13:00", "audience": ["faculty"],
                    "capacity": 5}),
        ),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["error"]["field"], "time_zone", "{}", bad.body);

    let id = create_event(
        &app,
        &token,
        json!({"questions": [{"kind": "choice", "label": "Lunch", "required": true,
                               "options": "Vegetarian\nAny"}]}),
    )
    .await[0];
    let event = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}"),
        None,
        None,
    )
    .await;
    let q = event.json()["questions"][0]["id"]
        .as_i64()
        .expect("question id");
    assert!(
        event.json().get("online_url").is_none(),
        "the online link is not public"
    );

    let missing = register_guest(&app, id, 0).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.json()["error"]["field"], format!("answers.{q}"));
    assert!(missing.body.contains("Lunch"), "{}", missing.body);

    let mut replies = Vec::new();
    for n in 1..=4 {
        let r = api(
            &app,
            Method::POST,
            &format!("/api/v1/events/{id}/registrations"),
            None,
            Some(
                json!({"name": format!("Guest {n}"), "email": format!("guest{n}@example.org"),
                        "answers": {q.to_string(): "Any"}}),
            ),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        replies.push(r.json());
    }
    let statuses: Vec<(&str, Option<i64>)> = replies
        .iter()
        .map(|r| (r["status"].as_str().unwrap_or(""), r["position"].as_i64()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("confirmed", None),
            ("confirmed", None),
            ("waitlisted", Some(1)),
            ("waitlisted", Some(2))
        ]
    );
    // The same person again: the same registration, nothing doubled.
    let again = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        None,
        Some(json!({"name": "Guest 3", "email": "GUEST3@example.org",
                    "answers": {q.to_string(): "Any"}})),
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["id"], replies[2]["id"]);
    assert_eq!(again.json()["position"], 1);
    assert!(
        again.json().get("manage_url").is_none(),
        "anyone can type an address: its link goes to that address, not to the caller"
    );

    let confirmation = mail_to(&app, "guest1@example.org", "Subject: You are registered").await;
    assert!(
        confirmation.contains("video.example.edu"),
        "online link for a place"
    );
    assert!(confirmation.contains("text/calendar"), "calendar attached");
    let waiting = mail_to(&app, "guest4@example.org", "Waiting list").await;
    assert!(
        !waiting.contains("video.example.edu"),
        "no link without a place"
    );

    // Cancelling by the link's secret, without signing in, promotes the first waiting.
    let cancel = api(
        &app,
        Method::POST,
        "/api/v1/registrations/cancel",
        None,
        Some(json!({"secret": secret_of(&replies[0])})),
    )
    .await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    assert_eq!(cancel.json()["status"], "cancelled");
    mail_to(&app, "guest3@example.org", "A place is yours").await;
    let regs = registrations_of(&app, &token, id).await;
    let by_email = |e: &str| {
        regs.iter()
            .find(|r| r["email"] == e)
            .cloned()
            .expect("registration")
    };
    assert_eq!(by_email("guest3@example.org")["status"], "confirmed");
    assert_eq!(by_email("guest4@example.org")["position"], 1);
    // Cancelling twice changes nothing more.
    let twice = api(
        &app,
        Method::POST,
        "/api/v1/registrations/cancel",
        None,
        Some(json!({"secret": secret_of(&replies[0])})),
    )
    .await;
    assert_eq!(twice.status, 200);
    assert_eq!(
        registrations_of(&app, &token, id)
            .await
            .iter()
            .filter(|r| r["status"] == "confirmed")
            .count(),
        2
    );
    // Through the form, the same address again: the page does not open the registration
    // for whoever typed it; the confirmation goes to the address once more.
    let mut browser = app.browser();
    browser.get(&format!("/events/{id}")).await;
    let q_field = format!("q{q}");
    let form = [
        ("name", "Someone Else"),
        ("email", "guest4@example.org"),
        (q_field.as_str(), "Any"),
    ];
    let again = browser.post(&format!("/events/{id}/register"), &form).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert!(again.body.contains("already registered"), "{}", again.body);
    assert!(
        !again.body.contains("/registration/"),
        "no link to the registration"
    );
    for _ in 0..100 {
        let n = app
            .db
            .mail_files()
            .iter()
            .filter(|m| m.contains("To: guest4@example.org") && m.contains("Waiting list"))
            .count();
        if n == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let resent = app
        .db
        .mail_files()
        .into_iter()
        .filter(|m| m.contains("To: guest4@example.org") && m.contains("Waiting list"))
        .collect::<Vec<_>>();
    assert_eq!(resent.len(), 2, "sent again, once");
    assert!(
        resent.iter().all(|m| !m.contains("Someone Else")),
        "the stored name, not what was typed"
    );
    let unknown = api(
        &app,
        Method::POST,
        "/api/v1/registrations/cancel",
        None,
        Some(json!({"secret": "not-a-secret"})),
    )
    .await;
    assert_eq!(unknown.status, 404);
}

/// Sends `n` registrations at once (at most `in_flight` open at a time) to `servers` in
/// turn; returns each reply's JSON.
async fn burst(servers: &[String], event: i64, n: usize, in_flight: usize) -> Vec<Value> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(in_flight)
        .build()
        .expect("client");
    let gate = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let url = format!(
            "{}/api/v1/events/{event}/registrations",
            servers[i % servers.len()]
        );
        let client = client.clone();
        let gate = gate.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("gate");
            let r = client
                .post(url)
                .json(&json!({"name": format!("Person {i}"), "email": format!("p{i}@example.org")}))
                .send()
                .await
                .expect("request");
            assert_eq!(r.status().as_u16(), 201, "registration {i}");
            r.json::<Value>().await.expect("json")
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// 50 confirmed, the rest waitlisted with positions 1..=rest, in arrival order.
fn assert_capacity_and_order(replies: &[Value], capacity: usize) {
    let confirmed = replies
        .iter()
        .filter(|r| r["status"] == "confirmed")
        .count();
    assert_eq!(confirmed, capacity, "exactly the capacity is confirmed");
    let mut positions: Vec<i64> = replies
        .iter()
        .filter(|r| r["status"] == "waitlisted")
        .map(|r| r["position"].as_i64().expect("position"))
        .collect();
    positions.sort_unstable();
    let expected: Vec<i64> = (1..=(replies.len() - capacity) as i64).collect();
    assert_eq!(
        positions, expected,
        "positions 1..n, none shared, none missing"
    );
}

async fn a_thousand_concurrent_registrations_never_exceed_capacity(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(&app, &token, json!({"capacity": 50})).await[0];
    let replies = burst(&[app.url("")], id, 1000, 200).await;
    assert_capacity_and_order(&replies, 50);
    // The list agrees, and its order is the order of arrival.
    let regs = registrations_of(&app, &token, id).await;
    assert_eq!(regs.len(), 1000);
    let waiting: Vec<i64> = regs
        .iter()
        .filter(|r| r["status"] == "waitlisted")
        .map(|r| r["position"].as_i64().expect("position"))
        .collect();
    assert_eq!(waiting, (1..=950).collect::<Vec<_>>());

    // 30 concurrent cancellations of confirmed places promote exactly 30, in order.
    let confirmed: Vec<&Value> = replies
        .iter()
        .filter(|r| r["status"] == "confirmed")
        .take(30)
        .collect();
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for r in confirmed {
        let client = client.clone();
        let url = app.url("/api/v1/registrations/cancel");
        let secret = secret_of(r);
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .json(&json!({ "secret": secret }))
                .send()
                .await
                .expect("cancel");
            assert_eq!(r.status().as_u16(), 200);
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let after = registrations_of(&app, &token, id).await;
    let count = |s: &str| after.iter().filter(|r| r["status"] == s).count();
    assert_eq!(count("confirmed"), 50, "the freed places are all filled");
    assert_eq!(count("cancelled"), 30);
    assert_eq!(count("waitlisted"), 920);
    // The 30 promoted were the first 30 waiting.
    for r in &after {
        if r["status"] == "confirmed" {
            let was = regs
                .iter()
                .find(|x| x["id"] == r["id"])
                .expect("known registration");
            if was["status"] == "waitlisted" {
                assert!(was["position"].as_i64().expect("pos") <= 30, "{was}");
            }
        }
    }
    // The same person sending twenty registrations at once gets one.
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = client.clone();
        let url = app.url(&format!("/api/v1/events/{id}/registrations"));
        tasks.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .json(&json!({"name": "Twice", "email": "twice@example.org"}))
                .send()
                .await
                .expect("request");
            r.json::<Value>().await.expect("json")["id"].clone()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.expect("task"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one registration however often it is sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_never_exceed_capacity() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        eprintln!(
            "skipped: WECARE_TEST_POSTGRES_URL is not set, so there is no PostgreSQL to test against"
        );
        return;
    };
    // A thousand guests from this one address: the per-address limit is lifted.
    let lifted = ["--guest-registrations-per-address", "100000"];
    let (one, two) = tokio::join!(
        start_server_with(&db.url, &lifted, Stdio::null(), &[]),
        start_server_with(&db.url, &lifted, Stdio::null(), &[])
    );
    let store = db.store().await;
    let c = crate::helpers::add_account(&store, "coord@example.edu", &[Role::Coordinator]).await;
    let token = store
        .create_api_token(c.id, "test", None)
        .await
        .expect("token")
        .1;
    let servers = [
        format!("http://127.0.0.1:{}", one.1),
        format!("http://127.0.0.1:{}", two.1),
    ];
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/v1/events", servers[0]))
        .bearer_auth(&token)
        .json(
            &json!({"title": "Grand rounds", "time_zone": "America/Chicago",
                      "date": future_date(5), "start_time": "08:00", "end_time": "09:00",
                      "audience": ["faculty", "public"], "capacity": 50, "guests_allowed": true,
                      "guests_confirm": false}),
        )
        .send()
        .await
        .expect("create");
    assert_eq!(r.status().as_u16(), 201);
    let id = r.json::<Value>().await.expect("json")["ids"][0]
        .as_i64()
        .expect("id");
    let replies = burst(&servers, id, 1000, 200).await;
    assert_capacity_and_order(&replies, 50);
    drop((one, two));
    store.close().await;
}

async fn a_lapsed_offer_passes_to_the_next_waiting(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(&app, &token, json!({"capacity": 1, "offer_hours": 12})).await[0];
    let a = register_guest(&app, id, 1).await.json();
    let b = register_guest(&app, id, 2).await.json();
    let c = register_guest(&app, id, 3).await.json();
    assert_eq!(c["position"], 2);
    api(
        &app,
        Method::POST,
        "/api/v1/registrations/cancel",
        None,
        Some(json!({"secret": secret_of(&a)})),
    )
    .await;
    let offer = mail_to(&app, "guest2@example.org", "A place for you").await;
    assert!(
        offer.contains(&secret_of(&b)),
        "the offer links to their page"
    );
    // B lets it lapse (the twelve hours pass); C is offered the place.
    app.store.clock().advance(13 * 3600);
    run_job(&app, "event-place-offers").await;
    let regs = registrations_of(&app, &token, id).await;
    let status = |n: &str| {
        regs.iter()
            .find(|r| r["email"] == format!("guest{n}@example.org"))
            .map(|r| r["status"].as_str().unwrap_or("").to_string())
            .expect("registration")
    };
    assert_eq!(status("2"), "cancelled");
    assert_eq!(status("3"), "offered");
    // C accepts on their page, in a browser session.
    let mut browser = app.browser();
    let page = browser
        .get(&format!("/registration/{}", secret_of(&c)))
        .await;
    assert!(page.body.contains("Accept the place"), "{}", page.body);
    let accepted = browser
        .post(&format!("/registration/{}/accept", secret_of(&c)), &[])
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert!(accepted.body.contains("The place is yours"));
    assert!(accepted.body.contains("<svg"), "the check-in code shows");
}

async fn a_lottery_is_drawn_fairly_and_reproducibly(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(
        &app,
        &token,
        json!({"capacity": 3, "allocation": "lottery",
               "lottery_at": format!("{}T09:00", future_date(3))}),
    )
    .await[0];
    let mut entries = Vec::new();
    for n in 1..=10 {
        let r = register_guest(&app, id, n).await;
        assert_eq!(r.status, 201);
        assert_eq!(r.json()["status"], "entered");
        entries.push(r.json()["id"].as_i64().expect("id"));
    }
    mail_to(&app, "guest1@example.org", "In the draw").await;
    let drawn = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/draw"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(drawn.status, 200, "{}", drawn.body);
    let seed = drawn.json()["lottery_seed"]
        .as_str()
        .expect("seed published")
        .to_string();
    let again = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/draw"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(again.status, 409, "drawn once only");
    // Anyone with the seed and the ids recomputes the same result.
    let order = wecare::domain::events::lottery_order(&seed, &entries);
    let regs = registrations_of(&app, &token, id).await;
    let status_of = |rid: i64| {
        regs.iter()
            .find(|r| r["id"] == rid)
            .cloned()
            .expect("registration")
    };
    for (rank, rid) in order.iter().enumerate() {
        let r = status_of(*rid);
        if rank < 3 {
            assert_eq!(r["status"], "confirmed", "rank {rank}");
        } else {
            assert_eq!(r["status"], "waitlisted");
            assert_eq!(r["position"], rank as i64 - 2);
        }
    }
    let audit = app.store.list_audit(20).await.expect("audit");
    assert!(
        audit
            .iter()
            .any(|a| a.action == "event.lottery_drawn" && a.subject.contains(&seed)),
        "the seed is in the audit log"
    );
    // A late registration after the draw joins the end of the waiting list.
    let late = register_guest(&app, id, 11).await.json();
    assert_eq!(late["status"], "waitlisted");
    assert_eq!(late["position"], 8);
}

async fn private_events_use_a_neutral_title_and_are_erased_after(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(
        &app,
        &token,
        json!({"title": "Support circle after the ward 7 incident", "private": true,
               "capacity": 5}),
    )
    .await[0];
    // Members only: a guest form would tell anyone whether a colleague registered.
    let guest = register_guest(&app, id, 1).await;
    assert_eq!(guest.status, 422, "{}", guest.body);
    let attendee = app.account("attendee@example.edu", &[]).await;
    let attendee_token = app.token_for(&attendee).await;
    let register = || {
        let (app, t) = (&app, attendee_token.clone());
        async move {
            api(
                app,
                Method::POST,
                &format!("/api/v1/events/{id}/registrations"),
                Some(&t),
                Some(json!({})),
            )
            .await
        }
    };
    assert_eq!(register().await.status, 201);
    // Who registered is sealed in the database, found again by a keyed digest.
    sqlx::any::install_default_drivers();
    {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(app.db.database().driver_url())
            .await
            .expect("connect");
        let (name, email, key): (String, String, String) =
            sqlx::query_as("SELECT name, email, person_key FROM registrations")
                .fetch_one(&mut conn)
                .await
                .expect("row");
        for stored in [&name, &email, &key] {
            assert!(
                !stored.contains("attendee") && !stored.contains("Test Person"),
                "{stored}"
            );
        }
    }
    assert_eq!(register().await.status, 200, "found again");
    let listed = registrations_of(&app, &token, id).await;
    assert_eq!(
        listed[0]["email"], "attendee@example.edu",
        "opened for coordinators"
    );
    let mail = mail_to(&app, "attendee@example.edu", "Subject:").await;
    let subject = mail
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .expect("subject");
    assert!(subject.contains("Programme meeting"), "{subject}");
    assert!(
        !mail.contains("ward 7"),
        "no private title anywhere in the message"
    );
    let ics = reqwest::get(app.url(&format!("/events/{id}.ics")))
        .await
        .expect("ics")
        .text()
        .await
        .expect("text");
    assert!(ics.contains("SUMMARY:Programme meeting"), "{ics}");
    assert!(!ics.contains("ward 7"));
    let feed = reqwest::get(app.url("/events/feed.ics"))
        .await
        .expect("feed")
        .text()
        .await
        .expect("text");
    assert!(!feed.contains("ward 7"));
    // A member cannot see who registered; a coordinator can.
    let member = app.account("member@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
    let denied = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}/registrations"),
        Some(&member_token),
        None,
    )
    .await;
    assert_eq!(denied.status, 403);
    // After the event, registrations are erased; the counts stay.
    move_past_the_event(&app, id, 86_400).await;
    run_job(&app, "event-erasure").await;
    assert!(registrations_of(&app, &token, id).await.is_empty());
    let counts = api(
        &app,
        Method::GET,
        "/api/v1/reports/events",
        Some(&token),
        None,
    )
    .await;
    let row = counts
        .json()
        .as_array()
        .expect("counts")
        .iter()
        .find(|c| c["event_id"] == id)
        .cloned()
        .expect("row");
    assert_eq!(row["registered"], 1);
    assert_eq!(row["title"], "Programme meeting");
}

async fn students_events_need_a_guardian_consent_and_cleared_volunteers(db: TestDb) {
    let db = std::sync::Arc::new(db);
    let app = TestApp::spawn_shared(db.clone()).await;
    let token = coordinator_token(&app).await;
    let id = create_event(
        &app,
        &token,
        json!({"title": "Saturday academy", "for_minors": true, "capacity": 3,
               "audience": ["students"]}),
    )
    .await[0];
    let url = format!("/api/v1/events/{id}/registrations");
    let no_children = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(json!({"name": "Pat Guardian", "email": "pat@example.org",
                    "guardian_relationship": "Parent", "consent": true,
                    "guardian_phone": "312 555 0147", "emergency_name": "Lee Neighbour",
                    "emergency_phone": "312 555 0199"})),
    )
    .await;
    assert_eq!(
        no_children.json()["error"]["field"],
        "children[0].first_name"
    );
    let kids = json!([{"first_name": "Ada", "grade": "5", "school": "Lincoln Elementary"},
                      {"first_name": "Ben", "grade": "7", "school": "Lincoln Middle"}]);
    let no_consent = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(json!({"name": "Pat Guardian", "email": "pat@example.org",
                    "guardian_relationship": "Parent", "children": kids,
                    "guardian_phone": "312 555 0147", "emergency_name": "Lee Neighbour",
                    "emergency_phone": "312 555 0199"})),
    )
    .await;
    assert_eq!(no_consent.json()["error"]["field"], "consent");
    // Every mistake at once, each named as the body names it, in the order of the form.
    let many = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(json!({"name": "", "email": "not-an-address",
                    "children": [{"first_name": "Ada", "grade": "13", "school": ""}]})),
    )
    .await;
    assert_eq!(many.status, 422, "{}", many.body);
    let body = many.json();
    let fields: Vec<&str> = body["error"]["errors"]
        .as_array()
        .expect("a list of mistakes")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "email",
            "children[0].grade",
            "children[0].school",
            "guardian_relationship",
            "guardian_phone",
            "emergency_name",
            "emergency_phone",
            "consent"
        ],
        "{}",
        many.body
    );
    let ok = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(json!({"name": "Pat Guardian", "email": "pat@example.org",
                    "guardian_relationship": "Parent", "consent": true, "children": kids.clone(),
                    "guardian_phone": "312 555 0147", "emergency_name": "Lee Neighbour",
                    "emergency_phone": "312 555 0147"})),
    )
    .await;
    // The promise is a call at once: a second number that is the first one is no second.
    assert_eq!(ok.status, 422, "{}", ok.body);
    assert_eq!(
        ok.json()["error"]["field"],
        "emergency_phone",
        "{}",
        ok.body
    );
    let ok = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(json!({"name": "Pat Guardian", "email": "pat@example.org",
                    "guardian_relationship": "Parent", "consent": true, "children": kids,
                    "guardian_phone": "312 555 0147", "emergency_name": "Lee Neighbour",
                    "emergency_phone": "+1 (312) 555-0199"})),
    )
    .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    assert_eq!(ok.json()["status"], "confirmed");
    // Two children took two of the three places: a family of two now waits.
    let second = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(json!({"name": "Sam Guardian", "email": "sam@example.org",
                    "guardian_relationship": "Grandparent", "consent": true,
                    "guardian_phone": "773 555 0101", "emergency_name": "Ro Aunt",
                    "emergency_phone": "773 555 0102",
                    "children": [{"first_name": "Cy", "grade": "K", "school": "Oak"},
                                 {"first_name": "Di", "grade": "4", "school": "Oak"}]})),
    )
    .await;
    assert_eq!(second.json()["status"], "waitlisted");
    let regs = registrations_of(&app, &token, id).await;
    let pat = regs
        .iter()
        .find(|r| r["email"] == "pat@example.org")
        .expect("pat");
    assert_eq!(
        pat["consent_version"],
        wecare::domain::events::CONSENT_VERSION
    );
    assert_eq!(pat["children"].as_array().map(Vec::len), Some(2));
    assert_eq!(pat["guardian_contact"]["emergency_name"], "Lee Neighbour");
    // The numbers are sealed at rest: a copy of the database holds neither them nor the
    // other adult's name.
    if let Some(rows) = crate::promises::database_rows(&db).await {
        for row in &rows {
            for secret in ["555 0147", "555-0199", "Lee Neighbour"] {
                assert!(!row.contains(secret), "{secret} in clear: {row}");
            }
        }
    }

    // Volunteers: a lapsed clearance cannot be placed; a current one can.
    let mut coord = app.browser();
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;
    app.account("lapsed@example.edu", &[]).await;
    app.account("cleared@example.edu", &[]).await;
    let old = coord
        .post(
            "/manage/volunteers",
            &[
                ("email", "lapsed@example.edu"),
                ("background_check_on", "2020-01-01"),
                ("youth_training_on", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(old.status, 303, "{}", old.body);
    let today = app.store.clock().today().to_string();
    coord
        .post(
            "/manage/volunteers",
            &[
                ("email", "cleared@example.edu"),
                ("background_check_on", today.as_str()),
                ("youth_training_on", today.as_str()),
            ],
        )
        .await;
    let refused = coord
        .post(
            &format!("/manage/events/{id}/volunteers"),
            &[("email", "lapsed@example.edu")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("lapsed"), "{}", refused.body);
    let placed = coord
        .post(
            &format!("/manage/events/{id}/volunteers"),
            &[("email", "cleared@example.edu")],
        )
        .await;
    assert_eq!(placed.status, 303, "{}", placed.body);
    assert_eq!(app.store.event_volunteers(id).await.expect("list").len(), 1);
    // The institution's own rule: checks that last ten years clear the 2020 dates.
    let bad = coord
        .post(
            "/manage/volunteers/policy",
            &[
                ("background_check_years", "0"),
                ("youth_training_years", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    let policy = coord
        .post(
            "/manage/volunteers/policy",
            &[
                ("background_check_years", "10"),
                ("youth_training_years", "10"),
            ],
        )
        .await;
    assert_eq!(policy.status, 303);
    let now_placed = coord
        .post(
            &format!("/manage/events/{id}/volunteers"),
            &[("email", "lapsed@example.edu")],
        )
        .await;
    assert_eq!(now_placed.status, 303, "{}", now_placed.body);
    assert_eq!(app.store.event_volunteers(id).await.expect("list").len(), 2);

    // Coordinators read the numbers beside the children, one tap to dial.
    let list = coord
        .get(&format!("/manage/events/{id}/registrations"))
        .await;
    assert!(
        list.body
            .contains("href=\"tel:3125550147\">312 555 0147</a>")
            && list.body.contains("Lee Neighbour"),
        "{}",
        list.body
    );

    // Thirty days after the event the children's details go; the counts stay.
    move_past_the_event(&app, id, 31 * 86_400).await;
    run_job(&app, "event-erasure").await;
    assert!(registrations_of(&app, &token, id).await.is_empty());

    let counts = app.store.event_counts(None).await.expect("counts");
    let row = counts.iter().find(|c| c.event_id == id).expect("row");
    assert_eq!((row.registered, row.waitlisted), (2, 1));
}

async fn check_in_by_code_and_by_list_and_csv_exports(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(
        &app,
        &token,
        json!({"capacity": 5, "questions": [{"kind": "text", "label": "Dietary needs"}]}),
    )
    .await[0];
    let q = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}"),
        None,
        None,
    )
    .await
    .json()["questions"][0]["id"]
        .as_i64()
        .expect("q");
    let a = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        None,
        Some(
            json!({"name": "=HYPERLINK(\"http://evil\")", "email": "a@example.org",
                    "answers": {q.to_string(): "Vegan, no nuts"}}),
        ),
    )
    .await
    .json();
    let b = register_guest(&app, id, 2).await.json();
    let rid = a["id"].as_i64().expect("id");
    let token_for_code = app.store.check_in_token(rid).expect("token");

    // The code's page needs a coordinator; a forged code finds nothing.
    // Scanned while signed out: sign in, then the code's page opens.
    let mut door = app.browser();
    let redirect = door.get(&format!("/checkin/{token_for_code}")).await;
    assert_eq!(redirect.status, 303);
    assert_eq!(
        redirect.location(),
        format!("/signin?next=%2Fcheckin%2F{token_for_code}")
    );
    let form = door.get(redirect.location()).await;
    assert!(
        form.body
            .contains(&format!("value=\"/checkin/{token_for_code}\""))
    );
    let signed_in = door
        .post(
            "/signin",
            &[
                ("email", "coord@example.edu"),
                ("password", crate::helpers::PASSWORD),
                ("next", &format!("/checkin/{token_for_code}")),
            ],
        )
        .await;
    assert_eq!(signed_in.location(), format!("/checkin/{token_for_code}"));
    // Only paths on this site: anything else goes to the account page.
    for evil in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let mut b = app.browser();
        b.get("/signin").await;
        let r = b
            .post(
                "/signin",
                &[
                    ("email", "coord@example.edu"),
                    ("password", crate::helpers::PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(r.location(), "/account", "{evil}");
    }
    let mut coord = app.browser();
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;
    let forged = coord
        .get(&format!("/checkin/{rid}-{}", "0".repeat(32)))
        .await;
    assert_eq!(forged.status, 404);
    let page = coord.get(&format!("/checkin/{token_for_code}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The event is not today: the scan is refused, with a way to check in anyway.
    let early = coord.post(&format!("/checkin/{token_for_code}"), &[]).await;
    assert_eq!(early.status, 409, "{}", early.body);
    assert!(
        early.body.contains("This event is not today"),
        "{}",
        early.body
    );
    assert!(early.body.contains("anyway"), "{}", early.body);
    let done = coord
        .post(&format!("/checkin/{token_for_code}"), &[("any_day", "1")])
        .await;
    assert!(done.body.contains("Checked in. Welcome!"), "{}", done.body);
    let arrived = app
        .store
        .registration(rid)
        .await
        .expect("registration")
        .checked_in_at;
    // A second scan says when they arrived, and keeps that time.
    let again = coord
        .post(&format!("/checkin/{token_for_code}"), &[("any_day", "1")])
        .await;
    assert!(!again.body.contains("Welcome"), "{}", again.body);
    assert!(
        again.body.contains("Already checked in at"),
        "{}",
        again.body
    );
    assert_eq!(
        app.store.registration(rid).await.expect("r").checked_in_at,
        arrived
    );

    // The list: search by name, tick someone.
    let found = coord
        .get(&format!("/manage/events/{id}/registrations?q=guest%202"))
        .await;
    assert!(found.body.contains("Guest 2"));
    assert!(!found.body.contains("HYPERLINK"), "search narrows the list");
    // Someone who phoned in: the coordinator registers them; they get the confirmation.
    let added = coord
        .post(
            &format!("/manage/events/{id}/registrations"),
            &[("name", "Phoned In"), ("email", "phone@example.org")],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    mail_to(&app, "phone@example.org", "You are registered").await;
    let bad = coord
        .post(
            &format!("/manage/events/{id}/registrations"),
            &[("name", "No Address"), ("email", "nope")],
        )
        .await;
    assert_eq!(bad.status, 422);
    let brid = b["id"].as_i64().expect("id");
    let ticked = coord
        .post(
            &format!("/manage/events/{id}/registrations/{brid}/check-in"),
            &[("arrived", "yes")],
        )
        .await;
    assert_eq!(ticked.status, 303);

    let csv = coord
        .get(&format!("/manage/events/{id}/registrations.csv"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.body.starts_with("registration_id,name,email"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("Dietary needs"));
    assert!(csv.body.contains("\"Vegan, no nuts\""));
    assert!(
        csv.body.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "formulas are neutralised: {}",
        csv.body
    );
    let checked = csv
        .body
        .lines()
        .skip(1)
        .filter(|l| l.contains("-05:00,20") || l.contains("-04:00,20"))
        .count();
    assert_eq!(
        checked, 2,
        "both arrivals recorded, in the event's zone: {}",
        csv.body
    );

    // Members cannot export.
    let mut member = app.signed_in("member@example.edu", &[]).await;
    let denied = member
        .get(&format!("/manage/events/{id}/registrations.csv"))
        .await;
    assert_eq!(denied.status, 403);
    let counts = coord.get("/manage/events/counts.csv").await;
    assert!(
        counts.body.contains(&format!("{id},Journal club")),
        "{}",
        counts.body
    );
}

async fn changing_and_cancelling_an_event_tells_registrants(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(&app, &token, json!({"capacity": 1})).await[0];
    register_guest(&app, id, 1).await;
    let waiting = register_guest(&app, id, 2).await.json();
    assert_eq!(waiting["status"], "waitlisted");
    // More places and a new room: both told, and the one waiting gets a place.
    let changed = api(
        &app,
        Method::PUT,
        &format!("/api/v1/events/{id}"),
        Some(&token),
        Some(
            json!({"title": "Journal club", "time_zone": "America/New_York",
                    "date": future_date(10), "start_time": "12:30", "end_time": "13:30",
                    "audience": ["faculty", "public"], "capacity": 2, "guests_allowed": true,
                    "guests_confirm": false, "place": "Library seminar room"}),
        ),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.json()["sequence"], 1);
    // An unknown programme is refused, not silently dropped.
    let unknown = api(
        &app,
        Method::PUT,
        &format!("/api/v1/events/{id}"),
        Some(&token),
        Some(json!({"title": "Journal club", "series": "no-such-series",
                    "time_zone": "America/New_York", "date": future_date(10),
                    "start_time": "12:30", "end_time": "13:30", "audience": ["faculty"],
                    "capacity": 2})),
    )
    .await;
    assert_eq!(unknown.status, 409, "{}", unknown.body);
    assert!(unknown.body.contains("no such series"));
    let notice = mail_to(&app, "guest1@example.org", "Changed:").await;
    assert!(notice.contains("Library seminar room"));
    assert!(
        notice.contains("SEQUENCE:1"),
        "the calendar update replaces the old"
    );
    mail_to(&app, "guest2@example.org", "A place is yours").await;
    // Cancelling tells both, with a cancelled calendar entry.
    let cancelled = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(cancelled.json()["status"], "cancelled");
    let m = mail_to(&app, "guest2@example.org", "Cancelled:").await;
    assert!(m.contains("STATUS:CANCELLED"), "{m}");
    let late = register_guest(&app, id, 3).await;
    assert_eq!(late.status, 422, "{}", late.body);
    // A coordinator can give a place beyond capacity (an extra chair) to someone waiting;
    // not to someone already in, and not on another event's address.
    let other = create_event(&app, &token, json!({"capacity": 1})).await[0];
    register_guest(&app, other, 5).await;
    let waiting = register_guest(&app, other, 6).await.json();
    let rid = waiting["id"].as_i64().expect("id");
    let mut coord = app.browser();
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;
    let wrong_event = coord
        .post(
            &format!("/manage/events/{id}/registrations/{rid}/place"),
            &[],
        )
        .await;
    assert_eq!(wrong_event.status, 404);
    let given = coord
        .post(
            &format!("/manage/events/{other}/registrations/{rid}/place"),
            &[],
        )
        .await;
    assert_eq!(given.status, 303, "{}", given.body);
    mail_to(&app, "guest6@example.org", "A place is yours").await;
    let regs = registrations_of(&app, &token, other).await;
    assert_eq!(
        regs.iter().filter(|r| r["status"] == "confirmed").count(),
        2
    );
    let again = coord
        .post(
            &format!("/manage/events/{other}/registrations/{rid}/place"),
            &[],
        )
        .await;
    assert_eq!(again.status, 409);
}

async fn reminders_carry_the_readings_and_go_once(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(
        &app,
        &token,
        json!({"readings": [{"kind": "article", "title": "Burnout among physicians",
                             "authors": "Rotenstein LS et al.", "journal": "JAMA",
                             "year": "2018", "doi": "https://doi.org/10.1001/jama.2018.12777"}]}),
    )
    .await[0];
    register_guest(&app, id, 1).await;
    // An hour before it starts.
    let starts_at = app.store.event(id).await.expect("event").starts_at;
    app.store
        .clock()
        .advance(starts_at - 3600 - app.store.now());
    run_job(&app, "event-reminders").await;
    let reminder = mail_to(&app, "guest1@example.org", "Subject: Reminder").await;
    assert!(reminder.contains("10.1001/jama.2018.12777"), "{reminder}");
    run_job(&app, "event-reminders").await;
    app.mail_settled().await;
    let count = app
        .db
        .mail_files()
        .iter()
        .filter(|m| m.contains("Subject: Reminder"))
        .count();
    assert_eq!(count, 1, "one reminder per registration");
}

async fn coordinators_create_and_change_events_through_the_form(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.account("coord@example.edu", &[Role::Coordinator]).await;
    let mut coord = app.browser();
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;
    let form = coord.get("/manage/events/new").await;
    assert_eq!(form.status, 200);
    let date = future_date(20);
    let mut fields = vec![
        ("title", "Grand rounds: speaking up"),
        ("series", "joint-grand-rounds"),
        ("time_zone", "America/New_York"),
        ("date", date.as_str()),
        ("start_time", "08:00"),
        ("end_time", "09:00"),
        ("audience", "faculty"),
        ("audience", "residents"),
        ("capacity", "lots"),
        ("repeat", "weekly"),
        ("q1_label", "Department"),
        ("q1_kind", "text"),
        ("r1_kind", "article"),
        ("r1_title", "Speaking up in the operating room"),
        ("r1_authors", "A. Author"),
        ("r1_doi", "10.1000/xyz123"),
        ("guests_allowed", "1"),
    ];
    // Nothing is decided for the coordinator: a new event takes no guests until asked.
    assert!(
        form.body
            .contains("id=\"guests_allowed\" name=\"guests_allowed\" value=\"1\" aria"),
        "unticked: {}",
        form.body
    );
    let until = future_date(34);
    let wrong = coord.post("/manage/events/new", &fields).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Give the number of places, from 1 to"));
    // Faculty and residents sign in: guests are refused on their events, in the same
    // answer as every other mistake.
    assert!(
        wrong
            .body
            .contains("Guests may register only for events open to students or the public"),
        "{}",
        wrong.body
    );
    fields.retain(|(k, _)| *k != "guests_allowed");
    assert!(
        wrong.body.contains("Grand rounds: speaking up"),
        "fields kept"
    );
    assert!(wrong.body.contains("Speaking up in the operating room"));
    fields.retain(|(k, _)| *k != "capacity");
    fields.push(("capacity", "150"));
    fields.push(("repeat_until", until.as_str()));
    let made = coord.post("/manage/events/new", &fields).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let events = app
        .store
        .list_events(&wecare::store::EventFilter::default())
        .await
        .expect("events");
    assert_eq!(events.len(), 3, "weekly for two weeks after the first");
    let first = app.store.event(events[0].id).await.expect("event");
    assert_eq!(first.readings[0].doi, "10.1000/xyz123");
    assert_eq!(first.questions[0].label, "Department");
    assert_eq!(first.series_slug.as_deref(), Some("joint-grand-rounds"));
    // Its edit form shows it in its own time zone.
    let edit = coord.get(&format!("/manage/events/{}", first.id)).await;
    assert!(edit.body.contains("value=\"08:00\""), "{}", edit.body);
    assert!(edit.body.contains("Also change the 2 later dates"));
    // One change for this and every later date: each keeps its own day.
    let mut change: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| !matches!(*k, "start_time" | "end_time" | "repeat" | "repeat_until"))
        .copied()
        .collect();
    change.extend([
        ("start_time", "08:30"),
        ("end_time", "09:30"),
        ("place", "Room B"),
        ("apply_to_later", "1"),
    ]);
    let saved = coord
        .post(&format!("/manage/events/{}", first.id), &change)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = app
        .store
        .list_events(&wecare::store::EventFilter::default())
        .await
        .expect("events");
    assert_eq!(after.len(), 3);
    for (before, now) in events.iter().zip(&after) {
        assert_eq!(now.place, "Room B");
        assert_eq!(
            now.starts_at - before.starts_at,
            1800,
            "same day, half an hour later"
        );
        assert_eq!(now.sequence, 1);
    }
    let public = coord.get("/events?series=joint-grand-rounds").await;
    assert_eq!(public.body.matches("Grand rounds: speaking up").count(), 3);
    let other = coord.get("/events?series=book-club").await;
    assert!(!other.body.contains("Grand rounds: speaking up"));
    let students = coord.get("/events?audience=students").await;
    assert!(!students.body.contains("Grand rounds: speaking up"));
    let month = &date[..7];
    let in_month = coord.get(&format!("/events?month={month}")).await;
    assert!(in_month.body.contains("Grand rounds: speaking up"));
    let later: jiff::civil::Date = format!("{month}-01").parse().expect("date");
    let later = later
        .checked_add(jiff::ToSpan::months(3))
        .expect("date")
        .strftime("%Y-%m")
        .to_string();
    let other_month = coord.get(&format!("/events?month={later}")).await;
    assert!(!other_month.body.contains("Grand rounds: speaking up"));
    // Cancelling cannot be undone: without the box ticked, nothing happens.
    let unconfirmed = coord
        .post(&format!("/manage/events/{}/cancel", first.id), &[])
        .await;
    assert_eq!(unconfirmed.status, 422);
    assert!(unconfirmed.body.contains("Tick the box to confirm"));
    assert_eq!(
        app.store.event(first.id).await.expect("event").status.key(),
        "scheduled"
    );
    let cancelled = coord
        .post(
            &format!("/manage/events/{}/cancel", first.id),
            &[("confirm-cancel", "1")],
        )
        .await;
    assert_eq!(cancelled.status, 303);
    assert_eq!(
        app.store.event(first.id).await.expect("event").status.key(),
        "cancelled"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_api_is_described_in_openapi() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let app = TestApp::spawn(db).await;
    let spec = api(&app, Method::GET, "/api/openapi.json", None, None)
        .await
        .json();
    let post = &spec["paths"]["/api/v1/events/{id}/registrations"]["post"];
    assert!(post["responses"]["201"].is_object(), "{post}");
    let out = &spec["components"]["schemas"]["RegistrationOut"]["properties"];
    assert!(
        out["status"].is_object() && out["position"].is_object(),
        "{out}"
    );
    for path in [
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/events/{id}/cancel",
        "/api/v1/events/{id}/draw",
        "/api/v1/registrations/cancel",
        "/api/v1/events/{id}/registrations/{registration}/check-in",
        "/api/v1/reports/events",
        "/api/v1/me/registrations",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} is described");
    }
}

async fn coordinators_add_and_change_programmes(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let made = api(
        &app,
        Method::POST,
        "/api/v1/series",
        Some(&token),
        Some(json!({"title": "Narrative Medicine Circle", "summary": "Reading and writing about care.",
                    "audience": "Faculty and residents"})),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.json()["slug"], "narrative-medicine-circle");
    let taken = api(
        &app,
        Method::POST,
        "/api/v1/series",
        Some(&token),
        Some(
            json!({"title": "Narrative medicine circle", "summary": "Again.",
                    "audience": "Faculty"}),
        ),
    )
    .await;
    assert_eq!(taken.status, 422);
    assert_eq!(taken.json()["error"]["field"], "slug");
    let changed = api(
        &app,
        Method::PUT,
        "/api/v1/series/narrative-medicine-circle",
        Some(&token),
        Some(
            json!({"title": "Narrative Medicine", "summary": "Stories of care.",
                    "audience": "Everyone"}),
        ),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(
        changed.json()["slug"],
        "narrative-medicine-circle",
        "the address stays"
    );
    let page = reqwest::get(app.url("/programmes/narrative-medicine-circle"))
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Stories of care."));
    let member = app.account("member@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
    let denied = api(
        &app,
        Method::POST,
        "/api/v1/series",
        Some(&member_token),
        Some(json!({"title": "Mine", "summary": "x", "audience": "y"})),
    )
    .await;
    assert_eq!(denied.status, 403);
    // The page form too, with its mistakes shown.
    let mut coord = app.browser();
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;
    let wrong = coord
        .post(
            "/manage/series",
            &[("title", "Wellness walks"), ("summary", "")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Summary is required"));
    let ok = coord
        .post(
            "/manage/series",
            &[
                ("title", "Wellness walks"),
                ("summary", "A walk at lunchtime."),
                ("audience", "Everyone"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/programmes/wellness-walks");
    let totals = api(
        &app,
        Method::GET,
        "/api/v1/reports/series",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(totals.status, 200);
}

async fn one_address_cannot_be_registered_as_a_guest_too_often(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let ids = create_event(
        &app,
        &token,
        json!({"repeat": "weekly", "repeat_until": future_date(10 + 7 * 11)}),
    )
    .await;
    assert_eq!(ids.len(), 12);
    let guest = |id: i64| {
        let app = &app;
        async move {
            api(
                app,
                Method::POST,
                &format!("/api/v1/events/{id}/registrations"),
                None,
                Some(json!({"name": "Flood", "email": "victim@example.org"})),
            )
            .await
        }
    };
    for id in &ids[..10] {
        assert_eq!(guest(*id).await.status, 201);
    }
    let refused = guest(ids[10]).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.body.contains("sign in"), "{}", refused.body);
    // Someone already registered still gets their registration back.
    assert_eq!(guest(ids[0]).await.status, 200);
    // Members are not limited.
    let member = app.account("member@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
    for id in &ids {
        let r = api(
            &app,
            Method::POST,
            &format!("/api/v1/events/{id}/registrations"),
            Some(&member_token),
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
}

async fn guardians_agree_to_the_current_consent_text(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(
        &app,
        &token,
        json!({"title": "Career day", "for_minors": true, "capacity": 30}),
    )
    .await[0];
    let first = api(&app, Method::GET, "/api/v1/consent", None, None)
        .await
        .json();
    assert_eq!(first["version"], wecare::domain::events::CONSENT_VERSION);
    let changed = api(
        &app,
        Method::PUT,
        "/api/v1/consent",
        Some(&token),
        Some(json!({"text": "New waiver wording, approved by the legal office."})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let new_version = changed.json()["version"]
        .as_str()
        .expect("version")
        .to_string();
    assert_ne!(new_version, first["version"].as_str().unwrap_or(""));
    let body = |version: &str| {
        json!({"name": "Pat Guardian", "email": "pat@example.org",
               "guardian_relationship": "Parent", "consent": true,
               "guardian_phone": "312 555 0147", "emergency_name": "Lee Neighbour",
               "emergency_phone": "312 555 0199",
               "consent_version": version,
               "children": [{"first_name": "Ada", "grade": "9", "school": "Central High"}]})
    };
    let url = format!("/api/v1/events/{id}/registrations");
    let stale = api(
        &app,
        Method::POST,
        &url,
        None,
        Some(body(first["version"].as_str().unwrap_or(""))),
    )
    .await;
    assert_eq!(stale.status, 422);
    assert_eq!(stale.json()["error"]["field"], "consent");
    let ok = api(&app, Method::POST, &url, None, Some(body(&new_version))).await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    let regs = registrations_of(&app, &token, id).await;
    assert_eq!(regs[0]["consent_version"], new_version.as_str());
    // Every version stays readable.
    let old = app
        .store
        .consent_version(wecare::domain::events::CONSENT_VERSION)
        .await
        .expect("read")
        .expect("known");
    assert!(old.text.contains("parent or legal guardian"));
    let now = app
        .store
        .consent_version(&new_version)
        .await
        .expect("read")
        .expect("known");
    assert!(now.text.contains("legal office"));
    // The form shows the current text; an empty one is refused with its field.
    let mut coord = app.browser();
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;
    let page = coord.get(&format!("/events/{id}")).await;
    assert!(page.body.contains("approved by the legal office"));
    let empty = coord.post("/manage/consent", &[("text", " ")]).await;
    assert_eq!(empty.status, 422);
    assert!(
        empty.body.contains("consent text is required"),
        "{}",
        empty.body
    );
}
