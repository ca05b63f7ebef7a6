//! Sign-in through a SAML proxy in front (Shibboleth's `mod_shib`, `mod_auth_mellon`),
//! which passes the person's attributes as request headers. The tests play the proxy:
//! they connect from loopback and send the headers it would.

use std::sync::Arc;

use wecare::config::{TrustedHeaderFile, parse_trusted_header};
use wecare::domain::accounts::{Account, Email, Role};

use crate::helpers::{Browser, PASSWORD, TestApp, TestDb, serve_config};
use crate::on_both;

const SECRET: &str = "the-proxy-secret-only-these-tests-know";
const COORDINATORS: &str = "urn:mace:example.edu:groups:wellbeing-coordinators";
const FACULTY: &str = "urn:mace:example.edu:groups:faculty";

async fn proxied(db: TestDb, settings: impl FnOnce(&mut TrustedHeaderFile)) -> TestApp {
    let mut file = TrustedHeaderFile {
        proxies: Some(vec!["127.0.0.1".into(), "::1".into()]),
        button_label: Some("Sign in with Example Health".into()),
        create_accounts: Some(true),
        allowed_email_domains: Some(vec!["example.edu".into()]),
        required_claim: Some(format!("isMemberOf={FACULTY}")),
        coordinator_claim: Some(format!("isMemberOf={COORDINATORS}")),
        logout_url: Some("/Shibboleth.sso/Logout".into()),
        ..Default::default()
    };
    settings(&mut file);
    let db = Arc::new(db);
    let mut cfg = serve_config(&db);
    cfg.trust_proxy = true;
    cfg.trusted_header =
        Some(parse_trusted_header(&file, Some(SECRET)).expect("the table is valid"));
    TestApp::spawn_with(db, cfg).await
}

/// What the proxy adds for a signed-in person, with its secret.
fn attributes<'a>(
    eppn: &'a str,
    mail: &'a str,
    name: &'a str,
    groups: &'a str,
) -> Vec<(&'a str, &'a [u8])> {
    vec![
        ("X-Wecare-Proxy-Secret", SECRET.as_bytes()),
        ("eppn", eppn.as_bytes()),
        ("mail", mail.as_bytes()),
        ("displayName", name.as_bytes()),
        ("isMemberOf", groups.as_bytes()),
    ]
}

async fn account(app: &TestApp, email: &str) -> Account {
    app.store
        .account_by_email(&Email::parse(email).expect("email"))
        .await
        .expect("the account")
}

async fn sign_in(b: &mut Browser, headers: &[(&str, &[u8])]) -> crate::helpers::Reply {
    b.get_with("/signin/institution?next=/support/request", headers)
        .await
}

on_both!(
    the_proxys_headers_sign_in_and_roles_follow_the_groups,
    headers_from_anyone_but_the_proxy_sign_in_nobody,
);

async fn the_proxys_headers_sign_in_and_roles_follow_the_groups(db: TestDb) {
    let app = proxied(db, |_| {}).await;
    let mut b = app.browser();
    let page = b.get("/signin").await;
    assert!(
        page.body
            .contains(r#"href="/signin/institution">Sign in with Example Health"#),
        "{}",
        page.body
    );

    // A first sign-in makes the account, with the name as the directory writes it (in
    // UTF-8, as Shibboleth sends it) and the role its groups give.
    let groups = format!("{FACULTY};{COORDINATORS}");
    let headers = attributes(
        "jose@example.edu",
        "Jose.Muller@example.edu",
        "José Müller",
        &groups,
    );
    let r = sign_in(&mut b, &headers).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/support/request");
    assert!(b.cookies.contains_key("wecare_session"));
    let jose = account(&app, "jose.muller@example.edu").await;
    assert_eq!(jose.display_name, "José Müller");
    assert_eq!(jose.roles, vec![Role::Coordinator]);
    assert_eq!(b.get("/manage/pages").await.status, 200);
    let listed = b.get("/account/sessions").await;
    assert!(listed.status == 200, "{}", listed.body);

    // Signing out ends wecare's session and sends the browser on to end the SAML one.
    let out = b.post("/signout", &[]).await;
    assert_eq!(out.location(), "/Shibboleth.sso/Logout");
    assert_eq!(b.get("/account").await.status, 303);

    // He leaves the coordinators and changes his address: the same account (by eppn)
    // follows, without the role.
    let headers = attributes("jose@example.edu", "jm@example.edu", "José Müller", FACULTY);
    let mut b = app.browser();
    assert_eq!(sign_in(&mut b, &headers).await.status, 303);
    let again = account(&app, "jm@example.edu").await;
    assert_eq!(again.id, jose.id);
    assert!(again.roles.is_empty());
    assert_eq!(b.get("/manage/pages").await.status, 403);

    // Someone with a password account is linked to it by the directory's address.
    let ada = app.account("ada@example.edu", &[Role::Helper]).await;
    let headers = attributes(
        "ada@example.edu",
        "ADA@example.edu",
        "Ada Lovelace",
        FACULTY,
    );
    let mut b = app.browser();
    assert_eq!(sign_in(&mut b, &headers).await.status, 303);
    assert_eq!(account(&app, "ada@example.edu").await.id, ada.id);

    // No longer faculty: refused, and what the groups gave goes; the session ends.
    let mut b2 = app.browser();
    let headers = attributes("jose@example.edu", "jm@example.edu", "José Müller", &groups);
    assert_eq!(sign_in(&mut b2, &headers).await.status, 303);
    assert_eq!(
        account(&app, "jm@example.edu").await.roles,
        vec![Role::Coordinator]
    );
    let headers = attributes("jose@example.edu", "jm@example.edu", "José Müller", "staff");
    let r = sign_in(&mut b, &headers).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("not among those this programme lets in"));
    assert!(account(&app, "jm@example.edu").await.roles.is_empty());
    assert_eq!(b2.get("/manage/pages").await.status, 303, "signed out");

    // Nobody at another domain gets an account.
    let headers = attributes("eve@elsewhere.org", "eve@elsewhere.org", "Eve", FACULTY);
    let r = sign_in(&mut app.browser(), &headers).await;
    assert_eq!(r.status, 403);
    assert!(
        app.store
            .account_by_email(&Email::parse("eve@elsewhere.org").expect("email"))
            .await
            .is_err()
    );
    app.stop().await;
}

async fn headers_from_anyone_but_the_proxy_sign_in_nobody(db: TestDb) {
    // The proxy is elsewhere: the tests' loopback connection is a client reaching
    // wecare directly, with every header the proxy would send, secret included, and an
    // X-Forwarded-For that names the proxy.
    let app = proxied(db, |f| {
        f.proxies = Some(vec!["192.0.2.10".into()]);
    })
    .await;
    app.expect_failures();
    let admin = attributes(
        "mallory@example.edu",
        "admin@example.edu",
        "Mallory",
        FACULTY,
    );
    let mut forged = admin.clone();
    forged.push(("X-Forwarded-For", b"192.0.2.10"));
    let mut b = app.browser();
    let r = sign_in(&mut b, &forged).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("did not pass wecare"), "{}", r.body);
    assert!(!b.cookies.contains_key("wecare_session"));
    assert!(
        app.store
            .account_by_email(&Email::parse("admin@example.edu").expect("email"))
            .await
            .is_err(),
        "no account was made"
    );
    app.stop().await;
}

#[tokio::test]
async fn without_the_proxys_secret_the_headers_are_ignored() {
    let Some(db) = TestDb::new(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let app = proxied(db, |_| {}).await;
    app.expect_failures();
    let victim = app.account("victim@example.edu", &[Role::Admin]).await;
    let full = attributes(
        "victim@example.edu",
        "victim@example.edu",
        "Victim",
        FACULTY,
    );
    let without: Vec<_> = full[1..].to_vec();
    let mut wrong = without.clone();
    wrong.push((
        "X-Wecare-Proxy-Secret",
        b"the-proxy-secret-only-these-tests-knoW",
    ));
    let mut twice = full.clone();
    twice.push(("X-Wecare-Proxy-Secret", b"another"));
    for (what, headers) in [
        ("missing", &without),
        ("wrong", &wrong),
        ("doubled", &twice),
    ] {
        let mut b = app.browser();
        let r = sign_in(&mut b, headers).await;
        assert_eq!(r.status, 400, "{what} secret: {}", r.body);
        assert!(!b.cookies.contains_key("wecare_session"), "{what} secret");
    }
    // With the secret but on any other route, the headers mean nothing.
    let mut b = app.browser();
    let r = b.get_with("/admin/accounts", &full).await;
    assert_eq!(r.status, 303, "sent to sign in");
    assert!(!b.cookies.contains_key("wecare_session"));
    // The proxy let a request through without a SAML session: no identity, no sign-in.
    let r = sign_in(&mut b, &full[..1]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    // Apache's "(null)" for an unset variable is no identity; a header twice (one line
    // from the client, one from the proxy) or two addresses for one person is refused.
    let mut null = full.clone();
    null[1] = ("eppn", b"(null)");
    assert_eq!(sign_in(&mut b, &null).await.status, 502);
    let mut twice_eppn = full.clone();
    twice_eppn.push(("eppn", b"mallory@example.edu"));
    assert_eq!(sign_in(&mut b, &twice_eppn).await.status, 400);
    let mut forged_group = full.clone();
    forged_group.push((
        "isMemberOf",
        b"urn:mace:example.edu:groups:wellbeing-coordinators",
    ));
    assert_eq!(sign_in(&mut b, &forged_group).await.status, 400);
    let mut aliases = full.clone();
    aliases[2] = ("mail", b"victim@example.edu;someone.else@example.edu");
    assert_eq!(sign_in(&mut b, &aliases).await.status, 403);
    assert!(!b.cookies.contains_key("wecare_session"));
    // The one correct request signs the victim in, linked by address.
    let r = sign_in(&mut b, &full).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(account(&app, "victim@example.edu").await.id, victim.id);
    // Password sign-in stays beside it unless the table turns it off.
    let mut p = app.browser();
    assert_eq!(p.sign_in("victim@example.edu", PASSWORD).await.status, 303);
    app.stop().await;
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_beside_the_proxy() {
    let Some(db) = TestDb::new(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let app = proxied(db, |f| f.password_sign_in = Some(false)).await;
    app.account("ada@example.edu", &[]).await;
    let mut b = app.browser();
    let page = b.get("/signin").await;
    assert!(!page.body.contains(r#"name="password""#));
    let r = b.sign_in("ada@example.edu", PASSWORD).await;
    assert_eq!(r.status, 401);
    assert!(
        r.body.contains("through the institution only"),
        "{}",
        r.body
    );
    app.stop().await;
}
