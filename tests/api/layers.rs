//! The application layer (issue 11): rules that live once in `app/` and hold for the page
//! and the API alike, checks that run inside their transaction, and the web layer kept
//! away from the store.

use reqwest::Method;
use serde_json::json;
use wecare::domain::accounts::Role;

use crate::events::{coordinator_token, create_event};
use crate::helpers::{TestApp, TestDb, api};

crate::on_both!(
    my_registrations_give_the_online_link_only_to_those_with_a_place,
    two_administrators_removing_each_other_at_once_leave_one,
    a_change_to_every_later_date_is_saved_whole_or_not_at_all,
    the_audience_filter_finds_events_beyond_the_first_five_hundred,
    every_urgent_request_alerts_the_coordinators,
    sealed_data_under_another_key_is_a_server_fault_not_a_conflict,
    the_api_takes_typed_values_and_names_what_it_cannot_read,
    the_queue_plan_audits_each_request_it_opens,
    a_confirmation_link_is_used_up_only_by_the_registration_it_makes,
    switching_coordinator_blind_at_once_audits_each_real_change,
);

async fn my_registrations_give_the_online_link_only_to_those_with_a_place(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let ids = create_event(&app, &token, json!({"capacity": 1})).await;
    let link = "https://video.example.edu/club";
    let seated = app.account("seated@example.edu", &[]).await;
    let waiting = app.account("waiting@example.edu", &[]).await;
    let (seated_token, waiting_token) =
        (app.token_for(&seated).await, app.token_for(&waiting).await);
    for t in [&seated_token, &waiting_token] {
        let r = api(
            &app,
            Method::POST,
            &format!("/api/v1/events/{}/registrations", ids[0]),
            Some(t),
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let mine = |t: String| {
        let app = &app;
        async move {
            let r = api(app, Method::GET, "/api/v1/me/registrations", Some(&t), None).await;
            assert_eq!(r.status, 200, "{}", r.body);
            r.json()
        }
    };
    let seated_view = mine(seated_token.clone()).await;
    assert_eq!(seated_view[0]["registration"]["status"], "confirmed");
    assert_eq!(seated_view[0]["event"]["online_url"], link);
    let waiting_view = mine(waiting_token.clone()).await;
    assert_eq!(waiting_view[0]["registration"]["status"], "waitlisted");
    assert!(
        !waiting_view.to_string().contains(link),
        "someone waiting does not get the link: {waiting_view}"
    );
    // The page and the personal feed say the same.
    let mut browser = app.browser();
    let signed = browser
        .sign_in("waiting@example.edu", crate::helpers::PASSWORD)
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let page = browser.get("/account/events").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Journal club"), "{}", page.body);
    assert!(!page.body.contains(link), "{}", page.body);
}

async fn two_administrators_removing_each_other_at_once_leave_one(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let a = app.account("first-admin@example.edu", &[Role::Admin]).await;
    let b = app
        .account("second-admin@example.edu", &[Role::Admin])
        .await;
    let (ta, tb) = (app.token_for(&a).await, app.token_for(&b).await);
    for round in 0..8 {
        for who in [&a, &b] {
            app.store
                .update_account_access(who.id, &[Role::Admin], true)
                .await
                .expect("both administrators again");
        }
        let demote = |token: String, target: i64| {
            let app = &app;
            async move {
                api(
                    app,
                    Method::PUT,
                    &format!("/api/v1/accounts/{target}"),
                    Some(&token),
                    Some(json!({"roles": ["coordinator"], "active": true})),
                )
                .await
            }
        };
        let (ra, rb) = tokio::join!(demote(ta.clone(), b.id.0), demote(tb.clone(), a.id.0));
        let statuses = [ra.status, rb.status];
        assert!(
            app.store.count_active_admins().await.expect("count") >= 1,
            "round {round}: both demotions went through ({statuses:?})"
        );
        // One of them wins; the other is refused as the last administrator, or no longer
        // an administrator at all.
        assert!(statuses.contains(&200), "round {round}: {statuses:?}");
        assert!(
            statuses.iter().any(|s| *s == 422 || *s == 403),
            "round {round}: {statuses:?} {} {}",
            ra.body,
            rb.body
        );
    }
}

async fn a_change_to_every_later_date_is_saved_whole_or_not_at_all(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let ids = create_event(
        &app,
        &token,
        json!({"repeat": "weekly", "repeat_until": crate::events::future_date(10 + 14)}),
    )
    .await;
    assert_eq!(ids.len(), 3);
    // Someone registered for the last date, so that one cannot become private.
    let r = crate::events::register_guest(&app, ids[2], 1).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let before: Vec<_> = {
        let mut v = Vec::new();
        for id in &ids {
            v.push(app.store.event(*id).await.expect("event"));
        }
        v
    };
    let outbox_before = app
        .store
        .list_outbox(None, 500)
        .await
        .expect("outbox")
        .len();
    let mut coord = app
        .signed_in("coord2@example.edu", &[Role::Coordinator])
        .await;
    let date = crate::events::future_date(10);
    let fields = [
        ("title", "Journal club, renamed"),
        ("time_zone", "America/New_York"),
        ("date", date.as_str()),
        ("start_time", "12:00"),
        ("end_time", "13:00"),
        ("audience", "faculty"),
        ("audience", "public"),
        ("capacity", "2"),
        ("guests_allowed", "1"),
        ("place", "Room 3C"),
        ("private", "1"),
        ("apply_to_later", "1"),
    ];
    let refused = coord
        .post(&format!("/manage/events/{}", ids[0]), &fields)
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("cannot be made private or public now"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("Journal club, renamed"),
        "what was typed comes back"
    );
    for (id, was) in ids.iter().zip(&before) {
        let now = app.store.event(*id).await.expect("event");
        assert_eq!(now.title, was.title, "event {id} was left as it was");
        assert_eq!(now.sequence, was.sequence, "event {id}");
        assert!(!now.private, "event {id}");
    }
    assert_eq!(
        app.store
            .list_outbox(None, 500)
            .await
            .expect("outbox")
            .len(),
        outbox_before,
        "nobody was told of a change that was not made"
    );
    // Without the private flag, the same change goes to all three dates at once.
    let fields: Vec<_> = fields
        .into_iter()
        .filter(|(k, _)| *k != "private")
        .collect();
    let saved = coord
        .post(&format!("/manage/events/{}", ids[0]), &fields)
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    for id in &ids {
        let e = app.store.event(*id).await.expect("event");
        assert_eq!(e.title, "Journal club, renamed");
    }
}

async fn the_audience_filter_finds_events_beyond_the_first_five_hundred(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    // 520 faculty lunches over the next two years…
    let mut made = 0;
    for day in 1..=5 {
        let ids = create_event(
            &app,
            &token,
            json!({
                "date": crate::events::future_date(day),
                "repeat": "weekly",
                "repeat_until": crate::events::future_date(day + 7 * 103),
            }),
        )
        .await;
        made += ids.len();
    }
    assert_eq!(made, 520);
    // …and one residents' event after them.
    let residents = create_event(
        &app,
        &token,
        json!({"title": "Residents' wellness evening", "date": crate::events::future_date(800),
               "audience": ["residents"]}),
    )
    .await;
    let r = api(
        &app,
        Method::GET,
        "/api/v1/events?audience=residents",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed: Vec<i64> = r
        .json()
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(
        listed, residents,
        "the residents' event is found, and only it"
    );
    let page = app.browser().get("/events?audience=residents").await;
    assert!(
        page.body.contains("Residents&#39; wellness evening")
            || page.body.contains("Residents' wellness evening"),
        "{}",
        page.body
    );
}

async fn every_urgent_request_alerts_the_coordinators(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.account("on-duty@example.edu", &[Role::Coordinator])
        .await;
    // One from the form, one from the API: each is its own alert.
    let mut person = app.browser();
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "urgent"),
                ("contact_mode", "email"),
                ("name", "First Person"),
                ("email", "first@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(
            json!({"topics": ["burnout"], "urgency": "urgent", "contact_mode": "email",
                    "name": "Second Person", "email": "second@example.org"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let alerts = app
        .store
        .list_outbox(None, 50)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.kind == "coordinator_alert")
        .count();
    assert_eq!(alerts, 2, "one alert per urgent request");
}

async fn sealed_data_under_another_key_is_a_server_fault_not_a_conflict(db: TestDb) {
    let app = TestApp::spawn(db).await;
    crate::cases::trained_helper(&app, "keyed@example.edu", "Surgery").await;
    let helper =
        wecare::domain::accounts::AccountId(crate::cases::id_of(&app, "keyed@example.edu").await);
    let r =
        crate::helpers::file_request(&app.store, "Sealed Person", "sealed@example.org", "").await;
    crate::cases::give_case(&app, r.id, helper).await;
    // The same rows, read with another key (a copy of the database with the wrong key file).
    let other = wecare::sealing::DataKey::from_hex(&"5".repeat(64)).expect("key");
    let wrong = app.store.clone().with_data_key(other);
    match wrong.case_identity(r.id, helper).await {
        Err(wecare::store::StoreError::Unsealable(what)) => {
            assert!(
                !what.contains("Sealed Person") && !what.contains("sealed@"),
                "{what}"
            );
        }
        other => panic!("expected a server fault, got {other:?}"),
    }
    // The right key still opens it.
    let (identity, _) = app.store.case_identity(r.id, helper).await.expect("opens");
    assert_eq!(identity.expect("identity").email, "sealed@example.org");
}

/// The store answers with data, not words: every refusal is a `Conflict` kind, and the
/// sentence a person reads is the kind's, chosen where the answer is presented.
#[test]
fn the_store_refuses_with_kinds_not_sentences() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).expect("src/store") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("source");
        files += 1;
        for (i, line) in text.lines().enumerate() {
            let refusal = line.contains("Conflict(\"") || line.contains("conflict(\"");
            assert!(
                !refusal,
                "{}:{}: a sentence in the store: {line}",
                path.display(),
                i + 1
            );
        }
    }
    assert!(files > 10, "read {files} files of src/store");
}

/// The web layer acts through `app`'s handles: it never names the store's escape hatch,
/// and never switches off the lint that refuses it (`clippy.toml`).
#[test]
fn the_web_layer_does_not_reach_around_the_handles() {
    let lint = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/clippy.toml"))
        .expect("clippy.toml");
    assert!(lint.contains("wecare::app::App::unscoped_store"), "{lint}");
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/web"
    ))];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/web") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).expect("source");
                for banned in ["unscoped_store", "disallowed_methods"] {
                    assert!(
                        !text.contains(banned),
                        "{} mentions {banned}: web acts through app's handles",
                        path.display()
                    );
                }
                // The store's handle type, as a whole word (its data types are fine).
                let names_store = text.match_indices("Store").any(|(i, _)| {
                    let before = text[..i].chars().next_back();
                    let after = text[i + 5..].chars().next();
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    !word(before) && !word(after)
                });
                assert!(!names_store, "{} names the Store type", path.display());
            }
        }
    }
    assert!(files > 10, "read {files} files of src/web");
}

/// The JSON API takes numbers, booleans, choices and dates as such (issue 11), says which
/// field it could not read, and its document says what it takes; the form, which sends
/// text, becomes the same typed input and keeps what was typed beside its mistake.
async fn the_api_takes_typed_values_and_names_what_it_cannot_read(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let date = crate::events::future_date(12);
    let event = |extra: serde_json::Value| {
        let mut body = json!({"title": "Book club", "time_zone": "America/New_York",
            "date": date, "start_time": "12:00", "end_time": "13:00",
            "audience": ["faculty"], "capacity": 12});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };
    for (extra, field) in [
        (json!({"capacity": "12"}), "capacity"),
        (json!({"audience": ["faculty", "aliens"]}), "audience[1]"),
        (json!({"allocation": "raffle"}), "allocation"),
        (json!({"date": "06/03/2027"}), "date"),
        (json!({"start_time": "noon"}), "start_time"),
        (json!({"offer_hours": -1}), "offer_hours"),
        (json!({"guests_allowed": "yes"}), "guests_allowed"),
        (json!({"capcity": 5}), "capcity"),
        (
            json!({"questions": [{"kind": "text", "label": "Diet", "required": "no"}]}),
            "questions[0].required",
        ),
        // Refused by the rules, not the types: named all the same, never silently kept.
        (json!({"guests_allowed": true}), "guests_allowed"),
        (
            json!({"questions": [{"kind": "essay", "label": "Diet"}]}),
            "questions[0]",
        ),
        (
            json!({"questions": [{"kind": "choice", "label": "", "options": "a\nb"}]}),
            "questions[0]",
        ),
        (
            json!({"readings": [{"kind": "podcast", "title": "T", "authors": "A"}]}),
            "readings[0]",
        ),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/events",
            Some(&token),
            Some(event(extra.clone())),
        )
        .await;
        assert_eq!(r.status, 422, "{extra}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{extra}: {}", r.body);
    }
    // A refused value is not echoed back: it may be someone's name or words.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/events",
        Some(&token),
        Some(event(
            json!({"capacity": "Ada Lovelace, about her burnout"}),
        )),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(!r.body.contains("Ada Lovelace"), "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(
            json!({"topics": ["burnout"], "urgency": "routine", "contact_mode": "email",
                    "name": ["Grace Hopper"], "email": "grace@example.org"}),
        ),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["field"].clone()),
        (422, json!("name")),
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("Grace") && !r.body.contains("grace@"),
        "{}",
        r.body
    );

    // A request for support takes its choices as enums, its helpers as account ids, and
    // says which field it cannot read (never what was typed in it).
    let request = |extra: serde_json::Value| {
        let mut body = json!({"topics": ["burnout"], "urgency": "routine",
            "contact_mode": "email", "name": "Grace Hopper", "email": "grace@example.org"});
        for (k, v) in extra.as_object().expect("object") {
            if v.is_null() {
                body.as_object_mut().expect("object").remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (extra, field) in [
        (json!({"topics": ["burnout", "astrology"]}), "topics[1]"),
        (json!({"urgency": "whenever"}), "urgency"),
        (json!({"urgency": null}), "urgency"),
        (json!({"contact_mode": "pigeon"}), "contact_mode"),
        (json!({"appointment": "surgical"}), "appointment"),
        (json!({"named_helper": "Dr. Who"}), "named_helper"),
        (json!({"named_helper": 999_999}), "named_helper"),
        (json!({"avoid_helpers": [1, "two"]}), "avoid_helpers[1]"),
        (json!({"outside_department": "yes"}), "outside_department"),
        (json!({"topics": []}), "topics"),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/support/requests",
            None,
            Some(request(extra.clone())),
        )
        .await;
        assert_eq!(r.status, 422, "{extra}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{extra}: {}", r.body);
        assert!(!r.body.contains("Grace"), "{extra}: {}", r.body);
    }
    let member = app.account("referrer@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
    for (body, field) in [
        (
            json!({"name": "Alan Turing", "email": "alan@example.org", "reason": "gossip"}),
            "reason",
        ),
        (
            json!({"name": "Alan Turing", "email": "alan@example.org"}),
            "reason",
        ),
        (
            json!({"name": "Alan Turing", "email": "alan@example.org",
                   "reason": "adverse_event", "urgency": "later"}),
            "urgency",
        ),
    ] {
        let r = api(
            &app,
            Method::POST,
            "/api/v1/support/referrals",
            Some(&member_token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{body}: {}", r.body);
    }
    // "" still means "no preference", as it did before values were typed.
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(request(json!({"appointment": ""}))),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/referrals",
        Some(&member_token),
        Some(json!({"name": "Alan Turing", "email": "alan@example.org",
                    "reason": "adverse_event", "urgency": ""})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The events listing says which filter it cannot read instead of ignoring it.
    for (query, field) in [
        ("audience=aliens", "audience"),
        ("month=March", "month"),
        ("series=no-such-series", "series"),
    ] {
        let r = api(
            &app,
            Method::GET,
            &format!("/api/v1/events?{query}"),
            None,
            None,
        )
        .await;
        assert_eq!(r.status, 422, "{query}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{query}: {}", r.body);
    }
    let r = api(
        &app,
        Method::GET,
        "/api/v1/events?audience=faculty&month=",
        None,
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The page's form becomes the same typed input: a topic not offered is named there.
    let mut visitor = app.browser();
    let r = visitor
        .post(
            "/support/request",
            &[
                ("topics", "astrology"),
                ("urgency", "routine"),
                ("contact_mode", "email"),
                ("name", "Grace Hopper"),
                ("email", "grace@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Choose the topics from those offered"),
        "{}",
        r.body
    );
    assert!(r.body.contains("Grace Hopper"), "what was typed comes back");

    let mut missing = event(json!({}));
    missing.as_object_mut().expect("object").remove("capacity");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/events",
        Some(&token),
        Some(missing),
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["field"].clone()),
        (422, json!("capacity")),
        "{}",
        r.body
    );

    let r = api(
        &app,
        Method::POST,
        "/api/v1/events",
        Some(&token),
        Some(event(json!({"allocation": "first_come", "offer_hours": 12,
                          "except_dates": [], "end_date": null}))),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["ids"][0].as_i64().expect("id");
    let r = api(
        &app,
        Method::GET,
        &format!("/api/v1/events/{id}"),
        None,
        None,
    )
    .await;
    assert_eq!(r.json()["capacity"], 12, "{}", r.body);

    // A body that is not JSON names the body.
    let r = reqwest::Client::new()
        .post(format!("http://{}/api/v1/events", app.addr))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("capacity=12")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "body", "{body}");

    // The document says the same: required fields, choices and bounds.
    let doc = api(&app, Method::GET, "/api/openapi.json", None, None)
        .await
        .json();
    let schema = &doc["components"]["schemas"]["EventInput"];
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for f in [
        "title",
        "time_zone",
        "date",
        "start_time",
        "end_time",
        "audience",
        "capacity",
    ] {
        assert!(required.contains(&f), "{f} is required: {required:?}");
    }
    assert_eq!(
        schema["properties"]["capacity"]["type"], "integer",
        "{schema}"
    );
    assert_eq!(schema["properties"]["capacity"]["minimum"], 1, "{schema}");
    assert_eq!(schema["properties"]["date"]["format"], "date", "{schema}");
    let audience = doc["components"]["schemas"]["Audience"].to_string();
    for choice in ["faculty", "residents", "students", "public"] {
        assert!(audience.contains(choice), "{audience}");
    }
    let create = &doc["paths"]["/api/v1/events"]["post"];
    assert_eq!(
        create["security"],
        json!([{"bearer": ["coordinator"]}]),
        "{create}"
    );
    for status in ["201", "401", "403", "422"] {
        assert!(
            create["responses"].get(status).is_some(),
            "{status}: {create}"
        );
    }

    // The page sends text; a number that is not one is shown beside its field, as typed.
    let mut coord = app
        .signed_in("coord3@example.edu", &[Role::Coordinator])
        .await;
    let fields = [
        ("title", "Book club"),
        ("time_zone", "America/New_York"),
        ("date", date.as_str()),
        ("start_time", "12:00"),
        ("end_time", "13:00"),
        ("audience", "faculty"),
        ("capacity", "a dozen"),
    ];
    let page = coord.post("/manage/events/new", &fields).await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(
        page.body.contains("Give the number of places, from 1 to"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"a dozen\""),
        "what was typed comes back"
    );
    // A page's query that does not read is a page that says so, not a line of text.
    for (path, who) in [
        ("/events?month=2026-12&month=2027-01", &mut app.browser()),
        (
            "/admin/audit?before=yesterday",
            &mut app.signed_in("auditor@example.edu", &[Role::Admin]).await,
        ),
    ] {
        let r = who.get(path).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
        assert!(r.header("content-type").starts_with("text/html"), "{path}");
        assert!(
            r.body.contains("remove what comes after the question mark"),
            "{path}: {}",
            r.body
        );
    }
}

/// The plan for the queue reads every waiting request in one query and audits each look,
/// all in one transaction (issue 11: no query per row); one entry per request.
async fn the_queue_plan_audits_each_request_it_opens(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = crate::helpers::file_request(
            &app.store,
            &format!("Planned Person {i}"),
            &format!("planned{i}@example.org"),
            "",
        )
        .await;
        ids.push(r.id);
    }
    let mut coord = app
        .signed_in("planner@example.edu", &[Role::Coordinator])
        .await;
    let plan = coord.get("/support/queue/plan").await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(
        !plan.body.contains("Planned Person"),
        "the plan names no one"
    );
    let audit = app.store.list_audit(100).await.expect("audit");
    for id in &ids {
        let looks = audit
            .iter()
            .filter(|e| {
                e.action == "coordinator_matching_view"
                    && e.subject == format!("support_request:{id}")
            })
            .count();
        assert_eq!(looks, 1, "request {id}: {audit:?}");
    }
    let report = app.store.verify_audit().await.expect("verify");
    assert!(
        report.broken_at.is_none(),
        "the chain holds: {:?}",
        report.broken_at
    );
}

/// The link that confirms a guest's address is used up in the transaction that makes the
/// registration: if that fails, the guest can follow the link again (before, the link
/// was spent first and a failure lost the registration).
async fn a_confirmation_link_is_used_up_only_by_the_registration_it_makes(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    let id = create_event(&app, &token, json!({"guests_confirm": null})).await[0];
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/events/{id}/registrations"),
        None,
        Some(json!({"name": "Ada Quarrie", "email": "ada@example.org"})),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let mail = crate::cases::mail_to(&app, "ada@example.org").await;
    let link: String = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .split("/registration/confirm/")
        .nth(1)
        .expect("a confirmation link")
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    // The database refuses the registration, as a full disk or a lost connection would.
    let (refuse, allow) = match app.store.backend() {
        wecare::store::Backend::Sqlite => (
            "CREATE TRIGGER refuse_registrations BEFORE INSERT ON registrations
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
            "DROP TRIGGER refuse_registrations",
        ),
        wecare::store::Backend::Postgres => (
            "CREATE FUNCTION refuse_registrations() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
             CREATE TRIGGER refuse_registrations BEFORE INSERT ON registrations
                 FOR EACH ROW EXECUTE FUNCTION refuse_registrations()",
            "DROP TRIGGER refuse_registrations ON registrations",
        ),
    };
    app.db.run_sql(refuse).await;
    let mut ada = app.browser();
    let failed = ada
        .post(&format!("/registration/confirm/{link}"), &[])
        .await;
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert!(
        app.store
            .registrations_for(id)
            .await
            .expect("list")
            .is_empty()
    );
    app.db.run_sql(allow).await;
    let r = ada
        .post(&format!("/registration/confirm/{link}"), &[])
        .await;
    assert_eq!(r.status, 303, "the link still works: {}", r.body);
    let regs = app.store.registrations_for(id).await.expect("list");
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].email, "ada@example.org");
    let again = ada
        .post(&format!("/registration/confirm/{link}"), &[])
        .await;
    assert_eq!(again.status, 409, "and then works no more: {}", again.body);
}

/// Coordinators switching coordinator-blind working on and off at the same moment: every
/// audit entry is a real change (on, off, on… never "on" twice in a row), and the last one
/// says how it was left.
async fn switching_coordinator_blind_at_once_audits_each_real_change(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = app.store.clone();
        tasks.push(tokio::spawn(async move {
            store.set_coordinator_blind(i % 2 == 0, None).await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("switched");
    }
    let switches: Vec<String> = app
        .store
        .list_audit(500)
        .await
        .expect("audit")
        .into_iter()
        .rev()
        .map(|e| e.action)
        .filter(|a| a.starts_with("settings.coordinator_blind_"))
        .collect();
    assert!(!switches.is_empty());
    assert_eq!(switches[0], "settings.coordinator_blind_on", "{switches:?}");
    for pair in switches.windows(2) {
        assert_ne!(pair[0], pair[1], "a switch audited twice: {switches:?}");
    }
    let on = app.store.coordinator_blind().await.expect("flag");
    assert_eq!(
        switches.last().map(String::as_str),
        Some(if on {
            "settings.coordinator_blind_on"
        } else {
            "settings.coordinator_blind_off"
        })
    );
    let report = app.store.verify_audit().await.expect("verify");
    assert!(
        report.broken_at.is_none(),
        "the chain holds: {:?}",
        report.broken_at
    );
}
