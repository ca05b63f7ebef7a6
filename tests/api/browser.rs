//! Journeys in a real headless browser (Chromium through ChromeDriver), with JavaScript
//! switched off: every page must work as plain HTML forms. Skipped, with a reason, when
//! ChromeDriver is not installed; CI installs it and sets WECARE_TEST_REQUIRE_BROWSER.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use wecare::domain::accounts::Role;

use crate::helpers::{Backend, PASSWORD, TestApp, TestDb};

pub struct Driver {
    child: Child,
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<String> {
    let found = ["chromedriver", "/usr/bin/chromedriver"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_string);
    if found.is_none() {
        assert!(
            std::env::var_os("WECARE_TEST_REQUIRE_BROWSER").is_none(),
            "WECARE_TEST_REQUIRE_BROWSER is set but chromedriver is not installed"
        );
        eprintln!(
            "skipped: chromedriver is not installed (Debian: apt-get install chromium chromium-driver)"
        );
    }
    found
}

pub async fn browser() -> Option<(Driver, Client)> {
    browser_with(false).await
}

/// A browser that runs scripts: only for tools injected into the page (axe-core needs
/// timers, which a page without JavaScript does not run). wecare's pages have no scripts
/// of their own, so they are the same pages.
pub async fn browser_with(scripts: bool) -> Option<(Driver, Client)> {
    let exe = chromedriver()?;
    // Two TLS back-ends are linked into the test binary; pick one for the WebDriver client
    // (it talks plain HTTP to ChromeDriver on loopback anyway).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let port = crate::cli::free_port();
    let child = Command::new(exe)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().expect("profile dir");
    let driver = Driver {
        child,
        port,
        _profile: profile,
    };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ],
            // No JavaScript: the pages are plain HTML forms and must work as such.
            "prefs": {"profile.managed_default_content_settings.javascript": if scripts { 1 } else { 2 }}
        }),
    );
    for _ in 0..100 {
        let mut builder = ClientBuilder::rustls().expect("TLS roots");
        builder.capabilities(caps.clone());
        if let Ok(c) = builder
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
        {
            return Some((driver, c));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not accept a session");
}

/// Waits until the page shows `text`: a click that submits a form may return before the
/// next page has loaded.
pub async fn wait_for(c: &Client, text: &str) -> String {
    for _ in 0..200 {
        if let Ok(page) = c.source().await
            && page.contains(text)
        {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed '{text}'");
}

/// Finds an element, waiting for it to appear (the page may still be loading).
pub async fn element(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

pub async fn fill(c: &Client, css: &str, text: &str) {
    let e = element(c, css).await;
    e.clear().await.expect("clear");
    e.send_keys(text).await.expect("type");
}

pub async fn click(c: &Client, css: &str) {
    element(c, css).await.click().await.expect("click");
}

/// A form sent back with mistakes, as a person meets it: the title starts "Error:", the
/// summary has focus (without JavaScript), each of its links lands on a control that can
/// take focus, and that control is tied to its message by aria-describedby. Returns the
/// fields the summary names, in order.
pub async fn error_summary(c: &Client) -> Vec<String> {
    let found = read_error_summary(c).await;
    assert!(found.get("problem").is_none(), "{found}");
    assert!(found.get("none").is_none(), "no error summary");
    found["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect()
}

/// What is wrong with a page's error summary, if it has one.
pub async fn error_summary_problems(c: &Client) -> Option<String> {
    let found = read_error_summary(c).await;
    found
        .get("problem")
        .and_then(|p| p.as_str())
        .map(str::to_string)
}

async fn read_error_summary(c: &Client) -> serde_json::Value {
    c.execute(
        r#"
        const summary = document.querySelector('.error-summary');
        if (!summary) return {none: true};
        if (!document.title.startsWith('Error: '))
            return {problem: 'the title does not start with "Error: "'};
        if (document.activeElement !== summary)
            return {problem: 'focus is on ' + document.activeElement.tagName + ', not the error summary'};
        const fields = [];
        for (const a of summary.querySelectorAll('a')) {
            const id = decodeURIComponent(a.hash.slice(1));
            const target = document.getElementById(id);
            if (!target) return {problem: 'the summary links to #' + id + ', which is not on the page'};
            if (!target.matches('input, select, textarea, button'))
                return {problem: '#' + id + ' is a ' + target.tagName + ', which cannot take focus'};
            const group = target.closest('fieldset[aria-describedby]');
            const said = (target.getAttribute('aria-describedby') || '') + ' '
                + (group ? group.getAttribute('aria-describedby') : '');
            const message = said.split(' ').filter(Boolean)
                .map(i => document.getElementById(i)).filter(Boolean)
                .find(m => m.classList.contains('field-error'));
            if (!message) return {problem: '#' + id + ' is not tied to its message by aria-describedby'};
            fields.push(id);
        }
        return {fields};
        "#,
        vec![],
    )
    .await
    .expect("the page's form is read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_support_and_following_it_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let app = TestApp::spawn(db).await;
    app.account("coord@example.edu", &[Role::Coordinator]).await;

    // From the peer-support page to the form.
    c.goto(&app.url("/peer-support")).await.expect("page");
    click(&c, "main a[href='/support/request']").await;
    let form = wait_for(&c, "step 1 of 3").await;
    assert!(form.contains("988"), "the crisis notice is on the form");

    // Each step tells every mistake of its own at once; nothing is pre-chosen.
    click(&c, "#continue").await;
    wait_for(&c, "There is a problem").await;
    assert_eq!(error_summary(&c).await, ["topics", "urgency"]);
    assert!(c.title().await.expect("title").starts_with("Error: "));
    click(&c, "input[name=topics][value=burnout]").await;
    click(&c, "input[name=urgency][value=routine]").await;
    click(&c, "#continue").await;

    wait_for(&c, "step 2 of 3").await;
    fill(&c, "#name", "Ottilie Browser-Test").await;
    click(&c, "#continue").await;
    let again = wait_for(&c, "There is a problem").await;
    assert!(
        again.contains("Ottilie Browser-Test"),
        "what was typed stays"
    );
    assert_eq!(error_summary(&c).await, ["email", "contact_mode"]);
    click(&c, "input[name=contact_mode][value=email]").await;
    fill(&c, "#email", "ottilie@example.org").await;
    click(&c, "#continue").await;

    // The optional step, then every answer to check, each step with its "Change".
    wait_for(&c, "step 3 of 3").await;
    fill(&c, "#message", "Two lines,\nkept as typed.").await;
    click(&c, "#continue").await;
    let check = wait_for(&c, "Check your answers before sending").await;
    for said in [
        "Burnout or exhaustion",
        "Within a few days is fine",
        "Ottilie Browser-Test",
        "ottilie@example.org",
        "Two lines,",
    ] {
        assert!(check.contains(said), "the check page shows {said:?}");
    }
    assert!(
        !c.current_url()
            .await
            .expect("url")
            .as_str()
            .contains("ottilie"),
        "answers never travel in the address"
    );
    click(&c, "button[name=go][value='2']").await;
    wait_for(&c, "step 2 of 3").await;
    fill(&c, "#name", "Ottilie Changed").await;
    click(&c, "#continue").await;
    let check = wait_for(&c, "Check your answers before sending").await;
    assert!(
        check.contains("Ottilie Changed"),
        "a change returns to the check page"
    );
    assert!(
        check.contains("Two lines,"),
        "and loses nothing of the other steps"
    );
    click(&c, "#send-request").await;
    let receipt = element(&c, "#receipt").await;
    let code = receipt.prop("value").await.expect("value").expect("a code");
    assert_eq!(code.len(), 19, "{code}");
    assert!(
        !c.current_url().await.expect("url").as_str().contains(&code),
        "the code is never in the address"
    );

    // Following it with the code.
    c.goto(&app.url("/support/status"))
        .await
        .expect("status page");
    fill(&c, "#receipt_code", &code.to_lowercase()).await;
    click(&c, "form[action='/support/status'] button[type=submit]").await;
    wait_for(&c, "Received; a coordinator is finding a peer").await;

    // A coordinator signs in and sees the request in the queue, without the name.
    sign_in(&c, &app, "coord@example.edu").await;
    c.goto(&app.url("/support/queue")).await.expect("queue");
    let queue = wait_for(&c, "1 open").await;
    assert!(!queue.contains("Ottilie"), "the queue names no one");

    c.close().await.expect("close the browser");
    app.stop().await;
}

async fn sign_in(c: &Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    fill(c, "#email", email).await;
    fill(c, "#password", PASSWORD).await;
    click(c, "form[action='/signin'] button[type=submit]").await;
    wait_for(c, "Sign out").await;
}

/// A coordinator offers a request; the helper accepts it, sees who asked, logs a contact
/// and closes the case: all by clicking, without JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_offers_and_a_helper_takes_a_case_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let app = TestApp::spawn(db).await;
    app.account("coord@example.edu", &[Role::Coordinator]).await;
    let helper = app.account("helper@example.edu", &[Role::Helper]).await;
    crate::helpers::train(&app.store, helper.id).await;
    let request =
        crate::helpers::file_request(&app.store, "Perdita Clickwell", "perdita@example.org", "")
            .await;

    sign_in(&c, &app, "coord@example.edu").await;
    c.goto(&app.url(&format!("/support/queue/{}", request.id)))
        .await
        .expect("request page");
    let page = wait_for(&c, "Best helpers for this request").await;
    assert!(!page.contains("Perdita"), "the coordinator sees no name");
    click(&c, "form[action$='/offer'] button[type=submit]").await;
    // Staff read the status in their own words, not in those written for the person.
    let offered = wait_for(&c, "Offered to a helper").await;
    assert!(
        !offered.contains("will contact you"),
        "requester's wording shown to staff"
    );
    click(&c, "form[action='/signout'] button[type=submit]").await;
    wait_for(&c, "Sign in").await;

    sign_in(&c, &app, "helper@example.edu").await;
    c.goto(&app.url("/helper/cases")).await.expect("cases");
    click(&c, "form[action$='/accept'] button[type=submit]").await;
    wait_for(&c, "Perdita Clickwell").await;
    click(&c, "input[name=mode][value=phone]").await;
    fill(&c, "#minutes", "35").await;
    click(&c, "form[action$='/contacts'] button[type=submit]").await;
    wait_for(&c, "Phone call</td>").await;
    click(&c, "input[name=outcome][value=met]").await;
    click(&c, "form[action$='/close'] button[type=submit]").await;
    wait_for(&c, "No open cases.").await;
    assert_eq!(
        app.store
            .support_request(request.id)
            .await
            .expect("r")
            .status
            .key(),
        "closed"
    );

    c.close().await.expect("close the browser");
    app.stop().await;
}

/// A guest registers for an event through its form (a mistake first, with the fields
/// kept), sees the check-in code, and a coordinator checks them in from the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_for_an_event_and_checking_in_in_a_browser() {
    let Some((_driver, c)) = browser().await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let app = TestApp::spawn(db).await;
    let token = crate::events::coordinator_token(&app).await;
    let id = crate::events::create_event(
        &app,
        &token,
        serde_json::json!({"title": "Book club: Being Mortal", "capacity": 10,
            "questions": [{"kind": "choice", "label": "Tea or coffee?", "required": true,
                           "options": "Tea\nCoffee"}]}),
    )
    .await[0];

    c.goto(&app.url("/events")).await.expect("listing");
    click(&c, &format!("a[href='/events/{id}']")).await;
    wait_for(&c, "Tea or coffee?").await;
    fill(&c, "#name", "Rosalind Reader").await;
    fill(&c, "#email", "rosalind@example.org").await;
    click(
        &c,
        &format!("form[action='/events/{id}/register'] button[type=submit]"),
    )
    .await;
    let again = wait_for(&c, "There is a problem").await;
    assert!(again.contains("Rosalind Reader"), "fields kept");
    assert_eq!(error_summary(&c).await.len(), 1);
    click(&c, "input[type=radio][value=Tea]").await;
    click(
        &c,
        &format!("form[action='/events/{id}/register'] button[type=submit]"),
    )
    .await;
    let page = wait_for(&c, "Show this code when you arrive").await;
    assert!(page.contains("<svg"), "the check-in code");
    assert!(page.contains("Confirmed"));

    sign_in(&c, &app, "coord@example.edu").await;
    c.goto(&app.url(&format!("/manage/events/{id}/registrations")))
        .await
        .expect("list");
    wait_for(&c, "Rosalind Reader").await;
    click(&c, "form[action$='/check-in'] button").await;
    wait_for(&c, "✓ Arrived").await;
    let regs = app.store.registrations_for(id).await.expect("list");
    assert!(regs[0].checked_in_at.is_some());

    c.close().await.expect("close the browser");
    app.stop().await;
}
