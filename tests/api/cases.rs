//! The case lifecycle through the real server: offers, declines passing to the next
//! helper, acceptance, who may see who asked (and the audit of each view), contacts
//! without free text, closing (which erases the message), illegal transitions, expiry;
//! and the audit log's tamper detection.

use sqlx::Connection;
use wecare::domain::accounts::{AccountId, Email, Role};

use crate::helpers::{Browser, TestApp, TestDb};
use crate::on_both;

on_both!(
    a_case_goes_from_offer_to_close_and_only_its_helper_sees_who_asked,
    an_unanswered_offer_expires_back_to_the_queue,
    the_audit_log_finds_edited_and_deleted_entries,
    identities_are_erased_after_the_retention_period,
    the_service_level_reminds_then_alerts_once,
    a_referral_is_an_invitation_that_can_be_declined,
    the_resource_directory_is_public_edited_and_counted,
    coordinators_see_who_asked_only_when_the_rules_allow,
    the_case_api_follows_the_same_rules,
    coordinators_set_the_matching_weights_and_policy,
    a_programme_can_ask_people_to_sign_in_first,
    members_apply_and_coordinators_approve_helpers,
    people_can_choose_their_peer_when_the_programme_allows,
);

pub async fn id_of(app: &TestApp, email: &str) -> i64 {
    app.store
        .account_by_email(&Email::parse(email).expect("email"))
        .await
        .expect("account")
        .id
        .0
}

/// A helper with a current training and a profile.
pub async fn trained_helper(app: &TestApp, email: &str, department: &str) -> Browser {
    let mut b = app.signed_in(email, &[Role::Helper]).await;
    let r = b
        .post(
            "/helper/profile",
            &[
                ("capacity", "2"),
                ("department", department),
                ("topics", "burnout"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = id_of(app, email).await;
    crate::helpers::train(&app.store, AccountId(id)).await;
    b
}

/// Offers a request to a helper, who accepts it at once.
pub async fn give_case(app: &TestApp, request: i64, helper: AccountId) -> wecare::store::Offer {
    let offer = app
        .store
        .offer_request(request, helper, None, app.store.now() + 3600, None)
        .await
        .expect("offer");
    app.store
        .answer_offer(offer.id, helper, true, None)
        .await
        .expect("accept")
}

/// Runs a timed job now, as the scheduler would. The server's own scheduler ran it at
/// start, so it is made due again first. The server's scheduler may claim it in the same
/// moment (it ticks every 30 s); then this waits for that run and claims it again, so the
/// run checked here is always one this test made.
pub async fn run_job_now(app: &TestApp, name: &str) {
    let job = wecare::jobs::job(name).expect("a job of that name");
    app.store.ensure_job(job.name(), 0).await.expect("ensure");
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(app.db.database().driver_url())
        .await
        .expect("connect");
    let settings = wecare::jobs::JobSettings {
        retention_days: 90,
        minors_retention_days: 30,
        public_url: url::Url::parse("http://127.0.0.1:8080").expect("url"),
        mail_folder: Some(app.db.mail_dir()),
    };
    for _ in 0..100 {
        // Due now, unless another run holds its lease.
        sqlx::query(
            "UPDATE jobs SET next_run_at = 0 WHERE name = $1 \
             AND (lease_until IS NULL OR lease_until < $2)",
        )
        .bind(job.name())
        .bind(app.store.now())
        .execute(&mut conn)
        .await
        .expect("make due");
        // A job that fails here would pass unnoticed in the server's log: the test says so.
        match wecare::jobs::run_if_due(&app.store, &settings, "test", job).await {
            wecare::jobs::Outcome::Ran(_) => return,
            wecare::jobs::Outcome::NotClaimed => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await
            }
            other => panic!("the job {name} did not run cleanly: {other:?}"),
        }
    }
    panic!("the job {name} could not be claimed for ten seconds");
}

/// The `.eml` the server wrote to `address`, once it is there.
pub async fn mail_to(app: &TestApp, address: &str) -> String {
    let to = format!("To: {address}");
    for _ in 0..100 {
        if let Some(m) = app.db.mail_files().into_iter().find(|m| m.contains(&to)) {
            return m;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no message to {address} arrived");
}

fn between<'a>(body: &'a str, start: &str, end: &str) -> Option<&'a str> {
    body.split(start).nth(1).and_then(|s| s.split(end).next())
}

async fn sql_value(db: &TestDb, sql: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db.database().driver_url())
        .await
        .expect("connect");
    let row: (Option<String>,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut conn)
        .await
        .expect("query");
    row.0
}

async fn a_case_goes_from_offer_to_close_and_only_its_helper_sees_who_asked(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ana = trained_helper(&app, "ana@example.edu", "Surgery").await;
    let mut ben = trained_helper(&app, "ben@example.edu", "Radiology").await;
    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;

    let mut person = app.browser();
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "soon"),
                ("contact_mode", "email"),
                ("name", "Philippa Oduya-Strand"),
                ("email", "philippa@example.org"),
                ("department", "Medicine"),
                ("message", "Night shifts are wearing me down"),
            ],
        )
        .await;
    let code = crate::support::receipt_code_in(&r.body);
    let queue = coord.get("/support/queue").await.body;
    let id: i64 = crate::support::queue_ids(&queue)
        .first()
        .and_then(|s| s.parse().ok())
        .expect("a request in the queue");

    let r = coord
        .post(
            &format!("/support/queue/{id}/offer"),
            &[("helper", &id_of(&app, "ana@example.edu").await.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = coord
        .post(
            &format!("/support/queue/{id}/offer"),
            &[("helper", &id_of(&app, "ben@example.edu").await.to_string())],
        )
        .await;
    assert_eq!(r.status, 409, "one offer at a time");
    assert!(r.body.contains("already offered"), "{}", r.body);
    // The helper is told by e-mail; the outbox hides the recipient of support mail.
    let outbox = app.store.list_outbox(None, 10).await.expect("outbox");
    assert!(
        outbox
            .iter()
            .any(|m| m.kind == "helper_offer" && m.to == "(confidential)")
    );

    // Ben cannot answer Ana's offer; Ana sees it without who asked, and declines.
    let page = ana.get("/helper/cases").await.body;
    assert!(!page.contains("Philippa"), "no identity before accepting");
    let offer: String = between(&page, "action=\"/helper/offers/", "/accept")
        .expect("an offer")
        .to_string();
    assert_eq!(
        ben.post(&format!("/helper/offers/{offer}/accept"), &[])
            .await
            .status,
        404
    );
    let r = ana
        .post(&format!("/helper/offers/{offer}/decline"), &[])
        .await;
    assert_eq!(r.status, 303);

    // It went to Ben at once; he accepts and sees who asked.
    let page = ben.get("/helper/cases").await.body;
    let offer: String = between(&page, "action=\"/helper/offers/", "/accept")
        .expect("passed to the next helper")
        .to_string();
    let r = ben
        .post(&format!("/helper/offers/{offer}/accept"), &[])
        .await;
    assert_eq!(r.location(), format!("/helper/cases/{id}"));
    // The person is told a peer will reach out: sealed in the outbox, opened to send.
    let stored = sql_value(
        &app.db,
        "SELECT to_address FROM outbox WHERE kind = 'requester_update'",
    )
    .await
    .expect("a requester update");
    assert!(stored.starts_with("v1."), "the address is sealed: {stored}");
    let sent = mail_to(&app, "philippa@example.org").await;
    assert!(
        !sent.contains("Philippa") && !sent.contains("Night shifts"),
        "{sent}"
    );
    let case = ben.get(&format!("/helper/cases/{id}")).await;
    assert_eq!(case.status, 200);
    assert!(case.body.contains("Philippa Oduya-Strand"));
    assert!(case.body.contains("philippa@example.org"));
    assert!(case.body.contains("Night shifts are wearing me down"));
    // The coordinators' looks at the matching are audited too; one view of who asked.
    let all = app.store.list_audit(20).await.expect("audit");
    let audit: Vec<_> = all.iter().filter(|e| e.action == "view_identity").collect();
    assert_eq!(audit.len(), 1, "{all:?}");
    assert_eq!(audit[0].subject, format!("support_request:{id}"));
    assert_eq!(audit[0].actor, Some(id_of(&app, "ben@example.edu").await));
    assert!(
        !format!("{audit:?}").contains("Philippa"),
        "the audit names no one"
    );

    // Nobody else sees the case: another helper gets 404, a coordinator 403.
    assert_eq!(ana.get(&format!("/helper/cases/{id}")).await.status, 404);
    assert_eq!(coord.get(&format!("/helper/cases/{id}")).await.status, 403);
    let mut both = app
        .signed_in("both@example.edu", &[Role::Helper, Role::Coordinator])
        .await;
    assert_eq!(both.get(&format!("/helper/cases/{id}")).await.status, 404);
    let queue_page = coord.get(&format!("/support/queue/{id}")).await.body;
    assert!(
        !queue_page.contains("Philippa"),
        "the coordinator sees progress, not the person"
    );

    // Contacts: checked, no free text; the first one starts the clock.
    let r = ben
        .post(
            &format!("/helper/cases/{id}/contacts"),
            &[
                ("date", ""),
                ("mode", "phone"),
                ("minutes", "0"),
                ("resources", "eap"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Give the length in minutes"));
    // What was typed comes back: the way it happened, the minutes, the resources.
    assert!(
        r.body.contains(r#"value="phone" checked"#)
            && r.body.contains(r#"name="minutes" type="text" value="0""#)
            && r.body.contains(r#"value="eap" checked"#),
        "{}",
        r.body
    );
    let r = ben
        .post(
            &format!("/helper/cases/{id}/contacts"),
            &[
                ("date", ""),
                ("mode", "phone"),
                ("minutes", "40"),
                ("resources", "eap"),
                ("notes", "this field does not exist and is ignored"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let summary = app.store.support_request(id).await.expect("request");
    assert_eq!(summary.status.key(), "contacted");
    assert!(summary.first_contact_at.is_some());

    // Closing erases what the person wrote; the case then shows no identity.
    let r = ben
        .post(&format!("/helper/cases/{id}/close"), &[("outcome", "met")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        sql_value(
            &app.db,
            &format!("SELECT sealed_message FROM support_requests WHERE id = {id}")
        )
        .await,
        None
    );
    let closed = ben.get(&format!("/helper/cases/{id}")).await.body;
    assert!(!closed.contains("Philippa"));
    let r = ben
        .post(
            &format!("/helper/cases/{id}/contacts"),
            &[("date", ""), ("mode", "phone"), ("minutes", "10")],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("This case is closed."));
    let r = coord
        .post(
            &format!("/support/queue/{id}/offer"),
            &[("helper", &id_of(&app, "ana@example.edu").await.to_string())],
        )
        .await;
    assert_eq!(r.status, 409);

    // The person sees it closed with their code.
    let r = person
        .post("/support/status", &[("receipt_code", &code)])
        .await;
    assert!(r.body.contains("Closed"), "{}", r.body);

    // Anonymous feedback, once; coordinators see counts only from five answers on.
    assert!(r.body.contains("How was it?"));
    let r = person
        .post(
            "/support/feedback",
            &[
                ("receipt_code", &code),
                ("helpful", "9"),
                ("recommend", "yes"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let answer = [
        ("receipt_code", code.as_str()),
        ("helpful", "5"),
        ("recommend", "yes"),
    ];
    let r = person.post("/support/feedback", &answer).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(person.post("/support/feedback", &answer).await.status, 409);
    let summary = app.store.feedback_summary().await.expect("summary");
    assert_eq!(
        (summary.answers, summary.helpful, summary.would_recommend),
        (1, 1, 1)
    );
    assert!(
        coord
            .get("/support/queue")
            .await
            .body
            .contains("fewer than 5 answers")
    );
    app.stop().await;
}

async fn an_unanswered_offer_expires_back_to_the_queue(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ana = trained_helper(&app, "ana@example.edu", "Surgery").await;
    let r = crate::helpers::file_request(&app.store, "X", "x@example.org", "").await;
    let ana_id = AccountId(id_of(&app, "ana@example.edu").await);
    let offer = app
        .store
        .offer_request(r.id, ana_id, None, app.store.now() - 1, None)
        .await
        .expect("offer");
    assert_eq!(app.store.expire_offers().await.expect("expire"), vec![r.id]);
    assert_eq!(
        app.store
            .support_request(r.id)
            .await
            .expect("r")
            .status
            .key(),
        "submitted"
    );
    let late = ana
        .post(&format!("/helper/offers/{}/accept", offer.id), &[])
        .await;
    assert_eq!(late.status, 409);
    assert!(late.body.contains("expired"), "{}", late.body);
    assert_eq!(
        app.store.helpers_passed(r.id).await.expect("passed"),
        vec![ana_id.0]
    );

    // Through the timed job, an expired offer passes to the next candidate at once.
    let _ben = trained_helper(&app, "ben@example.edu", "Radiology").await;
    let second = crate::helpers::file_request(&app.store, "X", "x@example.org", "").await;
    app.store
        .offer_request(second.id, ana_id, None, app.store.now() - 1, None)
        .await
        .expect("offer");
    run_job_now(&app, "support-offer-expiry").await;
    let ben_id = AccountId(id_of(&app, "ben@example.edu").await);
    let offers = app.store.pending_offers(ben_id).await.expect("offers");
    assert_eq!(offers.len(), 1, "passed to Ben");
    assert_eq!(offers[0].1.id, second.id);
    app.stop().await;
}

async fn the_audit_log_finds_edited_and_deleted_entries(db: TestDb) {
    let store = db.store().await;
    for i in 1..=4 {
        store
            .audit(
                Some(AccountId(7)),
                "view_identity",
                &format!("support_request:{i}"),
            )
            .await
            .expect("append");
    }
    let ok = store.verify_audit().await.expect("verify");
    assert_eq!((ok.rows, ok.broken_at.clone()), (4, None));

    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(db.database().driver_url())
        .await
        .expect("connect");
    sqlx::query("UPDATE audit_log SET subject = 'support_request:99' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .expect("tamper");
    let bad = store.verify_audit().await.expect("verify");
    assert_eq!(bad.broken_at.map(|b| b.0), Some(2));
    sqlx::query("UPDATE audit_log SET subject = 'support_request:2' WHERE seq = 2")
        .execute(&mut conn)
        .await
        .expect("restore");
    assert!(
        store
            .verify_audit()
            .await
            .expect("verify")
            .broken_at
            .is_none()
    );
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(&mut conn)
        .await
        .expect("delete");
    let gone = store.verify_audit().await.expect("verify");
    assert_eq!(gone.broken_at, Some((4, "row 3 is missing".to_string())));
    store.close().await;
}

async fn identities_are_erased_after_the_retention_period(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let owner = app.account("owner@example.edu", &[]).await;
    let mut input = crate::helpers::routine_request("Perpetua Vance", "perpetua@example.org");
    input.topics.push(wecare::domain::support::Topic::Other);
    input.message = "something".into();
    let request = wecare::domain::support::NewRequest::parse(&input).expect("valid");
    let (open, _) = app
        .store
        .create_support_request(&request, Some(owner.id), &[])
        .await
        .expect("filed");
    let (done, code) = app
        .store
        .create_support_request(&request, Some(owner.id), &[])
        .await
        .expect("filed");
    app.store
        .withdraw_support_request(&code)
        .await
        .expect("withdrawn");
    let now = app.store.now();
    assert_eq!(
        app.store
            .purge_identities(now - 86_400)
            .await
            .expect("purge"),
        0,
        "not old enough"
    );
    assert_eq!(app.store.purge_identities(now + 1).await.expect("purge"), 1);
    assert_eq!(
        app.store.purge_identities(now + 1).await.expect("again"),
        0,
        "idempotent"
    );
    assert!(
        app.store
            .support_identity(done.id)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        app.store
            .support_identity(open.id)
            .await
            .expect("read")
            .is_some(),
        "open requests keep theirs"
    );
    // The de-identified facts remain.
    let kept = app
        .store
        .support_request(done.id)
        .await
        .expect("still there");
    assert_eq!(kept.topics.len(), 2);
    assert_eq!(kept.status.key(), "withdrawn");
    // The member's link to it is gone too.
    let mine = app.store.my_support_requests(owner.id).await.expect("mine");
    assert_eq!(mine.iter().map(|r| r.id).collect::<Vec<_>>(), vec![open.id]);
    app.stop().await;
}

async fn the_service_level_reminds_then_alerts_once(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let _ana = trained_helper(&app, "ana@example.edu", "Surgery").await;

    // An urgent request alerts coordinators at once, naming no one.
    let mut person = app.browser();
    let r = person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "urgent"),
                ("contact_mode", "email"),
                ("name", "Urgent Person"),
                ("email", "urgent@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    let outbox = app.store.list_outbox(None, 50).await.expect("outbox");
    let alert = outbox
        .iter()
        .find(|m| m.kind == "coordinator_alert")
        .expect("an urgent alert");
    assert_eq!(alert.to, "(confidential)");
    assert!(
        alert.subject.contains("an urgent request arrived"),
        "{}",
        alert.subject
    );
    assert!(!alert.subject.contains("Urgent Person"));

    // A routine request accepted by Ana a week ago, with no first contact since.
    let r = crate::helpers::file_request(&app.store, "Slow", "slow@example.org", "").await;
    let ana_id = AccountId(id_of(&app, "ana@example.edu").await);
    give_case(&app, r.id, ana_id).await;
    // A week passes with no first contact; the coordinator signs in again that day.
    app.store.clock().advance(7 * 86_400);
    coord
        .sign_in("coord@example.edu", crate::helpers::PASSWORD)
        .await;

    let count = |kind: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .list_outbox(None, 200)
                .await
                .expect("outbox")
                .iter()
                .filter(|m| m.kind == kind)
                .count()
        }
    };
    let alerts_before = count("coordinator_alert").await;
    for _ in 0..2 {
        run_job_now(&app, "support-service-level").await;
    }
    assert_eq!(
        count("helper_reminder").await,
        1,
        "the helper is reminded once"
    );
    // The urgent request above waited the same week: it is overdue too. One alert each,
    // however often the job runs.
    assert_eq!(
        count("coordinator_alert").await,
        alerts_before + 2,
        "one alert per overdue request and coordinator, once"
    );
    let queue = coord.get("/support/queue").await.body;
    assert!(queue.contains("overdue"), "{queue}");
    // The overdue case can be taken back and passed to another helper.
    let _ben = trained_helper(&app, "ben@example.edu", "Radiology").await;
    let page = coord.get(&format!("/support/queue/{}", r.id)).await.body;
    assert!(page.contains("Take back"), "{page}");
    let back = coord
        .post(&format!("/support/queue/{}/take-back", r.id), &[])
        .await;
    assert_eq!(back.status, 303, "{}", back.body);
    let ben_id = AccountId(id_of(&app, "ben@example.edu").await);
    let offers = app.store.pending_offers(ben_id).await.expect("offers");
    assert_eq!(offers.len(), 1, "re-offered to Ben");
    assert!(
        app.store
            .helper_cases(ana_id)
            .await
            .expect("cases")
            .is_empty()
    );
    let again = coord
        .post(&format!("/support/queue/{}/take-back", r.id), &[])
        .await;
    assert_eq!(again.status, 409);

    // Coordinators set the business hours; a mistake names its field.
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "Mars/Olympus"),
                ("days", "mon-fri"),
                ("hours", "09:00-17:00"),
                ("first_contact_hours", "8"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("is not a time zone"));
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "Europe/London"),
                ("days", "mon-thu"),
                ("hours", "08:30-16:30"),
                ("holidays", "2026-12-25\n2026-12-28"),
                ("first_contact_hours", "16"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let saved = app.store.service_level_settings().await.expect("settings");
    assert_eq!(
        (saved.time_zone.as_str(), saved.first_contact_hours),
        ("Europe/London", 16)
    );
    app.stop().await;
}

/// Every support route against every kind of caller. A helper who is not on a case gets
/// 404 for it (a guessed id says nothing); someone without the role gets 403 (or is sent
/// to sign in); only the case's helper sees who asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorization_matrix_holds_for_every_support_route() {
    let db = TestDb::new(crate::helpers::Backend::Sqlite)
        .await
        .expect("sqlite");
    let app = TestApp::spawn(db).await;
    let mut owner = trained_helper(&app, "owner@example.edu", "Surgery").await;
    let other = trained_helper(&app, "other@example.edu", "Radiology").await;
    let r =
        crate::helpers::file_request(&app.store, "Matrix Person", "matrix@example.org", "").await;
    let owner_id = AccountId(id_of(&app, "owner@example.edu").await);
    let offer = give_case(&app, r.id, owner_id).await;
    let id = r.id;

    let mut callers: Vec<(&str, Browser)> = vec![
        ("anonymous", app.browser()),
        ("member", app.signed_in("member@example.edu", &[]).await),
        ("other helper", other),
        (
            "coordinator",
            app.signed_in("coord@example.edu", &[Role::Coordinator])
                .await,
        ),
        (
            "admin",
            app.signed_in("admin@example.edu", &[Role::Admin]).await,
        ),
    ];
    // (method, path, anonymous, member, other helper, coordinator, admin)
    let case = format!("/helper/cases/{id}");
    let contacts = format!("/helper/cases/{id}/contacts");
    let close = format!("/helper/cases/{id}/close");
    let queue_item = format!("/support/queue/{id}");
    let offer_path = format!("/support/queue/{id}/offer");
    let accept = format!("/helper/offers/{}/accept", offer.id);
    let escalate = format!("/helper/cases/{id}/escalate");
    let reveal = format!("/support/queue/{id}/reveal");
    let take_back = format!("/support/queue/{id}/take-back");
    let matrix: Vec<(&str, &str, [u16; 5])> = vec![
        ("GET", "/support/request", [200, 200, 200, 200, 200]),
        ("GET", "/support/status", [200, 200, 200, 200, 200]),
        ("GET", "/support/mine", [303, 200, 200, 200, 200]),
        ("GET", "/support/queue", [303, 403, 403, 200, 403]),
        ("GET", &queue_item, [303, 403, 403, 200, 403]),
        ("GET", "/support/queue/plan", [303, 403, 403, 200, 403]),
        ("POST", &offer_path, [303, 403, 403, 422, 403]),
        ("GET", "/support/helpers", [303, 403, 403, 200, 403]),
        ("GET", "/support/settings", [303, 403, 403, 200, 403]),
        ("GET", "/helper/profile", [303, 403, 200, 403, 403]),
        ("GET", "/helper/cases", [303, 403, 200, 403, 403]),
        ("GET", &case, [303, 403, 404, 403, 403]),
        ("POST", &contacts, [303, 403, 404, 403, 403]),
        ("POST", &close, [303, 403, 404, 403, 403]),
        ("POST", &accept, [303, 403, 404, 403, 403]),
        ("POST", &escalate, [303, 403, 404, 403, 403]),
        // A coordinator may look (audited); it is tested on its own below.
        ("POST", &reveal, [303, 403, 403, 0, 403]),
        ("POST", &take_back, [303, 403, 403, 0, 403]),
    ];
    for (method, path, expected) in &matrix {
        for (i, (who, b)) in callers.iter_mut().enumerate() {
            if expected[i] == 0 {
                continue;
            }
            let r = if *method == "GET" {
                b.get(path).await
            } else {
                b.post(path, &[("helper", "1"), ("outcome", "met")]).await
            };
            assert_eq!(
                r.status, expected[i],
                "{method} {path} as {who}: {}",
                r.body
            );
            assert!(
                !r.body.contains("Matrix Person") && !r.body.contains("matrix@example.org"),
                "{method} {path} as {who} shows who asked"
            );
        }
    }
    // Only the case's own helper sees who asked.
    let mine = owner.get(&case).await;
    assert!(mine.body.contains("Matrix Person"));
    app.stop().await;
}

async fn a_referral_is_an_invitation_that_can_be_declined(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ana = trained_helper(&app, "ana@example.edu", "Surgery").await;
    assert_eq!(
        app.browser().get("/support/refer").await.status,
        303,
        "sign in first"
    );
    let mut chair = app.signed_in("chair@example.edu", &[]).await;
    let r = chair
        .post(
            "/support/refer",
            &[("name", "Ignatius Pell"), ("email", "ignatius@example.org")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Choose why"), "{}", r.body);
    let r = chair
        .post(
            "/support/refer",
            &[
                ("name", "Ignatius Pell"),
                ("email", "ignatius@example.org"),
                ("reason", "adverse_event"),
                ("department", "Medicine"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Referral received"));
    assert!(!r.body.contains("receipt"), "the referrer gets no code");
    let queue = app.store.support_queue().await.expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].channel.key(), "referral");
    let id = queue[0].id;
    assert_eq!(
        sql_value(
            &app.db,
            &format!("SELECT reason FROM support_requests WHERE id = {id}")
        )
        .await,
        Some("adverse_event".into())
    );

    // Ana takes it, the colleague declines: they get the resource list, sealed in the
    // outbox, and the case closes.
    let ana_id = AccountId(id_of(&app, "ana@example.edu").await);
    give_case(&app, id, ana_id).await;
    let r = ana
        .post(
            &format!("/helper/cases/{id}/close"),
            &[("outcome", "declined")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let stored = sql_value(
        &app.db,
        "SELECT to_address FROM outbox WHERE kind = 'resource_list'",
    )
    .await
    .expect("a resource list");
    assert!(stored.starts_with("v1."));
    let sent = mail_to(&app, "ignatius@example.org").await;
    assert!(sent.contains("Employee assistance programme"), "{sent}");
    assert!(sent.contains("not contact you again"), "{sent}");

    // The API takes referrals from any member with a token, and says only "received".
    let member = app.account("peer@example.edu", &[]).await;
    let token = app.token_for(&member).await;
    let r = crate::helpers::api(
        &app,
        reqwest::Method::POST,
        "/api/v1/support/referrals",
        Some(&token),
        Some(serde_json::json!({"name": "Other Person", "email": "o@example.org", "reason": "litigation"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!({"received": true}));
    app.stop().await;
}

async fn the_resource_directory_is_public_edited_and_counted(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let public = app.browser().get("/resources").await;
    assert_eq!(public.status, 200);
    assert!(public.body.contains("988 Suicide"), "{}", public.body);
    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let r = coord
        .post(
            "/support/resources",
            &[("name", "Chaplaincy"), ("how_to_reach", "Call")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("What it is is required"), "{}", r.body);
    let r = coord
        .post(
            "/support/resources",
            &[
                ("name", "Chaplaincy"),
                ("what", "Spiritual care for staff of any faith or none."),
                (
                    "how_to_reach",
                    "Call the chaplaincy office on 312 555 0123, or chaplains@example.edu <script>",
                ),
                ("hours", "Always"),
                ("confidential", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let listed = app.browser().get("/resources").await.body;
    assert!(listed.contains("Chaplaincy"));
    // Numbers dial and addresses write in one tap; the rest stays text.
    assert!(
        listed.contains("<a href=\"tel:3125550123\">312 555 0123</a>")
            && listed.contains("<a href=\"mailto:chaplains@example.edu\">")
            && listed.contains("&lt;script&gt;"),
        "{listed}"
    );
    let r = coord
        .post(
            "/support/resources",
            &[("name", "Chaplaincy"), ("what", "x"), ("how_to_reach", "y")],
        )
        .await;
    assert_eq!(r.status, 422, "the same name twice");

    // A helper suggests it; the count shows; archiving hides it but keeps the count.
    let mut ana = trained_helper(&app, "ana@example.edu", "Surgery").await;
    let req = crate::helpers::file_request(&app.store, "Res", "res@example.org", "").await;
    let ana_id = AccountId(id_of(&app, "ana@example.edu").await);
    give_case(&app, req.id, ana_id).await;
    let contacts = format!("/helper/cases/{}/contacts", req.id);
    let r = ana
        .post(
            &contacts,
            &[
                ("date", ""),
                ("mode", "phone"),
                ("minutes", "20"),
                ("resources", "astrology"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = ana
        .post(
            &contacts,
            &[
                ("date", ""),
                ("mode", "phone"),
                ("minutes", "20"),
                ("resources", "chaplaincy"),
                ("resources", "eap"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = coord.get("/support/resources").await.body;
    assert!(
        page.contains("suggested 1 time,") || page.contains("suggested 1 time<"),
        "{page}"
    );
    let r = coord
        .post(
            "/support/resources/chaplaincy",
            &[
                ("name", "Chaplaincy"),
                ("what", "Spiritual care for staff of any faith or none."),
                ("how_to_reach", "Call the chaplaincy office"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(
        !app.browser()
            .get("/resources")
            .await
            .body
            .contains("Chaplaincy")
    );
    let counts = app.store.resource_referral_counts().await.expect("counts");
    assert!(counts.contains(&("chaplaincy".to_string(), 1)));
    assert_eq!(ana.get("/support/resources").await.status, 403);
    app.stop().await;
}

async fn coordinators_see_who_asked_only_when_the_rules_allow(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ana = trained_helper(&app, "ana@example.edu", "Surgery").await;
    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    // Not blind: an open request can be looked at, and the look is audited.
    let open = crate::helpers::file_request(&app.store, "Visible Person", "who@example.org", "")
        .await
        .id;
    let page = coord.get(&format!("/support/queue/{open}")).await.body;
    assert!(page.contains("Show who asked") && !page.contains("Visible Person"));
    let r = coord
        .post(&format!("/support/queue/{open}/reveal"), &[])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Visible Person"));
    let audit = app.store.list_audit(5).await.expect("audit");
    let viewed = audit
        .iter()
        .find(|e| e.action == "coordinator_view_identity")
        .expect("the reveal is audited");
    assert_eq!(viewed.actor, Some(id_of(&app, "coord@example.edu").await));
    assert!(
        audit
            .iter()
            .any(|e| e.action == "coordinator_matching_view"),
        "the pages that opened the matching are audited: {audit:?}"
    );

    // Closed: never, whatever the setting.
    let ana_id = AccountId(id_of(&app, "ana@example.edu").await);
    give_case(&app, open, ana_id).await;
    ana.post(
        &format!("/helper/cases/{open}/close"),
        &[("outcome", "met")],
    )
    .await;
    let r = coord
        .post(&format!("/support/queue/{open}/reveal"), &[])
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("not shown for closed"));
    assert!(!r.body.contains("Visible Person"));

    // Blind: requests are offered at once, coordinators cannot look until the helper
    // raises a safety concern.
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "America/New_York"),
                ("days", "mon-fri"),
                ("hours", "09:00-17:00"),
                ("first_contact_hours", "8"),
                ("coordinator_blind", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut person = app.browser();
    person
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "routine"),
                ("contact_mode", "email"),
                ("name", "Hidden Person"),
                ("email", "hidden@example.org"),
            ],
        )
        .await;
    let queue = app.store.support_queue().await.expect("queue");
    let blind = queue
        .iter()
        .find(|r| r.status.key() == "offered")
        .expect("offered automatically");
    let id = blind.id;
    let page = coord.get(&format!("/support/queue/{id}")).await.body;
    assert!(!page.contains("Show who asked"));
    let r = coord
        .post(&format!("/support/queue/{id}/reveal"), &[])
        .await;
    assert_eq!(r.status, 409);
    assert!(r.body.contains("coordinator-blind"));
    let cases = ana.get("/helper/cases").await.body;
    let offer: String = between(&cases, "action=\"/helper/offers/", "/accept")
        .expect("Ana has the offer")
        .to_string();
    ana.post(&format!("/helper/offers/{offer}/accept"), &[])
        .await;
    let r = ana.post(&format!("/helper/cases/{id}/escalate"), &[]).await;
    assert_eq!(r.status, 303);
    let r = coord
        .post(&format!("/support/queue/{id}/reveal"), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Hidden Person"));
    let actions: Vec<String> = app
        .store
        .list_audit(10)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"safety_escalation".to_string()),
        "{actions:?}"
    );
    assert!(
        app.store
            .verify_audit()
            .await
            .expect("verify")
            .broken_at
            .is_none()
    );
    app.stop().await;
}

async fn the_case_api_follows_the_same_rules(db: TestDb) {
    use reqwest::Method;
    use serde_json::json;
    let app = TestApp::spawn(db).await;
    let helper = app.account("h@example.edu", &[Role::Helper]).await;
    let h = app.token_for(&helper).await;
    let other = app.account("o@example.edu", &[Role::Helper]).await;
    let o = app.token_for(&other).await;
    let coord = app.account("c@example.edu", &[Role::Coordinator]).await;
    let c = app.token_for(&coord).await;
    let call = |method: Method, path: String, token: String, body: Option<serde_json::Value>| {
        let app = &app;
        async move { crate::helpers::api(app, method, &path, Some(&token), body).await }
    };
    let r = call(
        Method::PUT,
        "/api/v1/helper/profile".into(),
        h.clone(),
        Some(json!({"capacity": 99})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "capacity");
    let r = call(
        Method::PUT,
        "/api/v1/helper/profile".into(),
        h.clone(),
        Some(json!({"capacity": 2, "department": "Surgery", "topics": ["burnout"]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    crate::helpers::train(&app.store, helper.id).await;
    let r = crate::helpers::api(
        &app,
        Method::POST,
        "/api/v1/support/requests",
        None,
        Some(
            json!({"topics": ["burnout"], "urgency": "routine", "contact_mode": "email",
                    "name": "Api Person", "email": "api.person@example.org"}),
        ),
    )
    .await;
    assert_eq!(r.status, 201);
    let id = app.store.support_queue().await.expect("queue")[0].id;

    let r = call(
        Method::GET,
        format!("/api/v1/support/requests/{id}/shortlist"),
        c.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()[0]["helper"], helper.id.0);
    assert!(r.json()[0]["score"]["reasons"].is_array());
    let r = call(
        Method::GET,
        format!("/api/v1/support/requests/{id}/shortlist"),
        h.clone(),
        None,
    )
    .await;
    assert_eq!(r.status, 403);
    let r = call(
        Method::POST,
        format!("/api/v1/support/requests/{id}/offers"),
        c.clone(),
        Some(json!({"helper": other.id.0})),
    )
    .await;
    assert_eq!(r.status, 422, "untrained: {}", r.body);
    assert!(r.body.contains("not trained yet"), "{}", r.body);
    let r = call(
        Method::POST,
        format!("/api/v1/support/requests/{id}/offers"),
        c.clone(),
        Some(json!({"helper": helper.id.0})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let offer = r.json()["id"].as_i64().expect("offer id");

    let r = call(Method::GET, "/api/v1/helper/offers".into(), h.clone(), None).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    assert!(!r.body.contains("Api Person"), "no identity in offers");
    let r = call(
        Method::POST,
        format!("/api/v1/helper/offers/{offer}"),
        o.clone(),
        Some(json!({"accept": true})),
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(
        Method::POST,
        format!("/api/v1/helper/offers/{offer}"),
        h.clone(),
        Some(json!({"accept": true})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "accepted");
    let r = call(Method::GET, "/api/v1/helper/cases".into(), h.clone(), None).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));

    let contact = json!({"mode": "video", "minutes": 30, "resources": ["eap"]});
    let r = call(
        Method::POST,
        format!("/api/v1/helper/cases/{id}/contacts"),
        o.clone(),
        Some(contact.clone()),
    )
    .await;
    assert_eq!(r.status, 404, "not their case");
    let r = call(
        Method::POST,
        format!("/api/v1/helper/cases/{id}/contacts"),
        h.clone(),
        Some(contact.clone()),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // Typed values: the mode is one of the modes, minutes a number, a date a date.
    for (body, field) in [
        (json!({"mode": "fax", "minutes": 30}), "mode"),
        (json!({"mode": "video", "minutes": "30"}), "minutes"),
        (json!({"mode": "video", "minutes": 0}), "minutes"),
        (
            json!({"mode": "video", "minutes": 30, "date": "31/03/2027", "time": "10:00"}),
            "date",
        ),
        (
            json!({"mode": "video", "minutes": 30, "date": "2027-03-31"}),
            "time",
        ),
        (
            json!({"mode": "video", "minutes": 30, "notes": "no free text"}),
            "notes",
        ),
    ] {
        let r = call(
            Method::POST,
            format!("/api/v1/helper/cases/{id}/contacts"),
            h.clone(),
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.json()["error"]["field"], field, "{body}: {}", r.body);
        assert!(
            !r.body.contains("31/03"),
            "what was sent is not echoed: {}",
            r.body
        );
    }
    // "" for the date and time still means now.
    let r = call(
        Method::POST,
        format!("/api/v1/helper/cases/{id}/contacts"),
        h.clone(),
        Some(json!({"mode": "phone", "minutes": 10, "date": "", "time": ""})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = call(
        Method::POST,
        format!("/api/v1/helper/cases/{id}/close"),
        h.clone(),
        Some(json!({"outcome": "sometime"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "outcome", "{}", r.body);
    let r = call(
        Method::POST,
        format!("/api/v1/helper/cases/{id}/close"),
        h.clone(),
        Some(json!({"outcome": "met"})),
    )
    .await;
    assert_eq!(r.status, 204);
    let r = call(
        Method::POST,
        format!("/api/v1/helper/cases/{id}/contacts"),
        h.clone(),
        Some(contact),
    )
    .await;
    assert_eq!(r.status, 409);
    app.stop().await;
}

async fn coordinators_set_the_matching_weights_and_policy(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let base = [
        ("time_zone", "America/New_York"),
        ("days", "mon-fri"),
        ("hours", "09:00-17:00"),
        ("first_contact_hours", "8"),
    ];
    let mut bad = base.to_vec();
    bad.push(("weight_language", "500"));
    let r = coord.post("/support/settings", &bad).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("from 0 to 50"), "{}", r.body);
    let mut good = base.to_vec();
    good.push(("weight_language", "12"));
    let r = coord.post("/support/settings", &good).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (w, p) = app.store.matching_rules().await.expect("rules");
    assert_eq!(w.language, 12);
    assert_eq!(
        w.topic,
        wecare::domain::matching::Weights::default().topic,
        "others kept"
    );
    assert!(!p.exclude_same_department, "the box was not ticked");

    // With the policy off, a helper from the requester's department is eligible.
    let _ana = trained_helper(&app, "ana@example.edu", "Medicine").await;
    let r =
        crate::helpers::file_request(&app.store, "Same Dept", "same@example.org", "Medicine").await;
    let page = coord.get(&format!("/support/queue/{}", r.id)).await.body;
    assert!(!page.contains("No helper can take"), "{page}");
    let mut on = base.to_vec();
    on.push(("exclude_same_department", "1"));
    coord.post("/support/settings", &on).await;
    let page = coord.get(&format!("/support/queue/{}", r.id)).await.body;
    assert!(
        page.contains("same department as the person asking"),
        "{page}"
    );
    app.stop().await;
}

async fn a_programme_can_ask_people_to_sign_in_first(db: TestDb) {
    use serde_json::json;
    let app = TestApp::spawn(db).await;
    let body = json!({"topics": ["burnout"], "urgency": "routine", "contact_mode": "email",
                      "name": "Signed Person", "email": "signed@example.org"});
    let member = app.account("m@example.edu", &[]).await;
    let token = app.token_for(&member).await;
    // Open by default; with a token, the request is the member's own.
    let r = crate::helpers::api(
        &app,
        reqwest::Method::POST,
        "/api/v1/support/requests",
        Some(&token),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 201);
    let r = crate::helpers::api(
        &app,
        reqwest::Method::GET,
        "/api/v1/support/mine",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    let r = crate::helpers::api(
        &app,
        reqwest::Method::POST,
        "/api/v1/support/requests",
        Some("wct_not_a_token"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 401, "a bad token is refused, not ignored");

    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "America/New_York"),
                ("days", "mon-fri"),
                ("hours", "09:00-17:00"),
                ("first_contact_hours", "8"),
                ("exclude_same_department", "1"),
                ("requires_sign_in", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    let mut anonymous = app.browser();
    let r = anonymous.get("/support/request").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/signin"), "{}", r.location());
    let r = crate::helpers::api(
        &app,
        reqwest::Method::POST,
        "/api/v1/support/requests",
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = crate::helpers::api(
        &app,
        reqwest::Method::POST,
        "/api/v1/support/requests",
        Some(&token),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 201);
    let mut signed = app.signed_in("s@example.edu", &[]).await;
    assert_eq!(signed.get("/support/request").await.status, 200);
    app.stop().await;
}

async fn members_apply_and_coordinators_approve_helpers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    assert_eq!(app.browser().get("/helpers/apply").await.status, 303);
    let mut kim = app.signed_in("kim@example.edu", &[]).await;
    let r = kim
        .post("/helpers/apply", &[("department", "Neurology")])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body.contains("A few words on why is required"),
        "{}",
        r.body
    );
    let r = kim
        .post(
            "/helpers/apply",
            &[
                ("department", "Neurology"),
                ("motivation", "I was helped once."),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Thank you"));
    let r = kim
        .post(
            "/helpers/apply",
            &[("department", "Neurology"), ("motivation", "Again")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("already with the coordinators"));

    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let page = coord.get("/support/helpers").await.body;
    assert!(page.contains("I was helped once."), "{page}");
    let app_id: String = between(&page, "action=\"/support/applications/", "\"")
        .expect("an application")
        .to_string();
    let r = coord
        .post(
            &format!("/support/applications/{app_id}"),
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = coord
        .post(
            &format!("/support/applications/{app_id}"),
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(r.status, 409, "decided once");
    let kim_account = app
        .store
        .account_by_email(&Email::parse("kim@example.edu").expect("email"))
        .await
        .expect("kim");
    assert!(kim_account.has(Role::Helper));
    assert_eq!(
        app.store
            .helper_profile(kim_account.id)
            .await
            .expect("profile")
            .department,
        "Neurology"
    );
    let corps = coord.get("/support/helpers").await.body;
    assert!(
        corps.contains("no training on record"),
        "approved but untrained: {corps}"
    );
    assert_eq!(kim.get("/helper/profile").await.status, 200, "now a helper");
    let mut plain = app.signed_in("plain@example.edu", &[]).await;
    assert_eq!(
        plain
            .post(
                &format!("/support/applications/{app_id}"),
                &[("decision", "approve")]
            )
            .await
            .status,
        403
    );
    app.stop().await;
}

async fn people_can_choose_their_peer_when_the_programme_allows(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut ana = trained_helper(&app, "ana@example.edu", "Surgery").await;
    ana.post(
        "/helper/profile",
        &[
            ("capacity", "2"),
            ("department", "Surgery"),
            ("topics", "burnout"),
            ("bio", "Ana, listening since 2010."),
            ("bio_public", "1"),
        ],
    )
    .await;
    let _ben = trained_helper(&app, "ben@example.edu", "Radiology").await;
    let mut person = app.browser();
    let fields = [
        ("topics", "burnout"),
        ("urgency", "routine"),
        ("contact_mode", "email"),
        ("name", "Chooser"),
        ("email", "chooser@example.org"),
    ];
    // Off by default: no choice shown.
    let code =
        crate::support::receipt_code_in(&person.post("/support/request", &fields).await.body);
    let page = person
        .post("/support/status", &[("receipt_code", &code)])
        .await
        .body;
    assert!(!page.contains("Choose your peer"));

    let mut coord = app
        .signed_in("coord@example.edu", &[Role::Coordinator])
        .await;
    let r = coord
        .post(
            "/support/settings",
            &[
                ("time_zone", "America/New_York"),
                ("days", "mon-fri"),
                ("hours", "09:00-17:00"),
                ("first_contact_hours", "8"),
                ("exclude_same_department", "1"),
                ("requester_chooses", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    let page = person
        .post("/support/status", &[("receipt_code", &code)])
        .await
        .body;
    assert!(page.contains("Choose your peer"), "{page}");
    assert!(page.contains("Ana, listening since 2010."));
    assert!(
        !page.contains("ben@example.edu"),
        "only public helpers are offered"
    );
    let ben_id = id_of(&app, "ben@example.edu").await;
    let r = person
        .post(
            "/support/choose",
            &[("receipt_code", &code), ("helper", &ben_id.to_string())],
        )
        .await;
    assert_eq!(r.status, 422);
    let ana_id = id_of(&app, "ana@example.edu").await;
    let r = person
        .post(
            "/support/choose",
            &[("receipt_code", &code), ("helper", &ana_id.to_string())],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("A peer has been asked to take it"),
        "{}",
        r.body
    );
    let offers = app
        .store
        .pending_offers(AccountId(ana_id))
        .await
        .expect("offers");
    assert_eq!(offers.len(), 1);
    app.stop().await;
}
