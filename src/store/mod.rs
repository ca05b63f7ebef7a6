//! The data layer: one implementation over SQLite and PostgreSQL, chosen at run time from
//! the database URL. Both run the same SQL text (`$1` placeholders) and the same migrations.
//! Functions take and return domain types; nothing above this module writes SQL.

mod accounts;
mod audit;
mod backup;
mod cases;
mod content;
mod events;
mod helpers;
mod import;
mod jobs;
mod mail;
mod minors;
mod outbox;
mod pledge;
mod registrations;
mod resources;
mod sessions;
mod sign_in;
mod sign_ups;
mod support;
mod throttle;
mod tokens;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::config::DatabaseUrl;

pub use accounts::NewAccount;
pub use audit::{AuditEntry, AuditHead, AuditReport, AuditRow};
pub use backup::{BackupFacts, inspect_sqlite_file, key_opens, latest_migration};
pub use cases::{Contact, Offer};
pub use events::{EventChange, EventCounts, EventFilter, Promoted};
pub use helpers::{Application, HelperSummary, PublicHelper};
pub use import::{AccountState, ImportChange, SetupLinks};
pub use jobs::JobInfo;
pub use outbox::{Attachment, NewMessage, OutboxEntry, OutboxMessage, OutboxStatus};
pub use pledge::{LastRecord, Listing, SignerRow};
pub use registrations::{
    Arrival, GUEST_CONFIRM_SECS, GuestLimit, NewRegistration, PendingGuest, Registered,
    Registration,
};
pub use sessions::{SessionEntry, SessionTerms};
pub use sign_in::{IdentityUpdate, SignInAttempt};
pub use support::{FeedbackSummary, RequestSummary, SupportSettings};
pub use tokens::ApiTokenInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A rule of the programme, or a change made meanwhile, refused this: which one.
    #[error("{0}")]
    Conflict(crate::domain::conflict::Conflict),
    /// Sealed data that does not open (a wrong or missing data key, or a damaged row): a
    /// fault of the server, not of the person asking, logged as such.
    #[error("{0}")]
    Unsealable(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Unique violations become `Conflict(what)`; everything else stays a database error.
fn conflict<E: Into<StoreError>>(
    what: crate::domain::conflict::Conflict,
) -> impl FnOnce(E) -> StoreError {
    move |e| match e.into() {
        StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            StoreError::Conflict(what)
        }
        other => other,
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    delivery_wakeup: std::sync::Arc<tokio::sync::Notify>,
    /// Seals identities; absent for commands that never touch them (migrate, admin).
    data_key: Option<std::sync::Arc<crate::sealing::DataKey>>,
    /// SQLite admits one writer: this process's writers wait their turn here, in order,
    /// rather than in SQLite's busy handler, which sleeps in growing steps (up to 100 ms)
    /// and gives the slowest requests of a burst long, uneven waits.
    write_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
    clock: crate::clock::Clock,
}

/// A write transaction; on SQLite it also holds this process's writing turn until it
/// ends. Dereferences to the connection, like sqlx's `Transaction`.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

static DRIVERS: std::sync::Once = std::sync::Once::new();

fn install_drivers() {
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

impl Store {
    /// Opens a pool. For SQLite: WAL (readers never wait for the writer), `synchronous=FULL`
    /// (an acknowledged commit survives power loss), foreign keys on, and a generous busy
    /// timeout so that concurrent writers queue rather than fail with "database is locked".
    pub async fn connect(db: &DatabaseUrl) -> Result<Self, sqlx::Error> {
        install_drivers();
        let backend = match db {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        };
        if backend == Backend::Postgres {
            // One direct attempt first: a pool retries until its timeout and then reports
            // only that, where this says why (refused, unknown host, bad password…).
            use sqlx::Connection;
            sqlx::AnyConnection::connect(db.driver_url())
                .await?
                .close()
                .await?;
        }
        let mut opts = AnyPoolOptions::new()
            .acquire_timeout(Duration::from_secs(10))
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            });
        if backend == Backend::Sqlite {
            opts = opts.after_connect(|conn, _meta| {
                Box::pin(async move {
                    for pragma in [
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA busy_timeout = 30000",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        }
        let pool = opts.connect(db.driver_url()).await?;
        if backend == Backend::Sqlite {
            // Persistent in the file; set once here rather than racing on every connection.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        Ok(Self {
            pool,
            backend,
            delivery_wakeup: Default::default(),
            data_key: None,
            write_turn: Default::default(),
            clock: Default::default(),
        })
    }

    /// The same store, able to seal and open identities with `key`.
    pub fn with_data_key(mut self, key: crate::sealing::DataKey) -> Self {
        self.data_key = Some(std::sync::Arc::new(key));
        self
    }

    /// Now, by the programme's clock: every time the store writes or compares.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The clock this store (and everything built on it) reads.
    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every pending migration. Forward only; the same files serve both databases.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("./migrations").run(&self.pool).await
    }

    /// For readiness probes: does the database answer?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Whether this connection to PostgreSQL is encrypted (always false for SQLite, a file).
    pub async fn connection_is_encrypted(&self) -> StoreResult<bool> {
        if self.backend == Backend::Sqlite {
            return Ok(false);
        }
        let row = sqlx::query(
            "SELECT CAST(CASE WHEN ssl THEN 1 ELSE 0 END AS BIGINT) AS encrypted
             FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(get_i64(&row, "encrypted")? == 1)
    }

    /// Connections in use and idle, for metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A connection for a few reads that belong together (never for a write: those go
    /// through `begin_write`).
    async fn read_connection(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so two writers queue on the busy timeout instead of one failing
    /// when it tries to upgrade a read lock.
    async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.write_turn.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _turn: None,
            },
        })
    }
}

impl Store {
    /// One statement that writes, run in its own write transaction so that on SQLite it
    /// takes this process's writing turn like every other write.
    async fn write_one<'q>(
        &self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = q.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

/// Writes one programme setting (the `settings` table holds branding, service level,
/// matching rules and the like as key and text value).
async fn put_setting(conn: &mut sqlx::AnyConnection, key: &str, value: &str) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO settings (setting_key, setting_value) VALUES ($1, $2)
         ON CONFLICT (setting_key) DO UPDATE SET setting_value = excluded.setting_value",
    )
    .bind(key)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

/// `$1, $2, …, $n` for an `IN (…)` list: the statement's text depends only on how many
/// ids there are, so prepared statements are reused rather than made for every list.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds `ids` to a statement made with `placeholders(ids.len())`.
fn bind_ids<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ids: &[i64],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for id in ids {
        q = q.bind(*id);
    }
    q
}

fn get_i64(row: &AnyRow, col: &str) -> StoreResult<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

fn get_string(row: &AnyRow, col: &str) -> StoreResult<String> {
    Ok(row.try_get::<String, _>(col)?)
}

fn get_opt_i64(row: &AnyRow, col: &str) -> StoreResult<Option<i64>> {
    Ok(row.try_get::<Option<i64>, _>(col)?)
}

#[cfg(test)]
mod tests {
    /// Every write takes `begin_write` (on SQLite, this process's writing turn): a
    /// statement run straight on the pool must only read. Checked over the source, so
    /// that a new write on the pool fails here rather than as a stall under load.
    #[test]
    fn statements_on_the_pool_only_read() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("src/store is readable") {
            let path = entry.expect("a directory entry").path();
            let text = std::fs::read_to_string(&path).expect("a source file");
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for (at, _) in text.match_indices("&self.pool") {
                let before = &text[..at];
                let Some(mut start) = before.rfind("sqlx::query") else {
                    continue;
                };
                // A statement assembled in a variable first (`AssertSqlSafe(sql)`): its
                // text starts where that variable is bound.
                if let Some(arg) = before[start..].strip_prefix("sqlx::query(sqlx::AssertSqlSafe(")
                {
                    let name: String = arg
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && arg[name.len()..].starts_with(')') {
                        let bound = [format!("let {name} ="), format!("let mut {name} =")]
                            .iter()
                            .filter_map(|b| before[..start].rfind(b.as_str()))
                            .max();
                        match bound {
                            Some(at) => start = at,
                            None => offenders.push(format!(
                                "{}: `{name}` is bound where this test cannot see it",
                                path.display()
                            )),
                        }
                    }
                }
                let statement = before[start..]
                    .split('"')
                    .nth(1)
                    .unwrap_or("")
                    .trim_start()
                    .to_ascii_uppercase();
                // VACUUM INTO reads one snapshot; it writes only the new file.
                let reads = ["SELECT", "WITH", "PRAGMA", "VACUUM INTO"]
                    .iter()
                    .any(|k| statement.starts_with(k));
                if !reads {
                    let line = before.matches('\n').count() + 1;
                    offenders.push(format!("{}:{line}", path.display()));
                }
            }
            if path.file_name().is_some_and(|n| n != "mod.rs") {
                for around in ["pool.begin", "pool.acquire", "raw_sql", "*self.pool"] {
                    assert!(
                        !text.contains(around),
                        "{} reaches the pool around begin_write ({around})",
                        path.display()
                    );
                }
            }
        }
        assert!(offenders.is_empty(), "writes on the pool: {offenders:?}");
    }
}
