//! Every page the browser reaches, for every role and with every form sent empty, passes
//! axe-core's WCAG 2.2 A and AA rules; a form sent back keeps its promises (the error
//! summary has focus and links to controls tied to their messages); and every page
//! reflows at 320 px without scrolling sideways. The site is the demo programme, crawled
//! by following its links. Skipped, with a reason, without ChromeDriver or axe-core; CI
//! installs both (axe-core from npm) and sets WECARE_TEST_REQUIRE_AXE.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use fantoccini::Client;

use crate::browser::{browser_with, click, error_summary_problems, fill, wait_for};
use crate::helpers::{Backend, TestApp, TestDb, serve_config};

/// The rules people are owed: WCAG 2.0, 2.1 and 2.2, levels A and AA.
const TAGS: &str = r#"["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]"#;

/// Pages of one shape (`/events/N`) looked at per role: the first few tell what all do.
const PER_SHAPE: usize = 2;
const PER_ROLE: usize = 70;
const FORMS_PER_PAGE: u64 = 4;

fn axe_source() -> Option<String> {
    let candidates = [
        std::env::var("WECARE_TEST_AXE").ok(),
        Some("node_modules/axe-core/axe.min.js".to_string()),
    ];
    for path in candidates.into_iter().flatten() {
        if let Ok(s) = std::fs::read_to_string(&path) {
            return Some(s);
        }
    }
    assert!(
        std::env::var_os("WECARE_TEST_REQUIRE_AXE").is_none(),
        "WECARE_TEST_REQUIRE_AXE is set but axe-core was not found (set WECARE_TEST_AXE to axe.min.js)"
    );
    eprintln!(
        "skipped: axe-core not found (npm install axe-core, then WECARE_TEST_AXE=node_modules/axe-core/axe.min.js)"
    );
    None
}

/// The address with digits as N, so that `/events/3` and `/events/4` count as one shape.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Links not to follow: files, feeds and the API are not pages; sign-out is a form.
fn is_page(path: &str) -> bool {
    let skip_prefix = [
        "/api/",
        "/static/",
        "/calendar/",
        "/metrics",
        "/healthz",
        "/theme.css",
    ];
    let skip_suffix = [".ics", ".csv", ".json", ".txt", ".svg", ".png"];
    !skip_prefix.iter().any(|p| path.starts_with(p))
        && !skip_suffix
            .iter()
            .any(|s| path.split('?').next().unwrap_or("").ends_with(s))
}

struct Crawl {
    origin: String,
    axe: String,
    /// What went wrong, by page: axe's rules, form promises, reflow.
    problems: BTreeMap<String, Vec<String>>,
    pages: usize,
    forms: usize,
}

impl Crawl {
    async fn axe(&mut self, c: &Client, at: &str) {
        // A title with markup in it is a template that put a block in the wrong place.
        let title = c.title().await.expect("title");
        if title.contains('<') || title.trim().is_empty() {
            self.note(at, format!("the page's title is {title:?}"));
        }
        c.execute(&format!("{};return true;", self.axe), vec![])
            .await
            .expect("axe-core is injected");
        let script = format!(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {{runOnly: {{type: 'tag', values: {TAGS}}}, resultTypes: ['violations']}})
                  .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                        + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
                  .catch(e => done(['axe failed: ' + e]));"#
        );
        let found = c.execute_async(&script, vec![]).await.expect("axe runs");
        for v in found.as_array().into_iter().flatten() {
            self.note(at, v.as_str().unwrap_or_default().to_string());
        }
        self.pages += 1;
    }

    fn note(&mut self, at: &str, problem: String) {
        self.problems
            .entry(at.to_string())
            .or_default()
            .push(problem);
    }

    async fn links(&self, c: &Client) -> Vec<String> {
        let found = c
            .execute(
                "return [...document.querySelectorAll('a[href]')].map(a => a.href);",
                vec![],
            )
            .await
            .expect("links");
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str())
            .filter_map(|h| h.strip_prefix(&self.origin))
            .map(|p| p.split('#').next().unwrap_or(p).to_string())
            .filter(|p| p.starts_with('/') && is_page(p))
            .collect()
    }

    /// Sends each form of the page that asks for typed answers with those answers
    /// emptied, and looks at what comes back. Forms that only act (cancel, delete, sign
    /// out) are left alone.
    async fn forms(&mut self, c: &Client, url: &str, at: &str) {
        let count = c
            .execute(
                r#"return [...document.querySelectorAll('form[method=post]')].length;"#,
                vec![],
            )
            .await
            .expect("forms")
            .as_u64()
            .unwrap_or(0);
        // Rows of one list (a form per programme) answer alike: the first few tell.
        for i in 0..count.min(FORMS_PER_PAGE) {
            c.goto(url).await.expect("page again");
            let sent = c
                .execute(
                    r#"const f = document.querySelectorAll('form[method=post]')[arguments[0]];
                       if (!f) return false;
                       const typed = f.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]), textarea');
                       const button = f.querySelector('button[type=submit], button:not([type])');
                       const words = (button ? button.textContent : '').toLowerCase();
                       const acts = ['cancel', 'delete', 'remove', 'withdraw', 'sign out', 'erase', 'revoke', 'close', 'draw', 'renew', 'promote', 'decline', 'release'];
                       if (typed.length === 0 || !button || acts.some(w => words.includes(w))) return false;
                       for (const t of typed) t.value = '';
                       for (const s of f.querySelectorAll('select')) s.selectedIndex = 0;
                       button.click();
                       return true;"#,
                    vec![serde_json::json!(i)],
                )
                .await
                .expect("a form is sent");
            if !sent.as_bool().unwrap_or(false) {
                continue;
            }
            // The next page has loaded when the old one's document is gone.
            for _ in 0..100 {
                let ready = c
                    .execute("return document.readyState === 'complete';", vec![])
                    .await
                    .ok()
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                if ready {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            }
            self.forms += 1;
            let after = format!("{at} (form {} sent empty)", i + 1);
            self.axe(c, &after).await;
            if let Some(problem) = error_summary_problems(c).await {
                self.note(&after, problem);
            }
        }
    }

    /// Follows the links from `start` as one person (already signed in, or not).
    async fn visit(&mut self, c: &Client, who: &str, start: &[&str], seen: &mut BTreeSet<String>) {
        let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
        let mut queue: VecDeque<String> = start.iter().map(|s| s.to_string()).collect();
        let mut visited = 0;
        let mut pages = Vec::new();
        while let Some(path) = queue.pop_front() {
            if visited >= PER_ROLE || !seen.insert(format!("{who} {path}")) {
                continue;
            }
            let n = shapes.entry(shape(&path)).or_default();
            if *n >= PER_SHAPE {
                continue;
            }
            *n += 1;
            visited += 1;
            let url = format!("{}{path}", self.origin);
            c.goto(&url).await.expect("page");
            pages.push(url.clone());
            let at = format!("{who} {path}");
            self.axe(c, &at).await;
            for link in self.links(c).await {
                queue.push_back(link);
            }
            self.forms(c, &url, &at).await;
        }
        self.reflow(c, who, &pages).await;
    }

    /// At 320 CSS pixels (400 % zoom of a 1280-pixel screen) nothing makes the page
    /// scroll sideways: wide tables scroll in their own box, long words break.
    async fn reflow(&mut self, c: &Client, who: &str, pages: &[String]) {
        c.set_window_size(320, 800).await.expect("narrow window");
        let width = c
            .execute("return window.innerWidth;", vec![])
            .await
            .expect("width")
            .as_u64()
            .unwrap_or(0);
        assert!(
            width <= 340,
            "the browser would not narrow to 320 px (it is {width})"
        );
        for url in pages {
            c.goto(url).await.expect("page");
            let wide = c
                .execute(
                    r#"const w = document.documentElement.clientWidth;
                       if (document.documentElement.scrollWidth <= w) return null;
                       const culprit = [...document.querySelectorAll('main *, header *, footer *')]
                           .filter(e => e.getBoundingClientRect().right > w + 1)
                           .pop();
                       return (culprit ? culprit.tagName + (culprit.id ? '#' + culprit.id : '')
                               + ' "' + (culprit.textContent || '').trim().slice(0, 40) + '"' : 'something')
                           + ' is wider than ' + w + ' px';"#,
                    vec![],
                )
                .await
                .expect("reflow");
            if let Some(w) = wide.as_str() {
                let at = format!("{who} {} at 320 px", url.trim_start_matches(&self.origin));
                self.note(&at, w.to_string());
            }
        }
        c.set_window_size(1280, 900).await.expect("wide window");
    }
}

async fn sign_in(c: &Client, app: &TestApp, email: &str) {
    c.goto(&app.url("/signin")).await.expect("sign-in page");
    fill(c, "#email", email).await;
    fill(c, "#password", wecare::startup::DEMO_PASSWORD).await;
    click(c, "form[action='/signin'] button[type=submit]").await;
    wait_for(c, "Sign out").await;
}

#[tokio::test]
async fn every_page_passes_axe_for_every_role_and_every_form_sent_empty() {
    let Some(axe) = axe_source() else {
        return;
    };
    let Some((_driver, c)) = browser_with(true).await else {
        return;
    };
    let db = std::sync::Arc::new(TestDb::new(Backend::Sqlite).await.expect("sqlite"));
    let mut cfg = serve_config(&db);
    cfg.demo = true;
    // As `wecare serve --demo` has it: the sign-up pages are among those crawled.
    cfg.sign_up = Some(crate::helpers::sign_up_at("example.edu"));
    let app = TestApp::spawn_with(db, cfg).await;
    c.set_window_size(1280, 900).await.expect("window");
    let mut crawl = Crawl {
        origin: app.url(""),
        axe,
        problems: BTreeMap::new(),
        pages: 0,
        forms: 0,
    };
    let mut seen = BTreeSet::new();
    let anyone = [
        "/",
        "/events",
        "/support/request",
        "/support/status",
        "/signin",
        "/nowhere",
    ];
    crawl.visit(&c, "anyone", &anyone, &mut seen).await;
    for (who, email, start) in [
        (
            "member",
            "member@example.edu",
            &["/account", "/support/mine", "/events/mine"][..],
        ),
        (
            "helper",
            "helper@example.edu",
            &["/helper/cases", "/helper/profile"][..],
        ),
        (
            "coordinator",
            "coordinator@example.edu",
            &[
                "/manage",
                "/manage/pages",
                "/support/queue",
                "/manage/events",
            ][..],
        ),
        (
            "admin",
            "admin@example.edu",
            &["/admin/accounts", "/manage/audit"][..],
        ),
    ] {
        sign_in(&c, &app, email).await;
        crawl.visit(&c, who, start, &mut seen).await;
        c.delete_all_cookies().await.expect("signed out");
    }

    let report: Vec<String> = crawl
        .problems
        .iter()
        .flat_map(|(at, ps)| ps.iter().map(move |p| format!("{at}: {p}")))
        .collect();
    eprintln!(
        "accessibility: {} page states checked ({} forms sent empty), {} problems",
        crawl.pages,
        crawl.forms,
        report.len()
    );
    assert!(report.is_empty(), "{}", report.join("\n"));
    c.close().await.expect("close the browser");
    app.stop().await;
}

/// Whether the focused element shows where it is: an outline at least 2 px wide whose
/// colour keeps 3:1 against what lies behind it (WCAG 2.4.7 and 1.4.11). None if so.
async fn focus_problem(c: &Client) -> Option<String> {
    let found = c
        .execute(
            r#"const e = document.activeElement;
               const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                   + (el.getAttribute('href') ? '[href=' + el.getAttribute('href') + ']' : '');
               if (!e || e === document.body) return 'focus is on the page itself';
               const s = getComputedStyle(e);
               if (s.outlineStyle === 'none' || parseFloat(s.outlineWidth) < 2)
                   return 'no visible focus ring on ' + name(e);
               let n = e.parentElement, bg = 'rgb(255, 255, 255)';
               while (n) {
                   const b = getComputedStyle(n).backgroundColor;
                   if (b && b !== 'transparent' && !b.startsWith('rgba(0, 0, 0, 0')) { bg = b; break; }
                   n = n.parentElement;
               }
               const lum = c => {
                   const [r, g, b] = c.match(/[\d.]+/g).map(Number).map(v => {
                       v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
                   });
                   return 0.2126 * r + 0.7152 * g + 0.0722 * b;
               };
               const a = lum(s.outlineColor), b = lum(bg);
               const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
               return ratio < 3 ? 'the focus ring on ' + name(e) + ' is ' + s.outlineColor + ' on '
                   + bg + ': ' + ratio.toFixed(2) + ':1' : null;"#,
            vec![],
        )
        .await
        .expect("focus is read");
    found.as_str().map(str::to_string)
}

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Presses Tab until the control with `id` has focus, checking the focus ring at every
/// stop on the way; returns how many stops it took.
async fn tab_to(c: &Client, id: &str, problems: &mut Vec<String>) -> usize {
    for stop in 1..=80 {
        c.active_element()
            .await
            .expect("focus")
            .send_keys(TAB)
            .await
            .expect("Tab");
        if let Some(p) = focus_problem(c).await {
            problems.push(p);
        }
        let here = c
            .active_element()
            .await
            .expect("focus")
            .attr("id")
            .await
            .expect("id");
        if here.as_deref() == Some(id) {
            return stop;
        }
    }
    panic!("Tab never reached #{id}");
}

async fn keys(c: &Client, text: &str) {
    c.active_element()
        .await
        .expect("focus")
        .send_keys(text)
        .await
        .expect("keys");
}

/// Three journeys with the keyboard alone (no mouse, no script of the page's): asking for
/// support, registering for an event as a guest, and signing in. Every stop shows a focus
/// ring that can be seen.
#[tokio::test]
async fn keyboard_alone_asks_for_support_registers_and_signs_in_with_focus_always_visible() {
    // With axe-core at hand, the steps of the request form that an empty form cannot
    // reach (the crawl's way) are checked on the way.
    let axe = axe_source();
    let Some((_driver, c)) = browser_with(axe.is_some()).await else {
        return;
    };
    let db = TestDb::new(Backend::Sqlite).await.expect("sqlite");
    let app = TestApp::spawn(db).await;
    let mut crawl = Crawl {
        origin: app.url(""),
        axe: axe.unwrap_or_default(),
        problems: BTreeMap::new(),
        pages: 0,
        forms: 0,
    };
    app.account("keys@example.edu", &[]).await;
    let token = crate::events::coordinator_token(&app).await;
    let event = crate::events::create_event(
        &app,
        &token,
        serde_json::json!({"title": "Book club by keyboard", "capacity": 5}),
    )
    .await[0];
    let mut problems = Vec::new();

    // Asking for support. The first stop is the skip link.
    c.goto(&app.url("/support/request")).await.expect("form");
    keys(&c, TAB).await;
    let first = c.active_element().await.expect("focus");
    assert_eq!(
        first.attr("class").await.expect("class").as_deref(),
        Some("skip-link")
    );
    if let Some(p) = focus_problem(&c).await {
        problems.push(p);
    }
    tab_to(&c, "topics", &mut problems).await;
    keys(&c, " ").await;
    tab_to(&c, "urgency", &mut problems).await;
    keys(&c, " ").await;
    tab_to(&c, "continue", &mut problems).await;
    keys(&c, ENTER).await;
    wait_for(&c, "step 2 of 3").await;
    if !crawl.axe.is_empty() {
        crawl.axe(&c, "step 2 of the request form").await;
    }
    tab_to(&c, "name", &mut problems).await;
    keys(&c, "Kay Board").await;
    tab_to(&c, "email", &mut problems).await;
    keys(&c, "kay@example.org").await;
    tab_to(&c, "contact_mode", &mut problems).await;
    keys(&c, " ").await;
    // Enter in a field is "Continue", never "Back".
    tab_to(&c, "department", &mut problems).await;
    keys(&c, ENTER).await;
    wait_for(&c, "step 3 of 3").await;
    if !crawl.axe.is_empty() {
        crawl.axe(&c, "step 3 of the request form").await;
    }
    tab_to(&c, "continue", &mut problems).await;
    keys(&c, ENTER).await;
    wait_for(&c, "Check your answers before sending").await;
    if !crawl.axe.is_empty() {
        crawl.axe(&c, "the request form's check page").await;
    }
    tab_to(&c, "send-request", &mut problems).await;
    keys(&c, ENTER).await;
    wait_for(&c, "Your request is in").await;

    // A guest registers for an event.
    c.goto(&app.url(&format!("/events/{event}")))
        .await
        .expect("event");
    tab_to(&c, "name", &mut problems).await;
    keys(&c, "Gil Guest").await;
    tab_to(&c, "email", &mut problems).await;
    keys(&c, "gil@example.org").await;
    tab_to(&c, "register", &mut problems).await;
    keys(&c, ENTER).await;
    wait_for(&c, "Show this code when you arrive").await;

    // Signing in.
    c.goto(&app.url("/signin")).await.expect("sign-in");
    tab_to(&c, "email", &mut problems).await;
    keys(&c, "keys@example.edu").await;
    tab_to(&c, "password", &mut problems).await;
    keys(&c, crate::helpers::PASSWORD).await;
    keys(&c, ENTER).await;
    wait_for(&c, "Sign out").await;
    // Signed in, the header's links keep a visible ring on the header's colour.
    c.goto(&app.url("/account")).await.expect("account");
    tab_to(&c, "signout", &mut problems).await;

    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(crawl.problems.is_empty(), "{:#?}", crawl.problems);
    c.close().await.expect("close the browser");
    app.stop().await;
}
