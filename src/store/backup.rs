//! Consistent copies of a SQLite database while the server runs, and what a copy holds.
//! (PostgreSQL has its own tools: `pg_dump`, documented in the README.)

use std::path::Path;

use sqlx::Connection;

use super::{Backend, Store, StoreResult};

/// What a database file is, read without changing it.
#[derive(Debug, Clone)]
pub struct BackupFacts {
    /// The newest migration applied to it.
    pub migration: i64,
    pub accounts: i64,
    /// The value sealed with the data key at first use (`None` if no key was ever used).
    pub key_check: Option<String>,
}

impl Store {
    /// Writes a consistent copy of the whole database to `to` (an empty file the caller
    /// made, so that its permissions are the caller's choice): SQLite's `VACUUM INTO`
    /// reads one snapshot while the server goes on writing.
    pub async fn backup_into(&self, to: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(sqlx::Error::Configuration(
                "a PostgreSQL database is backed up with pg_dump".into(),
            )
            .into());
        }
        sqlx::query("VACUUM INTO $1")
            .bind(to.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Opens a SQLite file read-only and says whether it is a wecare database and what it
/// holds; `Ok(None)` if it is SQLite but not wecare's. The path is given to SQLite as it
/// is (never through a URL, where `%` or `?` would change which file it opens).
pub async fn inspect_sqlite_file(path: &Path) -> StoreResult<Option<BackupFacts>> {
    use sqlx::Row;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM sqlite_master
         WHERE type = 'table' AND name IN ('_sqlx_migrations', 'settings', 'accounts')",
    )
    .fetch_one(&mut conn)
    .await?
    .try_get("n")?;
    if n < 3 {
        conn.close().await?;
        return Ok(None);
    }
    let migration: i64 =
        sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await?
            .try_get("v")?;
    let accounts: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
        .fetch_one(&mut conn)
        .await?
        .try_get("n")?;
    let key_check: Option<String> =
        sqlx::query("SELECT setting_value FROM settings WHERE setting_key = 'data_key_check'")
            .fetch_optional(&mut conn)
            .await?
            .map(|r| r.try_get("setting_value"))
            .transpose()?;
    conn.close().await?;
    Ok(Some(BackupFacts {
        migration,
        accounts,
        key_check,
    }))
}

/// The newest migration this version of wecare knows.
pub fn latest_migration() -> i64 {
    sqlx::migrate!("./migrations")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// Whether `key` opens the database's key check (see `Store::check_data_key`).
pub fn key_opens(key: &crate::sealing::DataKey, key_check: &str) -> bool {
    key.open(super::support::KEY_CHECK_CONTEXT, key_check)
        .is_ok()
}
