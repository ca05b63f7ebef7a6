//! Consistent copies of a SQLite database while the server runs, and what a copy holds.
//! (PostgreSQL has its own tools: `pg_dump`, documented in the README.)

use std::path::Path;

use sqlx::Connection;

use super::{Backend, Store, StoreResult, get_i64};

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
/// holds; `Ok(None)` if it is SQLite but not wecare's.
pub async fn inspect_sqlite_file(path: &Path) -> StoreResult<Option<BackupFacts>> {
    super::install_drivers();
    let url = format!(
        "sqlite://{}?mode=ro",
        path.to_string_lossy().replace('?', "%3F")
    );
    let mut conn = sqlx::AnyConnection::connect(&url).await?;
    let tables = sqlx::query(
        "SELECT COUNT(*) AS n FROM sqlite_master
         WHERE type = 'table' AND name IN ('_sqlx_migrations', 'settings', 'accounts')",
    )
    .fetch_one(&mut conn)
    .await?;
    if get_i64(&tables, "n")? < 3 {
        conn.close().await?;
        return Ok(None);
    }
    let migration = get_i64(
        &sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await?,
        "v",
    )?;
    let accounts = get_i64(
        &sqlx::query("SELECT COUNT(*) AS n FROM accounts")
            .fetch_one(&mut conn)
            .await?,
        "n",
    )?;
    let key_check =
        sqlx::query("SELECT setting_value FROM settings WHERE setting_key = 'data_key_check'")
            .fetch_optional(&mut conn)
            .await?
            .map(|r| super::get_string(&r, "setting_value"))
            .transpose()?;
    conn.close().await?;
    Ok(Some(BackupFacts {
        migration,
        accounts,
        key_check,
    }))
}

/// Whether `key` opens the database's key check (see `Store::check_data_key`).
pub fn key_opens(key: &crate::sealing::DataKey, key_check: &str) -> bool {
    key.open(super::support::KEY_CHECK_CONTEXT, key_check)
        .is_ok()
}
