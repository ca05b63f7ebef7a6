//! The code-of-conduct pledge: publishing versions, signing and withdrawing, the opt-in
//! public list, the helpers' requirement, the figures with small counts suppressed and
//! the export, through the pages and the API.

use reqwest::Method;
use serde_json::{Value, json};
use wecare::domain::accounts::{Account, Email, Role};
use wecare::store::NewAccount;

use crate::helpers::{TestApp, TestDb, api};
use crate::on_both;

on_both!(
    a_member_signs_and_a_substantive_change_asks_again,
    the_public_list_shows_only_those_who_chose_it,
    two_signatures_at_once_make_one_record,
    figures_suppress_small_counts_and_the_export_is_safe,
    helpers_sign_first_when_the_programme_asks,
    the_api_refuses_what_the_pages_refuse,
);

const V1: &str = "# Our pledge\n\nI will treat every colleague, learner and patient with respect.";

/// An account with a name of its own and no password (API tokens only), quickly.
async fn person(app: &TestApp, email: &str, name: &str, roles: &[Role]) -> (Account, String) {
    let account = app
        .store
        .create_account(NewAccount {
            email: &Email::parse(email).expect("email"),
            display_name: name,
            roles,
            password_hash: None,
        })
        .await
        .expect("account created");
    let token = app.token_for(&account).await;
    (account, token)
}

async fn publish(app: &TestApp, token: &str, based_on: i64, text: &str, change: &str) -> Value {
    let r = api(
        app,
        Method::POST,
        "/api/v1/pledge/versions",
        Some(token),
        Some(json!({"based_on": based_on, "text": text, "change": change, "note": ""})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

async fn sign(app: &TestApp, token: &str, version: i64) -> Value {
    let r = api(
        app,
        Method::POST,
        "/api/v1/me/pledge/signature",
        Some(token),
        Some(json!({"version": version, "agree": true})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn a_member_signs_and_a_substantive_change_asks_again(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut co = app.signed_in("co@example.edu", &[Role::Coordinator]).await;
    let mut m = app.signed_in("member@example.edu", &[]).await;
    let member = app
        .store
        .account_by_email(&Email::parse("member@example.edu").expect("email"))
        .await
        .expect("member exists");

    let before = m.get("/pledge").await;
    assert_eq!(before.status, 200);
    assert!(before.body.contains("has not published its pledge yet"));
    assert_eq!(
        m.post("/pledge/sign", &[("version", "1"), ("agree", "on")])
            .await
            .status,
        409,
        "nothing to sign yet"
    );

    // The first version: the kind of change is not asked, it is substantive.
    let r = co
        .post(
            "/manage/pledge",
            &[("based_on", "0"), ("text", V1), ("note", "")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/manage/pledge?done=published");

    let page = m.get("/pledge").await;
    assert!(page.body.contains("<h1>Our pledge</h1>"), "{}", page.body);
    assert!(page.body.contains("You have not signed the pledge."));
    assert!(page.body.contains("<strong>0</strong> people have signed"));

    // Without the tick, the form says what to do and records nothing.
    let r = m.post("/pledge/sign", &[("version", "1")]).await;
    assert_eq!(r.status, 422);
    assert!(
        r.body
            .contains("Tick the box to say that you have read the pledge")
    );
    assert!(
        app.store
            .pledge_records(member.id.0)
            .await
            .expect("read")
            .is_empty()
    );

    let r = m
        .post("/pledge/sign", &[("version", "1"), ("agree", "on")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/pledge?done=signed");
    let page = m.get("/pledge?done=signed").await;
    assert!(page.body.contains("Thank you: your signature is recorded."));
    assert!(page.body.contains("You signed version 1 on"));
    assert!(page.body.contains("<strong>1</strong> person has signed"));
    // A second click (a form open in another tab) adds nothing.
    m.post("/pledge/sign", &[("version", "1"), ("agree", "on")])
        .await;
    assert_eq!(
        app.store
            .pledge_records(member.id.0)
            .await
            .expect("read")
            .len(),
        1
    );

    // An editorial version keeps the signature; the form must say which kind it is.
    let r = co
        .post(
            "/manage/pledge",
            &[
                ("based_on", "1"),
                ("text", &format!("{V1}\n")),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "the kind of change is required");
    assert!(
        r.body
            .contains("Choose whether this version changes what is promised")
    );
    let edited = format!("{V1} Always.");
    let r = co
        .post(
            "/manage/pledge",
            &[
                ("based_on", "1"),
                ("text", &edited),
                ("change", "editorial"),
                ("note", "A word added"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A coordinator working from version 1 cannot overwrite version 2 unread.
    let r = co
        .post(
            "/manage/pledge",
            &[
                ("based_on", "1"),
                ("text", "Something else entirely."),
                ("change", "substantive"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("Something else entirely."),
        "what was typed stays"
    );
    assert_eq!(app.store.pledge_versions().await.expect("read").len(), 2);

    let page = m.get("/pledge").await;
    assert!(page.body.contains("You signed version 1 on"));
    assert!(
        !m.get("/")
            .await
            .body
            .contains("has changed since you signed it")
    );

    // A substantive version asks again, on every page.
    let r = co
        .post(
            "/manage/pledge",
            &[
                ("based_on", "2"),
                (
                    "text",
                    &format!("{edited}\n\nI will speak up when I see harm."),
                ),
                ("change", "substantive"),
                ("note", "Speaking up"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let home = m.get("/").await;
    assert!(home.body.contains("has changed since you signed it"));
    assert!(home.body.contains("href=\"/pledge\""));
    let page = m.get("/pledge").await;
    assert!(
        page.body
            .contains("The pledge has changed since in what it asks")
    );
    assert!(
        !page.body.contains("has changed since you signed it"),
        "no banner on the pledge itself"
    );
    assert!(page.body.contains("<strong>0</strong> people have signed"));

    // Signing the version read before the change is refused: nobody signs unread text.
    let r = m
        .post("/pledge/sign", &[("version", "2"), ("agree", "on")])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("changed since you opened it") || r.body.contains("changed since"),
        "{}",
        r.body
    );
    let r = m
        .post("/pledge/sign", &[("version", "3"), ("agree", "on")])
        .await;
    assert_eq!(r.status, 303);
    assert!(
        !m.get("/")
            .await
            .body
            .contains("has changed since you signed it")
    );

    // Withdrawing keeps the history.
    let r = m.post("/pledge/withdraw", &[]).await;
    assert_eq!(r.location(), "/pledge?done=withdrawn");
    let page = m.get("/pledge").await;
    assert!(page.body.contains("You withdrew your signature on"));
    assert!(page.body.contains("Signed version 1"), "{}", page.body);
    assert!(page.body.contains("Signed version 3"));
    assert!(page.body.contains("Withdrew version 3"));
    // Withdrawing again adds nothing.
    m.post("/pledge/withdraw", &[]).await;
    assert_eq!(
        app.store
            .pledge_records(member.id.0)
            .await
            .expect("read")
            .len(),
        3
    );

    // Every version stays readable, with its digest.
    let versions = m.get("/pledge/versions").await;
    assert_eq!(versions.status, 200);
    assert!(versions.body.contains("Speaking up"));
    let v1 = m.get("/pledge/versions/1").await;
    assert!(v1.body.contains(&wecare::domain::pledge::digest(V1)));
    assert!(v1.body.contains("This is an earlier version."));
    assert!(v1.body.contains("I will treat every colleague"));
    assert!(!v1.body.contains("speak up"));
    assert_eq!(m.get("/pledge/versions/9").await.status, 404);
    assert_eq!(m.get("/pledge/versions/x").await.status, 400);

    // Bad input on the publish form: said beside the field, nothing published.
    for (text, says) in [
        ("", "The pledge is required."),
        ("bad \0 byte", "control character"),
        (&"x".repeat(20_001) as &str, "at most 20000 characters"),
    ] {
        let r = co
            .post(
                "/manage/pledge",
                &[("based_on", "3"), ("text", text), ("change", "editorial")],
            )
            .await;
        assert_eq!(r.status, 422, "{says}");
        assert!(
            r.body.contains(says),
            "{says}: {}",
            &r.body[..r.body.len().min(3000)]
        );
    }
    assert_eq!(app.store.pledge_versions().await.expect("read").len(), 3);
}

async fn the_public_list_shows_only_those_who_chose_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (_, co) = person(
        &app,
        "co@example.edu",
        "Cora Ordinator",
        &[Role::Coordinator],
    )
    .await;
    publish(&app, &co, 0, V1, "substantive").await;
    let (_, ana) = person(&app, "ana@example.edu", "Ana <b>Bold</b>", &[]).await;
    let (_, ben) = person(&app, "ben@example.edu", "Ben Quiet", &[]).await;
    let (cat_account, cat) = person(&app, "cat@example.edu", "Cat Leaving", &[]).await;
    let (_, dan) = person(&app, "dan@example.edu", "Dan Withdrawn", &[]).await;
    for t in [&ana, &ben, &cat, &dan] {
        sign(&app, t, 1).await;
    }

    // Nobody is listed by default.
    let p = api(&app, Method::GET, "/api/v1/pledge", None, None)
        .await
        .json();
    assert_eq!(p["signers"], 4);
    assert_eq!(p["listed"], json!([]));

    let put = |token: String, body: Value| {
        let app = &app;
        async move {
            api(
                app,
                Method::PUT,
                "/api/v1/me/pledge/listing",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    // A department is shown only beside a name, and only when given.
    let r = put(
        ana.clone(),
        json!({"show_name": false, "show_department": true, "department": "Pediatrics"}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "show_department");
    let r = put(
        ana.clone(),
        json!({"show_name": true, "show_department": true, "department": "  "}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "department");
    let r = put(
        ana.clone(),
        json!({"show_name": true, "show_department": true, "department": "Pedi\u{0}atrics"}),
    )
    .await;
    assert_eq!(r.status, 422);
    let r = put(
        ana.clone(),
        json!({"show_name": true, "show_department": false, "department": "x".repeat(121)}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "department");

    let r = put(
        ana.clone(),
        json!({"show_name": true, "show_department": true, "department": "Pediatrics"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Ben gives a department for the figures but shows only his name.
    let r = put(
        ben.clone(),
        json!({"show_name": true, "show_department": false, "department": "Surgery"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for t in [&cat, &dan] {
        let r = put(
            t.clone(),
            json!({"show_name": true, "show_department": false, "department": ""}),
        )
        .await;
        assert_eq!(r.status, 200);
    }
    // Dan withdraws; Cat's account is switched off: neither is listed or counted.
    let r = api(
        &app,
        Method::DELETE,
        "/api/v1/me/pledge/signature",
        Some(&dan),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["standing"]["state"], "withdrawn");
    app.store
        .update_account_access(cat_account.id, &[], false)
        .await
        .expect("switched off");

    let p = api(&app, Method::GET, "/api/v1/pledge", None, None)
        .await
        .json();
    assert_eq!(p["signers"], 2);
    assert_eq!(
        p["listed"],
        json!([
            {"name": "Ana <b>Bold</b>", "department": "Pediatrics"},
            {"name": "Ben Quiet"},
        ])
    );
    let page = app.browser().get("/pledge").await;
    assert!(
        page.body
            .contains("Ana &#60;b&#62;Bold&#60;/b&#62;, Pediatrics"),
        "names are escaped"
    );
    assert!(page.body.contains("Ben Quiet</li>"));
    assert!(
        !page.body.contains("Surgery"),
        "a department not chosen is not shown"
    );
    assert!(!page.body.contains("Dan Withdrawn"));
    assert!(!page.body.contains("Cat Leaving"));
    assert!(
        !page.body.contains("ana@example.edu"),
        "no addresses on the public list"
    );

    // A substantive version takes everyone off the list until they sign again.
    publish(&app, &co, 1, &format!("{V1}\n\nAnd more."), "substantive").await;
    let p = api(&app, Method::GET, "/api/v1/pledge", None, None)
        .await
        .json();
    assert_eq!(p["signers"], 0);
    assert_eq!(p["listed"], json!([]));
    let me = api(&app, Method::GET, "/api/v1/me/pledge", Some(&ana), None)
        .await
        .json();
    assert_eq!(me["standing"]["state"], "outdated");
    assert_eq!(me["standing"]["version"], 1);
    assert_eq!(
        me["listing"]["department"], "Pediatrics",
        "the choice is kept"
    );
    sign(&app, &ana, 2).await;
    let p = api(&app, Method::GET, "/api/v1/pledge", None, None)
        .await
        .json();
    assert_eq!(
        p["listed"],
        json!([{"name": "Ana <b>Bold</b>", "department": "Pediatrics"}])
    );
}

async fn two_signatures_at_once_make_one_record(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (_, co) = person(&app, "co@example.edu", "Cora", &[Role::Coordinator]).await;
    publish(&app, &co, 0, V1, "substantive").await;
    let (account, token) = person(&app, "m@example.edu", "Mo", &[]).await;
    let body = json!({"version": 1, "agree": true});
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (url, token, body) = (
            app.url("/api/v1/me/pledge/signature"),
            token.clone(),
            body.clone(),
        );
        attempts.spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await;
            r.expect("answered").status().as_u16()
        });
    }
    for status in attempts.join_all().await {
        assert_eq!(status, 200);
    }
    let records = app.store.pledge_records(account.id.0).await.expect("read");
    assert_eq!(records.len(), 1, "{records:?}");

    // A withdrawal and signatures racing each other still leave an orderly history.
    let del = api(
        &app,
        Method::DELETE,
        "/api/v1/me/pledge/signature",
        Some(&token),
        None,
    );
    let again = api(
        &app,
        Method::POST,
        "/api/v1/me/pledge/signature",
        Some(&token),
        Some(body.clone()),
    );
    let (a, b) = tokio::join!(del, again);
    assert_eq!((a.status, b.status), (200, 200));
    let records = app.store.pledge_records(account.id.0).await.expect("read");
    for pair in records.windows(2) {
        assert_ne!(
            pair[0].act, pair[1].act,
            "never two of the same act in a row: {records:?}"
        );
    }
}

fn cells(v: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(o) if o.contains_key("suppressed") => out.push(v),
            Value::Object(o) => stack.extend(o.values()),
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    out
}

async fn figures_suppress_small_counts_and_the_export_is_safe(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (_, co) = person(&app, "co@example.edu", "Cora", &[Role::Coordinator]).await;
    let empty = api(&app, Method::GET, "/api/v1/pledge/stats", Some(&co), None).await;
    assert_eq!(
        empty.status, 200,
        "figures before any pledge: {}",
        empty.body
    );
    assert_eq!(empty.json()["months"], json!([]));

    publish(&app, &co, 0, V1, "substantive").await;
    // 14 in Pediatrics, 12 in Medicine, 2 in Surgery, one of whom withdraws.
    let mut tokens = Vec::new();
    for (i, dept) in std::iter::repeat_n("Pediatrics", 14)
        .chain(std::iter::repeat_n("Medicine", 12))
        .chain(std::iter::repeat_n("Surgery", 2))
        .enumerate()
    {
        let name = if i == 0 {
            "=HYPERLINK(\"http://x\")"
        } else {
            "Signer"
        };
        let (_, t) = person(&app, &format!("s{i}@example.edu"), name, &[]).await;
        sign(&app, &t, 1).await;
        let r = api(
            &app,
            Method::PUT,
            "/api/v1/me/pledge/listing",
            Some(&t),
            Some(json!({"show_name": false, "show_department": false, "department": dept})),
        )
        .await;
        assert_eq!(r.status, 200);
        tokens.push(t);
    }
    let last = tokens.last().expect("signers");
    api(
        &app,
        Method::DELETE,
        "/api/v1/me/pledge/signature",
        Some(last),
        None,
    )
    .await;

    let r = api(&app, Method::GET, "/api/v1/pledge/stats", Some(&co), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = r.json();
    assert_eq!(s["threshold"], 11);
    // No count from 1 to 10 is ever shown, and a hidden cell never shows its count.
    for c in cells(&s) {
        match c["count"].as_u64() {
            Some(n) => assert!(n == 0 || n >= 11, "a small count shown: {c}"),
            None => {
                assert_eq!(c["suppressed"], true, "{c}");
                let text = c["text"].as_str().expect("text");
                assert!(text == "fewer than 11" || text == "withheld", "{c}");
            }
        }
    }
    let month = &s["months"][0];
    assert_eq!(s["month_totals"][2]["suppressed"], true, "{s}");
    assert_eq!(month["withdrawals"]["suppressed"], true);
    assert!(
        month["all"]["count"].is_null()
            || month["first_signatures"]["count"].is_null()
            || month["signed_again"]["count"].is_null(),
        "the withdrawals would follow from the total: {month}"
    );
    // Departments: the two from Surgery (one current) are folded, never shown alone.
    let departments: Vec<&str> = s["departments"]
        .as_array()
        .expect("departments")
        .iter()
        .map(|d| d["department"].as_str().expect("name"))
        .collect();
    assert!(departments.contains(&"Pediatrics"), "{departments:?}");
    assert!(!departments.contains(&"Surgery"), "{departments:?}");
    assert_eq!(s["all_departments"]["count"], 27);
    let page = app
        .signed_in("co2@example.edu", &[Role::Coordinator])
        .await
        .get("/manage/pledge")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("fewer than 11"), "{}", page.body);
    assert!(!page.body.contains("Surgery"));

    // The export: one line per signer, formulas neutralised, e-mails for coordinators.
    let mut c = app.signed_in("co3@example.edu", &[Role::Coordinator]).await;
    let csv = c.get("/manage/pledge/signatures.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert_eq!(csv.header("cache-control"), "no-store");
    assert_eq!(csv.body.lines().count(), 1 + 28, "{}", csv.body);
    assert!(
        csv.body.contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("s0@example.edu"));
    assert!(csv.body.contains("Withdrawn"));
    assert!(csv.body.contains("sign v1"));

    // A member sees neither the figures nor the export.
    let member = &tokens[0];
    assert_eq!(
        api(
            &app,
            Method::GET,
            "/api/v1/pledge/stats",
            Some(member),
            None
        )
        .await
        .status,
        403
    );
}

async fn helpers_sign_first_when_the_programme_asks(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut co = app.signed_in("co@example.edu", &[Role::Coordinator]).await;
    let mut m = app.signed_in("m@example.edu", &[]).await;

    // Bad settings are said beside the field and change nothing.
    for days in ["abc", "-1", "366", ""] {
        let r = co
            .post(
                "/manage/pledge/settings",
                &[("required_for_helpers", "on"), ("reminder_days", days)],
            )
            .await;
        assert_eq!(r.status, 422, "{days:?}");
        assert!(r.body.contains("from 0 (no reminders) to 365"));
    }
    let r = co
        .post(
            "/manage/pledge/settings",
            &[("required_for_helpers", "on"), ("reminder_days", "14")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = co.get("/manage/pledge?done=settings").await;
    assert!(page.body.contains("The pledge settings are saved."));
    assert!(page.body.contains("value=\"14\""));

    // Nothing published yet: nothing is asked.
    let form = m.get("/helpers/apply").await;
    assert!(
        !form.body.contains("sign the code-of-conduct pledge"),
        "{}",
        form.body
    );

    co.post("/manage/pledge", &[("based_on", "0"), ("text", V1)])
        .await;
    let form = m.get("/helpers/apply").await;
    assert!(form.body.contains("href=\"/pledge\""), "{}", form.body);
    let r = m
        .post(
            "/helpers/apply",
            &[
                ("motivation", "I have time to listen."),
                ("department", "Neurology"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("I have time to listen."),
        "what was typed stays"
    );
    assert!(r.body.to_lowercase().contains("pledge"), "{}", r.body);

    m.post("/pledge/sign", &[("version", "1"), ("agree", "on")])
        .await;
    let r = m
        .post(
            "/helpers/apply",
            &[
                ("motivation", "I have time to listen."),
                ("department", "Neurology"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn the_api_refuses_what_the_pages_refuse(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (_, co) = person(&app, "co@example.edu", "Cora", &[Role::Coordinator]).await;
    let (_, m) = person(&app, "m@example.edu", "Mo", &[]).await;
    let call = |method: Method, path: &'static str, token: Option<String>, body: Option<Value>| {
        let app = &app;
        async move { api(app, method, path, token.as_deref(), body).await }
    };

    let p = call(Method::GET, "/api/v1/pledge", None, None).await.json();
    assert!(p.get("current").is_none());
    let r = call(
        Method::POST,
        "/api/v1/me/pledge/signature",
        Some(m.clone()),
        Some(json!({"version": 1, "agree": true})),
    )
    .await;
    assert_eq!(r.status, 409);

    // Only coordinators publish.
    let body = json!({"based_on": 0, "text": V1});
    assert_eq!(
        call(
            Method::POST,
            "/api/v1/pledge/versions",
            Some(m.clone()),
            Some(body.clone())
        )
        .await
        .status,
        403
    );
    assert_eq!(
        call(
            Method::POST,
            "/api/v1/pledge/versions",
            None,
            Some(body.clone())
        )
        .await
        .status,
        401
    );
    let v1 = call(
        Method::POST,
        "/api/v1/pledge/versions",
        Some(co.clone()),
        Some(body.clone()),
    )
    .await;
    assert_eq!(v1.status, 201, "{}", v1.body);
    let v1 = v1.json();
    assert_eq!(v1["change"], "substantive");
    assert_eq!(v1["digest"], wecare::domain::pledge::digest(V1));

    // Stale, unchanged, unknown fields, no kind of change.
    let r = call(
        Method::POST,
        "/api/v1/pledge/versions",
        Some(co.clone()),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"]["field"], "text");
    let r = call(
        Method::POST,
        "/api/v1/pledge/versions",
        Some(co.clone()),
        Some(json!({"based_on": 1, "text": V1, "change": "editorial"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "text");
    let r = call(
        Method::POST,
        "/api/v1/pledge/versions",
        Some(co.clone()),
        Some(json!({"based_on": 1, "text": "New", "change": "sideways"})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = call(
        Method::POST,
        "/api/v1/pledge/versions",
        Some(co.clone()),
        Some(json!({"based_on": 1, "text": "New"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "change");
    let r = call(
        Method::POST,
        "/api/v1/pledge/versions",
        Some(co.clone()),
        Some(json!({"based_on": 1, "text": "New", "change": "editorial", "by": 3})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);

    // Signing: the tick, the version read, and the version that exists.
    let r = call(
        Method::POST,
        "/api/v1/me/pledge/signature",
        Some(m.clone()),
        Some(json!({"version": 1, "agree": false})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "agree");
    let r = call(
        Method::POST,
        "/api/v1/me/pledge/signature",
        Some(m.clone()),
        Some(json!({"version": 7, "agree": true})),
    )
    .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["error"]["field"], "agree");
    let mine = call(
        Method::POST,
        "/api/v1/me/pledge/signature",
        Some(m.clone()),
        Some(json!({"version": 1, "agree": true})),
    )
    .await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json()["standing"]["state"], "current");
    assert_eq!(mine.json()["records"][0]["act"], "sign");

    let v = call(Method::GET, "/api/v1/pledge/versions/1", None, None).await;
    assert_eq!(v.json()["text"], V1);
    assert_eq!(
        call(Method::GET, "/api/v1/pledge/versions/2", None, None)
            .await
            .status,
        404
    );
    let all = call(Method::GET, "/api/v1/pledge/versions", None, None)
        .await
        .json();
    assert_eq!(all.as_array().map(Vec::len), Some(1));

    // Settings.
    let r = call(
        Method::PUT,
        "/api/v1/pledge/settings",
        Some(co.clone()),
        Some(json!({"required_for_helpers": true, "reminder_days": 400})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "reminder_days");
    let r = call(
        Method::PUT,
        "/api/v1/pledge/settings",
        Some(co.clone()),
        Some(json!({"required_for_helpers": true, "reminder_days": 0})),
    )
    .await;
    assert_eq!(r.status, 200);
    let s = call(
        Method::GET,
        "/api/v1/pledge/settings",
        Some(co.clone()),
        None,
    )
    .await
    .json();
    assert_eq!(s, json!({"required_for_helpers": true, "reminder_days": 0}));
    assert_eq!(
        call(
            Method::GET,
            "/api/v1/pledge/settings",
            Some(m.clone()),
            None
        )
        .await
        .status,
        403
    );
}
