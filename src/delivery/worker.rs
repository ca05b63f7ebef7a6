//! The delivery worker: claims due messages, sends them, and records the outcome.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::transport::{SendError, Transport, build_email};
use crate::domain::mail::{MAX_ATTEMPTS, MessageKind, backoff_secs};
use crate::store::{OutboxMessage, OutboxStatus, Store};

pub struct Settings {
    pub from_address: String,
    pub retry_base_secs: i64,
    pub send_timeout: Duration,
    pub lease_secs: i64,
}

/// How often to look for due messages when nothing wakes the worker: retries that came
/// due, and messages queued by other instances.
const POLL: Duration = Duration::from_secs(1);

pub async fn run(
    store: Store,
    transport: Arc<Transport>,
    settings: Arc<Settings>,
    worker: String,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        match store
            .claim_messages(&worker, super::BATCH, settings.lease_secs)
            .await
        {
            Ok(batch) if !batch.is_empty() => {
                let mut sends = tokio::task::JoinSet::new();
                let mut message_of = std::collections::HashMap::new();
                for m in batch {
                    let id = m.id;
                    let (store, transport, settings, worker) = (
                        store.clone(),
                        transport.clone(),
                        settings.clone(),
                        worker.clone(),
                    );
                    let task = sends.spawn(async move {
                        deliver(&store, &transport, &settings, &worker, m).await;
                    });
                    message_of.insert(task.id(), id);
                }
                while let Some(done) = sends.join_next().await {
                    let Err(e) = done else { continue };
                    // A panic while sending one message fails that message, with its
                    // reason; it must not come back every lease, holding the others up.
                    let Some(id) = message_of.get(&e.id()).copied() else {
                        continue;
                    };
                    tracing::error!(id, error = %e, "delivering a message panicked; it is marked failed");
                    record(
                        store
                            .message_stopped(
                                id,
                                &worker,
                                OutboxStatus::Failed,
                                "delivery failed unexpectedly while sending this message; see the server log, correct the cause, then retry",
                            )
                            .await,
                        id,
                    );
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "claiming messages from the outbox failed"),
        }
        tokio::select! {
            () = store.delivery_woken() => {}
            () = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Sends one claimed message and records what happened. Logs name the message's id and
/// kind only: never its recipient or content.
async fn deliver(
    store: &Store,
    transport: &Transport,
    settings: &Settings,
    worker: &str,
    m: OutboxMessage,
) {
    let optional = MessageKind::parse(&m.kind).is_some_and(MessageKind::optional);
    if optional
        && store
            .is_opted_out(&m.to_address, &m.kind)
            .await
            .unwrap_or(false)
    {
        record(
            store
                .message_stopped(
                    m.id,
                    worker,
                    OutboxStatus::Cancelled,
                    "the recipient unsubscribed",
                )
                .await,
            m.id,
        );
        return;
    }
    let email = match build_email(&m, &settings.from_address) {
        Ok(e) => e,
        Err(reason) => {
            tracing::warn!(id = m.id, kind = %m.kind, "an outbox message cannot be sent: {reason}");
            record(
                store
                    .message_stopped(m.id, worker, OutboxStatus::Failed, &reason)
                    .await,
                m.id,
            );
            return;
        }
    };
    let outcome = match tokio::time::timeout(
        settings.send_timeout,
        transport.send(&email, &m, store.now()),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => Err(SendError::Temporary(format!(
            "no answer from the mail server within {} s",
            settings.send_timeout.as_secs()
        ))),
    };
    let outcome = match outcome {
        Ok(r) => Ok(redact_addresses(&r)),
        Err(SendError::Permanent(r)) => Err(SendError::Permanent(redact_addresses(&r))),
        Err(SendError::Temporary(r)) => Err(SendError::Temporary(redact_addresses(&r))),
    };
    let result = match outcome {
        Ok(reply) => {
            tracing::info!(id = m.id, kind = %m.kind, attempt = m.attempts, "message handed off");
            store.message_sent(m.id, worker, &reply).await.map(|_| ())
        }
        Err(SendError::Permanent(reply)) => {
            tracing::warn!(id = m.id, kind = %m.kind, "the mail server refused a message for good: {reply}");
            store
                .message_stopped(m.id, worker, OutboxStatus::Failed, &reply)
                .await
        }
        Err(SendError::Temporary(reply)) if m.attempts >= MAX_ATTEMPTS => {
            tracing::warn!(id = m.id, kind = %m.kind, "giving up on a message after {} tries: {reply}", m.attempts);
            store
                .message_stopped(
                    m.id,
                    worker,
                    OutboxStatus::Failed,
                    &format!("gave up after {} tries: {reply}", m.attempts),
                )
                .await
        }
        Err(SendError::Temporary(reply)) => {
            let jitter = (crate::crypto::random_id() % 1000) as u32;
            let wait = backoff_secs(m.attempts, settings.retry_base_secs, jitter);
            tracing::info!(id = m.id, kind = %m.kind, attempt = m.attempts, retry_in_secs = wait, "delivery failed for now: {reply}");
            store
                .message_retry_at(m.id, worker, store.now() + wait, &reply)
                .await
        }
    };
    record(result, m.id);
}

/// Replaces anything that looks like an e-mail address with "<address>".
pub fn redact_addresses(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            if trimmed.contains('@') {
                format!("<address>{}", &word[trimmed.len()..])
            } else {
                word.to_string()
            }
        })
        .collect()
}

fn record(result: Result<(), crate::store::StoreError>, id: i64) {
    if let Err(e) = result {
        tracing::error!(id, error = %e, "recording a delivery outcome failed; the message will be retried when its claim runs out");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_taken_out_of_server_answers() {
        let r =
            super::redact_addresses("550 5.1.1 <jane.roe@example.org>: Recipient address rejected");
        assert_eq!(r, "550 5.1.1 <address> Recipient address rejected");
        assert!(!r.contains("jane"));
        assert_eq!(super::redact_addresses("250 OK queued"), "250 OK queued");
    }
}
