//! Timed work shared by all instances. Each job's row is claimed atomically, so a run
//! happens in one instance only, and each job is written to be safe to run again. Jobs act
//! for the programme itself, not for a person: they hold the store (start-up hands it to
//! them through `App::unscoped_store`) and call `app`'s shared actions.

mod events;
mod housekeeping;
mod support;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

/// What jobs need from the configuration.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Days after a request closes before its identity is erased.
    pub retention_days: u32,
    /// Days after a students' event ends before the children's details are erased.
    pub minors_retention_days: u32,
    /// For links in the messages jobs send.
    pub public_url: url::Url,
    /// The folder messages are written to when there is no mail server.
    pub mail_folder: Option<std::path::PathBuf>,
}

/// What a job works with.
pub struct JobContext<'a> {
    pub store: &'a Store,
    pub settings: &'a JobSettings,
}

pub type JobFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<String>> + Send + 'a>>;

/// One kind of timed work. `run` returns a summary for the jobs page, or why it failed.
pub trait TimedJob: Sync {
    /// The job's row in `jobs`, and its name in logs and on Admin → Outbox.
    fn name(&self) -> &'static str;
    fn every_secs(&self) -> i64;
    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a>;
}

/// Every timed job, in the order an instance looks at them.
pub const JOBS: &[&dyn TimedJob] = &[
    &support::ServiceLevel,
    &support::Retention,
    &support::OfferExpiry,
    &events::Lotteries,
    &events::PlaceOffers,
    &events::Reminders,
    &events::Erasure,
    &housekeeping::AuditAnchor,
    &housekeeping::SignInCleanup,
    &housekeeping::OutboxCleanup,
];

/// The job of that name.
pub fn job(name: &str) -> Option<&'static dyn TimedJob> {
    JOBS.iter().copied().find(|j| j.name() == name)
}

/// How often each instance looks for due jobs.
const TICK: Duration = Duration::from_secs(30);
/// A run that takes longer than this is assumed dead and may be taken over.
const LEASE_SECS: i64 = 600;

/// What became of one look at a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not due, or another instance has it.
    NotClaimed,
    Ran(String),
    Failed(String),
}

/// Registers every job, then runs the due ones every tick until `stop`.
pub async fn run(
    store: Store,
    settings: JobSettings,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    let now = store.now();
    for job in JOBS {
        if let Err(e) = store.ensure_job(job.name(), now).await {
            tracing::warn!(job = job.name(), error = %e, "registering a timed job failed");
        }
    }
    loop {
        for job in JOBS {
            if *stop.borrow() {
                return;
            }
            run_if_due(&store, &settings, &worker, *job).await;
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Runs `job` if it is due and this instance wins the claim, records how it went, and
/// says so.
pub async fn run_if_due(
    store: &Store,
    settings: &JobSettings,
    worker: &str,
    job: &dyn TimedJob,
) -> Outcome {
    match store.claim_job(job.name(), worker, LEASE_SECS).await {
        Ok(true) => {}
        Ok(false) => return Outcome::NotClaimed,
        Err(e) => {
            tracing::warn!(job = job.name(), error = %e, "claiming a timed job failed");
            return Outcome::NotClaimed;
        }
    }
    let cx = JobContext { store, settings };
    let (outcome, result) = match job.run(&cx).await {
        Ok(summary) => {
            tracing::info!(job = job.name(), "{summary}");
            (Outcome::Ran(summary.clone()), summary)
        }
        Err(e) => {
            tracing::warn!(
                job = job.name(),
                error = format!("{e:#}"),
                "a timed job failed; it runs again at its next time"
            );
            let why = format!("failed: {e:#}");
            (Outcome::Failed(why.clone()), why)
        }
    };
    let next = store.now() + job.every_secs();
    if let Err(e) = store.finish_job(job.name(), worker, next, &result).await {
        tracing::warn!(job = job.name(), error = %e, "recording a timed job's result failed");
    }
    outcome
}
