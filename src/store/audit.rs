//! The audit log: an append-only, hash-chained record of every view of identifying data.
//! Each row's hash covers the previous row's, so editing or deleting any row breaks the
//! chain from there on, which `verify_audit` finds.

use crate::domain::conflict::Conflict;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Store, StoreError, StoreResult, get_i64, get_opt_i64, get_string};
use crate::domain::accounts::AccountId;

const GENESIS: &str = "wecare-audit-genesis";

fn row_hash(
    prev: &str,
    seq: i64,
    at: i64,
    actor: Option<i64>,
    action: &str,
    subject: &str,
) -> String {
    let actor = actor.map(|a| a.to_string()).unwrap_or_default();
    hex::encode(Sha256::digest(
        format!("{prev}\n{seq}\n{at}\n{actor}\n{action}\n{subject}").as_bytes(),
    ))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: Option<i64>,
    pub action: String,
    /// What was looked at, by reference ("support_request:42"), never by name.
    pub subject: String,
}

/// What `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub rows: u64,
    /// The first row where the chain breaks, and why.
    pub broken_at: Option<(i64, String)>,
    /// The newest entry's number and hash (0 and the genesis text when empty): written to
    /// the server's log every day and shown to administrators, so that a copy kept
    /// elsewhere can later prove that no entry was cut off the end.
    pub head: AuditHead,
}

/// A point of the chain: an entry's number and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: String,
}

impl AuditHead {
    /// `SEQ:HASH`, as `wecare audit verify --head` takes it.
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, hash) = text.trim().split_once(':')?;
        let seq: i64 = seq.trim().parse().ok().filter(|s| *s >= 1)?;
        let hash = hash.trim().to_ascii_lowercase();
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(Self { seq, hash })
    }
}

impl std::fmt::Display for AuditHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// An entry as the administrators' page lists it: who (by account name), what, when, and
/// the reference of what was looked at, never a name from inside it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor: Option<i64>,
    pub actor_name: Option<String>,
    pub action: String,
    pub subject: String,
}

/// Appends one entry inside the caller's transaction, so that the record and the change
/// it records commit together. A unique violation means another instance appended first:
/// the caller runs its transaction again.
pub(super) async fn append_in(
    conn: &mut sqlx::AnyConnection,
    at: i64,
    actor: Option<AccountId>,
    action: &str,
    subject: &str,
) -> Result<(), sqlx::Error> {
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev) = match &last {
        Some(r) => (
            get_i64(r, "seq").map_err(into_sqlx)? + 1,
            get_string(r, "hash").map_err(into_sqlx)?,
        ),
        None => (1, GENESIS.to_string()),
    };
    let actor = actor.map(|a| a.0);
    let hash = row_hash(&prev, seq, at, actor, action, subject);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, subject, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(subject)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn into_sqlx(e: StoreError) -> sqlx::Error {
    match e {
        StoreError::Database(e) => e,
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

impl Store {
    /// Appends one entry. Two instances appending at once may pick the same sequence
    /// number; the loser tries again on top of the winner.
    pub async fn audit(
        &self,
        actor: Option<AccountId>,
        action: &str,
        subject: &str,
    ) -> StoreResult<()> {
        self.audit_each(actor, action, &[subject.to_string()]).await
    }

    /// Appends one entry per subject in one transaction (one commit for a whole queue).
    pub async fn audit_each(
        &self,
        actor: Option<AccountId>,
        action: &str,
        subjects: &[String],
    ) -> StoreResult<()> {
        if subjects.is_empty() {
            return Ok(());
        }
        'attempt: for _ in 0..10 {
            let mut tx = self.begin_write().await?;
            for subject in subjects {
                match append_in(&mut tx, self.now(), actor, action, subject).await {
                    Ok(()) => {}
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => continue 'attempt,
                    Err(e) => return Err(e.into()),
                }
            }
            tx.commit().await?;
            return Ok(());
        }
        Err(StoreError::Conflict(Conflict::AuditBusy))
    }

    pub async fn list_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject FROM audit_log ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    seq: get_i64(r, "seq")?,
                    at: get_i64(r, "at")?,
                    actor: get_opt_i64(r, "actor")?,
                    action: get_string(r, "action")?,
                    subject: get_string(r, "subject")?,
                })
            })
            .collect()
    }

    /// Walks the whole chain: every row must follow the previous one without a gap and
    /// carry the hash of its own content and its predecessor's hash.
    pub async fn verify_audit(&self) -> StoreResult<AuditReport> {
        self.verify_audit_against(&[]).await
    }

    /// As `verify_audit`, and each anchor (a head exported or logged earlier) must still be
    /// in the chain with the same hash: deleting the newest entries, or rewriting the whole
    /// chain, is then found too.
    pub async fn verify_audit_against(&self, anchors: &[AuditHead]) -> StoreResult<AuditReport> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut prev = GENESIS.to_string();
        let mut head = AuditHead {
            seq: 0,
            hash: GENESIS.to_string(),
        };
        let total = rows.len() as u64;
        for (expected, r) in (1_i64..).zip(rows.iter()) {
            let seq = get_i64(r, "seq")?;
            let broken = |why: &str, head: &AuditHead| {
                Ok(AuditReport {
                    rows: total,
                    broken_at: Some((seq, why.to_string())),
                    head: head.clone(),
                })
            };
            if seq != expected {
                return broken(&format!("row {expected} is missing"), &head);
            }
            if get_string(r, "prev_hash")? != prev {
                return broken("it does not follow the row before it", &head);
            }
            let hash = row_hash(
                &prev,
                seq,
                get_i64(r, "at")?,
                get_opt_i64(r, "actor")?,
                &get_string(r, "action")?,
                &get_string(r, "subject")?,
            );
            if get_string(r, "hash")? != hash {
                return broken("its content was changed", &head);
            }
            if anchors.iter().any(|a| a.seq == seq && a.hash != hash) {
                return broken(
                    "it differs from the head recorded earlier (the chain was rewritten from here)",
                    &head,
                );
            }
            prev = hash.clone();
            head = AuditHead { seq, hash };
        }
        if let Some(a) = anchors
            .iter()
            .filter(|a| a.seq > head.seq)
            .min_by_key(|a| a.seq)
        {
            return Ok(AuditReport {
                rows: total,
                broken_at: Some((
                    head.seq + 1,
                    format!(
                        "entries {} to {} were recorded earlier and are gone (cut off the end)",
                        head.seq + 1,
                        a.seq
                    ),
                )),
                head,
            });
        }
        Ok(AuditReport {
            rows: total,
            broken_at: None,
            head,
        })
    }

    /// Entries newest first, `limit` at a time, older than `before` when given; with the
    /// acting account's name.
    pub async fn audit_page(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT l.seq, l.at, l.actor, l.action, l.subject, a.display_name
             FROM audit_log l LEFT JOIN accounts a ON a.id = l.actor
             WHERE l.seq < $1 ORDER BY l.seq DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                use sqlx::Row;
                Ok(AuditRow {
                    seq: get_i64(r, "seq")?,
                    at: get_i64(r, "at")?,
                    actor: get_opt_i64(r, "actor")?,
                    actor_name: r.try_get::<Option<String>, _>("display_name")?,
                    action: get_string(r, "action")?,
                    subject: get_string(r, "subject")?,
                })
            })
            .collect()
    }
}
