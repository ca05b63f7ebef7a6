//! The API answers as its OpenAPI document says. schemathesis (PyPI) reads
//! `/api/openapi.json` and sends generated requests to every operation, valid and not,
//! anonymously and with a coordinator's token, then follows the links between operations
//! (stateful phase). It checks that no answer is a server error and that every status,
//! content type, header and body is one the document describes.
//!
//! Skipped with a printed reason when schemathesis is not installed;
//! `WECARE_TEST_REQUIRE_SCHEMATHESIS` (set by `.ci/run`) turns the skip into a failure.
//! The seed is fixed so that CI is repeatable; `WECARE_TEST_SCHEMATHESIS_SEED` picks
//! another, and `WECARE_TEST_SCHEMATHESIS_EXAMPLES` more examples per operation.

use std::process::Command;

use serde_json::json;

use crate::events::{coordinator_token, create_event};
use crate::helpers::{TestApp, TestDb};
use crate::on_both;

/// The checks that make up "answers as documented", and the one that no answer is a 500.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

fn schemathesis_installed() -> bool {
    let ok = Command::new("st")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok && std::env::var_os("WECARE_TEST_REQUIRE_SCHEMATHESIS").is_some() {
        panic!("WECARE_TEST_REQUIRE_SCHEMATHESIS is set but schemathesis (`st`) is missing");
    }
    ok
}

/// Runs schemathesis against `app`, with `token` if given; returns its summary line.
fn run(app: &TestApp, token: Option<&str>, workdir: &std::path::Path) -> String {
    let seed = std::env::var("WECARE_TEST_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".into());
    let examples =
        std::env::var("WECARE_TEST_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".into());
    let mut cmd = Command::new("st");
    cmd.current_dir(workdir)
        .arg("run")
        .arg(format!("http://{}/api/openapi.json", app.addr))
        .args(["--checks", CHECKS])
        .args(["--phases", "coverage,fuzzing,stateful"])
        .args(["--max-examples", &examples])
        .args(["--seed", &seed])
        .args(["--workers", "2"])
        .arg("--no-color")
        // Revoking tokens would revoke the one this run signs in with; the accounts suite
        // tests it.
        .args(["--exclude-path-regex", "^/api/v1/tokens/"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd.output().expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let who = if token.is_some() {
        "a coordinator's token"
    } else {
        "no token"
    };
    assert!(
        out.status.success(),
        "schemathesis with {who} found answers the document does not describe:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = stdout
        .lines()
        .find(|l| l.contains("generated,"))
        .unwrap_or("")
        .trim()
        .to_string();
    eprintln!("schemathesis with {who} (seed {seed}): {summary}");
    summary
}

async fn the_api_answers_as_its_document_says(db: TestDb) {
    if !schemathesis_installed() {
        eprintln!("skipped: schemathesis (`st`, PyPI) is not installed");
        return;
    }
    let app = TestApp::spawn(db).await;
    let token = coordinator_token(&app).await;
    // Something for the generated requests to find: an event with a question.
    create_event(
        &app,
        &token,
        json!({"questions": [{"kind": "text", "label": "Dietary needs"}]}),
    )
    .await;
    let workdir = tempfile::tempdir().expect("tempdir");
    let addr = app.addr;
    let app = std::sync::Arc::new(app);
    let (a, t) = (app.clone(), token.clone());
    let path = workdir.path().to_path_buf();
    // schemathesis blocks; the server keeps running on this runtime meanwhile.
    let summaries = tokio::task::spawn_blocking(move || {
        let anonymous = run(&a, None, &path);
        let coordinator = run(&a, Some(&t), &path);
        (anonymous, coordinator)
    })
    .await
    .expect("schemathesis thread");
    assert!(
        summaries.0.contains("generated") && summaries.1.contains("generated"),
        "schemathesis at {addr} reported no test cases: {summaries:?}"
    );
}

on_both!(the_api_answers_as_its_document_says);
