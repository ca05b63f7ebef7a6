//! A real SMTP server for the delivery tests: Python's aiosmtpd running
//! `tests/support/smtp_sink.py`, which records each accepted message as a JSON line.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct SmtpSink {
    pub port: u16,
    delay: f64,
    out: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");

/// Whether Python with aiosmtpd is here; if not, says why the test is skipped.
pub fn available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var_os("WECARE_TEST_REQUIRE_SMTP").is_some() {
        panic!("WECARE_TEST_REQUIRE_SMTP is set but python3 cannot import aiosmtpd");
    }
    if !ok {
        eprintln!(
            "skipped: python3 with aiosmtpd is not installed (pip install aiosmtpd), so there is no SMTP server to test against"
        );
    }
    ok
}

impl SmtpSink {
    /// Starts a sink on a free port; `None` (with a printed reason) without aiosmtpd.
    pub fn start(delay: f64) -> Option<Self> {
        Self::prepare(crate::cli::free_port(), delay).map(|mut s| {
            s.resume();
            s
        })
    }

    /// A sink that is not listening yet: the port is chosen, the server is down.
    pub fn prepare(port: u16, delay: f64) -> Option<Self> {
        if !available() {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        Some(Self {
            port,
            delay,
            out: dir.path().join("received.jsonl"),
            child: None,
            _dir: dir,
        })
    }

    /// Starts (or restarts) the server on its port and waits until it listens.
    pub fn resume(&mut self) {
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .arg(self.port.to_string())
            .arg(&self.out)
            .arg(self.delay.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 starts the SMTP sink");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("sink says it is ready");
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        self.child = Some(child);
    }

    /// Stops the server: connections are refused until `resume`.
    pub fn pause(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `smtp://127.0.0.1:PORT?tls=none`, as `--smtp-url` takes it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn messages(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        let mut lines: Vec<&str> = text.split('\n').collect();
        // The last piece is empty, or a line the sink is still writing.
        lines.pop();
        lines
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("sink writes JSON lines"))
            .collect()
    }

    /// Waits until at least `n` messages arrived, or fails after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < within,
                "only {} of {n} messages arrived within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.pause();
    }
}

/// The Message-IDs of `messages`, each once; with the count, this shows duplicates.
pub fn distinct_ids(messages: &[Value]) -> std::collections::BTreeSet<String> {
    messages
        .iter()
        .map(|m| m["message_id"].as_str().unwrap_or_default().to_string())
        .collect()
}
