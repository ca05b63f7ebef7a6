//! The outbox: messages written in the transaction of the change that causes them, then
//! claimed by one delivery worker at a time (in any instance), sent, and marked.

use crate::domain::conflict::Conflict;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string};
use crate::crypto;
use crate::domain::mail::{Composed, MAX_ATTEMPTS, MessageKind};

/// A file sent with a message (a calendar entry, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub body: String,
}

/// What to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub kind: MessageKind,
    /// Names the cause ("account_setup:…"), so that the same cause never yields two
    /// messages however often it is replayed.
    pub dedupe_key: String,
    pub to: String,
    pub composed: Composed,
    pub attachment: Option<Attachment>,
    /// For optional messages: the secret of the one-click unsubscribe link and its URL.
    pub unsubscribe: Option<(String, String)>,
    /// Seal this message like a peer-support one although its kind is not: messages
    /// about private events (a support group) say who takes part.
    pub sealed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Queued,
    Sending,
    Sent,
    Failed,
    Cancelled,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 5] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Failed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A message as the delivery worker needs it.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub to_address: String,
    pub from_name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attachment: Option<Attachment>,
    pub list_unsubscribe: Option<String>,
    pub attempts: i64,
    /// Sealed at rest (peer support, private events): handled as identities are.
    pub confidential: bool,
}

/// A message as the outbox page shows it: no body, and no address for peer support.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    /// The recipient, or "(confidential)" for peer-support messages.
    pub to: String,
    pub subject: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The mail server's last answer: its acceptance, or why it refused.
    pub server_reply: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const MESSAGE_COLUMNS: &str = "id, kind, to_address, from_name, subject, body_text, body_html, \
     attachment_name, attachment_type, attachment_body, list_unsubscribe, attempts, confidential";

pub(super) fn outbox_context(id: i64, column: &str) -> String {
    format!("outbox:{id}:{column}")
}

fn message_from_row(row: &AnyRow) -> StoreResult<OutboxMessage> {
    use sqlx::Row;
    let attachment = match row.try_get::<Option<String>, _>("attachment_name")? {
        Some(name) => Some(Attachment {
            name,
            content_type: row
                .try_get::<Option<String>, _>("attachment_type")?
                .unwrap_or_else(|| "application/octet-stream".into()),
            body: row
                .try_get::<Option<String>, _>("attachment_body")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    Ok(OutboxMessage {
        id: get_i64(row, "id")?,
        kind: get_string(row, "kind")?,
        to_address: get_string(row, "to_address")?,
        from_name: get_string(row, "from_name")?,
        subject: get_string(row, "subject")?,
        body_text: get_string(row, "body_text")?,
        body_html: get_string(row, "body_html")?,
        attachment,
        list_unsubscribe: row.try_get::<Option<String>, _>("list_unsubscribe")?,
        attempts: get_i64(row, "attempts")?,
        confidential: get_i64(row, "confidential")? == 1,
    })
}

fn entry_from_row(row: &AnyRow) -> StoreResult<OutboxEntry> {
    use sqlx::Row;
    let status = get_string(row, "status")?;
    Ok(OutboxEntry {
        id: get_i64(row, "id")?,
        kind: get_string(row, "kind")?,
        to: if get_i64(row, "confidential")? == 1 {
            "(confidential)".into()
        } else {
            get_string(row, "to_address")?
        },
        subject: get_string(row, "subject")?,
        status: OutboxStatus::parse(&status).unwrap_or(OutboxStatus::Failed),
        attempts: get_i64(row, "attempts")?,
        next_attempt_at: get_i64(row, "next_attempt_at")?,
        server_reply: row.try_get::<Option<String>, _>("server_reply")?,
        created_at: get_i64(row, "created_at")?,
        sent_at: get_opt_i64(row, "sent_at")?,
    })
}

/// Writes a message inside the caller's transaction. Returns false when nothing was
/// written: the cause already produced its message, or the recipient switched this kind
/// of message off.
///
/// Peer-support messages (confidential kinds) have their recipient and bodies sealed with
/// the data key, like the requests they concern: the outbox is in the same database.
pub(super) async fn enqueue_in(
    conn: &mut AnyConnection,
    m: &NewMessage,
    store: &Store,
) -> StoreResult<bool> {
    let (now, key) = (store.now(), store.data_key.as_deref());
    let to = m.to.trim().to_lowercase();
    let id = crypto::random_id();
    let confidential = m.kind.info().confidential || m.sealed;
    let seal = |column: &str, value: &str| -> StoreResult<String> {
        if !confidential {
            return Ok(value.to_string());
        }
        let key = key.ok_or(StoreError::Conflict(Conflict::NoDataKey))?;
        Ok(key.seal(&outbox_context(id, column), value))
    };
    let (to_stored, text, html) = (
        seal("to_address", &to)?,
        seal("body_text", &m.composed.text)?,
        seal("body_html", &m.composed.html)?,
    );
    if m.kind.optional() {
        let opted_out =
            sqlx::query("SELECT 1 AS x FROM mail_optouts WHERE address = $1 AND kind = $2")
                .bind(&to)
                .bind(m.kind.key())
                .fetch_optional(&mut *conn)
                .await?
                .is_some();
        if opted_out {
            return Ok(false);
        }
    }
    let written = sqlx::query(
        "INSERT INTO outbox (id, kind, dedupe_key, to_address, from_name, subject, body_text,
             body_html, attachment_name, attachment_type, attachment_body, list_unsubscribe,
             confidential, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'queued', 0, $14, $14, $14)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(id)
    .bind(m.kind.key())
    .bind(&m.dedupe_key)
    .bind(&to_stored)
    .bind(&m.composed.from_name)
    .bind(&m.composed.subject)
    .bind(&text)
    .bind(&html)
    .bind(m.attachment.as_ref().map(|a| a.name.clone()))
    .bind(m.attachment.as_ref().map(|a| a.content_type.clone()))
    .bind(m.attachment.as_ref().map(|a| a.body.clone()))
    .bind(m.unsubscribe.as_ref().map(|(_, url)| url.clone()))
    .bind(i64::from(confidential))
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if written && let Some((secret, _)) = &m.unsubscribe {
        sqlx::query(
            "INSERT INTO unsubscribe_links (token_digest, address, kind, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(crypto::secret_digest(secret))
        .bind(&to)
        .bind(m.kind.key())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(written)
}

impl Store {
    /// Queues one message on its own (when nothing else changes with it).
    pub async fn enqueue(&self, m: &NewMessage) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let written = enqueue_in(&mut tx, m, self).await?;
        tx.commit().await?;
        self.wake_delivery();
        Ok(written)
    }

    /// Tells this instance's delivery worker that something was queued, so it does not
    /// wait for its next poll. Other instances find it on theirs.
    pub fn wake_delivery(&self) {
        self.delivery_wakeup.notify_one();
    }

    /// Completes when `wake_delivery` is called (or at once if it was since last time).
    pub async fn delivery_woken(&self) {
        self.delivery_wakeup.notified().await;
    }

    /// Claims up to `limit` due messages for `worker` for `lease_secs`. A message whose
    /// lease ran out (its worker died mid-send) is due again. Two workers never claim the
    /// same message: PostgreSQL skips rows another transaction has locked, and SQLite has
    /// one writer at a time.
    pub async fn claim_messages(
        &self,
        worker: &str,
        limit: i64,
        lease_secs: i64,
    ) -> StoreResult<Vec<OutboxMessage>> {
        let now = self.now();
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET status = 'sending', claimed_by = $1, lease_until = $2,
                 attempts = attempts + 1, updated_at = $3
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE (status = 'queued' AND next_attempt_at <= $3)
                    OR (status = 'sending' AND lease_until < $3 AND attempts < $5)
                 ORDER BY next_attempt_at, created_at, id
                 LIMIT $4 {lock})
             RETURNING {MESSAGE_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        // A message whose every try ended with its worker gone (a crash, a panic) has had
        // its last chance: it is failed here, where it would otherwise be claimed again.
        sqlx::query(
            "UPDATE outbox SET status = 'failed', lease_until = NULL, updated_at = $1,
                 server_reply = $2
             WHERE status = 'sending' AND lease_until < $1 AND attempts >= $3",
        )
        .bind(now)
        .bind(format!(
            "gave up after {MAX_ATTEMPTS} tries: the delivery never finished (the sending process stopped each time); see the server log"
        ))
        .bind(MAX_ATTEMPTS)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(now + lease_secs)
            .bind(now)
            .bind(limit)
            .bind(MAX_ATTEMPTS)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut m = message_from_row(row)?;
            if get_i64(row, "confidential")? == 1 {
                self.open_message(&mut m);
            }
            out.push(m);
        }
        Ok(out)
    }

    /// Opens a sealed message for sending. If it does not open (another key), it is left
    /// sealed, and building the e-mail fails with a clear reason on the outbox page.
    fn open_message(&self, m: &mut OutboxMessage) {
        let Some(key) = self.data_key.as_deref() else {
            return;
        };
        for (column, value) in [
            ("to_address", &mut m.to_address),
            ("body_text", &mut m.body_text),
            ("body_html", &mut m.body_html),
        ] {
            if let Ok(plain) = key.open(&outbox_context(m.id, column), value) {
                *value = plain;
            }
        }
    }

    /// Marks a claimed message handed off and erases its body: the mail server has it now,
    /// and bodies can hold one-time links.
    pub async fn message_sent(&self, id: i64, worker: &str, reply: &str) -> StoreResult<bool> {
        let now = self.now();
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, updated_at = $1,
                         server_reply = $2, body_text = '', body_html = '',
                         attachment_body = NULL, lease_until = NULL
                     WHERE id = $3 AND claimed_by = $4 AND status = 'sending'",
                )
                .bind(now)
                .bind(reply.to_string())
                .bind(id)
                .bind(worker.to_string()),
            )
            .await?;
        Ok(n == 1)
    }

    /// A temporary failure: try again at `at`.
    pub async fn message_retry_at(
        &self,
        id: i64,
        worker: &str,
        at: i64,
        reply: &str,
    ) -> StoreResult<()> {
        self.write_one(
            sqlx::query(
                "UPDATE outbox SET status = 'queued', next_attempt_at = $1, updated_at = $2,
                     server_reply = $3, lease_until = NULL, claimed_by = NULL
                 WHERE id = $4 AND claimed_by = $5 AND status = 'sending'",
            )
            .bind(at)
            .bind(self.now())
            .bind(reply.to_string())
            .bind(id)
            .bind(worker.to_string()),
        )
        .await?;
        Ok(())
    }

    /// A permanent failure, or a message that should not go out after all.
    pub async fn message_stopped(
        &self,
        id: i64,
        worker: &str,
        status: OutboxStatus,
        reply: &str,
    ) -> StoreResult<()> {
        self.write_one(
            sqlx::query(
                "UPDATE outbox SET status = $1, updated_at = $2, server_reply = $3,
                     lease_until = NULL
                 WHERE id = $4 AND claimed_by = $5 AND status = 'sending'",
            )
            .bind(status.as_str())
            .bind(self.now())
            .bind(reply.to_string())
            .bind(id)
            .bind(worker.to_string()),
        )
        .await?;
        Ok(())
    }

    /// The newest messages, optionally of one status.
    pub async fn list_outbox(
        &self,
        status: Option<OutboxStatus>,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let rows = sqlx::query(
            "SELECT id, kind, to_address, confidential, subject, status, attempts,
                    next_attempt_at, server_reply, created_at, sent_at
             FROM outbox WHERE ($1 = '' OR status = $1)
             ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(status.map(|s| s.as_str()).unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// How many messages are in each status.
    pub async fn outbox_counts(&self) -> StoreResult<Vec<(OutboxStatus, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<(OutboxStatus, i64)> =
            OutboxStatus::ALL.into_iter().map(|s| (s, 0)).collect();
        for row in rows {
            if let Some(s) = OutboxStatus::parse(&get_string(&row, "status")?) {
                for (k, n) in out.iter_mut() {
                    if *k == s {
                        *n = get_i64(&row, "n")?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Puts a failed or cancelled message back in the queue, to be tried at once.
    pub async fn requeue_message(&self, id: i64) -> StoreResult<()> {
        let now = self.now();
        let n = self
            .write_one(
                sqlx::query(
                    "UPDATE outbox SET status = 'queued', next_attempt_at = $1, updated_at = $1,
                         attempts = 0, claimed_by = NULL
                     WHERE id = $2 AND status IN ('failed', 'cancelled') AND body_text <> ''",
                )
                .bind(now)
                .bind(id),
            )
            .await?;
        if n == 0 {
            return Err(self.outbox_state_error(id, Conflict::NotResendable).await);
        }
        self.wake_delivery();
        Ok(())
    }

    /// Stops a message that has not gone out yet.
    pub async fn cancel_message(&self, id: i64) -> StoreResult<()> {
        let n = self.write_one(sqlx::query(
            "UPDATE outbox SET status = 'cancelled', updated_at = $1, server_reply = 'cancelled by an administrator'
             WHERE id = $2 AND status IN ('queued', 'failed')",
        )
        .bind(self.now())
        .bind(id))
        .await?;
        if n == 0 {
            return Err(self.outbox_state_error(id, Conflict::NotCancellable).await);
        }
        Ok(())
    }

    async fn outbox_state_error(&self, id: i64, msg: Conflict) -> StoreError {
        match sqlx::query("SELECT 1 AS x FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
        {
            Ok(None) => StoreError::NotFound,
            Ok(Some(_)) => StoreError::Conflict(msg),
            Err(e) => e.into(),
        }
    }

    /// Deletes finished messages (sent or cancelled) older than `before`. Failed ones stay
    /// until someone has looked at them.
    pub async fn prune_outbox(&self, before: i64) -> StoreResult<u64> {
        self.write_one(
            sqlx::query(
                "DELETE FROM outbox WHERE status IN ('sent', 'cancelled') AND updated_at < $1",
            )
            .bind(before),
        )
        .await
    }
}
