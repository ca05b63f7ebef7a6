//! Signing in and out, throttling, roles, setup links, tokens: through the real server.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use wecare::domain::accounts::Role;

use crate::helpers::{PASSWORD, TestApp, TestDb, api};
use crate::on_both;

on_both!(
    sign_in_and_out,
    wrong_password_keeps_the_email_and_says_so,
    throttling_locks_and_survives_a_restart,
    roles_gate_the_pages,
    admin_adds_an_account_with_a_setup_link,
    password_change_ends_other_sessions,
    last_admin_cannot_be_removed,
    tokens_authenticate_the_api,
    sessions_are_shared_by_two_instances,
    a_forgotten_password_is_reset_by_an_emailed_link,
    sessions_renew_while_used_up_to_an_absolute_limit,
    shorter_session_settings_shorten_running_sessions,
    a_person_sees_and_signs_out_their_other_browsers,
    colleagues_sign_up_by_confirming_their_address,
    an_administrator_imports_a_spreadsheet_after_seeing_each_line,
);

async fn sessions_renew_while_used_up_to_an_absolute_limit(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut b = app.signed_in("ada@example.edu", &[]).await;
    // Idle 12 hours, absolute 7 days (the test configuration's, as the defaults).
    for hour in [11, 22, 33] {
        app.store.clock().advance(11 * 3600);
        assert_eq!(b.get("/account").await.status, 200, "used at hour {hour}");
    }
    app.store.clock().advance(12 * 3600 + 60);
    assert_eq!(
        b.get("/account").await.status,
        303,
        "twelve hours unused: signed out"
    );

    let mut b = app.browser();
    assert_eq!(b.sign_in("ada@example.edu", PASSWORD).await.status, 303);
    let mut used = 0;
    while used + 11 < 7 * 24 {
        app.store.clock().advance(11 * 3600);
        used += 11;
        assert_eq!(b.get("/account").await.status, 200, "hour {used}");
    }
    app.store.clock().advance((7 * 24 - used + 1) * 3600);
    assert_eq!(
        b.get("/account").await.status,
        303,
        "seven days after signing in, however much used"
    );
    // The cookie is kept as long as the session may last; the server ends it sooner.
    let mut b = app.browser();
    let r = b.sign_in("ada@example.edu", PASSWORD).await;
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("wecare_session="))
        .expect("session cookie");
    assert!(cookie.contains("Max-Age=604800"), "{cookie}");
}

async fn shorter_session_settings_shorten_running_sessions(db: TestDb) {
    let db = Arc::new(db);
    let app = TestApp::spawn_shared(db.clone()).await;
    let b = app.signed_in("ada@example.edu", &[]).await;
    app.stop().await;
    // Restarted with sessions of one hour at most: the twelve-hour session follows.
    let mut cfg = crate::helpers::serve_config(&db);
    cfg.session_hours = 1;
    cfg.session_max_days = 1;
    let strict = TestApp::spawn_with(db.clone(), cfg).await;
    let mut b2 = strict.browser();
    b2.cookies = b.cookies.clone();
    assert_eq!(b2.get("/account").await.status, 200);
    strict.store.clock().advance(2 * 3600);
    assert_eq!(
        b2.get("/account").await.status,
        303,
        "two hours unused is more than the new limit"
    );
}

fn session_handles(page: &str) -> Vec<String> {
    page.split("/account/sessions/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/end\""))
        .map(|(h, _)| h.to_string())
        .collect()
}

async fn a_person_sees_and_signs_out_their_other_browsers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut laptop = app.signed_in("ada@example.edu", &[]).await;
    let mut phone = app.browser();
    assert_eq!(phone.sign_in("ada@example.edu", PASSWORD).await.status, 303);
    let mut grace = app.signed_in("grace@example.edu", &[]).await;

    let page = laptop.get("/account/sessions").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("(this browser)").count(), 1);
    assert_eq!(
        page.body.matches("with a password").count(),
        2,
        "{}",
        page.body
    );
    let handles = session_handles(&page.body);
    assert_eq!(handles.len(), 1, "one other browser: {handles:?}");
    assert!(
        !page
            .body
            .contains(laptop.cookies["wecare_session"].as_str()),
        "the page never shows a session's secret"
    );

    // Another person cannot end Ada's session, even knowing its handle.
    let r = grace
        .post(&format!("/account/sessions/{}/end", handles[0]), &[])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(phone.get("/account").await.status, 200);

    let r = laptop
        .post(&format!("/account/sessions/{}/end", handles[0]), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(phone.get("/account").await.status, 303, "the phone is out");
    assert_eq!(laptop.get("/account").await.status, 200, "the laptop is in");
    assert!(
        laptop
            .get(r.location())
            .await
            .body
            .contains("One browser was signed out")
    );

    // "Every other browser": two more, then all but this one end.
    let mut tablet = app.browser();
    assert_eq!(
        tablet.sign_in("ada@example.edu", PASSWORD).await.status,
        303
    );
    assert_eq!(phone.sign_in("ada@example.edu", PASSWORD).await.status, 303);
    let r = laptop.post("/account/sessions/end-others", &[]).await;
    assert_eq!(r.location(), "/account/sessions?ended=2");
    assert_eq!(phone.get("/account").await.status, 303);
    assert_eq!(tablet.get("/account").await.status, 303);
    assert_eq!(laptop.get("/account").await.status, 200);
    assert_eq!(
        grace.get("/account").await.status,
        200,
        "others' sessions stand"
    );
}

async fn sign_in_and_out(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.account("ada@example.edu", &[]).await;
    let mut b = app.browser();
    b.get("/signin").await;
    let before = b.cookies.get("wecare_csrf").cloned();
    let r = b.sign_in("ADA@example.edu ", PASSWORD).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/account");
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("wecare_session="))
        .expect("session cookie set");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http test server: no Secure flag"
    );
    // The CSRF token is replaced at sign-in.
    assert_ne!(b.cookies.get("wecare_csrf").cloned(), before);

    let page = b.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("ada@example.edu"));
    assert!(page.body.contains("Sign out"));

    let session = b.cookies.get("wecare_session").cloned().expect("session");
    let r = b.post("/signout", &[]).await;
    assert_eq!(r.status, 303);
    // The old session id no longer works, even if someone kept a copy of the cookie.
    b.cookies.insert("wecare_session".into(), session);
    let r = b.get("/account").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/signin?next=%2Faccount");
}

async fn wrong_password_keeps_the_email_and_says_so(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.account("bo@example.edu", &[]).await;
    let mut b = app.browser();
    let r = b.sign_in("bo@example.edu", "not the password").await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("do not match an account"), "{}", r.body);
    assert!(r.body.contains("value=\"bo@example.edu\""));
    assert!(r.body.contains("aria-invalid=\"true\""));
    // An unknown account gets the very same answer.
    let r = b.sign_in("nobody@example.edu", "not the password").await;
    assert_eq!(r.status, 401);
    assert!(!b.cookies.contains_key("wecare_session"));
}

async fn throttling_locks_and_survives_a_restart(db: TestDb) {
    let db = Arc::new(db);
    let app = TestApp::spawn_shared(db.clone()).await;
    app.account("cy@example.edu", &[]).await;
    let mut b = app.browser();
    for _ in 0..5 {
        assert_eq!(
            b.sign_in("cy@example.edu", "guess guess guess")
                .await
                .status,
            401
        );
    }
    // Now locked: even the right password is refused, with how long to wait.
    let r = b.sign_in("cy@example.edu", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("wait 15 minutes"), "{}", r.body);
    app.stop().await;

    // A restarted server (or another instance) remembers the lock.
    let app2 = TestApp::spawn_shared(db.clone()).await;
    let mut b2 = app2.browser();
    assert_eq!(b2.sign_in("cy@example.edu", PASSWORD).await.status, 429);
    // Other accounts are not affected by one account's lock.
    app2.account("dee@example.edu", &[]).await;
    assert_eq!(b2.sign_in("dee@example.edu", PASSWORD).await.status, 303);
}

async fn roles_gate_the_pages(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut anon = app.browser();
    let r = anon.get("/manage/pages").await;
    assert_eq!(
        (r.status, r.location()),
        (303, "/signin?next=%2Fmanage%2Fpages")
    );

    let mut member = app.signed_in("m@example.edu", &[]).await;
    assert_eq!(member.get("/manage/pages").await.status, 403);
    assert_eq!(member.get("/admin/accounts").await.status, 403);
    let r = member
        .post(
            "/manage/pages/about",
            &[("title", "Hacked"), ("body_md", "x"), ("action", "save")],
        )
        .await;
    assert_eq!(r.status, 403);

    let mut coord = app.signed_in("c@example.edu", &[Role::Coordinator]).await;
    assert_eq!(coord.get("/manage/pages").await.status, 200);
    assert_eq!(coord.get("/admin/accounts").await.status, 403);

    let mut admin = app.signed_in("a@example.edu", &[Role::Admin]).await;
    assert_eq!(admin.get("/admin/accounts").await.status, 200);
    // An administrator is not a coordinator unless given both roles.
    assert_eq!(admin.get("/manage/pages").await.status, 403);
    assert_eq!(
        app.store.page("about").await.expect("page").title,
        "About the programme"
    );
}

async fn admin_adds_an_account_with_a_setup_link(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut admin = app.signed_in("root@example.edu", &[Role::Admin]).await;

    // A mistake comes back with the typed values kept.
    let r = admin
        .post(
            "/admin/accounts",
            &[
                ("display_name", "Dr. Eve"),
                ("email", "eve@"),
                ("role", "helper"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Enter an e-mail address such as"));
    assert!(r.body.contains("value=\"Dr. Eve\""));

    let r = admin
        .post(
            "/admin/accounts",
            &[
                ("display_name", "Dr. Eve"),
                ("email", "eve@example.edu"),
                ("role", "helper"),
                ("role", "coordinator"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let link = r
        .body
        .split("class=\"secret\" readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("setup link shown")
        .to_string();
    let path = link.trim_start_matches("http://127.0.0.1:8080").to_string();
    assert!(path.starts_with("/setup/"), "{link}");

    // The same e-mail twice is refused with a clear message.
    let r = admin
        .post(
            "/admin/accounts",
            &[("display_name", "Eve 2"), ("email", "EVE@example.edu")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("already exists"));

    let mut eve = app.browser();
    assert_eq!(eve.get(&path).await.status, 200);
    let r = eve
        .post(&path, &[("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("at least 12 characters"));
    let r = eve
        .post(
            &path,
            &[
                ("password", "eve's own long password"),
                ("confirm", "eve's own long password"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        eve.get("/account")
            .await
            .body
            .contains("Helper, Coordinator")
    );
    // A set-up link works once.
    let mut other = app.browser();
    let r = other.get(&path).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("expired or has already been used"));
    let mut again = app.browser();
    assert_eq!(
        again
            .sign_in("eve@example.edu", "eve's own long password")
            .await
            .status,
        303
    );
}

async fn password_change_ends_other_sessions(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut one = app.signed_in("pat@example.edu", &[]).await;
    let mut two = app.browser();
    assert_eq!(two.sign_in("pat@example.edu", PASSWORD).await.status, 303);

    let r = one
        .post(
            "/account/password",
            &[
                ("current", "wrong one"),
                ("password", "brand new password"),
                ("confirm", "brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("current password is not right"));
    let r = one
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", "brand new password"),
                ("confirm", "brand new pasword"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("not the same"));
    let r = one
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", "brand new password"),
                ("confirm", "brand new password"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        one.get("/account").await.status,
        200,
        "this browser stays signed in"
    );
    assert_eq!(
        two.get("/account").await.status,
        303,
        "the other browser is signed out"
    );
    let mut three = app.browser();
    assert_eq!(
        three
            .sign_in("pat@example.edu", "brand new password")
            .await
            .status,
        303
    );
}

async fn last_admin_cannot_be_removed(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut admin = app.signed_in("solo@example.edu", &[Role::Admin]).await;
    let me = app
        .store
        .account_by_email(&wecare::domain::accounts::Email::parse("solo@example.edu").expect("e"))
        .await
        .expect("me");
    let r = admin
        .post(
            &format!("/admin/accounts/{}", me.id.0),
            &[("role", "coordinator"), ("active", "1")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("last active administrator"));
    assert!(app.store.account(me.id).await.expect("me").has(Role::Admin));

    let other = app.account("second@example.edu", &[]).await;
    let r = admin
        .post(
            &format!("/admin/accounts/{}", other.id.0),
            &[("role", "admin"), ("active", "1")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        app.store
            .account(other.id)
            .await
            .expect("other")
            .has(Role::Admin)
    );
}

async fn tokens_authenticate_the_api(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let member = app.account("tok@example.edu", &[]).await;

    let r = api(&app, Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    let r = api(
        &app,
        Method::GET,
        "/api/v1/me",
        Some("wct_not_a_real_token"),
        None,
    )
    .await;
    assert_eq!(r.status, 401);

    // Tokens made in the browser work in the API, and are shown once.
    let mut b = app.browser();
    assert_eq!(b.sign_in("tok@example.edu", PASSWORD).await.status, 303);
    let r = b.post("/account/tokens", &[("name", "")]).await;
    assert_eq!(r.status, 422);
    let r = b.post("/account/tokens", &[("name", "my script")]).await;
    assert_eq!(r.status, 200);
    let token = r
        .body
        .split("class=\"secret\" readonly value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("token shown")
        .to_string();
    assert!(token.starts_with("wct_"));
    let r = api(&app, Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["email"], "tok@example.edu");
    let tokens = b.get("/account/developers").await;
    assert!(tokens.body.contains("my script"), "{}", tokens.body);
    assert!(!tokens.body.contains(&token), "never shown again");
    let account = b.get("/account").await.body;
    assert!(
        !account.contains("my script") && account.contains("href=\"/account/developers\""),
        "the account page links to the tokens and lists none: {account}"
    );
    // Every mistake of the token form at once, with the name kept.
    let r = b
        .post(
            "/account/tokens",
            &[("name", &"n".repeat(81)), ("expires_days", "7")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("href=\"#name\"") && r.body.contains("href=\"#expires_days\""),
        "{}",
        r.body
    );

    // A member's token cannot do a coordinator's work.
    let r = api(
        &app,
        Method::PUT,
        "/api/v1/pages/about",
        Some(&token),
        Some(json!({"title": "x", "body_md": "y"})),
    )
    .await;
    assert_eq!(r.status, 403);

    // The session cookie alone does not authenticate the API (so the API needs no CSRF).
    let client = reqwest::Client::new();
    let session = b.cookies.get("wecare_session").cloned().expect("session");
    let r = client
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("wecare_session={session}"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);

    // Revoking stops it at once.
    let tokens = api(&app, Method::GET, "/api/v1/tokens", Some(&token), None)
        .await
        .json();
    let id = tokens[0]["id"].as_i64().expect("id");
    let r = api(
        &app,
        Method::DELETE,
        &format!("/api/v1/tokens/{id}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        api(&app, Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status,
        401
    );

    // Admin API: create, change roles, and the JSON errors name the field.
    let admin = app.account("boss@example.edu", &[Role::Admin]).await;
    let t = app.token_for(&admin).await;
    let r = api(
        &app,
        Method::POST,
        "/api/v1/accounts",
        Some(&t),
        Some(json!({"email": "bad", "display_name": "X"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "email");
    let r = api(
        &app,
        Method::POST,
        "/api/v1/accounts",
        Some(&t),
        Some(json!({"email": "new@example.edu", "display_name": "New", "roles": ["helper"]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.json()["setup_url"]
            .as_str()
            .expect("url")
            .contains("/setup/")
    );
    let r = api(
        &app,
        Method::PUT,
        &format!("/api/v1/accounts/{}", member.id.0),
        Some(&t),
        Some(json!({"roles": ["coordinator"], "active": true})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["roles"], json!(["coordinator"]));
    let r = api(
        &app,
        Method::PUT,
        &format!("/api/v1/accounts/{}", member.id.0),
        Some(&t),
        Some(json!({"roles": ["wizard"]})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "roles[0]", "{}", r.body);
    let r = api(
        &app,
        Method::PUT,
        "/api/v1/accounts/abc",
        Some(&t),
        Some(json!({"roles": [], "active": true})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "path");
}

async fn sessions_are_shared_by_two_instances(db: TestDb) {
    // Two instances on one database: a session begun on one is valid on the other, and
    // signing out on the other ends it everywhere.
    let db = Arc::new(db);
    let a = TestApp::spawn_shared(db.clone()).await;
    let b = TestApp::spawn_shared(db.clone()).await;
    let mut on_a = a.signed_in("two@example.edu", &[]).await;
    let mut on_b = b.browser();
    on_b.cookies = on_a.cookies.clone();
    assert_eq!(on_b.get("/account").await.status, 200);
    assert_eq!(on_b.post("/signout", &[]).await.status, 303);
    assert_eq!(on_a.get("/account").await.status, 303);
}

/// The messages to `address` so far (after the outbox has settled), oldest first.
pub async fn mails_to(app: &TestApp, address: &str) -> Vec<String> {
    app.mail_settled().await;
    let to = format!("To: {address}");
    app.db
        .mail_files()
        .into_iter()
        .filter(|m| m.contains(&to))
        .collect()
}

/// The set-up link in a message (its text part is quoted-printable).
fn setup_path(mail: &str) -> Option<String> {
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    let after = flat.split("/setup/").nth(1)?;
    let secret: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    Some(format!("/setup/{secret}"))
}

/// "Forgotten your password?": the same answer for every address, a one-hour link that
/// works once and replaces any earlier one, every session ended, the change told by
/// e-mail, and no more than three links an hour to one mailbox.
async fn a_forgotten_password_is_reset_by_an_emailed_link(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.account("ada@example.edu", &[]).await;
    let mut elsewhere = app.browser();
    elsewhere.sign_in("ada@example.edu", PASSWORD).await;
    assert_eq!(elsewhere.get("/account").await.status, 200);

    let mut b = app.browser();
    assert!(
        b.get("/signin")
            .await
            .body
            .contains("href=\"/password-reset\"")
    );
    let form = b.get("/password-reset").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let wrong = b
        .post("/password-reset", &[("email", "not an address")])
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("There is a problem"), "{}", wrong.body);
    assert!(wrong.body.contains("value=\"not an address\""));
    let nobody = b
        .post("/password-reset", &[("email", "nobody@example.edu")])
        .await;
    let ada = b
        .post("/password-reset", &[("email", "ADA@example.edu ")])
        .await;
    assert_eq!((nobody.status, ada.status), (200, 200));
    // Nothing on the page tells an address with an account from one without.
    let words = |body: &str| {
        body.split("<main")
            .nth(1)
            .unwrap_or_default()
            .split("</main>")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(words(&nobody.body), words(&ada.body));
    assert!(ada.body.contains("Check your e-mail"), "{}", ada.body);

    let mails = mails_to(&app, "ada@example.edu").await;
    assert_eq!(mails.len(), 1);
    assert!(mails_to(&app, "nobody@example.edu").await.is_empty());
    let subject = mails[0]
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or_default();
    assert!(
        !subject.contains("Ada"),
        "no name in the subject: {subject}"
    );
    let first = setup_path(&mails[0]).expect("a link");
    let page = b.get(&first).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Choose a new password"), "{}", page.body);
    let new = "a brand new long password";
    let set = b.post(&first, &[("password", new), ("confirm", new)]).await;
    assert_eq!(set.status, 303, "{}", set.body);
    assert_eq!(b.get("/account").await.status, 200, "signed in");
    // Everywhere else is signed out; the old password no longer opens the account.
    assert_eq!(elsewhere.get("/account").await.status, 303);
    assert_eq!(
        app.browser()
            .sign_in("ada@example.edu", PASSWORD)
            .await
            .status,
        401
    );
    assert_eq!(
        app.browser().sign_in("ada@example.edu", new).await.status,
        303
    );
    // The link worked once; the change is told to the mailbox.
    assert_eq!(app.browser().get(&first).await.status, 422);
    let mails = mails_to(&app, "ada@example.edu").await;
    assert!(
        mails.iter().any(|m| m.contains("password_changed")),
        "a notice of the change"
    );

    // A newer link replaces an older one; a link lasts one hour.
    let mut c = app.browser();
    c.post("/password-reset", &[("email", "ada@example.edu")])
        .await;
    c.post("/password-reset", &[("email", "ada@example.edu")])
        .await;
    let links: Vec<String> = mails_to(&app, "ada@example.edu")
        .await
        .iter()
        .filter(|m| m.contains("password_reset"))
        .filter_map(|m| setup_path(m))
        .collect();
    assert_eq!(links.len(), 3, "{links:?}");
    // (The mail folder's order is not the order of sending: count, do not index.)
    let mut working = Vec::new();
    for l in &links {
        if c.get(l).await.status == 200 {
            working.push(l.clone());
        }
    }
    assert_eq!(working.len(), 1, "only the newest link works: {links:?}");
    // A fourth ask within the hour gets the same answer, and no fourth message.
    let fourth = c
        .post("/password-reset", &[("email", "ada@example.edu")])
        .await;
    assert_eq!(fourth.status, 200);
    let resets = mails_to(&app, "ada@example.edu")
        .await
        .iter()
        .filter(|m| m.contains("password_reset"))
        .count();
    assert_eq!(resets, 3);
    app.store.clock().advance(3601);
    assert_eq!(
        c.get(&working[0]).await.status,
        422,
        "expired after an hour"
    );
}

/// The sign-up link in a message.
fn sign_up_path(mail: &str) -> Option<String> {
    let flat = mail.replace("=\r\n", "").replace("=\n", "");
    let after = flat.split("/signup/").nth(1)?;
    let secret: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    Some(format!("/signup/{secret}"))
}

/// Self sign-up: off unless configured; only institutional addresses; the same answer
/// whether or not the address has an account; no account until the e-mailed link is
/// followed and the form sent (opening the link changes nothing); every mistake at once;
/// the link works once, for a day, and only the newest one.
async fn colleagues_sign_up_by_confirming_their_address(db: TestDb) {
    let db = Arc::new(db);
    let closed = TestApp::spawn_shared(db.clone()).await;
    assert_eq!(closed.browser().get("/signup").await.status, 404);
    assert!(
        !closed
            .browser()
            .get("/signin")
            .await
            .body
            .contains("/signup")
    );
    closed.stop().await;
    let mut cfg = crate::helpers::serve_config(&db);
    cfg.sign_up = Some(crate::helpers::sign_up_at("example.edu"));
    let app = TestApp::spawn_with(db, cfg).await;
    app.account("ada@example.edu", &[]).await;
    let mut b = app.browser();
    assert!(b.get("/signin").await.body.contains("href=\"/signup\""));
    let page = b.get("/signup").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("example.edu"));
    let elsewhere = b.post("/signup", &[("email", "grace@gmail.com")]).await;
    assert_eq!(elsewhere.status, 422);
    assert!(
        elsewhere
            .body
            .contains("Accounts here are for addresses at example.edu")
    );
    assert!(
        elsewhere.body.contains("value=\"grace@gmail.com\""),
        "what was typed stays"
    );

    let new = b.post("/signup", &[("email", "Grace@Example.edu")]).await;
    let known = b.post("/signup", &[("email", "ada@example.edu")]).await;
    assert_eq!((new.status, known.status), (200, 200));
    let words = |body: &str| body.split("<main").nth(1).unwrap_or_default().to_string();
    assert_eq!(
        words(&new.body),
        words(&known.body),
        "nothing tells them apart"
    );
    // Ada is told she has an account; Grace gets a link; no account for Grace yet.
    let ada_mail = mails_to(&app, "ada@example.edu").await;
    assert_eq!(ada_mail.len(), 1);
    assert!(ada_mail[0].contains("sign_up_existing") && sign_up_path(&ada_mail[0]).is_none());
    let grace_mail = mails_to(&app, "grace@example.edu").await;
    assert_eq!(grace_mail.len(), 1);
    let subject = grace_mail[0]
        .lines()
        .find(|l| l.starts_with("Subject:"))
        .unwrap_or_default();
    assert!(!subject.to_lowercase().contains("grace"), "{subject}");
    let link = sign_up_path(&grace_mail[0]).expect("a link");
    let grace = wecare::domain::accounts::Email::parse("grace@example.edu").expect("email");
    assert!(app.store.account_by_email(&grace).await.is_err());

    // Opening the link (as a mail scanner would) changes nothing; the form says whose.
    for _ in 0..2 {
        let form = b.get(&link).await;
        assert_eq!(form.status, 200, "{}", form.body);
        assert!(form.body.contains("grace@example.edu"));
    }
    assert!(app.store.account_by_email(&grace).await.is_err());
    let wrong = b
        .post(
            &link,
            &[
                ("display_name", " "),
                ("password", "short"),
                ("confirm", "other"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    assert!(
        wrong.body.contains("href=\"#display_name\""),
        "{}",
        wrong.body
    );
    assert!(
        wrong.body.contains("href=\"#password\""),
        "every mistake at once"
    );
    assert!(app.store.account_by_email(&grace).await.is_err());

    // Two sends of the form at once make one account.
    let pw = "a long enough password for grace";
    let fields = [
        ("display_name", "Grace Hopper"),
        ("password", pw),
        ("confirm", pw),
    ];
    let mut b2 = app.browser();
    b2.get("/").await;
    let (one, two) = tokio::join!(b.post(&link, &fields), b2.post(&link, &fields));
    let mut statuses = [one.status, two.status];
    statuses.sort();
    assert_eq!(statuses, [303, 422], "{} / {}", one.body, two.body);
    let made = app
        .store
        .account_by_email(&grace)
        .await
        .expect("the account");
    assert_eq!(made.display_name, "Grace Hopper");
    assert!(made.roles.is_empty(), "a member, nothing more");
    assert_eq!(
        app.browser().sign_in("grace@example.edu", pw).await.status,
        303
    );
    assert_eq!(app.browser().get(&link).await.status, 422, "used");

    // Only the newest link works, for a day; an address that got an account meanwhile
    // is not made twice.
    let mut c = app.browser();
    c.post("/signup", &[("email", "alan@example.edu")]).await;
    c.post("/signup", &[("email", "alan@example.edu")]).await;
    let links: Vec<String> = mails_to(&app, "alan@example.edu")
        .await
        .iter()
        .filter_map(|m| sign_up_path(m))
        .collect();
    assert_eq!(links.len(), 2);
    let mut working = Vec::new();
    for l in &links {
        if c.get(l).await.status == 200 {
            working.push(l.clone());
        }
    }
    assert_eq!(working.len(), 1, "{links:?}");
    app.account("alan@example.edu", &[]).await;
    let taken = c.post(&working[0], &fields).await;
    assert_eq!(taken.status, 422);
    assert!(
        taken.body.contains("has an account already"),
        "{}",
        taken.body
    );
    c.post("/signup", &[("email", "joan@example.edu")]).await;
    let joan = mails_to(&app, "joan@example.edu").await;
    let joan_link = sign_up_path(&joan[0]).expect("a link");
    app.store.clock().advance(24 * 3600 + 1);
    assert_eq!(c.get(&joan_link).await.status, 422, "expired after a day");
}

/// The upload page: only administrators; a check that changes nothing and names each
/// refused line; the confirm imports what was checked; the CSRF token is needed here too.
async fn an_administrator_imports_a_spreadsheet_after_seeing_each_line(db: TestDb) {
    use wecare::domain::accounts::Email;
    let app = TestApp::spawn(db).await;
    let mut coordinator = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    assert_eq!(coordinator.get("/admin/import").await.status, 403);
    let mut admin = app.signed_in("admin@example.edu", &[Role::Admin]).await;
    let page = admin.get("/admin/import").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    let empty = admin.post_multipart("/admin/import", &[], true).await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("href=\"#file\""), "{}", empty.body);
    let bad = "email,name,roles\nada@example.edu,Ada,wizard\ngrace@example.edu,Grace <b>Hopper</b>,helper\n";
    let r = admin
        .post_multipart("/admin/import", &[("file", bad.as_bytes())], true)
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("is not a role"), "{}", r.body);
    assert!(
        !r.body.contains("Import these accounts"),
        "nothing to confirm while a line is refused"
    );

    let good = "email,name,roles,department,capacity\r\nada@example.edu,Ada Lovelace,helper,Surgery,3\r\ngrace@example.edu,Grace Hopper,coordinator,,\r\n";
    let forged = coordinator
        .post_multipart(
            "/admin/import/confirm",
            &[("csv", good.as_bytes()), ("plan", b"x")],
            true,
        )
        .await;
    assert_eq!(forged.status, 403);
    let no_token = admin
        .post_multipart("/admin/import", &[("file", good.as_bytes())], false)
        .await;
    assert_eq!(no_token.status, 403, "the CSRF check covers uploads");
    let r = admin
        .post_multipart("/admin/import", &[("file", good.as_bytes())], true)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("2 to create, 0 to change"), "{}", r.body);
    assert!(r.body.contains("Import these accounts"));
    let ada = Email::parse("ada@example.edu").expect("email");
    assert!(
        app.store.account_by_email(&ada).await.is_err(),
        "a check changes nothing"
    );
    // The confirmation is tied to the plan that was shown: an account made meanwhile
    // changes what line 3 does, so the new plan is shown, to be confirmed again.
    let checked = hidden_plan(&r.body);
    app.account("grace@example.edu", &[]).await;
    let stale = admin
        .post_multipart(
            "/admin/import/confirm",
            &[("csv", good.as_bytes()), ("plan", checked.as_bytes())],
            true,
        )
        .await;
    assert_eq!(stale.status, 422, "{}", stale.body);
    assert!(
        stale.body.contains("has changed since you checked it"),
        "{}",
        stale.body
    );
    assert!(
        stale.body.contains("1 to create, 1 to change"),
        "{}",
        stale.body
    );
    assert!(
        app.store.account_by_email(&ada).await.is_err(),
        "nothing imported unseen"
    );
    let done = admin
        .post_multipart(
            "/admin/import/confirm",
            &[
                ("csv", good.as_bytes()),
                ("plan", hidden_plan(&stale.body).as_bytes()),
            ],
            true,
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("1 account(s) created and 1 changed"),
        "{}",
        done.body
    );
    let made = app.store.account_by_email(&ada).await.expect("ada");
    assert_eq!(made.roles, vec![Role::Helper]);
    assert_eq!(
        app.store
            .helper_profile(made.id)
            .await
            .expect("profile")
            .capacity,
        3
    );
    assert!(
        mails_to(&app, "ada@example.edu")
            .await
            .iter()
            .any(|m| m.contains("/setup/")),
        "a set-up link"
    );
    // A file is taken only where a file is asked for: elsewhere multipart is refused
    // before 2 MB of it are read.
    let elsewhere = admin
        .post_multipart("/account/password", &[("current", b"x")], true)
        .await;
    assert_eq!(elsewhere.status, 403);
}

/// The digest of the plan a check page shows, from its confirm form.
fn hidden_plan(body: &str) -> String {
    let at = body
        .find("name=\"plan\" value=\"")
        .expect("a confirm form with the plan's digest")
        + "name=\"plan\" value=\"".len();
    body[at..].split('"').next().unwrap_or_default().to_string()
}
