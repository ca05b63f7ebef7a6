//! Timed work shared by all instances. Each job's row is claimed atomically, so a run
//! happens in one instance only, and each job is written to be safe to run again.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Store;

type JobFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<String>> + Send + 'a>>;

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
        name: "support-service-level",
        every_secs: 300,
        run: |store, settings| Box::pin(service_level(store, settings)),
    },
    Job {
        name: "support-retention",
        every_secs: 3600,
        run: |store, settings| {
            Box::pin(async move {
                let before = crate::domain::now() - i64::from(settings.retention_days) * 86_400;
                let n = store.purge_identities(before).await?;
                let mut files = 0;
                if let Some(dir) = &settings.mail_folder {
                    files = super::transport::erase_confidential_files(
                        dir,
                        i64::from(settings.retention_days) * 86_400,
                    )?;
                }
                Ok(format!(
                    "erased the identities of {n} requests closed more than {} days ago, and {files} confidential messages from the mail folder",
                    settings.retention_days
                ))
            })
        },
    },
    Job {
        name: "support-offer-expiry",
        every_secs: 300,
        run: |store, settings| {
            Box::pin(async move {
                let expired = store.expire_offers().await?;
                let mut passed_on = 0;
                for id in &expired {
                    if crate::app::support::offer_next(store, &settings.public_url, *id).await? {
                        passed_on += 1;
                    }
                }
                Ok(format!(
                    "{} unanswered offers expired; {passed_on} passed to the next helper, the rest wait in the queue",
                    expired.len()
                ))
            })
        },
    },
    Job {
        name: "event-lotteries",
        every_secs: 60,
        run: |store, settings| {
            Box::pin(async move {
                let n = crate::app::events::draw_due_lotteries(store, &settings.public_url).await?;
                Ok(format!("drew {n} lotteries"))
            })
        },
    },
    Job {
        name: "event-place-offers",
        every_secs: 300,
        run: |store, settings| {
            Box::pin(async move {
                let n = crate::app::events::lapse_offers(store, &settings.public_url).await?;
                Ok(format!("{n} offers of a freed place lapsed and passed on"))
            })
        },
    },
    Job {
        name: "event-reminders",
        every_secs: 900,
        run: |store, settings| {
            Box::pin(async move {
                let n = crate::app::events::send_reminders(store, &settings.public_url).await?;
                Ok(format!("sent {n} event reminders"))
            })
        },
    },
    Job {
        name: "event-erasure",
        every_secs: 3600,
        run: |store, settings| {
            Box::pin(async move {
                let n =
                    crate::app::events::erase_due(store, settings.minors_retention_days).await?;
                Ok(format!(
                    "erased the registrations of {n} private or students' events, counts kept"
                ))
            })
        },
    },
    Job {
        // The head of the audit chain, in the server's log once a day: a copy of the log
        // kept elsewhere then proves that no entry was cut off the end since.
        name: "audit-anchor",
        every_secs: 86_400,
        run: |store, _| {
            Box::pin(async move {
                let report = store.verify_audit().await?;
                if let Some((seq, why)) = report.broken_at {
                    anyhow::bail!("the audit log is broken at entry {seq}: {why}");
                }
                tracing::info!(
                    audit_seq = report.head.seq,
                    audit_hash = %report.head.hash,
                    "audit head"
                );
                Ok(format!(
                    "audit head {} ({} entries, chain intact)",
                    report.head, report.rows
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
                    "removed {n} expired sessions, links, throttle entries and unconfirmed guest registrations"
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

/// Reminds helpers whose first contact is due soon, and alerts coordinators when it is
/// overdue. Each message names its cause in its dedupe key, so running again sends
/// nothing twice.
async fn service_level(store: &Store, settings: &JobSettings) -> anyhow::Result<String> {
    use crate::domain::mail::MessageKind;
    use crate::domain::sla::{BusinessHours, SlaState, state};
    let sla = store.service_level_settings().await?;
    let hours = BusinessHours::parse(&sla).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = crate::domain::now();
    let reminder =
        super::Writer::load(store, &settings.public_url, MessageKind::HelperReminder).await?;
    let alerts = crate::app::support::CoordinatorAlerts::load(store, &settings.public_url).await?;
    let (mut reminded, mut alerted) = (0, 0);
    for (r, helper) in store.awaiting_first_contact().await? {
        let promise_hours = sla.promise_hours(r.urgency);
        let due = hours.local_text(hours.add(r.created_at, i64::from(promise_hours) * 3600));
        match state(&hours, promise_hours, r.created_at, None, now) {
            SlaState::DueSoon | SlaState::Overdue if helper.is_some() => {
                let Some(h) = helper else { continue };
                let account = store.account(crate::domain::accounts::AccountId(h)).await?;
                let m = reminder.to(
                    account.email.as_str(),
                    &[
                        ("name", &account.display_name),
                        ("link", &reminder.url(&format!("/helper/cases/{}", r.id))),
                        ("due", &due),
                    ],
                    format!("sla-remind:{}:{h}", r.id),
                );
                if store.enqueue(&m).await? {
                    reminded += 1;
                }
            }
            _ => {}
        }
        if state(&hours, promise_hours, r.created_at, None, now) == SlaState::Overdue {
            for m in alerts.messages(
                "a request passed its first-contact time",
                &format!("/support/queue/{}", r.id),
                &format!("sla-alert:{}", r.id),
            ) {
                if store.enqueue(&m).await? {
                    alerted += 1;
                }
            }
        }
    }
    Ok(format!(
        "{reminded} helper reminders and {alerted} coordinator alerts queued"
    ))
}
