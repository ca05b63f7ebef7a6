//! `wecare backup` and `wecare restore` for a SQLite database. A backup is a consistent
//! copy taken while the server runs; it never holds the data key, and a restore refuses a
//! file that is not a wecare database or whose identities another key sealed.
//! (PostgreSQL: `pg_dump` and `pg_restore`, as the README says.)

use std::path::{Path, PathBuf};

use crate::config::{ConfigError, DatabaseUrl};
use crate::sealing::DataKey;
use crate::store::{BackupFacts, inspect_sqlite_file, key_opens};

const PG_ADVICE: &str = "for PostgreSQL, use its own tools while wecare runs: `pg_dump --format=custom --file=wecare.dump DATABASE` and, to bring it back, `pg_restore --clean --if-exists --no-owner --dbname=DATABASE wecare.dump` (README, \"Backups\")";

fn sqlite_path(db: &DatabaseUrl) -> Result<&Path, ConfigError> {
    match db {
        DatabaseUrl::Sqlite { path, .. } => Ok(path),
        DatabaseUrl::Postgres { .. } => Err(ConfigError(format!(
            "wecare backs up SQLite databases itself; {PG_ADVICE}"
        ))),
    }
}

fn describe(path: &Path, facts: &BackupFacts) -> String {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!(
        "{} ({:.1} MB, {}, schema version {})",
        path.display(),
        size as f64 / 1_048_576.0,
        crate::domain::plural(facts.accounts, "account", "accounts"),
        facts.migration
    )
}

async fn facts_of(path: &Path) -> Result<BackupFacts, ConfigError> {
    match inspect_sqlite_file(path).await {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(ConfigError(format!(
            "{} is a SQLite database but not a wecare one; choose a file `wecare backup` wrote",
            path.display()
        ))),
        Err(e) => Err(ConfigError(format!(
            "{} cannot be read as a SQLite database ({e}); choose a file `wecare backup` wrote",
            path.display()
        ))),
    }
}

/// Copies the database to `to`, a new file (never overwritten), readable by this user
/// only. Returns what to print.
pub async fn backup(db: &DatabaseUrl, to: &Path) -> Result<String, ConfigError> {
    sqlite_path(db)?;
    if to.exists() {
        return Err(ConfigError(format!(
            "{} exists already; a backup never overwrites a file, so name a new one (e.g. with the date)",
            to.display()
        )));
    }
    // Made empty and private first: VACUUM INTO writes into an empty file as it finds it.
    crate::private_files::write(to, b"").map_err(|e| {
        ConfigError(format!(
            "cannot create {} ({e}); check that its folder exists and is writable",
            to.display()
        ))
    })?;
    let store = crate::startup::open_store(db).await?;
    let done = store.backup_into(to).await;
    store.close().await;
    if let Err(e) = done {
        let _ = std::fs::remove_file(to);
        return Err(ConfigError(format!(
            "the backup failed ({e}); nothing was kept"
        )));
    }
    let facts = facts_of(to).await?;
    Ok(format!(
        "backed up to {}. The data key is not in it: keep the key apart from the backups (README, \"The data key\"), or the identities in them cannot be read.",
        describe(to, &facts)
    ))
}

/// Brings a backup back as the database `db` names, with the server stopped. The backup
/// must be a wecare database whose identities `key` opens; an existing database is kept
/// beside it (`….before-restore-SECONDS`) unless there is none. Returns what to print.
pub async fn restore(
    db: &DatabaseUrl,
    from: &Path,
    key: &DataKey,
    now: i64,
) -> Result<String, ConfigError> {
    let target = sqlite_path(db)?.to_path_buf();
    if !from.is_file() {
        return Err(ConfigError(format!(
            "there is no backup file at {}; give the path `wecare backup --to` was given",
            from.display()
        )));
    }
    let facts = facts_of(from).await?;
    if let Some(check) = &facts.key_check
        && !key_opens(key, check)
    {
        return Err(ConfigError(format!(
            "the identities in {} were sealed with another data key; give the key the database used when the backup was taken (--data-key-file), or they could never be read",
            from.display()
        )));
    }
    if same_file(from, &target) {
        return Err(ConfigError(
            "the backup and the database are the same file; restore a copy instead".into(),
        ));
    }
    // Copied beside the target first, then renamed over it: a failed copy leaves the
    // current database as it was.
    let partial = sibling(&target, ".restoring");
    let bytes = std::fs::read(from)
        .map_err(|e| ConfigError(format!("cannot read {} ({e})", from.display())))?;
    crate::private_files::write(&partial, &bytes).map_err(|e| {
        ConfigError(format!(
            "cannot write {} ({e}); check that the database's folder is writable",
            partial.display()
        ))
    })?;
    let mut kept = None;
    if target.exists() {
        let aside = sibling(&target, &format!(".before-restore-{now}"));
        std::fs::rename(&target, &aside)
            .map_err(|e| ConfigError(format!("cannot move the current database aside ({e})")))?;
        kept = Some(aside);
    }
    // A write-ahead log left by the database being replaced belongs to it, not to the
    // backup: SQLite would otherwise replay it into the restored file.
    for suffix in ["-wal", "-shm"] {
        let stale = sibling(&target, suffix);
        if stale.exists() {
            match &kept {
                Some(aside) => {
                    let _ = std::fs::rename(&stale, sibling(aside, suffix));
                }
                None => {
                    let _ = std::fs::remove_file(&stale);
                }
            }
        }
    }
    std::fs::rename(&partial, &target)
        .map_err(|e| ConfigError(format!("cannot put the restored database in place ({e})")))?;
    // Migrations bring an older backup up to this version of wecare.
    let store = crate::startup::prepare_store(db).await?;
    store.close().await;
    let mut out = format!(
        "restored {} as {}",
        describe(from, &facts),
        target.display()
    );
    if let Some(aside) = kept {
        out.push_str(&format!(
            "; the database it replaced is kept as {} (delete it once you are sure)",
            aside.display()
        ));
    }
    out.push_str(". Start the server again.");
    Ok(out)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
