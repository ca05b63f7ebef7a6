//! The store's behaviour, the same on both databases.

use wecare::domain::accounts::{AccountId, Email, Role};
use wecare::domain::content::{Branding, PageEdit};
use wecare::domain::throttle;
use wecare::store::{NewAccount, StoreError};

use crate::helpers::TestDb;
use crate::on_both;

on_both!(
    migrations_run_from_empty_and_again,
    accounts_are_unique_by_email,
    sessions_and_tokens,
    throttle_counts_in_windows,
    pages_settings_and_series,
    concurrent_writes_all_succeed,
);

async fn migrations_run_from_empty_and_again(db: TestDb) {
    let store = db.store().await;
    // A second run (a restart, or `wecare migrate` twice) changes nothing and fails nothing.
    store.migrate().await.expect("migrations are idempotent");
    store.ping().await.expect("database answers");
    assert_eq!(store.list_series().await.expect("series").len(), 8);
    let slugs: Vec<String> = store
        .list_pages()
        .await
        .expect("pages")
        .into_iter()
        .map(|p| p.slug)
        .collect();
    for s in ["home", "about", "values", "peer-support", "contact"] {
        assert!(slugs.contains(&s.to_string()), "{s} missing from {slugs:?}");
    }
}

async fn accounts_are_unique_by_email(db: TestDb) {
    let store = db.store().await;
    let email = Email::parse("Ada@Example.edu").expect("email");
    let a = store
        .create_account(NewAccount {
            email: &email,
            display_name: "Ada",
            roles: &[Role::Coordinator, Role::Helper],
            password_hash: None,
        })
        .await
        .expect("created");
    assert_eq!(a.roles, vec![Role::Helper, Role::Coordinator]);
    let again = store
        .create_account(NewAccount {
            email: &email,
            display_name: "Ada again",
            roles: &[],
            password_hash: None,
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let read = store.account(a.id).await.expect("read back");
    assert_eq!(read, a);
    store
        .update_account_access(a.id, &[Role::Admin], true)
        .await
        .expect("roles changed");
    assert_eq!(
        store.account(a.id).await.expect("read").roles,
        vec![Role::Admin]
    );
    assert_eq!(store.count_active_admins().await.expect("count"), 1);
    assert!(matches!(
        store.update_account_access(AccountId(42), &[], true).await,
        Err(StoreError::NotFound)
    ));
}

async fn sessions_and_tokens(db: TestDb) {
    let store = db.store().await;
    let email = Email::parse("s@example.edu").expect("email");
    let a = store
        .create_account(NewAccount {
            email: &email,
            display_name: "S",
            roles: &[],
            password_hash: None,
        })
        .await
        .expect("created");
    let s1 = store
        .create_session(a.id, crate::helpers::terms(3600), None)
        .await
        .expect("session");
    assert_eq!(
        store
            .session_account(&s1, crate::helpers::terms(3600))
            .await
            .expect("q")
            .map(|a| a.id),
        Some(a.id)
    );
    // Rotation: the new session replaces the old one.
    let s2 = store
        .create_session(a.id, crate::helpers::terms(3600), Some(&s1))
        .await
        .expect("session");
    assert!(
        store
            .session_account(&s1, crate::helpers::terms(3600))
            .await
            .expect("q")
            .is_none()
    );
    assert!(
        store
            .session_account(&s2, crate::helpers::terms(3600))
            .await
            .expect("q")
            .is_some()
    );
    // An expired session is worthless.
    let s3 = store
        .create_session(a.id, crate::helpers::terms(-1), None)
        .await
        .expect("session");
    assert!(
        store
            .session_account(&s3, crate::helpers::terms(3600))
            .await
            .expect("q")
            .is_none()
    );

    let (id, secret) = store
        .create_api_token(a.id, "script", None)
        .await
        .expect("token");
    assert!(secret.starts_with("wct_"));
    assert_eq!(
        store
            .api_token_account(&secret)
            .await
            .expect("q")
            .map(|a| a.id),
        Some(a.id)
    );
    let listed = store.list_api_tokens(a.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some());
    store.revoke_api_token(a.id, id).await.expect("revoked");
    assert!(store.api_token_account(&secret).await.expect("q").is_none());
    assert!(matches!(
        store.revoke_api_token(a.id, id).await,
        Err(StoreError::NotFound)
    ));

    // Deactivating an account ends its sessions.
    let s4 = store
        .create_session(a.id, crate::helpers::terms(3600), None)
        .await
        .expect("session");
    store
        .update_account_access(a.id, &[], false)
        .await
        .expect("deactivated");
    assert!(
        store
            .session_account(&s4, crate::helpers::terms(3600))
            .await
            .expect("q")
            .is_none()
    );
}

async fn throttle_counts_in_windows(db: TestDb) {
    let store = db.store().await;
    let key = throttle::account_key("x@example.edu");
    for n in 1..=3 {
        assert_eq!(
            store
                .throttle_record_failure(&key, 0, 100)
                .await
                .expect("count"),
            n
        );
    }
    // After the window has passed, counting starts again.
    assert_eq!(
        store
            .throttle_record_failure(&key, 150, 200)
            .await
            .expect("count"),
        1
    );
    assert_eq!(store.throttle_locked_until(&key).await.expect("q"), 0);
    store.throttle_lock(&key, 999).await.expect("lock");
    assert_eq!(store.throttle_locked_until(&key).await.expect("q"), 999);
    store.throttle_clear(&key).await.expect("clear");
    assert_eq!(store.throttle_locked_until(&key).await.expect("q"), 0);
}

async fn pages_settings_and_series(db: TestDb) {
    let store = db.store().await;
    let email = Email::parse("c@example.edu").expect("email");
    let c = store
        .create_account(NewAccount {
            email: &email,
            display_name: "C",
            roles: &[Role::Coordinator],
            password_hash: None,
        })
        .await
        .expect("created");
    let edit = PageEdit::parse("About us", "New *text*\r\nline").expect("valid");
    let page = store
        .update_page("about", &edit, c.id)
        .await
        .expect("saved");
    assert_eq!(page.title, "About us");
    assert_eq!(page.body_md, "New *text*\nline");
    // Seeding again never overwrites a coordinator's text.
    store.seed_defaults().await.expect("seed");
    assert_eq!(store.page("about").await.expect("page").title, "About us");
    assert!(matches!(
        store.update_page("nope", &edit, c.id).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(
        store.branding().await.expect("branding"),
        Branding::default()
    );
    let b = Branding::parse(
        "Wellness @ Med",
        "Together",
        "hello@med.edu",
        "#112233",
        "#445566",
    )
    .expect("valid");
    store.save_branding(&b).await.expect("saved");
    store.save_branding(&b).await.expect("saved twice");
    assert_eq!(store.branding().await.expect("branding"), b);

    let s = store.series_by_slug("journal-club").await.expect("series");
    assert_eq!(s.title, "Journal Club");
}

async fn concurrent_writes_all_succeed(db: TestDb) {
    // Many writers at once must queue, never fail with "database is locked".
    let store = db.store().await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let email = Email::parse(&format!("p{i}@example.edu")).expect("email");
            let a = store
                .create_account(NewAccount {
                    email: &email,
                    display_name: "P",
                    roles: &[Role::Helper],
                    password_hash: None,
                })
                .await?;
            store
                .create_session(a.id, crate::helpers::terms(3600), None)
                .await?;
            store
                .throttle_record_failure("address:127.0.0.1", 0, 1)
                .await?;
            Ok::<_, StoreError>(())
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("write succeeded");
    }
    assert_eq!(store.list_accounts().await.expect("list").len(), 64);
    assert_eq!(
        store
            .throttle_record_failure("address:127.0.0.1", 0, 1)
            .await
            .expect("count"),
        65
    );
}

#[tokio::test]
async fn postgres_connections_can_require_tls() {
    let Some(admin) = crate::helpers::postgres_admin_url() else {
        eprintln!(
            "skipped: WECARE_TEST_POSTGRES_URL is not set, so there is no PostgreSQL to test against"
        );
        return;
    };
    let sep = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{sep}sslmode=require");
    let store =
        wecare::startup::open_store(&wecare::config::DatabaseUrl::parse(&url).expect("url"))
            .await
            .unwrap_or_else(|e| panic!("TLS connection refused: {e}"));
    assert!(
        store.connection_is_encrypted().await.expect("query"),
        "sslmode=require gave a plain connection"
    );
}
