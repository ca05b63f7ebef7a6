//! The `wecare` binary itself: bad configuration stops start-up with a sentence, `migrate`,
//! `admin`, demo mode, and two server processes sharing one database.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::{Browser, TestDb};
use crate::on_both;

const BIN: &str = env!("CARGO_BIN_EXE_wecare");

pub fn wecare(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    // Only what each test sets: not the developer's or CI's own WECARE_* settings.
    for (k, _) in std::env::vars() {
        if k.starts_with("WECARE_") && !k.starts_with("WECARE_TEST_") {
            c.env_remove(k);
        }
    }
    c.env("WECARE_LOG", "warn");
    // Mail goes to a folder of its own, not into the directory the tests run in.
    c.env(
        "WECARE_MAIL_DIR",
        std::env::temp_dir().join("wecare-test-mail"),
    );
    c.env("WECARE_DATA_KEY", crate::helpers::DATA_KEY);
    c
}

fn run_with_timeout(mut cmd: Command) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wecare starts");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("wecare exited within a minute")
        .expect("output")
}

/// Runs wecare expecting it to refuse to start; returns its error sentence.
fn refused(cmd: Command) -> String {
    let out = run_with_timeout(cmd);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected failure, got success; stderr: {stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_configuration_stops_start_up_with_a_sentence() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    type Case<'a> = (Vec<String>, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["serve".into(), "--bind".into(), "127.0.0.1:99999".into()],
            vec![],
            "out of range",
        ),
        (
            vec!["serve".into(), "--bind".into(), "localhost".into()],
            vec![],
            "is not an address and port",
        ),
        (
            vec!["serve".into(), "--session-hours".into(), "48".into()],
            vec![("WECARE_SESSION_MAX_DAYS", "1".into())],
            "is shorter than session_hours",
        ),
        (
            vec!["serve".into()],
            vec![("WECARE_BIND", "127.0.0.1:abc".into())],
            "is not an address and port",
        ),
        (
            vec![
                "--database-url".into(),
                "mysql://h/db".into(),
                "serve".into(),
            ],
            vec![],
            "scheme 'mysql' is not supported",
        ),
        (
            vec![
                "--database-url".into(),
                "::not a url::".into(),
                "serve".into(),
            ],
            vec![],
            "not a valid URL",
        ),
        (
            vec!["serve".into()],
            vec![(
                "WECARE_DATABASE_URL",
                "sqlite:///no/such/folder/w.db".into(),
            )],
            "does not exist",
        ),
        (
            vec![
                "--database-url".into(),
                "sqlite:///proc/wecare-cannot-write.db".into(),
                "serve".into(),
            ],
            vec![],
            "cannot write the SQLite database file",
        ),
        (
            vec!["serve".into()],
            vec![("WECARE_MINORS_RETENTION_DAYS", "0".into())],
            "WECARE_MINORS_RETENTION_DAYS is 0; use a number of days from 1 to 3650",
        ),
        (
            vec!["serve".into()],
            vec![("WECARE_BIND_ADDRESS", "x".into())],
            "WECARE_BIND_ADDRESS is not one wecare knows",
        ),
        (
            vec!["--database-url".into(), db.clone(), "serve".into()],
            vec![("WECARE_SMTP_URL", "smtp://mail.example.edu?tls=none".into())],
            "which is not this machine",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "serve".into(),
                "--smtp-url".into(),
                "smtps://relay.example.edu".into(),
            ],
            vec![],
            "--smtp-url is set but not --mail-from",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "serve".into(),
                "--smtp-url".into(),
                "imap://relay.example.edu".into(),
                "--mail-from".into(),
                "w@example.edu".into(),
            ],
            vec![],
            "has the scheme 'imap'",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "serve".into(),
                "--smtp-url".into(),
                "smtps://relay.example.edu".into(),
                "--mail-from".into(),
                "not-an-address".into(),
            ],
            vec![],
            "is not an e-mail address",
        ),
        (
            vec!["--database-url".into(), db.clone(), "serve".into()],
            vec![("WECARE_MAIL_DIR", "/proc/wecare-mail".into())],
            "cannot write e-mail files to the folder /proc/wecare-mail",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "serve".into(),
                "--smtp-timeout-secs".into(),
                "0".into(),
            ],
            vec![],
            "use a number of seconds from 1 to 600",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "--log-format".into(),
                "xml".into(),
                "serve".into(),
            ],
            vec![],
            "use 'text' or 'json'",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "serve".into(),
                "--public-url".into(),
                "ftp://x".into(),
            ],
            vec![],
            "must start with http:// or https://",
        ),
        (
            vec![
                "--database-url".into(),
                db.clone(),
                "serve".into(),
                "--session-hours".into(),
                "0".into(),
            ],
            vec![],
            "from 1 to 720",
        ),
    ];
    for (args, env, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = wecare(&args);
        cmd.current_dir(dir.path());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let stderr = refused(cmd);
        assert!(
            stderr.contains(expected),
            "{args:?} {env:?}: expected '{expected}' in: {stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1, "one sentence: {stderr}");
    }
}

#[test]
fn unreachable_postgres_is_named_without_its_password() {
    let port = free_port();
    let url = format!("postgres://wecare:s3cr3t-pw@127.0.0.1:{port}/wecare");
    let stderr = refused(wecare(&["--database-url", &url, "serve"]));
    assert!(stderr.contains("cannot reach PostgreSQL"), "{stderr}");
    assert!(!stderr.contains("s3cr3t-pw"), "password leaked: {stderr}");
}

#[test]
fn address_in_use_and_bad_config_file_are_explained() {
    let dir = tempfile::tempdir().expect("dir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let stderr = refused(wecare(&["--database-url", &db, "serve", "--bind", &addr]));
    assert!(stderr.contains("already in use"), "{stderr}");

    let file = dir.path().join("wecare.toml");
    std::fs::write(
        &file,
        "bind = \"127.0.0.1:0\"\ndatabse_url = \"sqlite://x.db\"\n",
    )
    .expect("write");
    let stderr = refused(wecare(&["--config", file.to_str().expect("path"), "serve"]));
    assert!(
        stderr.contains("is not valid") && stderr.contains("databse_url"),
        "{stderr}"
    );
    let stderr = refused(wecare(&["--config", "/no/such/wecare.toml", "serve"]));
    assert!(
        stderr.contains("cannot read the configuration file"),
        "{stderr}"
    );
}

on_both!(
    migrate_and_admin_commands,
    two_server_processes_share_sessions,
    a_spreadsheet_of_accounts_imports_all_or_nothing,
    an_import_planned_before_a_change_is_refused_whole,
);

/// `wecare import accounts`: every refused line named by line and column, nothing saved
/// while any is refused, a dry run that says what each line would do, then the whole
/// file in one go: accounts with roles, helper profiles merged into what helpers wrote
/// themselves, set-up links queued; a second run changes nothing.
async fn a_spreadsheet_of_accounts_imports_all_or_nothing(db: TestDb) {
    use wecare::domain::accounts::{Email, Role};
    let store = db.store().await;
    let bob = crate::helpers::add_account(&store, "bob@example.edu", &[Role::Helper]).await;
    let mut own = store.helper_profile(bob.id).await.expect("profile");
    own.bio = "Twenty years in the ICU; ask me about nights.".into();
    own.rank = "Professor".into();
    store.save_helper_profile(bob.id, &own).await.expect("save");
    let dir = tempfile::tempdir().expect("dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("path").to_string()
    };
    let import = |path: &str, extra: &[&str]| {
        let mut args = vec![
            "--database-url",
            db.url.as_str(),
            "import",
            "accounts",
            path,
        ];
        args.extend_from_slice(extra);
        let out = run_with_timeout(wecare(&args));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let email = |e: &str| Email::parse(e).expect("email");

    let bad = write(
        "bad.csv",
        "Email,Name,Roles,Department,Topics,Capacity\r\n\
         ada@example.edu,Ada Lovelace,helper,Surgery,burnout,3\r\n\
         bob@example.edu,,,Medicine,,\r\n\
         cy@example.edu,Cy Young,member,,,11\r\n\
         dee@example.edu,,coordinator,,,\r\n\
         eve@example.edu,Eve,member,Radiology,,\r\n",
    );
    let (ok, out, err) = import(&bad, &[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("line 2: create ada@example.edu (helper)"),
        "{out}"
    );
    assert!(
        out.contains("line 3: change bob@example.edu: updates the helper profile"),
        "{out}"
    );
    assert!(
        out.contains("line 6, column roles: refused"),
        "helper cells on a member: {out}"
    );
    assert!(out.contains("line 4, column capacity: refused"), "{out}");
    assert!(
        out.contains("line 5, column name: refused: A new account needs a name"),
        "{out}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(
        store
            .account_by_email(&email("ada@example.edu"))
            .await
            .is_err(),
        "all or nothing"
    );

    let good = write(
        "good.csv",
        "Email,Name,Roles,Department,Topics,Capacity\r\n\
         ada@example.edu,Ada Lovelace,helper; coordinator,Surgery,burnout; Conflict at work,3\r\n\
         bob@example.edu,Bob Ross,,Medicine,,\r\n\
         cy@example.edu,\"Young, Cy\",member,,,\r\n",
    );
    let (ok, out, err) = import(&good, &["--dry-run"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("2 to create, 1 to change, 0 unchanged, 0 refused"),
        "{out}"
    );
    assert!(
        store
            .account_by_email(&email("ada@example.edu"))
            .await
            .is_err(),
        "a dry run"
    );

    let (ok, out, err) = import(&good, &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("imported: 2 created, 1 changed"), "{out}");
    let ada = store
        .account_by_email(&email("ada@example.edu"))
        .await
        .expect("ada");
    assert_eq!(ada.roles, vec![Role::Helper, Role::Coordinator]);
    let p = store.helper_profile(ada.id).await.expect("profile");
    assert_eq!(
        (p.department.as_str(), p.capacity, p.topics.len()),
        ("Surgery", 3, 2)
    );
    let cy = store
        .account_by_email(&email("cy@example.edu"))
        .await
        .expect("cy");
    assert_eq!(cy.display_name, "Young, Cy");
    assert!(cy.roles.is_empty());
    let bob_now = store.account(bob.id).await.expect("bob");
    assert_eq!(bob_now.display_name, "Bob Ross");
    let p = store.helper_profile(bob.id).await.expect("profile");
    assert_eq!(p.department, "Medicine");
    assert_eq!(
        (p.rank.as_str(), p.bio.as_str()),
        ("Professor", own.bio.as_str()),
        "his own words stay"
    );
    let setup: Vec<String> = store
        .list_outbox(None, 50)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|m| m.kind == "account_setup")
        .map(|m| m.to)
        .collect();
    assert_eq!(setup.len(), 2, "{setup:?}");
    assert!(setup.contains(&"ada@example.edu".to_string()));

    let (ok, out, _) = import(&good, &[]);
    assert!(ok);
    assert!(
        out.contains("0 to create, 0 to change, 3 unchanged"),
        "{out}"
    );
}

async fn migrate_and_admin_commands(db: TestDb) {
    let out = run_with_timeout(wecare(&["--database-url", &db.url, "migrate"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));

    // Without a password: a one-time set-up link.
    let out = run_with_timeout(wecare(&[
        "--database-url",
        &db.url,
        "admin",
        "create",
        "--email",
        "root@example.edu",
        "--role",
        "admin",
    ]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("/setup/"), "{stdout}");

    // With a password on standard input.
    let out = with_stdin(
        wecare(&[
            "--database-url",
            &db.url,
            "admin",
            "create",
            "--email",
            "co@example.edu",
            "--name",
            "Dr. Co",
            "--role",
            "coordinator",
            "--role",
            "helper",
            "--password-stdin",
        ]),
        b"a password from stdin\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let stderr = refused(wecare(&[
        "--database-url",
        &db.url,
        "admin",
        "create",
        "--email",
        "x@example.edu",
        "--role",
        "wizard",
    ]));
    assert!(stderr.contains("'wizard' is not a role"), "{stderr}");
    let stderr = refused(wecare(&[
        "--database-url",
        &db.url,
        "admin",
        "create",
        "--email",
        "co@example.edu",
    ]));
    assert!(stderr.contains("already exists"), "{stderr}");
    let stderr = refused(wecare(&[
        "--database-url",
        &db.url,
        "admin",
        "token",
        "--email",
        "nobody@example.edu",
    ]));
    assert!(stderr.contains("there is no account"), "{stderr}");

    let out = run_with_timeout(wecare(&[
        "--database-url",
        &db.url,
        "admin",
        "token",
        "--email",
        "co@example.edu",
    ]));
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("wct_"));

    let store = db.store().await;
    let account = store
        .api_token_account(&token)
        .await
        .expect("q")
        .expect("token valid");
    assert_eq!(account.display_name, "Dr. Co");
    assert!(
        store
            .account_for_sign_in("co@example.edu")
            .await
            .expect("q")
            .expect("found")
            .1
            .is_some()
    );

    let out = run_with_timeout(wecare(&[
        "--database-url",
        &db.url,
        "admin",
        "revoke-tokens",
        "--email",
        "co@example.edu",
    ]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("revoked 1 token"));
    assert!(store.api_token_account(&token).await.expect("q").is_none());
}

/// Runs a command with these bytes on its standard input.
fn with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wecare starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to stdin");
    child.wait_with_output().expect("wecare exits")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub struct Server(pub Child, pub u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_server(db_url: &str, extra: &[&str]) -> Server {
    start_server_with(db_url, extra, Stdio::null(), &[]).await
}

pub async fn start_server_with(
    db_url: &str,
    extra: &[&str],
    stderr: Stdio,
    env: &[(&str, &str)],
) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let mut args = vec!["--database-url", db_url, "serve", "--bind", &bind];
    args.extend_from_slice(extra);
    let mut cmd = wecare(&args);
    cmd.envs(env.iter().copied());
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("server starts");
    let server = Server(child, port);
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("http://{bind}/readyz")).send().await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server on {bind} did not become ready");
}

async fn two_server_processes_share_sessions(db: TestDb) {
    let create = || {
        wecare(&[
            "--database-url",
            &db.url,
            "admin",
            "create",
            "--email",
            "both@example.edu",
            "--password-stdin",
        ])
    };
    // An empty password is refused with the policy's sentence.
    let out = with_stdin(create(), b"\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));
    assert!(
        with_stdin(create(), b"shared session password\n")
            .status
            .success()
    );

    let a = start_server(&db.url, &[]).await;
    let b = start_server(&db.url, &[]).await;
    let mut on_a = Browser::new(format!("127.0.0.1:{}", a.1).parse().expect("addr"));
    assert_eq!(
        on_a.sign_in("both@example.edu", "shared session password")
            .await
            .status,
        303
    );
    let mut on_b = Browser::new(format!("127.0.0.1:{}", b.1).parse().expect("addr"));
    on_b.cookies = on_a.cookies.clone();
    let page = on_b.get("/account").await;
    assert_eq!(
        page.status, 200,
        "session from process A is valid on process B"
    );
    assert!(page.body.contains("both@example.edu"));
    assert_eq!(on_b.post("/signout", &[]).await.status, 303);
    assert_eq!(
        on_a.get("/account").await.status,
        303,
        "signed out everywhere"
    );
}

#[tokio::test]
async fn demo_mode_shows_a_living_programme() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let s = start_server(&url, &["--demo"]).await;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", s.1).parse().expect("addr");
    let mut b = Browser::new(addr);
    let home = b.get("/").await;
    assert!(home.body.contains("Student Mentorship Programme"));
    let r = b
        .sign_in("coordinator@example.edu", wecare::startup::DEMO_PASSWORD)
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(b.get("/manage/pages").await.status, 200);
    // The demo shows what changed for people: a safety concern heads the queue, and the
    // request form says who may see a request under the settings in force.
    let queue = b.get("/support/queue").await.body;
    assert!(queue.contains("Safety concern"), "{queue}");
    let form = Browser::new(addr).get("/support/request").await.body;
    assert!(form.contains("We send you one e-mail"), "{form}");
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_and_no_identities() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("logs.db").display());
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let s = start_server_with(
        &url,
        &["--demo"],
        Stdio::from(log),
        &[
            ("WECARE_LOG_FORMAT", "json"),
            ("WECARE_LOG", "info,wecare=debug"),
        ],
    )
    .await;
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", s.1).parse().expect("addr");
    let mut b = Browser::new(addr);
    assert_eq!(
        b.sign_in("member@example.edu", wecare::startup::DEMO_PASSWORD)
            .await
            .status,
        303
    );
    assert_eq!(
        b.sign_in("member@example.edu", "a wrong password!")
            .await
            .status,
        401
    );
    b.get("/account?email=member@example.edu").await;
    // A support request, its status check and a wrong code: none of it in the log.
    let r = b
        .post(
            "/support/request",
            &[
                ("topics", "burnout"),
                ("urgency", "urgent"),
                ("contact_mode", "email"),
                ("name", "Ottoline Vashti-Brandreth"),
                ("email", "ottoline.private@example.org"),
                ("message", "a worry about the night rota"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let code = crate::support::receipt_code_in(&r.body);
    assert_eq!(
        b.post("/support/status", &[("receipt_code", &code)])
            .await
            .status,
        200
    );
    b.post(
        "/support/status",
        &[("receipt_code", "AAAA-BBBB-CCCC-DDDD")],
    )
    .await;
    drop(s);
    let text = std::fs::read_to_string(&log_path).expect("log");
    let requests: Vec<serde_json::Value> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))
        })
        .filter(|v| v["message"] == "request")
        .collect();
    assert!(requests.len() >= 4, "{text}");
    for r in &requests {
        assert_eq!(r["request_id"].as_str().map(str::len), Some(16), "{r}");
        assert!(r["route"].is_string() && r["status"].is_number(), "{r}");
    }
    assert!(
        requests
            .iter()
            .any(|r| r["route"] == "/signin" && r["method"] == "POST")
    );
    // The demo banner names the demo accounts on purpose; nothing after it may.
    let served: String = text.lines().filter(|l| !l.contains("demo mode")).collect();
    for secret in [
        "member@example.edu",
        wecare::startup::DEMO_PASSWORD,
        "a wrong password!",
        "Ottoline",
        "ottoline.private",
        "night rota",
        code.as_str(),
        "AAAA-BBBB",
    ] {
        assert!(
            !served.contains(secret),
            "the log carries {secret}: {served}"
        );
    }
}

/// Sets a file's mode (the tests write key files as a person would, then `chmod`).
fn owner_only(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_missing_or_wrong_data_key_stops_start_up() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("w.db").display());
    let mut cmd = wecare(&["--database-url", &db, "serve", "--bind", "127.0.0.1:0"]);
    cmd.env_remove("WECARE_DATA_KEY");
    let e = refused(cmd);
    assert!(e.contains("needs a data key"), "{e}");
    assert!(e.contains("wecare keys generate"), "{e}");

    let mut cmd = wecare(&["--database-url", &db, "serve", "--bind", "127.0.0.1:0"]);
    cmd.env("WECARE_DATA_KEY", "abc");
    assert!(refused(cmd).contains("WECARE_DATA_KEY is not a usable key"));

    // A key file others can read is refused before it is used, saying what to run.
    let key_file = dir.path().join("bad.key");
    std::fs::write(&key_file, "not hex at all").expect("write");
    owner_only(&key_file, 0o644);
    let serve_with_file = || {
        let mut cmd = wecare(&["--database-url", &db, "serve", "--bind", "127.0.0.1:0"]);
        cmd.env_remove("WECARE_DATA_KEY")
            .arg("--data-key-file")
            .arg(&key_file);
        cmd
    };
    let e = refused(serve_with_file());
    assert!(
        e.contains("can be read or changed by other users (mode 644)")
            && e.contains(&format!("chmod 600 {}", key_file.display())),
        "{e}"
    );
    owner_only(&key_file, 0o600);
    let e = refused(serve_with_file());
    assert!(e.contains("is not usable"), "{e}");

    // `keys generate` prints a key that works; a database first opened with one key
    // refuses another.
    let out = run_with_timeout(wecare(&["keys", "generate"]));
    let other = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(other.len(), 64, "{other}");
    let out = run_with_timeout(wecare(&["--database-url", &db, "migrate"]));
    assert!(out.status.success());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store =
            wecare::startup::prepare_store(&wecare::config::DatabaseUrl::parse(&db).expect("url"))
                .await
                .expect("store");
        let key = wecare::sealing::DataKey::from_hex(crate::helpers::DATA_KEY).expect("key");
        assert!(store.check_data_key(&key).await.expect("check").is_ok());
        store.close().await;
    });
    let mut cmd = wecare(&["--database-url", &db, "serve", "--bind", "127.0.0.1:0"]);
    cmd.env("WECARE_DATA_KEY", &other);
    let e = refused(cmd);
    assert!(e.contains("is not the one this database"), "{e}");

    // `keys rotate` moves the database to the new key: then the old one is refused.
    let new_file = dir.path().join("new.key");
    std::fs::write(&new_file, &other).expect("write");
    owner_only(&new_file, 0o600);
    let out = run_with_timeout(wecare(&[
        "--database-url",
        &db,
        "keys",
        "rotate",
        "--new-key-file",
        new_file.to_str().expect("path"),
    ]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("re-encrypted 0 support request"), "{said}");
    let cmd = wecare(&["--database-url", &db, "serve", "--bind", "127.0.0.1:0"]);
    assert!(refused(cmd).contains("is not the one this database"));
}

#[test]
fn audit_verify_reports_an_intact_or_tampered_log() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("a.db").display());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt.block_on(async {
        let store =
            wecare::startup::prepare_store(&wecare::config::DatabaseUrl::parse(&db).expect("url"))
                .await
                .expect("store");
        for i in 0..2 {
            store
                .audit(None, "view_identity", &format!("support_request:{i}"))
                .await
                .expect("append");
        }
        store
    });
    let out = run_with_timeout(wecare(&["--database-url", &db, "audit", "verify"]));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 2 entries"));
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(
            wecare::config::DatabaseUrl::parse(&db)
                .expect("url")
                .driver_url(),
        )
        .await
        .expect("connect");
        sqlx::query("UPDATE audit_log SET actor = 5 WHERE seq = 1")
            .execute(&mut conn)
            .await
            .expect("tamper");
        store.close().await;
    });
    let e = refused(wecare(&["--database-url", &db, "audit", "verify"]));
    assert!(e.contains("tampered with at entry 1"), "{e}");

    let out = run_with_timeout(wecare(&[
        "--database-url",
        &db,
        "purge",
        "--retention-days",
        "30",
    ]));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("erased the identities of 0"));
    let e = refused(wecare(&[
        "--database-url",
        &db,
        "purge",
        "--retention-days",
        "0",
    ]));
    assert!(e.contains("from 1 to 3650"), "{e}");
}

#[test]
fn audit_verify_with_a_recorded_head_finds_entries_cut_off_the_end() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let store = rt.block_on(async {
        let store =
            wecare::startup::prepare_store(&wecare::config::DatabaseUrl::parse(&db).expect("url"))
                .await
                .expect("store");
        for i in 0..3 {
            store
                .audit(None, "view_identity", &format!("support_request:{i}"))
                .await
                .expect("append");
        }
        store
    });
    let out = run_with_timeout(wecare(&["--database-url", &db, "audit", "verify"]));
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{said}");
    let head = said
        .split("head ")
        .nth(1)
        .map(str::trim)
        .expect("the head is printed")
        .to_string();
    assert!(head.starts_with("3:"), "{head}");
    // Someone with the database deletes the newest entry: the chain alone still holds...
    rt.block_on(async {
        use sqlx::Connection;
        let url = wecare::config::DatabaseUrl::parse(&db).expect("url");
        let mut conn = sqlx::AnyConnection::connect(url.driver_url())
            .await
            .expect("connect");
        sqlx::query("DELETE FROM audit_log WHERE seq = 3")
            .execute(&mut conn)
            .await
            .expect("cut");
        store.close().await;
    });
    let out = run_with_timeout(wecare(&["--database-url", &db, "audit", "verify"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact: 2 entries"));
    // ...but not against the head recorded before.
    let e = refused(wecare(&[
        "--database-url",
        &db,
        "audit",
        "verify",
        "--head",
        &head,
    ]));
    assert!(e.contains("cut off the end"), "{e}");
    let e = refused(wecare(&[
        "--database-url",
        &db,
        "audit",
        "verify",
        "--head",
        "three",
    ]));
    assert!(e.contains("SEQ:HASH"), "{e}");
}

/// Outside the demo, a server writing mail to a folder says so at start-up: the folder
/// holds addresses and one-time links.
#[tokio::test]
async fn mail_going_to_disk_is_announced_at_start_up() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mail_dir = dir.path().join("outbox");
    let s = start_server_with(
        &url,
        &[],
        Stdio::from(log),
        &[("WECARE_MAIL_DIR", mail_dir.to_str().expect("path"))],
    )
    .await;
    drop(s);
    let text = std::fs::read_to_string(&log_path).expect("log");
    assert!(text.contains("no mail server is configured"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&mail_dir)
        .expect("folder")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
}

/// `wecare backup` while the server is writing, then `wecare restore` into a new file:
/// every write acknowledged before the backup began is in the restored database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_write_load_restores_every_acknowledged_write() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let db = Arc::new(
        TestDb::new(crate::helpers::Backend::Sqlite)
            .await
            .expect("SQLite"),
    );
    let app = crate::helpers::TestApp::spawn_shared(db.clone()).await;
    let url = db.url.clone();
    let dir = tempfile::tempdir().expect("dir");
    let backup = dir.path().join("wecare-backup.db");

    // Writers: accounts made one after another, each recorded once acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for w in 0..2 {
        let (store, stop, acked) = (app.store.clone(), stop.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let email = format!("w{w}-{i}@example.edu");
                crate::helpers::add_account(&store, &email, &[]).await;
                acked.lock().expect("lock").push(email);
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before: Vec<String> = acked.lock().expect("lock").clone();
    assert!(!before.is_empty(), "the writers are writing");
    let (u, b) = (url.clone(), backup.clone());
    let out = tokio::task::spawn_blocking(move || {
        run_with_timeout({
            let mut c = wecare(&["--database-url", &u, "backup", "--to"]);
            c.arg(&b);
            c
        })
    })
    .await
    .expect("backup ran");
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.expect("writer");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("The data key is not in it"), "{stdout}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup)
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "readable by the service only: {mode:o}");
    }
    let bytes = std::fs::read(&backup).expect("backup");
    assert!(
        !bytes
            .windows(crate::helpers::DATA_KEY.len())
            .any(|w| w == crate::helpers::DATA_KEY.as_bytes()),
        "the data key is not in the backup"
    );

    // A backup never overwrites.
    let again = refused({
        let mut c = wecare(&["--database-url", &url, "backup", "--to"]);
        c.arg(&backup);
        c
    });
    assert!(again.contains("never overwrites"), "{again}");

    // Restored into a database of its own, while the original stays untouched.
    let restored = dir.path().join("restored.db");
    let restored_url = format!("sqlite://{}", restored.display());
    let out = run_with_timeout({
        let mut c = wecare(&["--database-url", &restored_url, "restore", "--from"]);
        c.arg(&backup);
        c
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = wecare::startup::open_store(
        &wecare::config::DatabaseUrl::parse(&restored_url).expect("url"),
    )
    .await
    .expect("restored opens");
    for email in &before {
        store
            .account_by_email(&wecare::domain::accounts::Email::parse(email).expect("email"))
            .await
            .unwrap_or_else(|_| panic!("{email} was acknowledged before the backup and is lost"));
    }
    store.close().await;

    // Restoring over an existing database keeps that one aside.
    let out = run_with_timeout({
        let mut c = wecare(&["--database-url", &restored_url, "restore", "--from"]);
        c.arg(&backup);
        c
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("before-restore-"), "{stdout}");

    // Refused: the database a running server has open.
    let live = refused({
        let mut c = wecare(&["--database-url", &url, "restore", "--from"]);
        c.arg(&backup);
        c
    });
    assert!(live.contains("a wecare server is running"), "{live}");

    // Refused: another key, a file that is not wecare's, a file that is not SQLite.
    let other_key = dir.path().join("other.key");
    std::fs::write(&other_key, "1".repeat(64)).expect("key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&other_key, std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    let wrong = refused({
        let mut c = wecare(&["--database-url", &restored_url, "restore", "--from"]);
        c.arg(&backup).arg("--data-key-file").arg(&other_key);
        c.env_remove("WECARE_DATA_KEY");
        c
    });
    assert!(wrong.contains("sealed with another data key"), "{wrong}");
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "not a database at all\n").expect("file");
    let not_sqlite = refused({
        let mut c = wecare(&["--database-url", &restored_url, "restore", "--from"]);
        c.arg(&text);
        c
    });
    assert!(
        not_sqlite.contains("cannot be read as a SQLite database"),
        "{not_sqlite}"
    );
    let other = dir.path().join("other.db");
    {
        use sqlx::Connection;
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", other.display()))
                .await
                .expect("sqlite");
        sqlx::query("CREATE TABLE notes (t TEXT)")
            .execute(&mut conn)
            .await
            .expect("table");
        conn.close().await.expect("close");
    }
    let foreign = refused({
        let mut c = wecare(&["--database-url", &restored_url, "restore", "--from"]);
        c.arg(&other);
        c
    });
    assert!(foreign.contains("not a wecare one"), "{foreign}");

    // PostgreSQL has its own tools, and the command says which.
    let pg = refused(wecare(&[
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "backup",
        "--to",
        "/tmp/never-written.db",
    ]));
    assert!(pg.contains("pg_dump"), "{pg}");
    app.stop().await;
}

/// PostgreSQL's own tools, as the README gives them: a `pg_dump` of a live database,
/// restored with `pg_restore` into another, serves the same programme.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_restored_with_pg_restore_serves_the_same_programme() {
    use crate::helpers::{Backend, PASSWORD, TestApp};
    let Some(source) = TestDb::new(Backend::Postgres).await else {
        eprintln!(
            "skipped: WECARE_TEST_POSTGRES_URL is not set, so there is no PostgreSQL to test against"
        );
        return;
    };
    let bin = |name: &str| -> Option<std::path::PathBuf> {
        let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        dirs.reverse();
        std::iter::once(std::path::PathBuf::from(name))
            .chain(dirs.into_iter().map(|d| d.join(name)))
            .find(|p| {
                Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
    };
    let (Some(pg_dump), Some(pg_restore)) = (bin("pg_dump"), bin("pg_restore")) else {
        eprintln!("skipped: pg_dump and pg_restore are not installed");
        return;
    };
    let source = std::sync::Arc::new(source);
    let app = TestApp::spawn_shared(source.clone()).await;
    app.account(
        "ada@example.edu",
        &[wecare::domain::accounts::Role::Coordinator],
    )
    .await;
    let mut b = app.browser();
    let r = b.post("/support/request", &crate::support::fields()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let dir = tempfile::tempdir().expect("dir");
    let dump = dir.path().join("wecare.dump");
    // Taken while the server runs.
    let out = Command::new(&pg_dump)
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&source.url)
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.stop().await;

    let target = TestDb::new(Backend::Postgres).await.expect("PostgreSQL");
    let out = Command::new(&pg_restore)
        .args(["--clean", "--if-exists", "--no-owner", "--dbname"])
        .arg(&target.url)
        .arg(&dump)
        .output()
        .expect("pg_restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = TestApp::spawn(target).await;
    let mut b = restored.browser();
    assert_eq!(b.sign_in("ada@example.edu", PASSWORD).await.status, 303);
    let queue = b.get("/support/queue").await;
    assert_eq!(queue.status, 200, "{}", queue.body);
    assert!(
        queue.body.contains("/support/queue/"),
        "the request is in the queue: {}",
        queue.body
    );
    // The request's sealed identity came back whole: its coordinator view opens.
    let counts = restored
        .store
        .check_data_key(&wecare::sealing::DataKey::from_hex(crate::helpers::DATA_KEY).expect("key"))
        .await
        .expect("check");
    assert!(
        counts.is_ok(),
        "the restored database opens with the same key"
    );
}

/// A plan read before a helper saved their profile (or a role went, or the account was
/// switched off) is not written over what they saved: the whole file is refused and
/// checked again. A role the institution's claims granted is kept for good by a file
/// that gives it, and the plan says so.
async fn an_import_planned_before_a_change_is_refused_whole(db: TestDb) {
    use wecare::app::import::{Action, Welcome, apply, plan};
    use wecare::domain::accounts::Role;
    let store = db.store().await;
    let ada = crate::helpers::add_account(&store, "ada@example.edu", &[Role::Helper]).await;
    db.run_sql(&format!(
        "INSERT INTO account_roles (account_id, role, granted_by) VALUES ({}, 'coordinator', 'claims')",
        ada.id.0
    ))
    .await;
    let url = url::Url::parse("http://127.0.0.1:8080/").expect("url");
    let file = b"email,name,roles,department\nada@example.edu,Ada Lovelace,coordinator,Surgery\n";
    let checked = plan(&store, file).await.expect("plan");
    let Action::Change(what) = &checked.lines[0].action else {
        panic!("{:?}", checked.lines[0].action)
    };
    let said = what.join("; ");
    assert!(said.contains("keeps coordinator for good"), "{said}");
    assert!(said.contains("updates the helper profile"), "{said}");

    let mut own = store.helper_profile(ada.id).await.expect("profile");
    own.bio = "Saved while the file was being checked.".into();
    store.save_helper_profile(ada.id, &own).await.expect("save");
    let refused = apply(&store, &url, &checked, Welcome::SingleSignOn, &|_| {}).await;
    let Err(wecare::app::Error::Invalid(e)) = refused else {
        panic!("applied over a newer profile")
    };
    assert!(
        e.message().contains("changed after the file was checked"),
        "{e:?}"
    );
    let kept = store.helper_profile(ada.id).await.expect("profile");
    assert_eq!(kept.bio, "Saved while the file was being checked.");
    assert_eq!(kept.department, "", "nothing of the file was written");
    assert_eq!(
        store.account(ada.id).await.expect("ada").display_name,
        ada.display_name
    );

    let again = plan(&store, file).await.expect("plan");
    apply(&store, &url, &again, Welcome::SingleSignOn, &|_| {})
        .await
        .expect("imported");
    let now = store.account_state(ada.id).await.expect("state");
    assert!(
        !now.from_claims(Role::Coordinator),
        "the file's role is the programme's own"
    );
    assert!(now.roles.iter().any(|(r, _)| *r == Role::Coordinator));
    assert_eq!(now.profile.bio, "Saved while the file was being checked.");
    assert_eq!(now.profile.department, "Surgery");
    assert_eq!(now.display_name, "Ada Lovelace");
}
