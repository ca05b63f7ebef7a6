//! Housekeeping: the audit chain's head in the log, and old sign-in data, messages and
//! unsubscribe links removed.

use super::{JobContext, JobFuture, TimedJob};

/// How long sent and cancelled messages stay visible in the outbox.
const OUTBOX_KEEP_SECS: i64 = 30 * 24 * 3600;
/// How long an unsubscribe link keeps working.
const UNSUBSCRIBE_LINK_SECS: i64 = 365 * 24 * 3600;

/// The head of the audit chain, in the server's log once a day: a copy of the log kept
/// elsewhere then proves that no entry was cut off the end since.
pub struct AuditAnchor;
/// Expired sessions, links, throttle entries and unconfirmed guest registrations.
pub struct SignInCleanup;
/// Old messages and expired unsubscribe links.
pub struct OutboxCleanup;

impl TimedJob for AuditAnchor {
    fn name(&self) -> &'static str {
        "audit-anchor"
    }

    fn every_secs(&self) -> i64 {
        86_400
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let report = cx.store.verify_audit().await?;
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
    }
}

impl TimedJob for SignInCleanup {
    fn name(&self) -> &'static str {
        "sign-in-cleanup"
    }

    fn every_secs(&self) -> i64 {
        3600
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let n = cx.store.delete_expired_sign_in_data().await?;
            Ok(format!(
                "removed {n} expired sessions, links, throttle entries and unconfirmed guest registrations"
            ))
        })
    }
}

impl TimedJob for OutboxCleanup {
    fn name(&self) -> &'static str {
        "outbox-cleanup"
    }

    fn every_secs(&self) -> i64 {
        3600
    }

    fn run<'a>(&'a self, cx: &'a JobContext<'a>) -> JobFuture<'a> {
        Box::pin(async move {
            let now = cx.store.now();
            let messages = cx.store.prune_outbox(now - OUTBOX_KEEP_SECS).await?;
            let links = cx
                .store
                .prune_unsubscribe_links(now - UNSUBSCRIBE_LINK_SECS)
                .await?;
            Ok(format!(
                "removed {messages} old messages and {links} expired unsubscribe links"
            ))
        })
    }
}
