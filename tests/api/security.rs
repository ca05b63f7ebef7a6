//! CSRF, security headers, operational endpoints, OpenAPI and metrics.

use reqwest::Method;
use wecare::domain::accounts::Role;

use crate::helpers::{PASSWORD, TestApp, TestDb, api, serve_config};
use crate::on_both;

on_both!(
    forms_without_the_csrf_token_are_refused,
    every_response_has_security_headers,
    health_readiness_openapi_and_metrics,
    behind_https_cookies_are_secure,
);

async fn forms_without_the_csrf_token_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    app.account("csrf@example.edu", &[Role::Coordinator]).await;
    let mut b = app.browser();
    b.get("/signin").await;
    let token = b.cookies.get("wecare_csrf").cloned().expect("csrf cookie");

    let fields = [("email", "csrf@example.edu"), ("password", PASSWORD)];
    let r = b.post_raw("/signin", &fields, None).await;
    assert_eq!(r.status, 403, "no token");
    assert!(r.body.contains("This form has expired"));
    let wrong = [
        ("csrf_token", "00ff"),
        ("email", "csrf@example.edu"),
        ("password", PASSWORD),
    ];
    assert_eq!(
        b.post_raw("/signin", &wrong, None).await.status,
        403,
        "wrong token"
    );
    let right = [
        ("csrf_token", token.as_str()),
        ("email", "csrf@example.edu"),
        ("password", PASSWORD),
    ];
    assert_eq!(
        b.post_raw("/signin", &right, Some("https://evil.example"))
            .await
            .status,
        403,
        "cross-site origin"
    );
    // A browser with no CSRF cookie at all (a cross-site post) is refused too.
    let mut stranger = app.browser();
    assert_eq!(stranger.post_raw("/signin", &right, None).await.status, 403);
    assert!(!b.cookies.contains_key("wecare_session"));

    // Browsers send `Origin: null` under `Referrer-Policy: no-referrer`: the token decides.
    let mut null_origin = app.browser();
    null_origin.get("/").await;
    let token = null_origin
        .cookies
        .get("wecare_csrf")
        .cloned()
        .unwrap_or_default();
    let with_token = [
        ("csrf_token", token.as_str()),
        ("email", "nobody@example.edu"),
        ("password", "wrong wrong wrong"),
    ];
    let r = null_origin
        .post_raw("/signin", &with_token, Some("null"))
        .await;
    assert_eq!(r.status, 401, "reaches the form handler: {}", r.body);
    let r = null_origin
        .post_raw("/signin", &with_token[1..], Some("null"))
        .await;
    assert_eq!(r.status, 403, "but not without the token");

    let own_origin = format!("http://{}", app.addr);
    let r = b.post_raw("/signin", &right, Some(&own_origin)).await;
    assert_eq!(r.status, 303, "{}", r.body);

    // Signed in, a state change without the token still fails and changes nothing.
    let r = b
        .post_raw(
            "/manage/pages/about",
            &[("title", "Changed"), ("body_md", "x"), ("action", "save")],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.store.page("about").await.expect("page").title,
        "About the programme"
    );
}

async fn every_response_has_security_headers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut b = app.browser();
    for path in ["/", "/signin", "/nowhere", "/healthz", "/static/style.css"] {
        let r = b.get(path).await;
        let h = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let csp = h("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(h("x-request-id").len(), 16, "{path}");
    }
    let page = b.get("/").await.body;
    assert!(
        !page.contains("<script"),
        "pages work without JavaScript and load none"
    );
    assert!(!page.contains("https://"), "no request to any third party");
}

const METRICS_TOKEN: &str = "scrape-0123456789abcdef0123456789";

async fn health_readiness_openapi_and_metrics(db: TestDb) {
    let mut cfg = serve_config(&db);
    cfg.metrics_token = Some(wecare::config::MetricsToken(METRICS_TOKEN.into()));
    let app = TestApp::spawn_with(std::sync::Arc::new(db), cfg).await;
    assert_eq!(
        api(&app, Method::GET, "/healthz", None, None).await.status,
        200
    );
    assert_eq!(
        api(&app, Method::GET, "/readyz", None, None).await.status,
        200
    );

    let doc = api(&app, Method::GET, "/api/openapi.json", None, None)
        .await
        .json();
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/me",
        "/api/v1/pages",
        "/api/v1/pages/{slug}",
        "/api/v1/settings",
        "/api/v1/series",
        "/api/v1/accounts",
        "/api/v1/accounts/{id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let r = api(&app, Method::GET, "/api/v1/nothing-here", None, None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "not_found");

    // The counters show when support requests are filed and answered: not public.
    let anonymous = api(&app, Method::GET, "/metrics", None, None).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert!(!anonymous.body.contains("wecare_http_requests_total"));
    let wrong = api(&app, Method::GET, "/metrics", Some("scrape-wrong"), None).await;
    assert_eq!(wrong.status, 401);
    let member = app.account("metrics-member@example.edu", &[]).await;
    let member_token = app.token_for(&member).await;
    let r = api(&app, Method::GET, "/metrics", Some(&member_token), None).await;
    assert_eq!(r.status, 403, "a member's token does not read metrics");
    let admin = app
        .account("metrics-admin@example.edu", &[Role::Admin])
        .await;
    let admin_token = app.token_for(&admin).await;
    let r = api(&app, Method::GET, "/metrics", Some(&admin_token), None).await;
    assert_eq!(r.status, 200, "an administrator's token reads metrics");
    // Prometheus sends the configured token; the scheme's case does not matter.
    let scraped = reqwest::Client::new()
        .get(app.url("/metrics"))
        .header("authorization", format!("bearer {METRICS_TOKEN}"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(scraped.status(), 200);
    let metrics = scraped.text().await.expect("body");
    assert!(
        metrics.contains(
            "wecare_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("wecare_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("wecare_db_pool_connections"));
    assert!(
        metrics.contains("wecare_outbox_messages{status=\"failed\"} 0"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("nothing-here"),
        "unmatched paths are not labels"
    );
}

async fn behind_https_cookies_are_secure(db: TestDb) {
    // A public https address (TLS ends at the reverse proxy) makes cookies Secure and
    // turns on HSTS.
    let mut cfg = serve_config(&db);
    cfg.public_url = url::Url::parse("https://wellbeing.example.edu").expect("url");
    let app = TestApp::spawn_with(std::sync::Arc::new(db), cfg).await;
    app.account("tls@example.edu", &[]).await;
    let mut b = app.browser();
    let first = b.get("/signin").await;
    assert!(
        first.set_cookies().iter().all(|c| c.contains("; Secure")),
        "{:?}",
        first.set_cookies()
    );
    assert!(first.headers.contains_key("strict-transport-security"));
    let r = b.sign_in("tls@example.edu", PASSWORD).await;
    let session = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("wecare_session="))
        .expect("session cookie");
    assert!(
        session.contains("; Secure") && session.contains("HttpOnly"),
        "{session}"
    );
}
