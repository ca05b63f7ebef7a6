//! Single sign-on against a real OpenID provider: node-oidc-provider, run by
//! `tests/support/oidc_provider.mjs`. Skipped, with a reason, when the provider is not
//! installed; CI installs it and sets WECARE_TEST_REQUIRE_OIDC.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use serde_json::{Value, json};
use wecare::config::{OidcFile, parse_oidc};
use wecare::domain::accounts::{Email, Role};

use crate::helpers::{Backend, Browser, PASSWORD, Reply, TestApp, TestDb, serve_config};
use crate::on_both;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/oidc_provider.mjs"
);
const CLIENT_ID: &str = "wecare-test";
const CLIENT_SECRET: &str = "a client secret only these tests know";
const COORDINATORS: &str = "wellbeing-coordinators";

/// The node_modules folder that holds oidc-provider, or why the test is skipped.
fn modules() -> Option<String> {
    let dir = std::env::var("WECARE_TEST_OIDC_PROVIDER").ok().filter(|d| {
        std::path::Path::new(d)
            .join("oidc-provider/package.json")
            .is_file()
    });
    if dir.is_none() {
        assert!(
            std::env::var_os("WECARE_TEST_REQUIRE_OIDC").is_none(),
            "WECARE_TEST_REQUIRE_OIDC is set but WECARE_TEST_OIDC_PROVIDER does not name a node_modules folder with oidc-provider"
        );
        eprintln!(
            "skipped: no OpenID provider to test against (npm install --prefix DIR oidc-provider@9, then set WECARE_TEST_OIDC_PROVIDER=DIR/node_modules)"
        );
    }
    dir
}

/// The provider process; killed when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    fn start(modules: &str, app_url: &str) -> Provider {
        let mut child = Command::new("node")
            .arg(SCRIPT)
            .env("WECARE_OIDC_MODULES", modules)
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", format!("{app_url}/signin/oidc/callback"))
            .env("POST_LOGOUT_URI", format!("{app_url}/"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line)
            .expect("the provider says where it listens");
        // Keep reading: the provider's later notices would otherwise meet a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let port: u16 = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"));
        Provider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Sets the provider's people and test doors (see the script).
    async fn control(&self, body: Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/__control", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("control");
        assert!(r.status().is_success(), "control: {}", r.status());
    }

    fn browser(&self) -> Browser {
        Browser::new(
            self.issuer
                .trim_start_matches("http://")
                .parse()
                .expect("addr"),
        )
    }
}

struct Sso {
    app: TestApp,
    op: Provider,
}

/// wecare and a provider that know each other. `settings` adjusts the `[oidc]` table.
async fn sso(db: TestDb, settings: impl FnOnce(&mut OidcFile)) -> Option<Sso> {
    let modules = modules()?;
    // The provider must know wecare's address before wecare knows the provider's.
    let port = crate::cli::free_port();
    let app_url = format!("http://127.0.0.1:{port}");
    let op = Provider::start(&modules, &app_url);
    let mut file = OidcFile {
        issuer: Some(op.issuer.clone()),
        client_id: Some(CLIENT_ID.into()),
        scopes: Some(vec![
            "openid".into(),
            "email".into(),
            "profile".into(),
            "groups".into(),
        ]),
        button_label: Some("Sign in with Example Health".into()),
        create_accounts: Some(true),
        allowed_email_domains: Some(vec!["example.edu".into()]),
        coordinator_claim: Some(format!("groups={COORDINATORS}")),
        ..Default::default()
    };
    settings(&mut file);
    let db = Arc::new(db);
    let mut cfg = serve_config(&db);
    cfg.bind = format!("127.0.0.1:{port}").parse().expect("addr");
    cfg.public_url = url::Url::parse(&app_url).expect("url");
    cfg.oidc = Some(parse_oidc(&file, Some(CLIENT_SECRET)).expect("the [oidc] table is valid"));
    let app = TestApp::spawn_with(db, cfg).await;
    Some(Sso { app, op })
}

fn person(email: &str, verified: bool, name: &str, groups: &[&str]) -> Value {
    json!({"email": email, "email_verified": verified, "name": name, "groups": groups})
}

/// The path and query of an absolute URL.
fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

impl Sso {
    /// Follows redirects from wecare's sign-in button through the provider until the
    /// provider sends the browser back; returns the callback's path (not yet visited).
    async fn to_callback(&self, b: &mut Browser, op: &mut Browser, next: &str) -> String {
        let r = b.get(&format!("/signin/oidc?next={next}")).await;
        assert_eq!(
            r.status, 303,
            "the button sends the browser away: {}",
            r.body
        );
        let mut to = r.location().to_string();
        for _ in 0..10 {
            if !to.starts_with(&self.op.issuer) {
                assert!(
                    to.contains("/signin/oidc/callback"),
                    "the provider sent the browser to {to}"
                );
                return path_of(&to);
            }
            let r = op.get(&path_of(&to)).await;
            assert!(
                (300..400).contains(&r.status),
                "the provider stopped at {to}: {} {}",
                r.status,
                r.body.chars().take(400).collect::<String>()
            );
            let loc = r.location();
            to = if loc.starts_with('/') {
                format!("{}{loc}", self.op.issuer)
            } else {
                loc.to_string()
            };
        }
        panic!("too many redirects");
    }

    /// Signs in through the provider as `sub`; the reply is wecare's answer to the callback.
    async fn sign_in(&self, b: &mut Browser, sub: &str) -> Reply {
        self.op.control(json!({"auto_login": sub})).await;
        let mut op = self.op.browser();
        let callback = self.to_callback(b, &mut op, "/account").await;
        b.get(&callback).await
    }

    async fn account(&self, email: &str) -> wecare::domain::accounts::Account {
        self.app
            .store
            .account_by_email(&Email::parse(email).expect("email"))
            .await
            .expect("the account exists")
    }
}

fn refused(r: &Reply, status: u16, sentence: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.body.contains(sentence),
        "the page says what happened ({sentence}): {}",
        r.body
    );
    assert!(
        !r.set_cookies()
            .iter()
            .any(|c| c.starts_with("wecare_session=") && !c.starts_with("wecare_session=;")),
        "no session: {:?}",
        r.set_cookies()
    );
    assert!(r.body.contains("mailto:"), "the page says whom to write to");
}

on_both!(
    a_first_sign_in_makes_the_account_and_roles_follow_the_groups,
    an_address_the_provider_has_not_verified_takes_over_nothing,
);

async fn a_first_sign_in_makes_the_account_and_roles_follow_the_groups(db: TestDb) {
    let Some(s) = sso(db, |_| {}).await else {
        return;
    };
    s.op.control(json!({"accounts": {
        "ada-7f3": person("ada@example.edu", true, "Ada Lovelace", &[COORDINATORS, "faculty"]),
    }}))
    .await;

    let mut b = s.app.browser();
    let page = b.get("/signin").await;
    assert!(page.body.contains("Sign in with Example Health"));
    let r = s.sign_in(&mut b, "ada-7f3").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location(), "/account");
    assert!(b.cookies.contains_key("wecare_session"));
    assert!(
        !b.cookies.contains_key("wecare_sign_in_state"),
        "the state is spent"
    );
    let account = s.account("ada@example.edu").await;
    assert_eq!(account.display_name, "Ada Lovelace");
    assert_eq!(account.roles, vec![Role::Coordinator]);
    assert!(b.get("/manage/pages").await.status == 200, "a coordinator");

    // Signing out ends wecare's session and sends the browser on to end the provider's.
    let out = b.post("/signout", &[]).await;
    assert_eq!(out.status, 303);
    let logout = url::Url::parse(out.location()).expect("an absolute address");
    assert!(
        out.location()
            .starts_with(&format!("{}/session/end", s.op.issuer))
    );
    let q: Vec<(String, String)> = logout.query_pairs().into_owned().collect();
    assert!(q.contains(&("client_id".into(), CLIENT_ID.into())));
    assert!(q.contains(&("post_logout_redirect_uri".into(), s.app.url("/"))));
    assert_eq!(b.get("/account").await.status, 303, "signed out here");

    // She leaves the coordinators' group, changes her name and her address: at her next
    // sign-in the role goes, and the same account (found by her provider id) follows.
    s.op.control(json!({"accounts": {
        "ada-7f3": person("ada.king@example.edu", true, "Ada King", &["faculty"]),
    }}))
    .await;
    let mut b = s.app.browser();
    let r = s.sign_in(&mut b, "ada-7f3").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let again = s.account("ada.king@example.edu").await;
    assert_eq!(again.id, account.id, "the provider's id, not the address");
    assert_eq!(again.display_name, "Ada King");
    assert!(again.roles.is_empty(), "the group went, so did the role");
    assert_eq!(b.get("/manage/pages").await.status, 403);

    // A role a coordinator gave in wecare stays: only roles from claims follow claims.
    s.app
        .store
        .update_account_access(again.id, &[Role::Helper], true)
        .await
        .expect("access");
    s.op.control(json!({"accounts": {
        "ada-7f3": person("ada.king@example.edu", true, "Ada King", &[COORDINATORS]),
    }}))
    .await;
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "ada-7f3").await.status, 303);
    let roles = s.account("ada.king@example.edu").await.roles;
    assert_eq!(roles, vec![Role::Helper, Role::Coordinator]);
    s.op.control(json!({"accounts": {
        "ada-7f3": person("ada.king@example.edu", true, "Ada King", &[]),
    }}))
    .await;
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "ada-7f3").await.status, 303);
    assert_eq!(
        s.account("ada.king@example.edu").await.roles,
        vec![Role::Helper]
    );
}

async fn an_address_the_provider_has_not_verified_takes_over_nothing(db: TestDb) {
    let Some(s) = sso(db, |_| {}).await else {
        return;
    };
    let existing = s
        .app
        .account("grace@example.edu", &[Role::Coordinator])
        .await;
    s.op.control(json!({"accounts": {
        "mallory": person("grace@example.edu", false, "Not Grace", &[]),
        "grace-1": person("grace@example.edu", true, "Grace Hopper", &[]),
        "grace-2": person("grace@example.edu", true, "Another Grace", &[]),
    }}))
    .await;
    let mut b = s.app.browser();
    let r = s.sign_in(&mut b, "mallory").await;
    refused(&r, 403, "did not confirm your e-mail address");
    assert_eq!(
        s.account("grace@example.edu").await.display_name,
        existing.display_name
    );

    // Verified, it links to the password account she already has, roles and all.
    let mut b = s.app.browser();
    let r = s.sign_in(&mut b, "grace-1").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let linked = s.account("grace@example.edu").await;
    assert_eq!(linked.id, existing.id);
    assert_eq!(linked.roles, vec![Role::Coordinator]);
    assert_eq!(linked.display_name, "Grace Hopper");
    // Her password still works beside it (password sign-in is on by default).
    let mut p = s.app.browser();
    assert_eq!(p.sign_in("grace@example.edu", PASSWORD).await.status, 303);

    // A second person at the provider with the same address does not get her account.
    let mut b = s.app.browser();
    let r = s.sign_in(&mut b, "grace-2").await;
    refused(&r, 403, "signs in as someone else");
}

#[tokio::test]
async fn a_tampered_id_token_is_refused_with_a_page_and_no_session() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let Some(s) = sso(db, |_| {}).await else {
        return;
    };
    s.op.control(json!({"accounts": {
        "ada": person("ada@example.edu", true, "Ada", &[COORDINATORS]),
    }}))
    .await;
    for tamper in ["audience", "nonce", "issuer", "expired", "signature"] {
        s.op.control(json!({"tamper": tamper})).await;
        let mut b = s.app.browser();
        let r = s.sign_in(&mut b, "ada").await;
        assert_eq!(r.status, 400, "{tamper}: {}", r.body);
        refused(&r, 400, "did not pass wecare");
        assert!(!b.cookies.contains_key("wecare_session"), "{tamper}");
    }
    assert!(
        s.app
            .store
            .account_by_email(&Email::parse("ada@example.edu").expect("email"))
            .await
            .is_err(),
        "no account was made from a token that failed its checks"
    );
    // The same person, untampered, gets in.
    s.op.control(json!({"tamper": null})).await;
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "ada").await.status, 303);
}

#[tokio::test]
async fn an_answer_carried_to_another_browser_replayed_or_late_is_refused() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let Some(s) = sso(db, |_| {}).await else {
        return;
    };
    s.op.control(json!({"accounts": {"ada": person("ada@example.edu", true, "Ada", &[])}, "auto_login": "ada"}))
        .await;

    // Login CSRF: an attacker's callback opened in the victim's browser.
    let mut attacker = s.app.browser();
    let mut op = s.op.browser();
    let callback = s.to_callback(&mut attacker, &mut op, "/account").await;
    let stolen_state = attacker.cookies["wecare_sign_in_state"].clone();
    let mut victim = s.app.browser();
    refused(&victim.get(&callback).await, 400, "did not pass wecare");

    // The right browser finishes; replaying the answer, even with the state cookie
    // copied, finds it used.
    assert_eq!(attacker.get(&callback).await.status, 303);
    let mut copy = s.app.browser();
    copy.cookies
        .insert("wecare_sign_in_state".into(), stolen_state);
    refused(&copy.get(&callback).await, 400, "has been used already");

    // An answer with the wrong `iss` (a mix-up with another provider) is refused.
    let mut b = s.app.browser();
    let mut op = s.op.browser();
    let callback = s.to_callback(&mut b, &mut op, "/account").await;
    let at = callback
        .find("&iss=")
        .expect("the provider sends iss (RFC 9207)");
    let forged = format!("{}&iss=http%3A%2F%2F127.0.0.1%3A1", &callback[..at]);
    assert_ne!(forged, callback, "the provider sends iss: {callback}");
    refused(&b.get(&forged).await, 400, "did not pass wecare");

    // A sign-in left at the provider's pages for more than fifteen minutes.
    let mut b = s.app.browser();
    let mut op = s.op.browser();
    let callback = s.to_callback(&mut b, &mut op, "/account").await;
    s.app.store.clock().advance(16 * 60);
    refused(&b.get(&callback).await, 400, "started too long ago");

    // The next page is a path on this site, never another site.
    let mut b = s.app.browser();
    let mut op = s.op.browser();
    let callback = s
        .to_callback(&mut b, &mut op, "https%3A%2F%2Fevil.example%2F")
        .await;
    let r = b.get(&callback).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with('/'), "{}", r.location());
}

#[tokio::test]
async fn who_may_come_in_is_the_programmes_choice() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let Some(s) = sso(db, |f| f.required_claim = Some("groups=faculty".into())).await else {
        return;
    };
    s.app.account("pat@elsewhere.org", &[]).await;
    s.op.control(json!({"accounts": {
        "student": person("sam@example.edu", true, "Sam", &["students"]),
        "outsider": person("olga@elsewhere.org", true, "Olga", &["faculty"]),
        "pat": person("pat@elsewhere.org", true, "Pat", &["faculty"]),
        "ada": person("ada@example.edu", true, "Ada", &["faculty", COORDINATORS]),
    }}))
    .await;
    let mut b = s.app.browser();
    refused(
        &s.sign_in(&mut b, "student").await,
        403,
        "not among those this programme lets in",
    );
    let mut b = s.app.browser();
    refused(
        &s.sign_in(&mut b, "outsider").await,
        403,
        "no wecare account for you yet",
    );
    // An account at a domain the settings do not allow is not linked either.
    let mut b = s.app.browser();
    refused(
        &s.sign_in(&mut b, "pat").await,
        403,
        "not among those this programme lets in",
    );
    let mut ada_browser = s.app.browser();
    assert_eq!(s.sign_in(&mut ada_browser, "ada").await.status, 303);
    assert_eq!(
        s.account("ada@example.edu").await.roles,
        vec![Role::Coordinator]
    );

    // Ada leaves the faculty group: she is refused, the role her claims gave goes, and
    // the session she began at the provider ends.
    s.op.control(json!({"accounts": {
        "ada": person("ada@example.edu", true, "Ada", &["emeriti", COORDINATORS]),
    }}))
    .await;
    let mut b = s.app.browser();
    refused(
        &s.sign_in(&mut b, "ada").await,
        403,
        "not among those this programme lets in",
    );
    assert!(s.account("ada@example.edu").await.roles.is_empty());
    assert_eq!(ada_browser.get("/account").await.status, 303, "signed out");
    s.op.control(json!({"accounts": {
        "ada": person("ada@example.edu", true, "Ada", &["faculty"]),
    }}))
    .await;

    // Switched off in wecare: the provider's word does not switch it on again.
    let ada = s.account("ada@example.edu").await;
    s.app
        .store
        .update_account_access(ada.id, &[], false)
        .await
        .expect("switch off");
    let mut b = s.app.browser();
    refused(&s.sign_in(&mut b, "ada").await, 403, "switched off");

    // A person who cancels at the provider's page.
    s.op.control(json!({"auto_login": null})).await;
    let mut b = s.app.browser();
    let r = b.get("/signin/oidc?next=/account").await;
    let mut op = s.op.browser();
    let r = op.get(&path_of(r.location())).await;
    let interaction = path_of(&format!("{}{}", s.op.issuer, r.location()));
    assert!(interaction.starts_with("/interaction/"), "{interaction}");
    let mut to = format!("{}{interaction}/abort", s.op.issuer);
    let callback = loop {
        let r = op.get(&path_of(&to)).await;
        let loc = r.location().to_string();
        if loc.contains("/signin/oidc/callback") {
            break path_of(&loc);
        }
        assert!((300..400).contains(&r.status), "{} {}", r.status, r.body);
        to = if loc.starts_with('/') {
            format!("{}{loc}", s.op.issuer)
        } else {
            loc
        };
    };
    refused(&b.get(&callback).await, 400, "cancelled");
}

#[tokio::test]
async fn the_last_administrator_stays_when_the_claim_goes() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let Some(s) = sso(db, |f| f.admin_claim = Some("groups=it".into())).await else {
        return;
    };
    s.op.control(json!({"accounts": {
        "root": person("root@example.edu", true, "Root", &["it"]),
        "deputy": person("deputy@example.edu", true, "Deputy", &["it"]),
    }}))
    .await;
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "root").await.status, 303);
    assert_eq!(s.account("root@example.edu").await.roles, vec![Role::Admin]);
    // The provider stops sending the group (renamed, or too many to list): the only
    // administrator keeps the role, rather than leave the programme with none.
    s.op.control(json!({"accounts": {
        "root": person("root@example.edu", true, "Root", &[]),
        "deputy": person("deputy@example.edu", true, "Deputy", &["it"]),
    }}))
    .await;
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "root").await.status, 303);
    assert_eq!(s.account("root@example.edu").await.roles, vec![Role::Admin]);
    // With another administrator, it goes.
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "deputy").await.status, 303);
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "root").await.status, 303);
    assert!(s.account("root@example.edu").await.roles.is_empty());
}

#[tokio::test]
async fn with_password_sign_in_off_only_the_provider_signs_in() {
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let Some(s) = sso(db, |f| {
        f.password_sign_in = Some(false);
        f.create_accounts = Some(false);
    })
    .await
    else {
        return;
    };
    s.app.account("ada@example.edu", &[]).await;
    let mut b = s.app.browser();
    let page = b.get("/signin").await;
    assert!(page.body.contains("Sign in with Example Health"));
    assert!(
        !page.body.contains("type=\"password\""),
        "no password field: {}",
        page.body
    );
    let r = b.sign_in("ada@example.edu", PASSWORD).await;
    assert_ne!(r.status, 303, "a password does not sign in");
    assert!(
        r.body.contains("signs in through the institution only"),
        "{}",
        r.body
    );
    assert!(!b.cookies.contains_key("wecare_session"));
    let r = b
        .post("/password-reset", &[("email", "ada@example.edu")])
        .await;
    assert!(
        r.body.contains("signs in through the institution only"),
        "{}",
        r.body
    );
    // A set-up link (made before password sign-in was turned off) is no way round the
    // provider; an administrator adding someone now sends none.
    let ada = s
        .app
        .store
        .account_by_email(&wecare::domain::accounts::Email::parse("ada@example.edu").expect("e"))
        .await
        .expect("ada");
    let secret = s
        .app
        .store
        .create_setup_link(ada.id, 3600, None)
        .await
        .expect("link");
    let r = b.get(&format!("/setup/{secret}")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("signs in through the institution only"),
        "{}",
        r.body
    );
    let r = b
        .post(
            &format!("/setup/{secret}"),
            &[
                ("password", "a long new password 1"),
                ("confirm", "a long new password 1"),
            ],
        )
        .await;
    assert_ne!(r.status, 303);
    assert!(!b.cookies.contains_key("wecare_session"));
    let root = s.app.account("root@example.edu", &[Role::Admin]).await;
    let token = s.app.token_for(&root).await;
    let added = crate::helpers::api(
        &s.app,
        reqwest::Method::POST,
        "/api/v1/accounts",
        Some(&token),
        Some(json!({"email": "cy@example.edu", "display_name": "Cy Young", "roles": []})),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(added.json().get("setup_url").is_none(), "{}", added.body);
    assert!(
        crate::accounts::mails_to(&s.app, "cy@example.edu")
            .await
            .is_empty(),
        "no link sent"
    );

    // Without account creation, someone the programme has not added is told so.
    s.op.control(json!({"accounts": {
        "bob": person("bob@example.edu", true, "Bob", &[]),
        "ada": person("ada@example.edu", true, "Ada", &[]),
    }}))
    .await;
    let mut b = s.app.browser();
    refused(
        &s.sign_in(&mut b, "bob").await,
        403,
        "no wecare account for you yet",
    );
    let mut b = s.app.browser();
    assert_eq!(s.sign_in(&mut b, "ada").await.status, 303);
}

#[tokio::test]
async fn a_provider_that_does_not_answer_gets_a_page_not_an_error() {
    let db = Arc::new(TestDb::new(Backend::Sqlite).await.expect("SQLite"));
    let mut cfg = serve_config(&db);
    let closed = crate::cli::free_port();
    let file = OidcFile {
        issuer: Some(format!("http://127.0.0.1:{closed}")),
        client_id: Some(CLIENT_ID.into()),
        ..Default::default()
    };
    cfg.oidc = Some(parse_oidc(&file, Some(CLIENT_SECRET)).expect("valid"));
    let app = TestApp::spawn_with(db, cfg).await;
    let mut b = app.browser();
    let r = b.get("/signin/oidc").await;
    refused(&r, 502, "did not answer as expected");
    assert_eq!(r.header("cache-control"), "no-store");
    // Password sign-in still works while the provider is away.
    app.account("ada@example.edu", &[]).await;
    assert_eq!(b.sign_in("ada@example.edu", PASSWORD).await.status, 303);
}

/// The whole journey in Chromium: the button, the provider's own login and consent
/// pages, back to the page asked for, and out again through the provider.
#[tokio::test]
async fn a_person_signs_in_and_out_through_the_provider_in_a_browser() {
    use crate::browser::{click, fill, wait_for};
    let db = TestDb::new(Backend::Sqlite).await.expect("SQLite");
    let Some(s) = sso(db, |_| {}).await else {
        return;
    };
    let Some((_driver, c)) = crate::browser::browser().await else {
        return;
    };
    s.op.control(json!({"accounts": {
        "ada": person("ada@example.edu", true, "Ada Lovelace", &[]),
    }}))
    .await;
    c.goto(&s.app.url("/account")).await.expect("account");
    // Sent to sign in, with the page to come back to.
    click(&c, "a.single-sign-on").await;
    fill(&c, "input[name=login]", "ada").await;
    fill(&c, "input[name=password]", "anything").await;
    click(&c, "button[type=submit]").await;
    wait_for(&c, "Authorize").await;
    click(&c, "button[autofocus]").await;
    let page = wait_for(&c, "Ada Lovelace").await;
    let here = c.current_url().await.expect("url");
    assert_eq!(here.path(), "/account", "{page}");

    click(&c, "form[action='/signout'] button").await;
    wait_for(&c, "Yes, sign me out").await;
    click(&c, "button[name=logout]").await;
    for _ in 0..100 {
        if c.current_url().await.expect("url").as_str() == s.app.url("/") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(c.current_url().await.expect("url").as_str(), s.app.url("/"));
    c.goto(&s.app.url("/account")).await.expect("account");
    assert_eq!(c.current_url().await.expect("url").path(), "/signin");
    let _ = c.close().await;
}
