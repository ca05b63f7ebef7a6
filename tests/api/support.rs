//! Peer-support requests through the real server: the form and its receipt code, status
//! and withdrawal without an account, throttled wrong codes, a member's own requests, the
//! coordinators' queue, the API; and proof that identities never reach the database, the
//! pages of others or the logs in clear.

use reqwest::Method;
use serde_json::json;
use wecare::domain::accounts::Role;

use crate::helpers::{Browser, TestApp, TestDb, api};
use crate::on_both;

on_both!(
    a_request_gets_a_receipt_and_is_followed_without_an_account,
    wrong_receipt_codes_learn_nothing_and_are_throttled,
    identities_are_sealed_in_the_database,
    members_see_their_own_requests_and_coordinators_a_nameless_queue,
    the_support_api_files_follows_and_withdraws,
    rotating_the_key_keeps_every_request_readable,
    helpers_profiles_training_and_explained_shortlists,
    the_request_form_goes_in_steps_and_keeps_nothing_until_sent,
);

/// The receipt code shown on the receipt page.
pub fn receipt_code_in(body: &str) -> String {
    body.split("id=\"receipt\" class=\"secret\" readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no receipt code on the page: {body}"))
        .to_string()
}

const NAME: &str = "Zebulon Quixote-Marchetti";
const EMAIL: &str = "zq.private.line@example.org";
const PHONE: &str = "+1 555 0199 4242";
const MESSAGE: &str = "The xylophone incident keeps me awake";

pub(crate) fn fields<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("topics", "burnout"),
        ("topics", "grief_or_adverse_event"),
        ("urgency", "soon"),
        ("contact_mode", "phone"),
        ("name", NAME),
        ("email", EMAIL),
        ("phone", PHONE),
        ("department", "Paediatric Cardiology"),
        ("avoid", "Dr. Oberon Fairweather"),
        ("gender", "woman"),
        ("message", MESSAGE),
    ]
}

async fn file_request(b: &mut Browser) -> String {
    let r = b.post("/support/request", &fields()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.location().is_empty(), "no redirect carries the code");
    receipt_code_in(&r.body)
}

async fn a_request_gets_a_receipt_and_is_followed_without_an_account(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut b = app.browser();
    let form = b.get("/support/request").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("988"), "the crisis notice");
    assert!(form.body.contains("not therapy"));

    // A mistake keeps everything typed.
    let mut missing = fields();
    missing.retain(|(k, _)| *k != "phone");
    let r = b.post("/support/request", &missing).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("give a phone number"), "{}", r.body);
    assert!(r.body.contains(NAME) && r.body.contains(MESSAGE));

    let code = file_request(&mut b).await;
    assert_eq!(code.len(), 19, "{code}");

    // Typed in any case, with spaces: still found.
    let typed = code.to_lowercase().replace('-', " ");
    let mut other = app.browser();
    let r = other
        .post("/support/status", &[("receipt_code", &typed)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Received; a coordinator is finding a peer"));
    assert!(!r.body.contains(NAME), "the status page shows no identity");

    let r = other
        .post("/support/withdraw", &[("receipt_code", &code)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Your request is withdrawn"));
    assert!(r.body.contains("Withdrawn by you"));
    let r = other
        .post("/support/withdraw", &[("receipt_code", &code)])
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("already closed"));
    app.stop().await;
}

async fn wrong_receipt_codes_learn_nothing_and_are_throttled(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut b = app.browser();
    let code = file_request(&mut b).await;
    let mut guesser = app.browser();
    let mut answers = std::collections::BTreeSet::new();
    for i in 0..20 {
        let guess = if i % 2 == 0 {
            format!("AAAA-BBBB-CCCC-{:04}", 2000 + i)
        } else {
            "not a code".to_string()
        };
        let r = guesser
            .post("/support/status", &[("receipt_code", &guess)])
            .await;
        assert_eq!(r.status, 422, "{}", r.body);
        answers.insert(
            r.body
                .split("receipt_code-error\" class=\"field-error\">")
                .nth(1)
                .and_then(|s| s.split('<').next())
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert_eq!(
        answers.len(),
        1,
        "every wrong code gets the same answer: {answers:?}"
    );
    // Locked now, even for the right code, from this address.
    let r = guesser
        .post("/support/status", &[("receipt_code", &code)])
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests/status",
        None,
        Some(json!({"receipt_code": code})),
    )
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"]["code"], "throttled");
    app.stop().await;
}

/// The SQLite file (and its WAL) or a `pg_dump` of the database hold none of what the
/// person typed.
async fn identities_are_sealed_in_the_database(db: TestDb) {
    let url = db.url.clone();
    let app = TestApp::spawn(db).await;
    let mut b = app.browser();
    let code = file_request(&mut b).await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(
            json!({"topics": ["other"], "urgency": "routine", "contact_mode": "email",
                    "name": NAME, "email": EMAIL, "message": MESSAGE}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let db_handle = app.db.clone();
    app.stop().await;

    let haystack: Vec<u8> = if url.starts_with("sqlite") {
        let path = url.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(path).expect("db file");
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        bytes
    } else {
        let Some(pg_dump) = find_pg_dump() else {
            eprintln!("skipped the dump check: pg_dump is not installed");
            return;
        };
        let out = std::process::Command::new(pg_dump)
            .arg("--dbname")
            .arg(&url)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("support_requests"),
            "the dump has the table"
        );
        out.stdout
    };
    let text = String::from_utf8_lossy(&haystack);
    for secret in [
        NAME,
        "Quixote",
        EMAIL,
        "zq.private",
        PHONE,
        "0199 4242",
        MESSAGE,
        "xylophone",
        "Oberon",
        "Paediatric Cardiology",
        code.as_str(),
    ] {
        assert!(
            !text.contains(secret),
            "'{secret}' is in the database in clear"
        );
    }
    drop(db_handle);
}

pub fn find_pg_dump() -> Option<std::path::PathBuf> {
    let on_path = std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return Some("pg_dump".into());
    }
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin/pg_dump")))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

async fn members_see_their_own_requests_and_coordinators_a_nameless_queue(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut alice = app.signed_in("alice@example.edu", &[]).await;
    let form = alice.get("/support/request").await;
    assert!(
        form.body.contains("value=\"alice@example.edu\""),
        "prefilled"
    );
    file_request(&mut alice).await;
    let mine = alice.get("/support/mine").await;
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains("Burnout or exhaustion"), "{}", mine.body);
    let mut bob = app.signed_in("bob@example.edu", &[]).await;
    let theirs = bob.get("/support/mine").await;
    assert!(
        theirs.body.contains("You have not sent a request"),
        "{}",
        theirs.body
    );

    let mut coordinator = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let q = coordinator.get("/support/queue").await;
    assert_eq!(q.status, 200);
    assert!(q.body.contains("1 open"), "{}", q.body);
    assert!(q.body.contains("R-"));
    for secret in [NAME, EMAIL, PHONE, MESSAGE, "Oberon", "Paediatric"] {
        assert!(!q.body.contains(secret), "the queue shows {secret}");
    }
    let mut helper = app.signed_in("helper@example.edu", &[Role::Helper]).await;
    assert_eq!(helper.get("/support/queue").await.status, 403);
    let mut anonymous = app.browser();
    assert_eq!(anonymous.get("/support/queue").await.status, 303);

    // Alice withdraws from her list, without the receipt code; Bob cannot withdraw it,
    // nor learn that it exists.
    let id: i64 = mine
        .body
        .split("action=\"/support/mine/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .and_then(|s| s.parse().ok())
        .expect("a withdraw button");
    let path = format!("/support/mine/{id}/withdraw");
    assert_eq!(bob.post(&path, &[]).await.status, 404);
    assert_eq!(
        bob.post("/support/mine/999999/withdraw", &[]).await.status,
        404
    );
    let bobs = app
        .store
        .account_by_email(
            &wecare::domain::accounts::Email::parse("bob@example.edu").expect("email"),
        )
        .await
        .expect("bob");
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1{path}"),
        Some(&app.token_for(&bobs).await),
        None,
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(
        coordinator
            .get("/support/queue")
            .await
            .body
            .contains("1 open"),
        "still open"
    );
    let r = alice.post(&path, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Your request is withdrawn"), "{}", r.body);
    assert!(!r.body.contains(&path), "no button on a withdrawn request");
    assert!(r.body.contains("Withdrawn"), "{}", r.body);
    assert_eq!(
        alice.post(&path, &[]).await.status,
        409,
        "already withdrawn"
    );
    assert!(
        coordinator
            .get("/support/queue")
            .await
            .body
            .contains("No open requests")
    );
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(app.db.database().driver_url())
            .await
            .expect("connect");
        let (left,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM support_requests WHERE sealed_message IS NOT NULL",
        )
        .fetch_one(&mut conn)
        .await
        .expect("count");
        assert_eq!(left, 0, "the message is erased");
    }

    // The API does the same for a request filed with a token.
    let alices = app
        .store
        .account_by_email(
            &wecare::domain::accounts::Email::parse("alice@example.edu").expect("email"),
        )
        .await
        .expect("alice");
    let token = app.token_for(&alices).await;
    let filed = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        Some(&token),
        Some(json!({
        "topics": ["other"], "urgency": "routine", "contact_mode": "email",
        "name": "Alice", "email": "alice@example.edu"})),
    )
    .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let listed = api(
        &app,
        Method::GET,
        "/api/v1/support/mine",
        Some(&token),
        None,
    )
    .await;
    // Two requests made in the same second list in either order: take the one still open.
    let open = listed.json();
    let newest = open
        .as_array()
        .expect("a list")
        .iter()
        .find(|r| r["status"] != "withdrawn" && r["status"] != "closed")
        .and_then(|r| r["id"].as_i64())
        .expect("an open request");
    let r = api(
        &app,
        Method::POST,
        &format!("/api/v1/support/mine/{newest}/withdraw"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "withdrawn");
    app.stop().await;
}

async fn the_support_api_files_follows_and_withdraws(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(
            json!({"topics": ["burnout"], "urgency": "urgent", "contact_mode": "email",
                    "name": NAME, "email": "nope"}),
        ),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "email");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(
            json!({"topics": ["burnout"], "urgency": "urgent", "contact_mode": "email",
                    "name": NAME, "email": EMAIL}),
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let code = r.json()["receipt_code"].as_str().expect("code").to_string();
    assert_eq!(r.json()["status"], "submitted");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests/status",
        None,
        Some(json!({"receipt_code": code})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "submitted");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/support/requests/withdraw",
        None,
        Some(json!({"receipt_code": code})),
    )
    .await;
    assert_eq!(r.json()["status"], "withdrawn");

    let coord = app.account("coord@example.edu", &[Role::Coordinator]).await;
    let token = app.token_for(&coord).await;
    let r = api(
        &app,
        Method::GET,
        "/api/v1/support/queue",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json().as_array().map(Vec::len),
        Some(0),
        "withdrawn is not open"
    );
    let r = api(&app, Method::GET, "/api/v1/support/queue", None, None).await;
    assert_eq!(r.status, 401);
    let doc = api(&app, Method::GET, "/api/openapi.json", None, None).await;
    assert!(doc.body.contains("/api/v1/support/requests/status"));
    app.stop().await;
}

async fn rotating_the_key_keeps_every_request_readable(db: TestDb) {
    use wecare::domain::support::{NewRequest, RequestInput};
    use wecare::sealing::DataKey;
    let old = DataKey::from_hex(crate::helpers::DATA_KEY).expect("key");
    let new = DataKey::from_hex(&DataKey::generate_hex()).expect("key");
    let store = db.store().await;
    assert!(store.check_data_key(&old).await.expect("check").is_ok());
    let store = store.with_data_key(old.clone());
    let owner = crate::helpers::add_account(&store, "o@example.edu", &[]).await;
    let input = RequestInput {
        message: MESSAGE.into(),
        ..crate::helpers::routine_request(NAME, EMAIL)
    };
    let (r, _) = store
        .create_support_request(
            &NewRequest::parse(&input).expect("valid"),
            Some(owner.id),
            &[],
        )
        .await
        .expect("filed");

    // A sealed peer-support message waiting in the outbox moves to the new key too.
    let writer = wecare::delivery::Writer::load(
        &store,
        &url::Url::parse("http://127.0.0.1:8080").expect("url"),
        wecare::domain::mail::MessageKind::RequesterUpdate,
    )
    .await
    .expect("writer");
    let m = writer.to(
        EMAIL,
        &[("link", "http://127.0.0.1:8080/support/status")],
        "rotate:1".into(),
    );
    assert!(store.enqueue(&m).await.expect("queued"));
    // A private event's registrant, sealed, and the registration's link move too.
    let draft = wecare::domain::events::EventDraft::from_form(&wecare::domain::events::EventForm {
        title: "Support circle".into(),
        time_zone: "America/New_York".into(),
        date: "2030-03-06".into(),
        start_time: "17:00".into(),
        end_time: "18:00".into(),
        audience: vec!["faculty".into()],
        capacity: "8".into(),
        private: true,
        ..Default::default()
    })
    .expect("event");
    let event = store.create_events(&draft).await.expect("created")[0];
    let reg = store
        .register(
            &wecare::store::NewRegistration {
                event_id: event,
                account_id: None,
                name: NAME.into(),
                email: EMAIL.into(),
                answers: Vec::new(),
                children: Vec::new(),
                consent: None,
            },
            wecare::store::Arrival::Direct,
            |_, _| None,
        )
        .await
        .expect("registered");
    assert_eq!(store.rotate_data_key(&old, &new).await.expect("rotate"), 1);
    assert!(store.check_data_key(&old).await.expect("check").is_err());
    assert!(store.check_data_key(&new).await.expect("check").is_ok());
    let store = store.with_data_key(new);
    let identity = store
        .support_identity(r.id)
        .await
        .expect("opens")
        .expect("present");
    assert_eq!(identity.name, NAME);
    let new_secret = store.registration_secret(reg.id).expect("secret");
    assert_ne!(new_secret, reg.secret, "links are derived from the key");
    let found = store
        .registration_by_secret(&new_secret)
        .await
        .expect("the new link finds the registration");
    assert_eq!((found.name.as_str(), found.email.as_str()), (NAME, EMAIL));
    assert_eq!(
        store
            .my_support_requests(owner.id)
            .await
            .expect("mine")
            .len(),
        1,
        "the owner's index moved to the new key"
    );
    // With the old key, nothing opens any more.
    let stale = store.clone().with_data_key(old);
    assert!(stale.support_identity(r.id).await.is_err());
    store.close().await;
}

/// The ids of the requests linked from the coordinators' queue page, in page order.
pub fn queue_ids(body: &str) -> Vec<String> {
    body.split("href=\"/support/queue/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|id| id.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

async fn helpers_profiles_training_and_explained_shortlists(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ana = app.signed_in("ana@example.edu", &[Role::Helper]).await;
    let mut ben = app.signed_in("ben@example.edu", &[Role::Helper]).await;
    assert_eq!(ana.get("/helper/profile").await.status, 200);
    let r = ana
        .post(
            "/helper/profile",
            &[("capacity", "eleven"), ("department", "Surgery")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Give a number of people"), "{}", r.body);
    assert!(
        r.body.contains("value=\"Surgery\""),
        "typed values come back"
    );
    let r = ana
        .post(
            "/helper/profile",
            &[
                ("capacity", "2"),
                ("department", "Surgery"),
                ("topics", "burnout"),
                ("languages", "English, Spanish"),
                ("bio", "I have been there too."),
                ("bio_public", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Saved"));
    ben.post(
        "/helper/profile",
        &[
            ("capacity", "2"),
            ("department", "Medicine"),
            ("topics", "other"),
        ],
    )
    .await;

    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let corps = coord.get("/support/helpers").await;
    assert_eq!(corps.status, 200);
    assert_eq!(
        corps.body.matches("no training on record").count(),
        2,
        "{}",
        corps.body
    );
    let ana_id = app
        .store
        .account_by_email(&wecare::domain::accounts::Email::parse("ana@example.edu").expect("e"))
        .await
        .expect("ana")
        .id
        .0;
    let path = format!("/support/helpers/{ana_id}/training");
    let r = coord
        .post(
            &path,
            &[
                ("kind", "initial"),
                ("completed", "2026-01-10"),
                ("expires", "2025-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("must stay valid after"), "{}", r.body);
    let r = coord
        .post(
            &path,
            &[
                ("kind", "initial"),
                ("completed", "2026-01-10"),
                ("expires", "2099-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        coord
            .get("/support/helpers")
            .await
            .body
            .contains("valid until 2099-01-10")
    );
    let coord_id = app
        .store
        .account_by_email(&wecare::domain::accounts::Email::parse("coord@example.edu").expect("e"))
        .await
        .expect("coord")
        .id
        .0;
    let r = coord
        .post(
            &format!("/support/helpers/{coord_id}/training"),
            &[
                ("kind", "initial"),
                ("completed", "2026-01-10"),
                ("expires", "2099-01-10"),
            ],
        )
        .await;
    assert_eq!(r.status, 404, "only helpers have training records");

    // A request from Medicine, in Spanish, about burnout: Ana fits and says why; Ben is
    // untrained (and in the same department).
    let mut member = app.browser();
    member
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "routine"),
                ("contact_mode", "email"),
                ("name", "Someone"),
                ("email", "someone@example.org"),
                ("department", "Medicine"),
                ("language", "Spanish"),
            ],
        )
        .await;
    // A request from Surgery: Ana is ruled out.
    member
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "routine"),
                ("contact_mode", "email"),
                ("name", "Someone Else"),
                ("email", "else@example.org"),
                ("department", "surgery"),
            ],
        )
        .await;
    let queue = coord.get("/support/queue").await;
    let ids = queue_ids(&queue.body);
    assert_eq!(ids.len(), 2, "{}", queue.body);
    // Both were filed in the same second, so tell them apart by what their pages say.
    let mut pages = Vec::new();
    for id in &ids {
        let p = coord.get(&format!("/support/queue/{id}")).await;
        assert_eq!(p.status, 200, "{}", p.body);
        assert!(!p.body.contains("example.org"), "no identity on the page");
        pages.push(p.body);
    }
    let fits = pages
        .iter()
        .find(|b| b.contains("speaks the language asked for"))
        .expect("Ana is shortlisted for the Spanish-speaking request, with the reason");
    assert!(fits.contains("not trained yet"), "Ben is ruled out: {fits}");
    assert_eq!(fits.matches("<strong>").count(), 1, "one candidate: {fits}");
    let none = pages
        .iter()
        .find(|b| b.contains("No helper can take this request now"))
        .expect("nobody for the Surgery request");
    assert!(
        none.contains("same department as the person asking"),
        "{none}"
    );

    let plan = coord.get("/support/queue/plan").await;
    assert_eq!(plan.status, 200);
    assert!(
        plan.body.contains("no helper can take it now"),
        "{}",
        plan.body
    );

    // Ana is public, so she can be asked for by name; a made-up helper cannot.
    // (The request form's third step asks for one.)
    let form = member
        .post("/support/request", &[("step", "4"), ("go", "3")])
        .await
        .body;
    assert!(
        form.contains(&format!("<option value=\"{ana_id}\"")),
        "{form}"
    );
    let named = [
        ("topics", "other"),
        ("urgency", "routine"),
        ("contact_mode", "email"),
        ("name", "Named Asker"),
        ("email", "named@example.org"),
        ("department", "Radiology"),
    ];
    let mut bad = named.to_vec();
    bad.push(("named_helper", "424242"));
    let r = member.post("/support/request", &bad).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Choose a helper from the list"),
        "{}",
        r.body
    );
    let ana_text = ana_id.to_string();
    let mut good = named.to_vec();
    good.push(("named_helper", &ana_text));
    assert_eq!(member.post("/support/request", &good).await.status, 200);
    let queue = coord.get("/support/queue").await;
    let mut found = false;
    for id in queue_ids(&queue.body) {
        let p = coord.get(&format!("/support/queue/{id}")).await.body;
        found |= p.contains("chosen by name");
    }
    assert!(found, "the named helper's score says why");

    // The public page shows only those who opted in.
    let public = app.browser().get("/helpers").await.body;
    assert!(public.contains("I have been there too."));
    assert!(!public.contains("ben@example.edu"));

    assert_eq!(app.browser().get("/support/queue/plan").await.status, 303);
    assert_eq!(ana.get("/support/helpers").await.status, 403);
    let mut plain = app.signed_in("plain@example.edu", &[]).await;
    assert_eq!(plain.get("/helper/profile").await.status, 403);
    app.stop().await;
}

/// The hidden fields of a page's form, read back as a browser would send them.
fn hidden_fields(body: &str) -> Vec<(String, String)> {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&#60;", "<")
            .replace("&gt;", ">")
            .replace("&#62;", ">")
            .replace("&amp;", "&")
            .replace("&#38;", "&")
    };
    body.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|s| {
            let (name, rest) = s.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split('"').next()?;
            Some((name.to_string(), unescape(value)))
        })
        .filter(|(name, _)| name != "csrf_token")
        .collect()
}

/// Sends a step of the request form: what the page carried, and what this step asks.
async fn step(
    b: &mut Browser,
    page: &str,
    go: &str,
    answers: &[(&str, &str)],
) -> crate::helpers::Reply {
    let carried = hidden_fields(page);
    let mut all: Vec<(&str, &str)> = carried
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    all.extend_from_slice(answers);
    all.push(("go", go));
    let r = b.post("/support/request", &all).await;
    assert!(r.location().is_empty(), "no step redirects");
    assert_eq!(
        r.header("cache-control"),
        "no-store",
        "no step is kept by a cache"
    );
    r
}

/// The request form in steps: each step reports its own mistakes, the answers travel in
/// the form from page to page (escaped, with line breaks and quotes intact), "Change"
/// from the check page returns to it, and nothing reaches the store until "Send".
async fn the_request_form_goes_in_steps_and_keeps_nothing_until_sent(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut coordinator = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let mut b = app.browser();
    let first = b.get("/support/request").await;
    assert!(first.body.contains("step 1 of 3"), "{}", first.body);

    let r = step(&mut b, &first.body, "next", &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("href=\"#topics\"") && r.body.contains("href=\"#urgency\""));
    assert!(
        !r.body.contains("href=\"#email\""),
        "step 2's fields wait for step 2"
    );

    let r = step(
        &mut b,
        &first.body,
        "next",
        &[
            ("topics", "burnout"),
            ("topics", "other"),
            ("urgency", "soon"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("step 2 of 3"), "{}", r.body);
    let name = "Zo\u{eb} \"<b>Quoted</b>\" O'Hara";
    let r2 = step(
        &mut b,
        &r.body,
        "next",
        &[("name", name), ("email", EMAIL), ("contact_mode", "phone")],
    )
    .await;
    assert_eq!(r2.status, 422, "a call needs a number");
    assert!(r2.body.contains("href=\"#phone\""), "{}", r2.body);
    assert!(!r2.body.contains("<b>Quoted"), "what was typed is escaped");
    let r = step(
        &mut b,
        &r.body,
        "next",
        &[
            ("name", name),
            ("email", EMAIL),
            ("contact_mode", "phone"),
            ("phone", PHONE),
        ],
    )
    .await;
    assert!(r.body.contains("step 3 of 3"), "{}", r.body);
    let message = "First line, \"quoted\"\r\nsecond line & more";
    let check = step(
        &mut b,
        &r.body,
        "next",
        &[("message", message), ("gender", "woman")],
    )
    .await;
    assert!(
        check.body.contains("Check your answers before sending"),
        "{}",
        check.body
    );
    for said in [
        "Burnout or exhaustion, Something else",
        "Within one working day, please",
        "Phone call",
        PHONE,
        "woman",
    ] {
        assert!(
            check.body.contains(said),
            "the check page shows {said}: {}",
            check.body
        );
    }
    assert!(
        !check.body.contains("<b>Quoted"),
        "escaped on the check page too"
    );
    assert!(
        crate::support::queue_ids(&coordinator.get("/support/queue").await.body).is_empty(),
        "nothing is stored before it is sent"
    );

    // "Change" opens a step with its answers; "Continue" returns to the check page.
    let change = step(&mut b, &check.body, "2", &[]).await;
    assert!(change.body.contains("step 2 of 3"));
    let kept: Vec<(String, String)> = hidden_fields(&change.body);
    assert!(
        kept.iter().any(|(n, v)| n == "message" && v == message),
        "{kept:?}"
    );
    let check = step(
        &mut b,
        &change.body,
        "next",
        &[
            ("name", "Zoe Changed"),
            ("email", EMAIL),
            ("contact_mode", "phone"),
            ("phone", PHONE),
        ],
    )
    .await;
    assert!(
        check.body.contains("Check your answers before sending"),
        "{}",
        check.body
    );
    assert!(check.body.contains("Zoe Changed"));

    // A page sent by hand without an answer an earlier step asked for goes back there.
    let without_email: Vec<(String, String)> = hidden_fields(&check.body)
        .into_iter()
        .filter(|(n, _)| n != "email")
        .collect();
    let mut raw: Vec<(&str, &str)> = without_email
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    raw.push(("go", "send"));
    let r = b.post("/support/request", &raw).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("step 2 of 3") && r.body.contains("href=\"#email\""),
        "{}",
        r.body
    );
    assert!(crate::support::queue_ids(&coordinator.get("/support/queue").await.body).is_empty());

    let sent = step(&mut b, &check.body, "send", &[]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let code = receipt_code_in(&sent.body);
    assert_eq!(
        crate::support::queue_ids(&coordinator.get("/support/queue").await.body).len(),
        1
    );
    let status = b.post("/support/status", &[("receipt_code", &code)]).await;
    assert_eq!(status.status, 200, "{}", status.body);
    app.stop().await;
}
