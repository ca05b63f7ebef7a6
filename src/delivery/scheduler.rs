//! Timed work shared by all instances. Each job's row is claimed atomically, so a run
//! happens in one instance only, and each job is written to be safe to run again.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

type JobFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<String>> + Send + 'a>>;

/// What jobs need from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    /// Days after a request closes before its identity is erased.
    pub retention_days: u32,
}

pub struct Job {
    pub name: &'static str,
    pub every_secs: i64,
    pub run: for<'a> fn(&'a Store, &'a JobSettings) -> JobFuture<'a>,
}

/// How long sent and cancelled messages stay visible in the outbox.
const OUTBOX_KEEP_SECS: i64 = 30 * 24 * 3600;
/// How long an unsubscribe link keeps working.
const UNSUBSCRIBE_LINK_SECS: i64 = 365 * 24 * 3600;

pub const JOBS: &[Job] = &[
    Job {
        name: "support-retention",
        every_secs: 3600,
        run: |store, settings| {
            Box::pin(async move {
                let before = crate::domain::now() - i64::from(settings.retention_days) * 86_400;
                let n = store.purge_identities(before).await?;
                Ok(format!(
                    "erased the identities of {n} requests closed more than {} days ago",
                    settings.retention_days
                ))
            })
        },
    },
    Job {
        name: "support-offer-expiry",
        every_secs: 300,
        run: |store, _| {
            Box::pin(async move {
                let n = store.expire_offers().await?;
                Ok(format!(
                    "{n} unanswered offers expired; their requests are back in the queue"
                ))
            })
        },
    },
    Job {
        name: "sign-in-cleanup",
        every_secs: 3600,
        run: |store, _| {
            Box::pin(async move {
                let n = store.delete_expired_sign_in_data().await?;
                Ok(format!(
                    "removed {n} expired sessions, links and throttle entries"
                ))
            })
        },
    },
    Job {
        name: "outbox-cleanup",
        every_secs: 3600,
        run: |store, _| {
            Box::pin(async move {
                let now = crate::domain::now();
                let messages = store.prune_outbox(now - OUTBOX_KEEP_SECS).await?;
                let links = store
                    .prune_unsubscribe_links(now - UNSUBSCRIBE_LINK_SECS)
                    .await?;
                Ok(format!(
                    "removed {messages} old messages and {links} expired unsubscribe links"
                ))
            })
        },
    },
];

/// How often each instance looks for due jobs.
const TICK: Duration = Duration::from_secs(30);
/// A run that takes longer than this is assumed dead and may be taken over.
const LEASE_SECS: i64 = 600;

pub async fn run(
    store: Store,
    settings: JobSettings,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    let now = crate::domain::now();
    for job in JOBS {
        if let Err(e) = store.ensure_job(job.name, now).await {
            tracing::warn!(job = job.name, error = %e, "registering a timed job failed");
        }
    }
    loop {
        for job in JOBS {
            if *stop.borrow() {
                return;
            }
            run_if_due(&store, &settings, &worker, job).await;
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Runs `job` if it is due and this instance wins the claim.
pub async fn run_if_due(store: &Store, settings: &JobSettings, worker: &str, job: &Job) {
    match store.claim_job(job.name, worker, LEASE_SECS).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(job = job.name, error = %e, "claiming a timed job failed");
            return;
        }
    }
    let result = match (job.run)(store, settings).await {
        Ok(summary) => {
            tracing::info!(job = job.name, "{summary}");
            summary
        }
        Err(e) => {
            tracing::warn!(job = job.name, error = %e, "a timed job failed; it runs again at its next time");
            format!("failed: {e:#}")
        }
    };
    let next = crate::domain::now() + job.every_secs;
    if let Err(e) = store.finish_job(job.name, worker, next, &result).await {
        tracing::warn!(job = job.name, error = %e, "recording a timed job's result failed");
    }
}
