//! Who may use which route, for every route there is (issue 11). The HTML routes are read
//! from `src/web` (every `.route("…", get(…).post(…))`), the API operations from the
//! OpenAPI document, so a new route without an entry here fails this test until someone
//! says who may use it, and then the server is held to it: each route is called by an
//! anonymous browser, a member, a helper, a coordinator and an administrator (a session
//! for pages, a token for the API), on both databases.
//!
//! A caller with the right role must get past the door (anything but 401, 403 or a
//! redirect to sign in: a made-up id may well be 404); anyone else must be stopped there.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::json;
use wecare::domain::accounts::Role;

use crate::helpers::{Browser, Reply, TestApp, TestDb, api};
use crate::on_both;

/// Who a route is for. `Public` includes routes whose authority is a secret in the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    Public,
    Member,
    Helper,
    Coordinator,
    Admin,
}

/// Every HTML route, by its path as registered, with who may use it.
const PAGES: &[(&str, Door)] = &[
    ("/", Door::Public),
    ("/programmes", Door::Public),
    ("/programmes/{slug}", Door::Public),
    ("/programmes/{slug}/feed.ics", Door::Public),
    ("/{slug}", Door::Public),
    ("/healthz", Door::Public),
    ("/readyz", Door::Public),
    ("/static/style.css", Door::Public),
    ("/theme.css", Door::Public),
    ("/events", Door::Public),
    ("/events/feed.ics", Door::Public),
    ("/events/{id}", Door::Public),
    ("/events/{id}/register", Door::Public),
    ("/registration/confirm/{secret}", Door::Public),
    ("/registration/{secret}", Door::Public),
    ("/registration/{secret}/cancel", Door::Public),
    ("/registration/{secret}/accept", Door::Public),
    ("/calendar/{token}", Door::Public),
    ("/unsubscribe/{secret}", Door::Public),
    ("/signin", Door::Public),
    ("/signin/oidc", Door::Public),
    ("/signin/oidc/callback", Door::Public),
    ("/signin/institution", Door::Public),
    ("/setup/{secret}", Door::Public),
    ("/password-reset", Door::Public),
    ("/signup", Door::Public),
    ("/signup/{secret}", Door::Public),
    ("/support/request", Door::Public),
    ("/support/status", Door::Public),
    ("/support/withdraw", Door::Public),
    ("/support/feedback", Door::Public),
    ("/support/choose", Door::Public),
    ("/helpers", Door::Public),
    ("/resources", Door::Public),
    ("/account", Door::Member),
    ("/account/password", Door::Member),
    ("/account/mail", Door::Member),
    ("/account/developers", Door::Member),
    ("/account/sessions", Door::Member),
    ("/account/sessions/end-others", Door::Member),
    ("/account/sessions/{handle}/end", Door::Member),
    ("/support/mine/{id}/withdraw", Door::Member),
    ("/account/tokens", Door::Member),
    ("/account/tokens/{id}/revoke", Door::Member),
    ("/account/events", Door::Member),
    ("/account/events/feed", Door::Member),
    ("/support/refer", Door::Member),
    ("/support/mine", Door::Member),
    ("/helpers/apply", Door::Member),
    ("/helper/profile", Door::Helper),
    ("/helper/cases", Door::Helper),
    ("/helper/cases/{id}", Door::Helper),
    ("/helper/cases/{id}/contacts", Door::Helper),
    ("/helper/cases/{id}/escalate", Door::Helper),
    ("/helper/cases/{id}/close", Door::Helper),
    ("/helper/offers/{id}/accept", Door::Helper),
    ("/helper/offers/{id}/decline", Door::Helper),
    ("/support/queue", Door::Coordinator),
    ("/support/queue/plan", Door::Coordinator),
    ("/support/queue/{id}", Door::Coordinator),
    ("/support/queue/{id}/offer", Door::Coordinator),
    ("/support/queue/{id}/offer-next", Door::Coordinator),
    ("/support/queue/{id}/reveal", Door::Coordinator),
    ("/support/queue/{id}/take-back", Door::Coordinator),
    ("/support/settings", Door::Coordinator),
    ("/support/helpers", Door::Coordinator),
    ("/support/helpers/{id}/training", Door::Coordinator),
    ("/support/applications/{id}", Door::Coordinator),
    ("/support/resources", Door::Coordinator),
    ("/support/resources/{key}", Door::Coordinator),
    ("/checkin/{token}", Door::Coordinator),
    ("/manage", Door::Coordinator),
    ("/manage/pages", Door::Coordinator),
    ("/manage/pages/{slug}", Door::Coordinator),
    ("/manage/settings", Door::Coordinator),
    ("/manage/messages", Door::Coordinator),
    ("/manage/messages/{kind}", Door::Coordinator),
    ("/manage/series", Door::Coordinator),
    ("/manage/series/{slug}", Door::Coordinator),
    ("/manage/events", Door::Coordinator),
    ("/manage/events/counts.csv", Door::Coordinator),
    ("/manage/events/new", Door::Coordinator),
    ("/manage/events/{id}", Door::Coordinator),
    ("/manage/events/{id}/cancel", Door::Coordinator),
    ("/manage/events/{id}/draw", Door::Coordinator),
    ("/manage/events/{id}/registrations", Door::Coordinator),
    ("/manage/events/{id}/registrations.csv", Door::Coordinator),
    (
        "/manage/events/{id}/registrations/{rid}/check-in",
        Door::Coordinator,
    ),
    (
        "/manage/events/{id}/registrations/{rid}/place",
        Door::Coordinator,
    ),
    (
        "/manage/events/{id}/registrations/{rid}/cancel",
        Door::Coordinator,
    ),
    ("/manage/events/{id}/volunteers", Door::Coordinator),
    (
        "/manage/events/{id}/volunteers/{account}/remove",
        Door::Coordinator,
    ),
    ("/manage/volunteers", Door::Coordinator),
    ("/manage/volunteers/policy", Door::Coordinator),
    ("/manage/consent", Door::Coordinator),
    ("/pledge", Door::Public),
    ("/pledge/sign", Door::Member),
    ("/pledge/withdraw", Door::Member),
    ("/pledge/listing", Door::Member),
    ("/pledge/versions", Door::Public),
    ("/pledge/versions/{id}", Door::Public),
    ("/manage/pledge", Door::Coordinator),
    ("/manage/pledge/settings", Door::Coordinator),
    ("/manage/pledge/signatures.csv", Door::Coordinator),
    ("/admin/accounts", Door::Admin),
    ("/admin/accounts/{id}", Door::Admin),
    ("/admin/import", Door::Admin),
    ("/admin/import/confirm", Door::Admin),
    ("/admin/audit", Door::Admin),
    ("/admin/outbox", Door::Admin),
    ("/admin/outbox/test", Door::Admin),
    ("/admin/outbox/{id}/retry", Door::Admin),
    ("/admin/outbox/{id}/cancel", Door::Admin),
];

/// Routes left out of the walk, each with the reason and where it is tested instead.
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "/signout",
        "ends the caller's own session; accounts::sign_in_and_out",
    ),
    (
        "/metrics",
        "takes the metrics bearer token, not a session; security::health_readiness_openapi_and_metrics",
    ),
];

/// Every `(method, path)` the router registers, read from the sources of `src/web`.
fn registered_pages() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/web"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/web") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let mut rest = text.as_str();
            while let Some(at) = rest.find(".route(") {
                rest = &rest[at + ".route(".len()..];
                let Some(open) = rest.find('"') else { break };
                let after = &rest[open + 1..];
                let close = after.find('"').expect("closing quote");
                let route = after[..close].to_string();
                // The handlers up to the call's closing parenthesis.
                let mut depth = 1;
                let mut end = 0;
                for (i, c) in rest.char_indices() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                let handlers = &rest[open + close + 2..end];
                for (word, method) in [("get(", "GET"), ("post(", "POST")] {
                    if handlers.contains(word) && !route.starts_with("/api/") {
                        out.insert((method.to_string(), route.clone()));
                    }
                }
            }
        }
    }
    out
}

fn concrete(template: &str) -> String {
    template
        .replace("{id}", "1")
        .replace("{rid}", "2")
        .replace("{account}", "3")
        .replace("{slug}", "about")
        .replace("{secret}", "not-a-secret")
        .replace("{token}", "not-a-token")
        .replace("{key}", "eap")
        .replace("{kind}", "registration_confirmed")
        .replace("{registration}", "2")
        .replace("{handle}", "0123abcd")
}

/// Who calls: anyone, or a signed-in member holding one role (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Member,
    Helper,
    Coordinator,
    Admin,
}

impl Caller {
    fn roles(self) -> &'static [Role] {
        match self {
            Caller::Anonymous | Caller::Member => &[],
            Caller::Helper => &[Role::Helper],
            Caller::Coordinator => &[Role::Coordinator],
            Caller::Admin => &[Role::Admin],
        }
    }
}

/// Whether `door` lets `caller` through.
fn opens(door: Door, caller: Caller) -> bool {
    match door {
        Door::Public => true,
        Door::Member => caller != Caller::Anonymous,
        Door::Helper => caller == Caller::Helper,
        Door::Coordinator => caller == Caller::Coordinator,
        Door::Admin => caller == Caller::Admin,
    }
}

fn sent_to_sign_in(r: &Reply) -> bool {
    r.status == 303
        && r.headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/signin"))
}

async fn every_route_lets_in_exactly_who_it_is_for(db: TestDb) {
    let app = TestApp::spawn(db).await;

    // The table and the router agree.
    let registered = registered_pages();
    let listed: BTreeSet<&str> = PAGES.iter().map(|(p, _)| *p).collect();
    for (method, path) in &registered {
        let elsewhere = ELSEWHERE.iter().any(|(p, _)| p == path);
        assert!(
            listed.contains(path.as_str()) || elsewhere,
            "{method} {path} is registered but not in the authorization table: say who may use it"
        );
    }
    for path in &listed {
        assert!(
            registered.iter().any(|(_, p)| p == path),
            "{path} is in the table but no longer registered"
        );
    }

    let mut browsers: Vec<(Caller, Browser)> = Vec::new();
    let mut tokens: Vec<(Caller, Option<String>)> = Vec::new();
    for caller in [
        Caller::Anonymous,
        Caller::Member,
        Caller::Helper,
        Caller::Coordinator,
        Caller::Admin,
    ] {
        if caller == Caller::Anonymous {
            browsers.push((caller, app.browser()));
            tokens.push((caller, None));
            continue;
        }
        let name = format!("{caller:?}").to_lowercase();
        let page_email = format!("{name}@example.edu");
        browsers.push((caller, app.signed_in(&page_email, caller.roles()).await));
        let account = app
            .account(&format!("{name}-api@example.edu"), caller.roles())
            .await;
        tokens.push((caller, Some(app.token_for(&account).await)));
    }

    let mut checked = 0;
    for (method, template) in &registered {
        let Some((_, door)) = PAGES.iter().find(|(p, _)| p == template) else {
            continue;
        };
        let path = concrete(template);
        for (caller, browser) in browsers.iter_mut() {
            let r = if method == "GET" {
                browser.get(&path).await
            } else {
                browser.post(&path, &[]).await
            };
            let who = format!("{caller:?}");
            // A wrong password is the sign-in form's own answer, not a door.
            let refused_sign_in = r.status == 401 && template != "/signin";
            if opens(*door, *caller) {
                assert!(
                    !refused_sign_in && r.status != 403 && !sent_to_sign_in(&r),
                    "{method} {template} is for {door:?}, yet {who} was stopped: {} {}",
                    r.status,
                    r.body.chars().take(300).collect::<String>()
                );
            } else if *caller == Caller::Anonymous {
                assert!(
                    sent_to_sign_in(&r),
                    "{method} {template} is for {door:?}: an anonymous caller is sent to sign in, got {}",
                    r.status
                );
            } else {
                assert_eq!(
                    r.status, 403,
                    "{method} {template} is for {door:?}: {who} is refused"
                );
            }
            checked += 1;
        }
    }

    // The API: the document says who may use each operation (the bearer scope), and the
    // server answers accordingly.
    let doc = api(&app, Method::GET, "/api/openapi.json", None, None)
        .await
        .json();
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (template, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            let method: Method = method.to_uppercase().parse().expect("method");
            let security = op["security"].as_array().cloned().unwrap_or_default();
            let optional = security
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let scopes: Vec<String> = security
                .iter()
                .filter_map(|s| s["bearer"].as_array())
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let door = match (
                security.is_empty() || optional,
                scopes.first().map(String::as_str),
            ) {
                (true, _) => Door::Public,
                (false, None) => Door::Member,
                (false, Some("helper")) => Door::Helper,
                (false, Some("coordinator")) => Door::Coordinator,
                (false, Some("admin")) => Door::Admin,
                (false, Some(other)) => panic!("{method} {template}: unknown role {other}"),
            };
            let path = concrete(template);
            let body = (method == Method::POST || method == Method::PUT).then(|| json!({}));
            for (caller, token) in &tokens {
                let r = api(&app, method.clone(), &path, token.as_deref(), body.clone()).await;
                let who = format!("{caller:?}");
                if opens(door, *caller) {
                    assert!(
                        r.status != 401 && r.status != 403,
                        "{method} {template} is for {door:?}, yet {who} got {}: {}",
                        r.status,
                        r.body
                    );
                } else {
                    let expected = if *caller == Caller::Anonymous {
                        401
                    } else {
                        403
                    };
                    assert_eq!(
                        r.status, expected,
                        "{method} {template} is for {door:?}: {who}: {}",
                        r.body
                    );
                }
            }
            operations += 1;
        }
    }
    assert!(
        checked > 400 && operations > 50,
        "{checked} page calls, {operations} operations"
    );
    eprintln!(
        "authorization: {} page routes × 5 callers, {operations} API operations × 5 callers",
        checked / 5
    );
}

on_both!(every_route_lets_in_exactly_who_it_is_for);
