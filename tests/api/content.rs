//! The programme's pages, branding and series, as visitors and coordinators see them.

use reqwest::Method;
use serde_json::json;
use wecare::domain::accounts::Role;

use crate::helpers::{TestApp, TestDb, api};
use crate::on_both;

on_both!(
    a_newcomer_sees_a_living_programme,
    coordinator_edits_with_preview_and_output_is_sanitised,
    branding_is_validated_and_applied,
    api_reads_and_writes_pages,
);

async fn a_newcomer_sees_a_living_programme(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut b = app.browser();
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    for text in [
        "Skip to main content",
        "<main id=\"main\"",
        "Peer support",
        "Saturday Outreach Academy",
        "Joint Grand Rounds",
    ] {
        assert!(home.body.contains(text), "home lacks {text}");
    }
    let peer = b.get("/peer-support").await;
    assert_eq!(peer.status, 200);
    assert!(peer.body.contains("It is not therapy"));
    assert!(peer.body.contains("988"));
    assert!(peer.body.contains("aria-current=\"page\""));
    for path in [
        "/about",
        "/values",
        "/contact",
        "/programmes",
        "/programmes/book-club",
    ] {
        assert_eq!(b.get(path).await.status, 200, "{path}");
    }
    let programmes = b.get("/programmes").await.body;
    assert_eq!(programmes.matches("class=\"card\"").count(), 8);
    let missing = b.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("There is nothing at this address"));
    assert_eq!(b.get("/programmes/nope").await.status, 404);
}

async fn coordinator_edits_with_preview_and_output_is_sanitised(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut c = app.signed_in("co@example.edu", &[Role::Coordinator]).await;
    let form = c.get("/manage/pages/values").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("<textarea id=\"body_md\""));

    let evil = "## Our values\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1))\n\n<img src=x onerror=\"alert(2)\">\n\nBe **kind**.";
    // Preview shows the rendered page and saves nothing.
    let r = c
        .post(
            "/manage/pages/values",
            &[
                ("title", "Values"),
                ("body_md", evil),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Preview (not saved yet)"));
    assert!(r.body.contains("<strong>kind</strong>"));
    assert_eq!(
        app.store.page("values").await.expect("page").title,
        "Core values"
    );

    // A mistake keeps everything typed.
    let r = c
        .post(
            "/manage/pages/values",
            &[("title", " "), ("body_md", evil), ("action", "save")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("Title is required"));
    assert!(r.body.contains("Be **kind**."));

    let r = c
        .post(
            "/manage/pages/values",
            &[("title", "Values"), ("body_md", evil), ("action", "save")],
        )
        .await;
    assert_eq!((r.status, r.location()), (303, "/values"));
    let mut visitor = app.browser();
    let page = visitor.get("/values").await.body;
    assert!(page.contains("<h2>Our values</h2>"));
    assert!(page.contains("<strong>kind</strong>"));
    assert!(!page.contains("<script>alert"), "script survived");
    assert!(!page.contains("javascript:"), "javascript: link survived");
    assert!(!page.contains("onerror"), "event handler survived");

    let r = c
        .post(
            "/manage/pages/nowhere",
            &[("title", "x"), ("body_md", "y"), ("action", "save")],
        )
        .await;
    assert_eq!(r.status, 404);
}

async fn branding_is_validated_and_applied(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut c = app
        .signed_in("brand@example.edu", &[Role::Coordinator])
        .await;
    let fields = |primary: &'static str| {
        vec![
            ("name", "Heart & Mind"),
            ("tagline", "Care for the carers"),
            ("contact_email", "care@med.example.edu"),
            ("colour_primary", primary),
            ("colour_accent", "#aa3300"),
        ]
    };
    let r = c.post("/manage/settings", &fields("red;}body{")).await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("six hex digits"));
    assert!(
        r.body.contains("value=\"Heart &#38; Mind\""),
        "typed values kept: {}",
        r.body
    );
    assert_eq!(
        app.store.branding().await.expect("b").name,
        "Faculty Well-being Programme"
    );

    let r = c.post("/manage/settings", &fields("#0a7a5a")).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Saved."));
    let mut v = app.browser();
    assert!(v.get("/").await.body.contains("Heart &#38; Mind"));
    let theme = v.get("/theme.css").await.body;
    assert!(theme.contains("--primary: #0a7a5a"), "{theme}");
    let api_view = api(&app, Method::GET, "/api/v1/settings", None, None)
        .await
        .json();
    assert_eq!(api_view["contact_email"], "care@med.example.edu");
}

async fn api_reads_and_writes_pages(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let pages = api(&app, Method::GET, "/api/v1/pages", None, None)
        .await
        .json();
    assert!(pages.as_array().expect("list").len() >= 5);
    let series = api(&app, Method::GET, "/api/v1/series", None, None)
        .await
        .json();
    assert_eq!(series.as_array().expect("list").len(), 8);

    let coord = app.account("api-c@example.edu", &[Role::Coordinator]).await;
    let t = app.token_for(&coord).await;
    let r = api(
        &app,
        Method::PUT,
        "/api/v1/pages/contact",
        Some(&t),
        Some(json!({"title": "Contact", "body_md": ""})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "body_md");
    let r = api(
        &app,
        Method::PUT,
        "/api/v1/pages/contact",
        Some(&t),
        Some(json!({"title": "Contact", "body_md": "Write <script>x</script> to **us**"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert!(
        body["body_html"]
            .as_str()
            .expect("html")
            .contains("<strong>us</strong>")
    );
    assert!(
        !body["body_html"]
            .as_str()
            .expect("html")
            .contains("<script")
    );
    let r = api(&app, Method::GET, "/api/v1/pages/contact", None, None)
        .await
        .json();
    assert_eq!(r["body_md"], "Write <script>x</script> to **us**");
    let r = api(
        &app,
        Method::PUT,
        "/api/v1/pages/contact",
        Some(&t),
        Some(json!("not an object")),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["field"], "body");
}
