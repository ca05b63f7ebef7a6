//! Load on the events pages and API, against the real server: `cargo bench --bench
//! events_load`. Starts `wecare serve` (the release build) as its own process on loopback,
//! on SQLite and, when `WECARE_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database,
//! then measures
//! - a burst of 1,000 guest registrations for an event of 50 places (`CONCURRENCY` in
//!   flight: 10, 50 and 100 by default): throughput and latency percentiles, and that exactly 50 were
//!   confirmed;
//! - the public event listing (`/events`) for a few seconds: requests per second.
//!
//! The figures go to docs/BENCHMARKS.md. Nothing here fails because the machine is slow.
//! `BENCH_WECARE_BIN=path/to/wecare` measures another build the same way, so that two
//! commits can be compared run by run on one machine.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wecare::config::DatabaseUrl;
use wecare::domain::accounts::{Email, Role};
use wecare::store::NewAccount;

const DATA_KEY: &str = "8f1c2e3d4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(18_099)
}

async fn start(db_url: &str, mail_dir: &std::path::Path) -> (Server, String) {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    // BENCH_WECARE_BIN runs another build (an earlier commit's, say) against the same load.
    let bin =
        std::env::var("BENCH_WECARE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_wecare").into());
    let child = Command::new(bin)
        // The load generator is one client address registering a thousand guests.
        .args([
            "--database-url",
            db_url,
            "serve",
            "--bind",
            &bind,
            "--guest-registrations-per-address",
            "100000",
        ])
        .env("WECARE_DATA_KEY", DATA_KEY)
        .env("WECARE_MAIL_DIR", mail_dir)
        .env("WECARE_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wecare serve starts");
    let server = Server(child);
    let base = format!("http://{bind}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return (server, base);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

async fn coordinator_token(db_url: &str) -> String {
    let store = wecare::startup::prepare_store(&DatabaseUrl::parse(db_url).expect("url"))
        .await
        .expect("store");
    let a = store
        .create_account(NewAccount {
            email: &Email::parse("bench@example.edu").expect("email"),
            display_name: "Bench",
            roles: &[Role::Coordinator],
            password_hash: None,
        })
        .await
        .expect("account");
    let token = store
        .create_api_token(a.id, "bench", None)
        .await
        .expect("token")
        .1;
    store.close().await;
    token
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn burst(base: &str, token: &str, n: usize, concurrency: usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    // The load generator's own calendar: an event two weeks from today.
    #[allow(clippy::disallowed_methods)]
    let date = jiff::Zoned::now()
        .date()
        .checked_add(jiff::ToSpan::days(14))
        .expect("date")
        .to_string();
    let event = |capacity: Value| {
        json!({"title": "Saturday academy", "time_zone": "America/New_York",
               "date": date, "start_time": "09:00", "end_time": "13:00",
               "audience": ["public"], "capacity": capacity, "guests_allowed": true,
               "guests_confirm": false})
    };
    let create = |body: Value| {
        client
            .post(format!("{base}/api/v1/events"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let mut answer = create(event(json!(50))).await.expect("create");
    // Builds from before December 2026 took the capacity as text: the same load can then
    // be run against them (BENCH_WECARE_BIN) for a before-and-after comparison.
    if answer.status() == reqwest::StatusCode::UNPROCESSABLE_ENTITY {
        answer = create(event(json!("50"))).await.expect("create");
    }
    let created: Value = answer.json().await.expect("json");
    let id = created["ids"][0].as_i64().expect("event id");
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let client = client.clone();
        let gate = gate.clone();
        let url = format!("{base}/api/v1/events/{id}/registrations");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.expect("gate");
            let t = Instant::now();
            let r = client
                .post(url)
                .json(&json!({"name": format!("Guest {i}"), "email": format!("g{i}@example.org")}))
                .send()
                .await
                .expect("request");
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or_default();
            (
                t.elapsed(),
                status,
                body["status"].as_str().unwrap_or("").to_string(),
            )
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let (mut confirmed, mut errors) = (0, 0);
    for t in tasks {
        let (d, status, s) = t.await.expect("task");
        latencies.push(d);
        if status != 201 {
            errors += 1;
        }
        if s == "confirmed" {
            confirmed += 1;
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    println!(
        "  registration burst: {n} requests, {concurrency} in flight, {:.2} s, {:.0} registrations/s",
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64()
    );
    println!(
        "    latency p50 {}, p90 {}, p99 {}, max {}; {confirmed} confirmed (of 50 places), {errors} errors",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
}

async fn listing(base: &str, seconds: u64, concurrency: usize) {
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = format!("{base}/events");
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                assert!(ok, "listing failed");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort();
    println!(
        "  event listing: {:.0} pages/s over {seconds} s with {concurrency} clients; p50 {}, p99 {}",
        all.len() as f64 / seconds as f64,
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99))
    );
}

async fn run(label: &str, db_url: &str, dir: &std::path::Path, concurrency: &[usize]) {
    println!("{label}:");
    let token = coordinator_token(db_url).await;
    let (_server, base) = start(db_url, &dir.join("mail")).await;
    // Some events to list, as a programme would have.
    wecare::demo_events::seed(
        &wecare::startup::prepare_store(&DatabaseUrl::parse(db_url).expect("url"))
            .await
            .expect("store"),
    )
    .await
    .expect("demo events");
    for c in concurrency {
        burst(&base, &token, 1000, *c).await;
    }
    listing(&base, 5, 32).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // CONCURRENCY=10,50 measures the burst at those numbers of requests in flight.
    let concurrency: Vec<usize> = std::env::var("CONCURRENCY")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![10, 50, 100]);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    run("SQLite", &sqlite, dir.path(), &concurrency).await;
    if let Ok(admin) = std::env::var("WECARE_TEST_POSTGRES_URL") {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let name = format!("wecare_bench_{}", wecare::crypto::random_hex(6));
        let mut conn = sqlx::AnyConnection::connect(&admin).await.expect("admin");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let mut url = url::Url::parse(&admin).expect("url");
        url.set_path(&name);
        run("PostgreSQL", url.as_str(), dir.path(), &concurrency).await;
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    } else {
        println!("PostgreSQL: skipped (WECARE_TEST_POSTGRES_URL is not set)");
    }
}
