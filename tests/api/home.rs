//! The coordinators' home: what needs them now, naming no one who asked.

use wecare::domain::accounts::{AccountId, Role};

use crate::cases::{give_case, id_of, trained_helper};
use crate::helpers::{Backend, TestApp, TestDb, file_request};

#[tokio::test]
async fn the_coordinators_home_shows_what_needs_them_and_names_no_one() {
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let app = TestApp::spawn(db).await;
    let mut coord = app
        .signed_in("lead@example.edu", &[Role::Coordinator])
        .await;

    let empty = coord.get("/manage").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert!(empty.body.contains("No request is waiting."));
    assert!(empty.body.contains("None open."));

    // One request waiting, one with its helper and a safety concern, one offered and
    // not yet answered.
    let waiting = file_request(&app.store, "Wanda Waiting", "wanda@example.org", "Surgery").await;
    let held = file_request(&app.store, "Hal Held", "hal@example.org", "Medicine").await;
    let mut helper = trained_helper(&app, "helper@example.edu", "Pediatrics").await;
    let helper_id = AccountId(id_of(&app, "helper@example.edu").await);
    give_case(&app, held.id, helper_id).await;
    let r = helper
        .post(&format!("/helper/cases/{}/escalate", held.id), &[])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let offered = file_request(&app.store, "Olive Offered", "olive@example.org", "Surgery").await;
    app.store
        .offer_request(
            offered.id,
            helper_id,
            None,
            app.store.now() + 3 * 3600,
            None,
        )
        .await
        .expect("offer");
    // Another helper's only training runs out in ten days.
    let lapsing =
        crate::helpers::add_account(&app.store, "tess@example.edu", &[Role::Helper]).await;
    app.store
        .add_training(
            lapsing.id,
            wecare::domain::helpers::TrainingKind::Initial,
            app.store.now() - 300 * 86_400,
            app.store.now() + 10 * 86_400 - 60,
            lapsing.id,
        )
        .await
        .expect("training");
    // An event in three days, and a message that could not be delivered.
    let token = crate::events::coordinator_token(&app).await;
    crate::events::create_event(
        &app,
        &token,
        serde_json::json!({"title": "Resident wellness lunch", "date": crate::events::future_date(3),
                           "capacity": 12}),
    )
    .await;
    app.mail_settled().await;
    app.expect_failures();
    app.db
        .run_sql("UPDATE outbox SET status = 'failed' WHERE id = (SELECT MIN(id) FROM outbox)")
        .await;

    let home = coord.get("/manage").await;
    assert_eq!(home.status, 200, "{}", home.body);
    let b = &home.body;
    assert!(
        b.contains(&format!(
            "/support/queue/{}\">{}",
            waiting.id, waiting.reference
        )),
        "{b}"
    );
    assert!(b.contains("request has a safety concern"), "{b}");
    assert!(b.contains(&held.reference));
    assert!(
        b.contains(&format!("{}</a>, offered to", offered.reference)),
        "{b}"
    );
    assert!(
        b.contains(&format!("{}: runs out", lapsing.display_name)),
        "{b}"
    );
    assert!(b.contains("Resident wellness lunch"));
    assert!(b.contains("0 of 12 places taken"), "{b}");
    assert!(b.contains("1 message could not be delivered"), "{b}");
    assert!(
        !b.contains("/admin/outbox"),
        "only administrators are sent to the outbox"
    );
    // Confidentiality: references only, never who asked.
    for secret in ["Wanda", "wanda@", "Hal Held", "hal@", "Olive", "olive@"] {
        assert!(
            !b.contains(secret),
            "{secret} appears on the coordinators' home"
        );
    }

    // Time passes: the waiting request's promise is broken.
    app.store.clock().advance(10 * 24 * 3600);
    let mut coord = app
        .signed_in("coord2@example.edu", &[Role::Coordinator])
        .await;
    let later = coord.get("/manage").await;
    assert!(later.body.contains("overdue"), "{}", later.body);
    assert!(
        later
            .body
            .contains(&format!("{}: lapsed", lapsing.display_name)),
        "{}",
        later.body
    );

    // The home is the coordinators': a helper and a member are refused.
    for who in ["helper2@example.edu", "member@example.edu"] {
        let roles: &[Role] = if who.starts_with("helper") {
            &[Role::Helper]
        } else {
            &[]
        };
        let mut b = app.signed_in(who, roles).await;
        assert_eq!(b.get("/manage").await.status, 403, "{who}");
    }
    app.stop().await;
}
