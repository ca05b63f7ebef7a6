//! Promises found broken by testing the programme as an attacker and a newcomer would
//! (issue 10), each proved here through the real server: a withdrawn request cannot be
//! accepted, control characters are refused with the field named on both databases, files
//! that hold identities are the service's own, the client address behind a proxy is the
//! one the proxy wrote, and one bad message never blocks the others.

use reqwest::Method;
use serde_json::json;
use sqlx::Connection;
use wecare::domain::accounts::{AccountId, Role};

use crate::helpers::{TestApp, TestDb, api, serve_config};
use crate::on_both;

on_both!(
    a_withdrawn_request_cannot_be_accepted_and_its_person_is_not_told_a_peer_is_coming,
    control_characters_are_refused_with_the_field_named_and_nothing_is_lost,
    a_message_that_cannot_be_built_fails_alone_and_exhausted_ones_fail_at_claim,
);

async fn sql(db: &TestDb, statement: &str) {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db.database().driver_url())
        .await
        .expect("connect");
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
        .execute(&mut conn)
        .await
        .expect("statement runs");
}

async fn text_of(db: &TestDb, query: &str) -> String {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db.database().driver_url())
        .await
        .expect("connect");
    let row: (String,) = sqlx::query_as(sqlx::AssertSqlSafe(query.to_string()))
        .fetch_one(&mut conn)
        .await
        .expect("query");
    row.0
}

async fn a_withdrawn_request_cannot_be_accepted_and_its_person_is_not_told_a_peer_is_coming(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let mut helper = crate::cases::trained_helper(&app, "wren@example.edu", "Surgery").await;
    let helper_id = AccountId(crate::cases::id_of(&app, "wren@example.edu").await);

    let mut person = app.browser();
    let (request_id, code) =
        filed_with_code(&app, "Ottilie Fairweather", "ottilie@example.org").await;
    let offer = app
        .store
        .offer_request(request_id, helper_id, None, app.store.now() + 3600, None)
        .await
        .expect("offered");
    assert!(
        helper
            .get("/helper/cases")
            .await
            .body
            .contains(&format!("/helper/offers/{}/accept", offer.id))
    );

    // The person withdraws while the offer is open.
    let r = person
        .post("/support/withdraw", &[("receipt_code", &code)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page = helper.get("/helper/cases").await.body;
    assert!(
        !page.contains(&format!("/helper/offers/{}/accept", offer.id)),
        "a withdrawn request is no longer offered: {page}"
    );

    let r = helper
        .post(&format!("/helper/offers/{}/accept", offer.id), &[])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("already been answered"), "{}", r.body);
    // Declining it now is refused the same way, and changes nothing.
    let r = helper
        .post(&format!("/helper/offers/{}/decline", offer.id), &[])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);

    let after = app
        .store
        .support_request(request_id)
        .await
        .expect("request");
    assert_eq!(after.status.key(), "withdrawn");
    assert_eq!(
        text_of(
            &app.db,
            &format!("SELECT status FROM support_offers WHERE id = {}", offer.id)
        )
        .await,
        "cancelled"
    );
    // Whatever else was sent, nothing told the person a peer would contact them.
    app.mail_settled().await;
    let outbox = app.store.list_outbox(None, 100).await.expect("outbox");
    assert!(
        !outbox.iter().any(|m| m.kind == "requester_update"),
        "{outbox:?}"
    );

    // The store refuses too, when the request row no longer is where the offer expects
    // (a withdrawal that raced the answer): nothing moves, nothing is queued.
    let second = filed(&app, "Second Person", "second@example.org").await;
    let offer = app
        .store
        .offer_request(second, helper_id, None, app.store.now() + 3600, None)
        .await
        .expect("offered");
    sql(
        &app.db,
        &format!("UPDATE support_requests SET status = 'withdrawn' WHERE id = {second}"),
    )
    .await;
    let e = app
        .store
        .answer_offer(offer.id, helper_id, true, None)
        .await
        .expect_err("nothing to accept");
    assert!(matches!(e, wecare::store::StoreError::Conflict(_)), "{e}");
    assert_eq!(
        text_of(
            &app.db,
            &format!("SELECT status FROM support_offers WHERE id = {}", offer.id)
        )
        .await,
        "offered",
        "the refused answer rolled back"
    );
    // The offer-expiry job leaves a withdrawn request alone and carries on with the rest:
    // two hours on, the offer's hour to answer has passed.
    app.store.clock().advance(2 * 3600);
    assert!(app.store.expire_offers().await.expect("expired").is_empty());
    assert_eq!(
        app.store
            .support_request(second)
            .await
            .expect("r")
            .status
            .key(),
        "withdrawn"
    );
}

async fn control_characters_are_refused_with_the_field_named_and_nothing_is_lost(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut visitor = app.browser();
    // Anonymous forms, paths and queries: 422 naming the field, never a 500.
    let r = visitor
        .post(
            "/signin",
            &[("email", "a@example.edu"), ("password", "x\u{0}y")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("&#39;password&#39;") || r.body.contains("'password'"),
        "{}",
        r.body
    );
    for path in [
        "/about%00",
        "/programmes/x%00y",
        "/events?q=%00",
        "/calendar/abc%00.ics",
    ] {
        let r = visitor.get(path).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
    }
    let r = api(&app, Method::GET, "/api/v1/pages/a%00b", None, None).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "path");

    // JSON: the field is named by its place in the body.
    let token = crate::events::coordinator_token(&app).await;
    let ids = crate::events::create_event(&app, &token, json!({})).await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{}/registrations", ids[0]),
        None,
        Some(json!({"name": "Guest\u{0}", "email": "guest@example.org"})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "invalid");
    assert_eq!(r.json()["error"]["field"], "name");
    assert!(
        app.store
            .registrations_for(ids[0])
            .await
            .expect("list")
            .is_empty()
    );

    // One-line fields refuse line breaks, in the API and in forms; multi-line ones keep them.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/events",
        Some(&token),
        Some(json!({
            "title": "Talk\r\nATTENDEE:mailto:x@evil.example",
            "time_zone": "America/New_York",
            "date": "2031-03-04",
            "start_time": "12:00",
            "end_time": "13:00",
            "audience": ["faculty"],
            "capacity": 5,
        })),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["field"], "title");

    let mut coordinator = app
        .signed_in("brand@example.edu", &[Role::Coordinator])
        .await;
    let r = coordinator
        .post(
            "/manage/settings",
            &[
                ("name", "Well\r\nBcc: everyone@example.edu"),
                ("tagline", "Care for the carers"),
                ("contact_email", "care@med.example.edu"),
                ("colour_primary", "#0a4a7a"),
                ("colour_accent", "#aa3300"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("must be one line"), "{}", r.body);
    assert!(
        r.body.contains("Care for the carers"),
        "what was typed is kept"
    );
    assert_eq!(
        app.store.branding().await.expect("branding").name,
        "Faculty Well-being Programme",
        "nothing saved"
    );
}

async fn a_message_that_cannot_be_built_fails_alone_and_exhausted_ones_fail_at_claim(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.expect_failures();
    // A programme name stored before names were checked, with a line break in it.
    let mut branding = app.store.branding().await.expect("branding");
    branding.name = "Well\nBeing".into();
    app.store.save_branding(&branding).await.expect("saved");
    let mut admin = app
        .signed_in("postmaster@example.edu", &[Role::Admin])
        .await;
    let r = admin.post("/admin/outbox/test", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // It is sent, with the line break made a space: the From header stays one line.
    let mut sent = None;
    for _ in 0..100 {
        if let Some(m) = app
            .db
            .mail_files()
            .into_iter()
            .find(|m| m.contains("To: postmaster@example.edu"))
        {
            sent = Some(m);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sent = sent.expect("the test message was written");
    assert!(
        sent.contains("From: \"Well Being\"") || sent.contains("From: Well Being"),
        "{sent}"
    );
    assert!(!sent.contains("Bcc:"));

    // A message whose every try ended with its worker gone is failed when next claimed,
    // with a reason, instead of going round "sending" for ever.
    let stuck = wecare::crypto::random_id();
    sql(
        &app.db,
        &format!(
            "INSERT INTO outbox (id, kind, to_address, from_name, subject, body_text, body_html,
                 dedupe_key, confidential, status, attempts, next_attempt_at, lease_until,
                 claimed_by, created_at, updated_at)
             VALUES ({stuck}, 'test_message', 'x@example.edu', 'P', 'S', 't', 'h', 'stuck-{stuck}',
                 0, 'sending', 10, 0, 1, 'gone', 1, 1)"
        ),
    )
    .await;
    let mut status = String::new();
    for _ in 0..100 {
        status = text_of(
            &app.db,
            &format!("SELECT status FROM outbox WHERE id = {stuck}"),
        )
        .await;
        if status == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, "failed");
    let reply = text_of(
        &app.db,
        &format!("SELECT server_reply FROM outbox WHERE id = {stuck}"),
    )
    .await;
    assert!(reply.contains("gave up after 10 tries"), "{reply}");
}

/// The `.eml` folder, its files and a new SQLite database are readable by the service's
/// user only; confidential messages leave the folder with the retention period.
#[tokio::test]
async fn files_that_hold_identities_are_the_services_own() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::new(crate::helpers::Backend::Sqlite)
        .await
        .expect("SQLite");
    let app = TestApp::spawn(db).await;
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    let db_path = app.db.url.trim_start_matches("sqlite://").to_string();
    assert_eq!(mode(std::path::Path::new(&db_path)), 0o600, "the database");
    assert_eq!(mode(&app.db.mail_dir()), 0o700, "the mail folder");

    let mut person = app.browser();
    app.account("coord@example.edu", &[Role::Coordinator]).await;
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "urgent"),
                ("contact_mode", "email"),
                ("name", "Ines Marwood"),
                ("email", "ines@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The urgent request alerts the coordinator: a confidential message.
    let mut files = Vec::new();
    for _ in 0..100 {
        files = std::fs::read_dir(app.db.mail_dir())
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        if !files.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!files.is_empty(), "a message was written");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("-confidential.eml")),
        "{files:?}"
    );

    // Files older than the retention period: the confidential one goes, the other stays.
    let old = app.store.now() - 91 * 86_400;
    let old_secret = app.db.mail_dir().join(format!("{old}-1-confidential.eml"));
    let old_plain = app.db.mail_dir().join(format!("{old}-2.eml"));
    std::fs::write(&old_secret, "To: someone@example.org").expect("write");
    std::fs::write(&old_plain, "To: list@example.org").expect("write");
    crate::cases::run_job_now(&app, "support-retention").await;
    assert!(!old_secret.exists(), "erased with the retention period");
    assert!(
        old_plain.exists(),
        "messages that are not confidential stay"
    );
    assert!(
        files.iter().all(|f| f.exists()),
        "recent confidential messages stay"
    );
}

/// Behind a reverse proxy, the address that counts is the one the proxy appended: a client
/// that invents addresses on the left is still throttled, and cannot lock out someone
/// else's address by naming it.
#[tokio::test]
async fn the_client_address_behind_a_proxy_is_the_one_the_proxy_wrote() {
    let db = TestDb::new(crate::helpers::Backend::Sqlite)
        .await
        .expect("SQLite");
    let mut cfg = serve_config(&db);
    cfg.trust_proxy = true;
    let app = TestApp::spawn_with(std::sync::Arc::new(db), cfg).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut browser = app.browser();
    browser.get("/signin").await;
    let token = browser
        .cookies
        .get("wecare_csrf")
        .cloned()
        .expect("csrf cookie");
    let sign_in = |forwarded: String, n: usize| {
        let client = client.clone();
        let url = app.url("/signin");
        let token = token.clone();
        async move {
            // A form with its CSRF pair, as a browser sends it.
            client
                .post(url)
                .header("x-forwarded-for", forwarded)
                .header("cookie", format!("wecare_csrf={token}"))
                .form(&[
                    ("csrf_token", token.as_str()),
                    ("email", &format!("nobody{n}@example.edu")),
                    ("password", "wrong password"),
                ])
                .send()
                .await
                .expect("sign-in")
                .status()
                .as_u16()
        }
    };
    let mut statuses = Vec::new();
    for n in 0..25 {
        // Each attempt claims a new address; the proxy appends the real one.
        statuses.push(sign_in(format!("198.51.100.{n}, 203.0.113.9"), n).await);
    }
    assert_eq!(statuses[0], 401, "{statuses:?}");
    assert_eq!(
        statuses.last().copied(),
        Some(429),
        "the real address was throttled: {statuses:?}"
    );
    // Naming the attacker's address on the left does not lock out another client.
    let other = sign_in("203.0.113.9, 203.0.113.77".into(), 99).await;
    assert_eq!(other, 401);
}

on_both!(
    a_safety_concern_alerts_every_coordinator_at_once_and_heads_the_queue,
    a_contact_is_recorded_at_the_time_the_helper_gives,
);

/// A message with its folded header lines joined again (RFC 5322, 2.2.3).
fn unfold(mail: &str) -> String {
    mail.replace("\r\n ", " ")
        .replace("\r\n\t", " ")
        .replace("\n ", " ")
}

/// Files a routine request through the form, as a person would; returns its id.
async fn filed(app: &TestApp, name: &str, email: &str) -> i64 {
    filed_with_code(app, name, email).await.0
}

/// The same, with the receipt code the person keeps.
async fn filed_with_code(app: &TestApp, name: &str, email: &str) -> (i64, String) {
    let mut person = app.browser();
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "soon"),
                ("contact_mode", "email"),
                ("name", name),
                ("email", email),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let code = crate::support::receipt_code_in(&r.body);
    let id = app
        .store
        .support_request_by_receipt(&code)
        .await
        .expect("request")
        .id;
    (id, code)
}

async fn a_safety_concern_alerts_every_coordinator_at_once_and_heads_the_queue(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut helper = crate::cases::trained_helper(&app, "kai@example.edu", "Surgery").await;
    let helper_id = AccountId(crate::cases::id_of(&app, "kai@example.edu").await);
    let mut coord = app
        .signed_in("lead@example.edu", &[Role::Coordinator])
        .await;
    app.account("colead@example.edu", &[Role::Coordinator])
        .await;
    let earlier = filed(&app, "Older Request", "older@example.org").await;
    let id = filed(&app, "Marisol Quennell", "marisol@example.org").await;
    crate::cases::give_case(&app, id, helper_id).await;

    let page = helper.get(&format!("/helper/cases/{id}")).await.body;
    assert!(page.contains("Raise a safety concern"), "{page}");
    let r = helper
        .post(&format!("/helper/cases/{id}/escalate"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The helper is told what happens next and where to turn now.
    let page = helper.get(&format!("/helper/cases/{id}")).await.body;
    for words in [
        "Every coordinator was e-mailed",
        "Call 911",
        "988",
        "employee assistance",
    ] {
        assert!(page.contains(words), "{words}: {page}");
    }

    // Every coordinator, at once, marked urgent, with no name in the subject.
    for address in ["lead@example.edu", "colead@example.edu"] {
        let mail = unfold(&crate::cases::mail_to(&app, address).await);
        assert!(mail.contains("Importance: high"), "{mail}");
        let subject = mail
            .lines()
            .find(|l| l.starts_with("Subject:"))
            .unwrap_or_default();
        assert!(subject.contains("safety concern"), "{subject}");
        assert!(
            !mail.contains("Marisol") && !mail.contains("marisol@"),
            "{mail}"
        );
    }
    // Raising it again sends nothing more.
    helper
        .post(&format!("/helper/cases/{id}/escalate"), &[])
        .await;
    app.mail_settled().await;
    let alerts = app
        .db
        .mail_files()
        .iter()
        .filter(|m| unfold(m).contains("safety concern"))
        .count();
    assert_eq!(alerts, 2, "one alert per coordinator");

    // The case heads the queue, flagged, although it arrived later.
    let queue = coord.get("/support/queue").await.body;
    let first = queue
        .find(&format!("/support/queue/{id}\""))
        .expect("listed");
    let second = queue
        .find(&format!("/support/queue/{earlier}\""))
        .expect("listed");
    assert!(first < second, "{queue}");
    assert!(queue.contains("Safety concern"));
    let entries = app.store.list_audit(10).await.expect("audit");
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "safety_escalation")
            .count(),
        1
    );
}

async fn a_contact_is_recorded_at_the_time_the_helper_gives(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut helper = crate::cases::trained_helper(&app, "noor@example.edu", "Surgery").await;
    let helper_id = AccountId(crate::cases::id_of(&app, "noor@example.edu").await);
    let id = filed(&app, "Contact Timing", "timing@example.org").await;
    crate::cases::give_case(&app, id, helper_id).await;
    // A day later (so that a morning time today is after the request arrived). The
    // helper's session has lapsed overnight: they sign in again.
    app.store.clock().advance(86_400);
    assert_eq!(
        helper.get(&format!("/helper/cases/{id}")).await.status,
        303,
        "yesterday's session is over"
    );
    helper
        .sign_in("noor@example.edu", crate::helpers::PASSWORD)
        .await;
    let zone = jiff::tz::TimeZone::get("America/New_York").expect("zone");
    let local_now = app.store.clock().timestamp().to_zoned(zone.clone());
    let earlier = local_now
        .checked_sub(jiff::SignedDuration::from_mins(90))
        .expect("time");

    // The form offers now, in the programme's zone.
    let page = helper.get(&format!("/helper/cases/{id}")).await.body;
    assert!(page.contains("name=\"time\""), "{page}");
    let contacts = format!("/helper/cases/{id}/contacts");
    async fn log_at(
        b: &mut crate::helpers::Browser,
        path: &str,
        at: &jiff::Zoned,
    ) -> crate::helpers::Reply {
        let (date, time) = (
            at.strftime("%Y-%m-%d").to_string(),
            at.strftime("%H:%M").to_string(),
        );
        b.post(
            path,
            &[
                ("date", &date),
                ("time", &time),
                ("mode", "phone"),
                ("minutes", "20"),
            ],
        )
        .await
    }
    let tomorrow = local_now
        .checked_add(jiff::SignedDuration::from_hours(24))
        .expect("time");
    let r = log_at(&mut helper, &contacts, &tomorrow).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("cannot be in the future"), "{}", r.body);
    let two_days_ago = local_now
        .checked_sub(jiff::SignedDuration::from_hours(48))
        .expect("time");
    let r = log_at(&mut helper, &contacts, &two_days_ago).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("before the request arrived"), "{}", r.body);

    let r = log_at(&mut helper, &contacts, &earlier).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let expected = earlier.timestamp().as_second() / 60 * 60;
    let stored = app
        .store
        .support_request(id)
        .await
        .expect("request")
        .first_contact_at
        .expect("first contact");
    assert_eq!(
        stored, expected,
        "the minute the helper gave, in New York time"
    );
    let contacts_list = app.store.list_contacts(id).await.expect("contacts");
    assert_eq!(contacts_list[0].at, expected);
}

on_both!(coordinator_blind_answers_say_nothing_about_who_asked);

/// In a coordinator-blind programme a coordinator offering by hand, reading a request's
/// page, its shortlist or the plan learns nothing derived from the person: a request filed
/// by a helper (who cannot take their own) reads exactly like anyone else's.
async fn coordinator_blind_answers_say_nothing_about_who_asked(db: TestDb) {
    let app = TestApp::spawn(db).await;
    crate::cases::trained_helper(&app, "hal@example.edu", "Surgery").await;
    let hal = AccountId(crate::cases::id_of(&app, "hal@example.edu").await);
    // Ivy is a helper whose training has not been recorded: ruled out for her own reason.
    app.signed_in("ivy@example.edu", &[Role::Helper]).await;
    let ivy = crate::cases::id_of(&app, "ivy@example.edu").await;
    app.store
        .set_coordinator_blind(true, None)
        .await
        .expect("blind");
    let input = |name: &str, email: &str| wecare::domain::support::RequestInput {
        department: "Surgery".into(),
        avoid: "Dr. Nobody".into(),
        ..crate::helpers::routine_request(name, email)
    };
    let file = |owner: Option<AccountId>, name: &'static str, email: &'static str| {
        let store = app.store.clone();
        let request =
            wecare::domain::support::NewRequest::parse(&input(name, email)).expect("valid");
        async move {
            store
                .create_support_request(&request, owner, &[])
                .await
                .expect("filed")
                .0
                .id
        }
    };
    let by_hal = file(Some(hal), "Hal Himself", "hal.private@example.org").await;
    let by_other = file(None, "Somebody Else", "else@example.org").await;
    let mut coord = app
        .signed_in("blind@example.edu", &[Role::Coordinator])
        .await;
    let token = app
        .token_for(
            &app.account("blind-api@example.edu", &[Role::Coordinator])
                .await,
        )
        .await;

    // Hal cannot take his own request (and is in its department), Ivy is untrained: one
    // answer for both, on the page and in the API.
    let page_hal = coord
        .post(
            &format!("/support/queue/{by_hal}/offer"),
            &[("helper", &hal.0.to_string())],
        )
        .await;
    let page_ivy = coord
        .post(
            &format!("/support/queue/{by_other}/offer"),
            &[("helper", &ivy.to_string())],
        )
        .await;
    // Blind: no hand-picked offer at all, so trying helper after helper tells nothing.
    assert_eq!((page_hal.status, page_ivy.status), (409, 409));
    assert_eq!(
        page_hal.body, page_ivy.body,
        "one refusal, whatever the reason"
    );
    let api_hal = api(
        &app,
        Method::POST,
        &format!("/api/v1/support/requests/{by_hal}/offers"),
        Some(&token),
        Some(json!({"helper": hal.0})),
    )
    .await;
    let api_ivy = api(
        &app,
        Method::POST,
        &format!("/api/v1/support/requests/{by_other}/offers"),
        Some(&token),
        Some(json!({"helper": ivy})),
    )
    .await;
    assert_eq!(api_hal.status, 409);
    assert_eq!(api_hal.body, api_ivy.body);
    // The programme offers it instead, to the next suitable helper (never Hal: his own).
    let r = coord
        .post(&format!("/support/queue/{by_hal}/offer-next"), &[])
        .await;
    assert_eq!(
        r.status, 409,
        "only Hal is trained, and he asked: {}",
        r.body
    );
    assert!(
        r.body.contains("No helper can take this request now"),
        "{}",
        r.body
    );
    for body in [&page_hal.body, &api_hal.body] {
        for leak in ["person asking", "department", "avoid"] {
            assert!(!body.contains(leak), "{leak}: {body}");
        }
    }

    // The request pages: no scores, no reasons, no "ruled out"; the same for both.
    let section = |page: &str, id: i64| {
        page.split("id=\"shortlist-title\"")
            .nth(1)
            .unwrap_or_default()
            .replace(&format!("/support/queue/{id}/"), "/support/queue/X/")
    };
    let a = coord.get(&format!("/support/queue/{by_hal}")).await.body;
    let b = coord.get(&format!("/support/queue/{by_other}")).await.body;
    assert_eq!(section(&a, by_hal), section(&b, by_other));
    for leak in ["Ruled out", "score", "person asking", "avoid list"] {
        assert!(!a.contains(leak), "{leak}: {a}");
    }
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/support/requests/{by_hal}/shortlist"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let plan = coord.get("/support/queue/plan").await.body;
    assert!(
        !plan.contains("Test Person"),
        "no proposed helper named: {plan}"
    );
    assert!(!plan.contains("Score"), "{plan}");

    // Each of those looks opened the sealed preferences for a coordinator: each is audited.
    let audited = app
        .store
        .list_audit(100)
        .await
        .expect("audit")
        .into_iter()
        .filter(|e| {
            e.action == "coordinator_matching_view"
                && e.subject == format!("support_request:{by_hal}")
        })
        .count();
    // The blind request page opens nothing; the plan does, and is audited.
    assert!(audited >= 1, "the plan's look is audited: {audited}");

    // Switching blind mode off does not open requests filed under it; the switch is audited.
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "America/New_York"),
                ("days", "mon-fri"),
                ("hours", "09:00-17:00"),
                ("first_contact_hours", "8"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!app.store.coordinator_blind().await.expect("flag"));
    let r = coord
        .post(&format!("/support/queue/{by_other}/reveal"), &[])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(!r.body.contains("Somebody Else"), "{}", r.body);
    let page = coord.get(&format!("/support/queue/{by_other}")).await.body;
    assert!(
        !page.contains("Ruled out") && !page.contains("Show who asked"),
        "{page}"
    );
    let switched = app.store.list_audit(50).await.expect("audit");
    assert!(
        switched
            .iter()
            .any(|e| e.action == "settings.coordinator_blind_off" && e.actor.is_some()),
        "{switched:?}"
    );
    // The refused look is on record too, with who tried.
    assert!(
        switched
            .iter()
            .any(|e| e.action == "coordinator_view_identity_refused"
                && e.subject == format!("support_request:{by_other}")
                && e.actor.is_some()),
        "{switched:?}"
    );
}

on_both!(the_form_promises_what_the_settings_in_force_do);

/// The request form and the receipt say who may see a request, what is e-mailed and how
/// long it is kept, from the settings in force; and the only message a person who asks
/// receives is the one the form announces.
async fn the_form_promises_what_the_settings_in_force_do(db: TestDb) {
    let mut cfg = serve_config(&db);
    cfg.retention_days = 30;
    let app = TestApp::spawn_with(std::sync::Arc::new(db), cfg).await;
    let mut visitor = app.browser();
    let form = visitor.get("/support/request").await.body;
    assert!(form.contains("coordinators can also open them"), "{form}");
    assert!(form.contains("30 days after"), "{form}");
    assert!(
        form.contains("We send you one e-mail, when a peer accepts"),
        "{form}"
    );
    assert!(!form.contains("ever sent by e-mail"), "{form}");
    app.store
        .set_coordinator_blind(true, None)
        .await
        .expect("blind");
    let form = visitor.get("/support/request").await.body;
    assert!(
        form.contains("only if that peer raises a concern"),
        "{form}"
    );
    assert!(!form.contains("coordinators can also open them"), "{form}");
    app.store
        .set_coordinator_blind(false, None)
        .await
        .expect("not blind");

    // A whole case: filed, accepted, contacted, closed. The person gets exactly the one
    // message the form announces.
    crate::cases::trained_helper(&app, "pia@example.edu", "Surgery").await;
    let pia = AccountId(crate::cases::id_of(&app, "pia@example.edu").await);
    let r = visitor
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "soon"),
                ("contact_mode", "email"),
                ("name", "Quinn Ashdown"),
                ("email", "quinn@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("We send you one e-mail"),
        "the receipt repeats it"
    );
    let code = crate::support::receipt_code_in(&r.body);
    let id = app
        .store
        .support_request_by_receipt(&code)
        .await
        .expect("r")
        .id;
    let offer = app
        .store
        .offer_request(id, pia, None, app.store.now() + 3600, None)
        .await
        .expect("offer");
    let mut helper = app.browser();
    helper
        .sign_in("pia@example.edu", crate::helpers::PASSWORD)
        .await;
    let r = helper
        .post(&format!("/helper/offers/{}/accept", offer.id), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = helper
        .post(
            &format!("/helper/cases/{id}/contacts"),
            &[("mode", "phone"), ("minutes", "30")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = helper
        .post(&format!("/helper/cases/{id}/close"), &[("outcome", "met")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    crate::cases::mail_to(&app, "quinn@example.org").await;
    app.mail_settled().await;
    let to_quinn: Vec<String> = app
        .db
        .mail_files()
        .into_iter()
        .filter(|m| m.contains("To: quinn@example.org"))
        .collect();
    assert_eq!(to_quinn.len(), 1, "{to_quinn:?}");
    assert!(
        !to_quinn[0].contains("burnout"),
        "it does not repeat the request"
    );
}

on_both!(urgency_sets_its_own_promise_and_offer_window);

/// "As soon as possible today" is not "within a few days": each urgency has its own
/// first-contact promise and offer window, and an urgent request filed when no one is at
/// work is told when someone will be, and where to turn now.
async fn urgency_sets_its_own_promise_and_offer_window(db: TestDb) {
    let app = TestApp::spawn(db).await;
    crate::cases::trained_helper(&app, "uma@example.edu", "Surgery").await;
    let uma = crate::cases::id_of(&app, "uma@example.edu").await;
    let token = app
        .token_for(&app.account("sla@example.edu", &[Role::Coordinator]).await)
        .await;
    // Business hours of one minute a day: now is almost surely outside them.
    let mut sla = app.store.service_level_settings().await.expect("sla");
    sla.hours = "03:00-03:01".into();
    sla.time_zone = "Pacific/Kiritimati".into();
    app.store
        .save_service_level_settings(&sla)
        .await
        .expect("saved");
    let at_work = {
        let hours = wecare::domain::sla::BusinessHours::parse(&sla).expect("valid");
        hours.is_open(app.store.now())
    };

    let mut person = app.browser();
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "urgent"),
                ("contact_mode", "phone"),
                ("name", "Rosalind Achterberg"),
                ("email", "rosalind@example.org"),
                ("phone", "555 0100"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    if !at_work {
        assert!(r.body.contains("outside the programme"), "{}", r.body);
        assert!(
            r.body.contains("988") && r.body.contains("911"),
            "{}",
            r.body
        );
    }
    let urgent = app
        .store
        .support_request_by_receipt(&crate::support::receipt_code_in(&r.body))
        .await
        .expect("request")
        .id;
    let routine = crate::helpers::file_request(&app.store, "Slow Person", "slow@example.org", "")
        .await
        .id;
    // Offer windows count business hours: open all day now, so they match the clock.
    let mut sla = app.store.service_level_settings().await.expect("sla");
    sla.hours = "00:00-23:59".into();
    sla.days = "mon-sun".into();
    app.store
        .save_service_level_settings(&sla)
        .await
        .expect("saved");
    let mut windows = Vec::new();
    for id in [urgent, routine] {
        let r = api(
            &app,
            Method::POST,
            &format!("/api/v1/support/requests/{id}/offers"),
            Some(&token),
            Some(json!({"helper": uma})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let o = r.json();
        windows.push(
            o["respond_by"].as_i64().expect("respond_by")
                - o["offered_at"].as_i64().expect("offered_at"),
        );
    }
    // Give or take the one closed minute a day.
    assert!(
        (3600..=3660).contains(&windows[0]),
        "an urgent offer lapses after an hour: {windows:?}"
    );
    assert!(
        (8 * 3600..=8 * 3600 + 60).contains(&windows[1]),
        "{windows:?}"
    );

    // The settings say so, and a window of 0 is refused with its field.
    let mut coord = app
        .signed_in("sla-page@example.edu", &[Role::Coordinator])
        .await;
    let page = coord.get("/support/settings").await.body;
    assert!(
        page.contains("name=\"urgent_offer_hours\" inputmode=\"numeric\" size=\"4\" value=\"1\""),
        "{page}"
    );
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "America/New_York"),
                ("days", "mon-fri"),
                ("hours", "09:00-17:00"),
                ("first_contact_hours", "8"),
                ("urgent_offer_hours", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("urgent_offer_hours-error"), "{}", r.body);
    assert_eq!(
        app.store
            .service_level_settings()
            .await
            .expect("sla")
            .urgent_offer_hours,
        1,
        "nothing saved"
    );
}

on_both!(
    a_signed_in_form_token_is_bound_to_its_session,
    api_tokens_expire_and_show_their_last_use,
);

fn hidden_token(page: &str) -> String {
    page.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form with a token")
        .to_string()
}

async fn a_signed_in_form_token_is_bound_to_its_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ann = app.signed_in("ann@example.edu", &[]).await;
    let mut bob = app.signed_in("bob@example.edu", &[]).await;
    let ann_token = hidden_token(&ann.get("/account").await.body);
    let bob_token = hidden_token(&bob.get("/account").await.body);
    assert_ne!(ann_token, bob_token, "each session has its own token");
    assert_eq!(
        ann.cookies.get("wecare_csrf"),
        Some(&ann_token),
        "the cookie carries it"
    );

    // A token planted in the cookie (by a sibling site, say), sent in the form too: refused.
    let planted = "ab".repeat(32);
    ann.cookies.insert("wecare_csrf".into(), planted.clone());
    let r = ann
        .post_raw(
            "/account/tokens",
            &[("csrf_token", planted.as_str()), ("name", "planted")],
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // Another session's token: refused.
    let r = ann
        .post_raw(
            "/account/tokens",
            &[("csrf_token", bob_token.as_str()), ("name", "borrowed")],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    // The session's own token works even with the cookie gone.
    ann.cookies.remove("wecare_csrf");
    let r = ann
        .post_raw(
            "/account/tokens",
            &[("csrf_token", ann_token.as_str()), ("name", "mine")],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        app.store
            .list_api_tokens(
                app.store
                    .account_by_email(
                        &wecare::domain::accounts::Email::parse("ann@example.edu").expect("e")
                    )
                    .await
                    .expect("a")
                    .id
            )
            .await
            .expect("tokens")
            .iter()
            .all(|t| t.name == "mine"),
        "only the bound form was accepted"
    );
    // After signing out, the old session's token is worthless.
    assert_eq!(ann.post("/signout", &[]).await.status, 303);
    let r = ann
        .post_raw(
            "/account/tokens",
            &[("csrf_token", ann_token.as_str()), ("name", "after")],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
}

async fn api_tokens_expire_and_show_their_last_use(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let account = app.account("tok@example.edu", &[]).await;
    let (_, old) = app
        .store
        .create_api_token(account.id, "old", Some(app.store.now() - 1))
        .await
        .expect("token");
    let r = api(&app, Method::GET, "/api/v1/me", Some(&old), None).await;
    assert_eq!(r.status, 401, "an expired token is refused: {}", r.body);
    let (_, fresh) = app
        .store
        .create_api_token(account.id, "fresh", Some(app.store.now() + 3600))
        .await
        .expect("token");
    let r = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("bearer {fresh}"))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), 200, "the scheme is case-insensitive");
    let listed = api(&app, Method::GET, "/api/v1/tokens", Some(&fresh), None)
        .await
        .json();
    let fresh_row = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|t| t["name"] == "fresh")
        .cloned()
        .expect("listed");
    assert!(fresh_row["last_used_at"].is_i64(), "{fresh_row}");
    assert!(fresh_row["expires_at"].is_i64(), "{fresh_row}");

    let mut b = app.browser();
    b.sign_in("tok@example.edu", crate::helpers::PASSWORD).await;
    let page = b.get("/account/developers").await.body;
    assert!(page.contains("expired"), "{page}");
    let r = b
        .post(
            "/account/tokens",
            &[("name", "x"), ("expires_days", "9999")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = b
        .post(
            "/account/tokens",
            &[("name", "quarter"), ("expires_days", "90")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("It works until"), "{}", r.body);
}

on_both!(administrators_read_the_audit_log_without_identities);

async fn administrators_read_the_audit_log_without_identities(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut helper = crate::cases::trained_helper(&app, "vic@example.edu", "Surgery").await;
    let vic = AccountId(crate::cases::id_of(&app, "vic@example.edu").await);
    let id = filed(&app, "Wilhelmina Dross", "wilhelmina@example.org").await;
    crate::cases::give_case(&app, id, vic).await;
    // The helper opens the case: who asked is shown, and that is audited.
    assert!(
        helper
            .get(&format!("/helper/cases/{id}"))
            .await
            .body
            .contains("Wilhelmina")
    );
    let mut admin = app.signed_in("auditor@example.edu", &[Role::Admin]).await;
    let page = admin.get("/admin/audit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains(&format!("support_request:{id}")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Test Person"),
        "the acting account is named"
    );
    assert!(
        page.body.contains("A helper opened who asked"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Wilhelmina"), "no identity in the list");
    assert!(
        page.body.contains("Intact: 1 entries") || page.body.contains("Intact: 1 entr"),
        "{}",
        page.body
    );
    let head = app.store.verify_audit().await.expect("verify").head;
    assert!(page.body.contains(&head.to_string()), "the head to copy");
    // The daily job writes the same head to the log and its result.
    crate::cases::run_job_now(&app, "audit-anchor").await;
    let jobs = app.store.list_jobs().await.expect("jobs");
    let anchor = jobs.iter().find(|j| j.name == "audit-anchor").expect("job");
    assert!(
        anchor
            .last_result
            .as_deref()
            .is_some_and(|r| r.contains(&head.to_string())),
        "{anchor:?}"
    );
    for who in [
        app.signed_in("aud-member@example.edu", &[]).await,
        app.signed_in("aud-coord@example.edu", &[Role::Coordinator])
            .await,
    ] {
        let mut who = who;
        assert_eq!(who.get("/admin/audit").await.status, 403);
    }
}

on_both!(a_private_event_keeps_who_registered_and_what_they_answered_sealed);

/// Every row of every table, as text (a SQLite file read through its tables, or the data
/// lines of a `pg_dump`): what someone holding a copy of the database would see.
pub async fn database_rows(db: &TestDb) -> Option<Vec<String>> {
    use sqlx::Row;
    if db.url.starts_with("sqlite") {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(db.database().driver_url())
            .await
            .expect("connect");
        let tables: Vec<(String,)> =
            // sqlx's own bookkeeping holds no data (and a type the Any driver cannot read).
            sqlx::query_as(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_sqlx%'",
            )
                .fetch_all(&mut conn)
                .await
                .expect("tables");
        let mut out = Vec::new();
        for (t,) in tables {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM \"{t}\"")))
                .fetch_all(&mut conn)
                .await
                .expect("rows");
            for r in rows {
                let cells: Vec<String> = (0..r.len())
                    .map(|i| {
                        r.try_get::<Option<String>, _>(i)
                            .map(|v| v.unwrap_or_default())
                            .or_else(|_| {
                                r.try_get::<Option<i64>, _>(i)
                                    .map(|v| v.map(|n| n.to_string()).unwrap_or_default())
                            })
                            .or_else(|_| {
                                r.try_get::<Option<f64>, _>(i)
                                    .map(|v| v.map(|n| n.to_string()).unwrap_or_default())
                            })
                            .unwrap_or_default()
                    })
                    .collect();
                out.push(format!("{t}\t{}", cells.join("\t")));
            }
        }
        Some(out)
    } else {
        let Some(pg_dump) = crate::support::find_pg_dump() else {
            eprintln!("skipped the dump check: pg_dump is not installed");
            return None;
        };
        let out = std::process::Command::new(pg_dump)
            .arg("--dbname")
            .arg(&db.url)
            .arg("--data-only")
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect(),
        )
    }
}

async fn a_private_event_keeps_who_registered_and_what_they_answered_sealed(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = crate::events::coordinator_token(&app).await;
    let id = crate::events::create_event(
        &app,
        &token,
        json!({"title": "Debrief after adverse event", "private": true, "capacity": 5,
               "guests_allowed": false,
               "questions": [{"kind": "text", "label": "Anything we should know"}]}),
    )
    .await[0];
    let event = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}"),
        None,
        None,
    )
    .await
    .json();
    let q = event["questions"][0]["id"].as_i64().expect("question");
    let member = app.account("debriefed@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
    const ANSWER: &str = "I was the surgeon on call that night";
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        Some(&member_token),
        Some(json!({"answers": {q.to_string(): ANSWER}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // The member still finds it: in "My events" and so in the personal feed.
    let mine = api(
        &app,
        Method::GET,
        "/api/v1/me/registrations",
        Some(&member_token),
        None,
    )
    .await
    .json();
    assert!(
        mine.as_array()
            .expect("list")
            .iter()
            .any(|r| r["event_id"] == id || r["event"]["id"] == id),
        "{mine}"
    );
    let mut browser = app.browser();
    browser
        .sign_in("debriefed@example.edu", crate::helpers::PASSWORD)
        .await;
    let page = browser.get(&format!("/events/{id}")).await.body;
    assert!(page.contains("You are registered"), "{page}");
    // Coordinators see the answer, opened.
    let coordinator_view = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}/registrations"),
        Some(&token),
        None,
    )
    .await;
    assert!(
        coordinator_view.body.contains(ANSWER),
        "{}",
        coordinator_view.body
    );

    // No row of any table holds both the event and the member's account; no answer in clear.
    if let Some(rows) = database_rows(&app.db).await {
        let (event_id, account_id) = (id.to_string(), member.id.0.to_string());
        for row in &rows {
            assert!(
                !(row.contains(&event_id) && row.contains(&account_id)),
                "a row links the member to the event: {row}"
            );
            assert!(
                !row.contains("surgeon on call"),
                "the answer in clear: {row}"
            );
        }
        assert!(
            rows.iter().any(|r| r.contains(&event_id)),
            "the scan sees the event"
        );
    }

    // Nobody learns how many registered.
    let public = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}"),
        None,
        None,
    )
    .await
    .json();
    assert_eq!(
        (public["taken"].as_i64(), public["waitlisted"].as_i64()),
        (Some(0), Some(0))
    );
    let page = app.browser().get(&format!("/events/{id}")).await.body;
    assert!(
        !page.contains("of 5 left") && !page.contains("4 of"),
        "{page}"
    );
    let listing = app.browser().get("/events").await.body;
    assert!(!listing.contains("4 places left"), "{listing}");

    // The flag cannot change now that someone registered.
    let change = json!({
        "title": "Debrief after adverse event", "private": false, "capacity": 5,
        "time_zone": "America/New_York", "date": "2031-03-04", "start_time": "12:00",
        "end_time": "13:00", "audience": ["faculty"],
    });
    let r = api(
        &app,
        Method::PUT,
        &format!("/api/v1/events/{id}"),
        Some(&token),
        Some(change),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("cannot be made private or public now"),
        "{}",
        r.body
    );

    // The personal feed lists it, and its address is not in the database.
    let feed_token = app
        .store
        .calendar_token(member.id.0, false)
        .await
        .expect("token");
    let feed = app
        .browser()
        .get(&format!("/calendar/{feed_token}.ics"))
        .await;
    assert_eq!(feed.status, 200);
    assert!(feed.body.contains("BEGIN:VEVENT"), "{}", feed.body);
    if let Some(rows) = database_rows(&app.db).await {
        assert!(
            rows.iter().all(|r| !r.contains(&feed_token)),
            "the feed address is stored"
        );
    }

    // A new data key moves the digest and the sealed answers: still found, still readable.
    let new_key = wecare::sealing::DataKey::from_hex(&"7".repeat(64)).expect("key");
    let old_key = wecare::sealing::DataKey::from_hex(crate::helpers::DATA_KEY).expect("key");
    app.store
        .rotate_data_key(&old_key, &new_key)
        .await
        .expect("rotated");
    let moved = app.store.clone().with_data_key(new_key);
    let found = moved.registrations_of(member.id.0, 0).await.expect("found");
    assert_eq!(
        found.len(),
        1,
        "the member's registration moved with the key"
    );
    assert_eq!(found[0].1.answers[0].answer, ANSWER);
}

on_both!(
    guests_are_limited_per_client_address,
    a_guest_confirms_their_address_before_a_place_is_held,
);

async fn guests_are_limited_per_client_address(db: TestDb) {
    let mut cfg = serve_config(&db);
    cfg.guest_registrations_per_address = 5;
    let app = TestApp::spawn_with(std::sync::Arc::new(db), cfg).await;
    let token = crate::events::coordinator_token(&app).await;
    let id = crate::events::create_event(&app, &token, json!({"capacity": 300})).await[0];
    let mut statuses = Vec::new();
    for n in 0..8 {
        let r = api(
            &app,
            Method::POST,
            &format!("/api/v1/events/{id}/registrations"),
            None,
            Some(json!({"name": format!("Invented {n}"), "email": format!("invented{n}@example.org")})),
        )
        .await;
        if r.status == 429 {
            assert_eq!(r.json()["error"]["code"], "throttled");
            assert!(r.body.contains("from your network"), "{}", r.body);
        }
        statuses.push(r.status);
    }
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 429, 429, 429]);
    assert_eq!(
        app.store.registrations_for(id).await.expect("list").len(),
        5
    );
    // Members are not limited: the limit is for registrations nobody signed in for.
    let member = app.account("limited-member@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
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

async fn a_guest_confirms_their_address_before_a_place_is_held(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = crate::events::coordinator_token(&app).await;
    // Open to the public, so by default guests confirm their address first.
    let id = crate::events::create_event(
        &app,
        &token,
        json!({"capacity": 1, "guests_confirm": null, "title": "Careers in medicine day"}),
    )
    .await[0];
    let mut ada = app.browser();
    let r = ada
        .post(
            &format!("/events/{id}/register"),
            &[("name", "Ada Quarrie"), ("email", "ada@example.org")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Check your e-mail"), "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        None,
        Some(json!({"name": "Bea Quarrie", "email": "bea@example.org"})),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()["status"], "awaiting_confirmation");
    // Nothing is held yet, and what waits is sealed.
    assert!(
        app.store
            .registrations_for(id)
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(app.store.event(id).await.expect("event").taken, 0);
    let stored = text_of(
        &app.db,
        "SELECT sealed_registration FROM guest_confirmations LIMIT 1",
    )
    .await;
    assert!(
        !stored.contains("example.org") && !stored.contains("Quarrie"),
        "{stored}"
    );

    // The text part is quoted-printable: long lines end in a soft break ("=" at the end).
    let link = |mail: &str| {
        mail.replace("=\r\n", "")
            .replace("=\n", "")
            .split("/registration/confirm/")
            .nth(1)
            .map(|s| {
                s.chars()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect::<String>()
            })
            .expect("a confirmation link")
    };
    let ada_link = link(&crate::cases::mail_to(&app, "ada@example.org").await);
    let bea_link = link(&crate::cases::mail_to(&app, "bea@example.org").await);
    // The link opens a page with a button: a mail scanner following it confirms nothing.
    let page = ada.get(&format!("/registration/confirm/{ada_link}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Confirm my registration"),
        "{}",
        page.body
    );
    assert!(
        app.store
            .registrations_for(id)
            .await
            .expect("list")
            .is_empty()
    );

    // Bea confirms first and gets the one place; Ada then joins the waiting list.
    let mut bea = app.browser();
    let r = bea
        .post(&format!("/registration/confirm/{bea_link}"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = ada
        .post(&format!("/registration/confirm/{ada_link}"), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let regs = app.store.registrations_for(id).await.expect("list");
    let status_of = |email: &str| {
        regs.iter()
            .find(|r| r.email == email)
            .map(|r| r.status.key())
            .expect("registered")
    };
    assert_eq!(status_of("bea@example.org"), "confirmed");
    assert_eq!(status_of("ada@example.org"), "waitlisted");
    // A link works once.
    let r = ada
        .post(&format!("/registration/confirm/{ada_link}"), &[])
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("expired or has been used"), "{}", r.body);
    // Whether an address is registered is not told: the same answer as for a new one.
    let again = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        None,
        Some(json!({"name": "Bea Quarrie", "email": "bea@example.org"})),
    )
    .await;
    let fresh = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        None,
        Some(json!({"name": "Cal Quarrie", "email": "cal@example.org"})),
    )
    .await;
    assert_eq!((again.status, fresh.status), (202, 202));
    assert_eq!(again.json()["message"], fresh.json()["message"]);
    assert!(!again.body.contains("position") && !again.body.contains("manage_url"));
}

on_both!(a_helper_picked_to_avoid_is_never_offered);

/// The form lets a person pick helpers to avoid from the public list; in a
/// coordinator-blind programme (where requests are offered automatically) such a helper
/// is never offered the request, and the API checks the same list as the form.
async fn a_helper_picked_to_avoid_is_never_offered(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut sam = crate::cases::trained_helper(&app, "sam.l@example.edu", "Emergency").await;
    let r = sam
        .post(
            "/helper/profile",
            &[
                ("capacity", "5"),
                ("department", "Emergency"),
                ("topics", "burnout"),
                ("bio", "Sam, emergency physician."),
                ("bio_public", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sam_id = crate::cases::id_of(&app, "sam.l@example.edu").await;
    let private_helper = crate::cases::trained_helper(&app, "quiet@example.edu", "Radiology").await;
    drop(private_helper);
    let quiet_id = crate::cases::id_of(&app, "quiet@example.edu").await;
    app.store
        .set_coordinator_blind(true, None)
        .await
        .expect("blind");

    let mut person = app.browser();
    // (The request form's third step lists them.)
    let form = person
        .post("/support/request", &[("step", "4"), ("go", "3")])
        .await
        .body;
    assert!(
        form.contains(&format!("name=\"avoid_helpers\" value=\"{sam_id}\"")),
        "the public helpers can be picked: {form}"
    );
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "soon"),
                ("contact_mode", "email"),
                ("name", "Avoiding Sam"),
                ("email", "avoid@example.org"),
                ("avoid_helpers", &sam_id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = app
        .store
        .support_request_by_receipt(&crate::support::receipt_code_in(&r.body))
        .await
        .expect("request")
        .id;
    // Offered automatically: to the other helper, never to Sam.
    let offered_to: Vec<String> = {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(app.db.database().driver_url())
            .await
            .expect("connect");
        sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(format!(
            "SELECT helper_id FROM support_offers WHERE request_id = {id}"
        )))
        .fetch_all(&mut conn)
        .await
        .expect("offers")
        .into_iter()
        .map(|(h,)| h.to_string())
        .collect()
    };
    assert_eq!(
        offered_to,
        vec![quiet_id.to_string()],
        "offered to the other helper only"
    );
    // Sam declines nothing and sees nothing; the next offer (after a decline) skips him too.
    assert!(!sam.get("/helper/cases").await.body.contains("/accept"));

    // The API takes only helpers from the public list, named or avoided.
    for body in [
        json!({"topics": ["burnout"], "urgency": "routine", "contact_mode": "email",
               "name": "Api Person", "email": "api@example.org", "avoid_helpers": [quiet_id]}),
        json!({"topics": ["burnout"], "urgency": "routine", "contact_mode": "email",
               "name": "Api Person", "email": "api@example.org", "named_helper": quiet_id}),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/support/requests",
            None,
            Some(body),
        )
        .await;
        assert_eq!(r.status, 422, "{}", r.body);
    }
}

on_both!(a_place_on_a_cancelled_event_cannot_be_taken_or_given);

/// Registrations have the transition flaw requests had: an offered place (or one a
/// coordinator gives) must not be taken once the event is cancelled.
async fn a_place_on_a_cancelled_event_cannot_be_taken_or_given(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = crate::events::coordinator_token(&app).await;
    let id = crate::events::create_event(&app, &token, json!({"capacity": 1, "offer_hours": 12}))
        .await[0];
    let a = crate::events::register_guest(&app, id, 1).await.json();
    let b = crate::events::register_guest(&app, id, 2).await.json();
    let c = crate::events::register_guest(&app, id, 3).await.json();
    api(
        &app,
        Method::POST,
        "/api/v1/registrations/cancel",
        None,
        Some(json!({"secret": crate::events::secret_of(&a)})),
    )
    .await;
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/cancel"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut guest = app.browser();
    let r = guest
        .post(
            &format!("/registration/{}/accept", crate::events::secret_of(&b)),
            &[],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("cancelled"), "{}", r.body);
    let waiting = c["id"].as_i64().expect("id");
    let e = app
        .store
        .give_place(waiting, |_| None)
        .await
        .expect_err("no place on a cancelled event");
    assert!(matches!(e, wecare::store::StoreError::Conflict(_)), "{e}");
    let regs = app.store.registrations_for(id).await.expect("list");
    assert!(
        regs.iter().all(|r| r.status.key() != "confirmed"),
        "{regs:?}"
    );
}
