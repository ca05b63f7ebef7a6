//! Test harness: a fresh database per test (a temporary SQLite file, or a new PostgreSQL
//! database dropped afterwards), the real server on port 0, and a small browser with a
//! cookie jar that fills in CSRF tokens the way a form would.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};
use tokio::sync::oneshot;
use wecare::config::{DatabaseUrl, LogFormat, MailConfig, ServeConfig};
use wecare::domain::accounts::{Account, Email, Role};
use wecare::startup::Application;
use wecare::store::{NewAccount, Store};

pub const PASSWORD: &str = "a long enough test password";
/// The data key every test server uses (a restart on the same database needs the same key).
pub const DATA_KEY: &str = "8f1c2e3d4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body on SQLite and on PostgreSQL (skipped, with a reason, when no server).
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::helpers::TestDb::new($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                super::$name(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::TestDb::new($crate::helpers::Backend::Postgres).await {
                    Some(db) => super::$name(db).await,
                    None => eprintln!("skipped: WECARE_TEST_POSTGRES_URL is not set, so there is no PostgreSQL to test against"),
                }
            }
        }
    )*};
}

pub struct TestDb {
    pub url: String,
    /// Holds the SQLite file and, for both backends, the folder mail is written to.
    dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

pub fn postgres_admin_url() -> Option<String> {
    std::env::var("WECARE_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("wecare.db").display());
                Some(Self { url, dir, pg: None })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url()?;
                let name = format!("wecare_test_{}", wecare::crypto::random_hex(8));
                run_admin_sql(&admin, &format!("CREATE DATABASE {name}")).await;
                let mut url = url::Url::parse(&admin).expect("WECARE_TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                Some(Self {
                    url: url.to_string(),
                    dir: tempfile::tempdir().expect("temp dir"),
                    pg: Some((admin, name)),
                })
            }
        }
    }

    /// Where the server writes `.eml` files when no SMTP server is configured.
    pub fn mail_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("mail")
    }

    /// The messages written to the mail folder so far, as text.
    pub fn mail_files(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.mail_dir())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "eml"));
        names.sort();
        names
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    pub fn database(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("test URL parses")
    }

    pub async fn store(&self) -> Store {
        wecare::startup::prepare_store(&self.database())
            .await
            .expect("test database opens")
    }

    /// Runs SQL on the test database as an operator would, outside the application
    /// (several statements may be given at once).
    pub async fn run_sql(&self, sql: &str) {
        run_admin_sql(self.database().driver_url(), sql).await;
    }
}

async fn run_admin_sql(admin_url: &str, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(admin_url)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .expect("admin SQL runs");
    let _ = conn.close().await;
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the work.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(run_admin_sql(
                        &admin,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ));
                }
            })
            .join();
        }
    }
}

/// Session terms for a store-level test: `secs` idle, a day at most.
/// `[sign_up]` for addresses at `domain`, as the demo has it.
pub fn sign_up_at(domain: &str) -> wecare::config::SignUpConfig {
    wecare::config::parse_sign_up(
        &wecare::config::SignUpFile {
            allowed_email_domains: Some(vec![domain.into()]),
        },
        true,
    )
    .expect("valid")
}

pub fn terms(secs: i64) -> wecare::store::SessionTerms {
    wecare::store::SessionTerms {
        idle_secs: secs,
        max_secs: 86_400,
    }
}

pub fn serve_config(db: &TestDb) -> ServeConfig {
    ServeConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        database: db.database(),
        public_url: url::Url::parse("http://127.0.0.1:8080").expect("url"),
        log_format: LogFormat::Text,
        trust_proxy: false,
        trusted_proxies: Vec::new(),
        metrics_token: None,
        session_hours: 12,
        session_max_days: 7,
        demo: false,
        mail: MailConfig::folder(db.mail_dir()),
        data_key: wecare::sealing::DataKey::from_hex(DATA_KEY).expect("test key"),
        retention_days: 90,
        minors_retention_days: 30,
        // The suite registers thousands of guests from one address; the limit itself is
        // tested with a small value.
        guest_registrations_per_address: 100_000,
        oidc: None,
        trusted_header: None,
        sign_up: None,
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    /// Keeps the database alive as long as a server uses it.
    pub db: Arc<TestDb>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Set by a test that makes mail or a timed job fail on purpose.
    failures_expected: std::sync::atomic::AtomicBool,
}

impl TestApp {
    pub async fn spawn(db: TestDb) -> Self {
        Self::spawn_shared(Arc::new(db)).await
    }

    /// A second server on the same database, as another instance or after a restart.
    pub async fn spawn_shared(db: Arc<TestDb>) -> Self {
        let cfg = serve_config(&db);
        Self::spawn_with(db, cfg).await
    }

    pub async fn spawn_with(db: Arc<TestDb>, cfg: ServeConfig) -> Self {
        let app = Application::build(&cfg).await.expect("application builds");
        let addr = app.local_addr().expect("bound");
        let store = app.store().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = app
                .run(async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            addr,
            store,
            db,
            stop: Some(tx),
            task: Some(task),
            failures_expected: std::sync::atomic::AtomicBool::new(false),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.addr)
    }

    /// Stops the server and waits until it has let go of the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    pub async fn account(&self, email: &str, roles: &[Role]) -> Account {
        add_account(&self.store, email, roles).await
    }

    /// An account with the given roles, signed in, in its own browser.
    pub async fn signed_in(&self, email: &str, roles: &[Role]) -> Browser {
        self.account(email, roles).await;
        let mut b = self.browser();
        let r = b.sign_in(email, PASSWORD).await;
        assert_eq!(r.status, 303, "sign-in of {email} failed: {}", r.body);
        b
    }

    pub async fn token_for(&self, account: &Account) -> String {
        self.store
            .create_api_token(account.id, "test", None)
            .await
            .expect("token")
            .1
    }
}

impl TestApp {
    /// Waits until nothing in the outbox is queued or being sent: every message written
    /// so far has been handed off (to the mail folder or the SMTP server), so a count of
    /// what arrived is final.
    pub async fn mail_settled(&self) {
        use wecare::store::OutboxStatus;
        wait_for_outbox(&self.store, "nothing waiting to be sent", |all| {
            !all.iter()
                .any(|m| matches!(m.status, OutboxStatus::Queued | OutboxStatus::Sending))
        })
        .await;
    }

    /// This test makes a message or a timed job fail on purpose: the check at the end of
    /// the test lets those pass.
    pub fn expect_failures(&self) {
        self.failures_expected
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Waits until the outbox satisfies `ready` (polled, never a fixed pause), or fails after
/// 30 s with what the outbox held.
pub async fn wait_for_outbox(
    store: &Store,
    what: &str,
    ready: impl Fn(&[wecare::store::OutboxEntry]) -> bool,
) -> Vec<wecare::store::OutboxEntry> {
    let start = std::time::Instant::now();
    loop {
        let all = store.list_outbox(None, 10_000).await.expect("list");
        if ready(&all) {
            return all;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "the outbox never reached {what}: {all:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A failed message or timed-job run that no test asserted on, read with a connection of
/// its own (the server's pool lives on the test's runtime, which is ending).
fn unexpected_failures(url: String) -> Vec<String> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            use sqlx::{Connection, Row};
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(&url)
                .await
                .expect("a connection to check for background failures");
            let mut out = Vec::new();
            let mail = sqlx::query(
                "SELECT kind, server_reply FROM outbox WHERE status = 'failed' ORDER BY id",
            )
            .fetch_all(&mut conn)
            .await
            .expect("failed messages");
            for r in mail {
                let kind: String = r.try_get("kind").unwrap_or_default();
                let why: Option<String> = r.try_get("server_reply").unwrap_or_default();
                out.push(format!(
                    "message {kind} failed: {}",
                    why.unwrap_or_default()
                ));
            }
            let jobs =
                sqlx::query("SELECT name, last_result FROM jobs WHERE last_result LIKE 'failed:%'")
                    .fetch_all(&mut conn)
                    .await
                    .expect("failed job runs");
            for r in jobs {
                let name: String = r.try_get("name").unwrap_or_default();
                let why: Option<String> = r.try_get("last_result").unwrap_or_default();
                out.push(format!("job {name} {}", why.unwrap_or_default()));
            }
            let _ = conn.close().await;
            out
        })
    })
    .join()
    .unwrap_or_default()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        // A failure in the server's background (a message that could not be sent, a job
        // run that failed) would otherwise pass unnoticed in its log.
        let expected = self
            .failures_expected
            .load(std::sync::atomic::Ordering::Relaxed);
        if !expected && !std::thread::panicking() {
            let failures = unexpected_failures(self.db.database().driver_url().to_string());
            assert!(
                failures.is_empty(),
                "the server failed in the background during this test (call \
                 app.expect_failures() if the test means it): {failures:#?}"
            );
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.header("location")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A browser: keeps cookies, does not follow redirects, puts the CSRF cookie's value in
/// forms as the pages' hidden field would.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            base: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, resp: reqwest::Response) -> Reply {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        for c in headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let first = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        let body = resp.text().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("GET");
        self.finish(resp).await
    }

    /// A GET with extra request headers, given as bytes (a proxy's attributes are UTF-8).
    pub async fn get_with(&mut self, path: &str, extra: &[(&str, &[u8])]) -> Reply {
        let mut req = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        for (name, value) in extra {
            req = req.header(
                *name,
                HeaderValue::from_bytes(value).expect("a header value"),
            );
        }
        let resp = req.send().await.expect("GET");
        self.finish(resp).await
    }

    /// Posts a form with the browser's CSRF token, as the site's own forms do. A first GET
    /// fetches the token if the browser has none yet.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        if !self.cookies.contains_key("wecare_csrf") {
            self.get("/").await;
        }
        let token = self.cookies.get("wecare_csrf").cloned().unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all, None).await
    }

    /// Posts exactly these fields (no CSRF token added), optionally with an Origin header.
    pub async fn post_raw(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Reply {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.expect("POST");
        self.finish(resp).await
    }

    /// Posts a form with a file (`multipart/form-data`), the CSRF token first as the
    /// site's forms put it; `token: false` leaves it out.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &[u8])],
        token: bool,
    ) -> Reply {
        if !self.cookies.contains_key("wecare_csrf") {
            self.get("/").await;
        }
        let csrf = self.cookies.get("wecare_csrf").cloned().unwrap_or_default();
        let boundary = "wecare-test-boundary-7f3a";
        let mut body = Vec::new();
        let mut all: Vec<(&str, &[u8])> = Vec::new();
        if token {
            all.push(("csrf_token", csrf.as_bytes()));
        }
        all.extend_from_slice(fields);
        for (name, value) in all {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let file = if name == "file" {
                "; filename=\"people.csv\""
            } else {
                ""
            };
            body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("POST");
        self.finish(resp).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Reply {
        self.post("/signin", &[("email", email), ("password", password)])
            .await
    }
}

/// A JSON API client with an optional bearer token.
pub async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Reply {
    let client = reqwest::Client::new();
    let mut req = client.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("API request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// An account with the test password, straight through the store.
pub async fn add_account(store: &Store, email: &str, roles: &[Role]) -> Account {
    let hash = wecare::crypto::hash_password(PASSWORD).expect("hash");
    store
        .create_account(NewAccount {
            email: &Email::parse(email).expect("email"),
            display_name: "Test Person",
            roles,
            password_hash: Some(hash),
        })
        .await
        .expect("account created")
}

/// A routine request about burnout, to be answered by e-mail: the typed input the API
/// takes, for a test to change what it is about.
pub fn routine_request(name: &str, email: &str) -> wecare::domain::support::RequestInput {
    use wecare::domain::support::{ContactMode, RequestInput, Topic, Urgency};
    RequestInput::new(
        vec![Topic::Burnout],
        Urgency::Routine,
        ContactMode::Email,
        name,
        email,
    )
}

/// A routine request about burnout, by e-mail, filed straight through the store.
pub async fn file_request(
    store: &Store,
    name: &str,
    email: &str,
    department: &str,
) -> wecare::store::RequestSummary {
    let mut input = routine_request(name, email);
    input.department = department.into();
    let request = wecare::domain::support::NewRequest::parse(&input).expect("valid");
    store
        .create_support_request(&request, None, &[])
        .await
        .expect("filed")
        .0
}

/// Records a current training (done yesterday, valid a year) so the helper gets offers.
pub async fn train(store: &Store, helper: wecare::domain::accounts::AccountId) {
    let now = store.now();
    store
        .add_training(
            helper,
            wecare::domain::helpers::TrainingKind::Initial,
            now - 86_400,
            now + 365 * 86_400,
            helper,
        )
        .await
        .expect("training");
}
