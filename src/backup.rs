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
    let source = sqlite_path(db)?;
    if !source.is_file() {
        return Err(ConfigError(format!(
            "there is no database at {}; give the server's --database-url",
            source.display()
        )));
    }
    // Absolute, so that SQLite never reads a name such as `file:…` as a URI.
    let to = std::path::absolute(to)
        .map_err(|e| ConfigError(format!("{} is not a usable path ({e})", to.display())))?;
    // Made empty and private first (VACUUM INTO writes into an empty file as it finds
    // it), and only if nothing is there: not a file, not a link to one.
    crate::private_files::create_new(&to).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => ConfigError(format!(
            "{} exists already; a backup never overwrites a file, so name a new one (e.g. with the date)",
            to.display()
        )),
        _ => ConfigError(format!(
            "cannot create {} ({e}); check that its folder exists and is writable",
            to.display()
        )),
    })?;
    let store = crate::startup::open_store(db).await?;
    let done = store.backup_into(&to).await;
    store.close().await;
    let facts = match done {
        Ok(()) => facts_of(&to).await,
        Err(e) => Err(ConfigError(format!(
            "the backup failed ({e}); nothing was kept"
        ))),
    };
    let facts = facts.inspect_err(|_| {
        let _ = std::fs::remove_file(&to);
    })?;
    Ok(format!(
        "backed up to {}. The data key is not in it: keep the key apart from the backups (README, \"The data key\"), or the identities in them cannot be read.",
        describe(&to, &facts)
    ))
}

/// Brings a backup back as the database `db` names, with the server stopped. The backup
/// must be a wecare database, not newer than this wecare, whose identities `key` opens;
/// an existing database is kept beside it (`….before-restore-SECONDS`). Every session
/// ends (the backup's include some that had ended since). Returns what to print.
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
    if std::fs::metadata(sibling(from, "-wal")).is_ok_and(|m| m.len() > 0) {
        return Err(ConfigError(format!(
            "{} has a write-ahead log beside it, so it is a database in use, not a backup; make a backup of it with `wecare backup` and restore that",
            from.display()
        )));
    }
    let facts = facts_of(from).await?;
    let latest = crate::store::latest_migration();
    if facts.migration > latest {
        return Err(ConfigError(format!(
            "{} was made by a newer wecare (schema version {}, this one knows {latest}); restore it with that version or a later one",
            from.display(),
            facts.migration
        )));
    }
    let key_note = match &facts.key_check {
        Some(check) if key_opens(key, check) => "",
        Some(_) => {
            return Err(ConfigError(format!(
                "the identities in {} were sealed with another data key; give the key the database used when the backup was taken (--data-key-file), or they could never be read",
                from.display()
            )));
        }
        None => " No identity had been sealed in it yet, so the data key was not checked.",
    };
    if same_file(from, &target) {
        return Err(ConfigError(
            "the backup and the database are the same file; restore a copy instead".into(),
        ));
    }
    // Held alone until the restored file is in place: a running server holds it shared.
    let lock = crate::private_files::lock_file(&target).map_err(|e| {
        ConfigError(format!(
            "cannot create the lock file beside {} ({e})",
            target.display()
        ))
    })?;
    if lock.try_lock().is_err() {
        return Err(ConfigError(format!(
            "a wecare server is running on {}; stop it first (e.g. systemctl stop wecare), then restore",
            target.display()
        )));
    }
    // Copied beside the target first, then renamed over it: a failed copy leaves the
    // current database as it was.
    let partial = sibling(&target, ".restoring");
    copy_private(from, &partial)?;
    let mut kept = None;
    if target.exists() {
        let aside = free_name(&target, &format!(".before-restore-{now}"));
        move_with_log(&target, &aside)?;
        if let Some(owner) = owner_of(&aside) {
            give_to(&partial, owner);
        }
        kept = Some(aside);
    }
    if let Err(e) = std::fs::rename(&partial, &target) {
        if let Some(aside) = &kept {
            let _ = move_with_log(aside, &target);
        }
        return Err(ConfigError(format!(
            "cannot put the restored database in place ({e}); the database is as it was"
        )));
    }
    // Migrations bring an older backup up to this version of wecare.
    let store = crate::startup::prepare_store(db).await?;
    let ended = store.end_all_sessions().await;
    store.close().await;
    drop(lock);
    ended.map_err(|e| ConfigError(format!("ending the backup's sessions failed ({e})")))?;
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
    out.push_str(". Everyone signs in again. Start the server again.");
    out.push_str(key_note);
    Ok(out)
}

/// Copies a file into a new one readable by this user only.
fn copy_private(from: &Path, to: &Path) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| {
        let _ = std::fs::remove_file(to);
        ConfigError(format!(
            "cannot copy {} to {} ({e}); check the space and permissions of the database's folder",
            from.display(),
            to.display()
        ))
    };
    let mut src = std::fs::File::open(from).map_err(fail)?;
    let mut dst = crate::private_files::create(to).map_err(fail)?;
    std::io::copy(&mut src, &mut dst).map_err(fail)?;
    dst.sync_all().map_err(fail)
}

/// Moves a database and its write-ahead log together (a log left beside the restored
/// file would be replayed into it).
fn move_with_log(from: &Path, to: &Path) -> Result<(), ConfigError> {
    std::fs::rename(from, to).map_err(|e| {
        ConfigError(format!(
            "cannot move {} aside ({e}); nothing was changed",
            from.display()
        ))
    })?;
    for suffix in ["-wal", "-shm"] {
        let log = sibling(from, suffix);
        if log.exists() {
            std::fs::rename(&log, sibling(to, suffix)).map_err(|e| {
                ConfigError(format!(
                    "cannot move {} aside ({e}); move it by hand beside {} before starting the server",
                    log.display(),
                    to.display()
                ))
            })?;
        }
    }
    Ok(())
}

/// `base` + `suffix`, with a counter if that name is taken.
fn free_name(base: &Path, suffix: &str) -> PathBuf {
    let first = sibling(base, suffix);
    if !first.exists() {
        return first;
    }
    (2..)
        .map(|n| sibling(base, &format!("{suffix}-{n}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

#[cfg(unix)]
fn owner_of(path: &Path) -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.uid(), m.gid()))
}

/// The restored file belongs to whoever owned the one it replaces (the service's user,
/// when an administrator restores as root).
#[cfg(unix)]
fn give_to(path: &Path, (uid, gid): (u32, u32)) {
    let _ = std::os::unix::fs::chown(path, Some(uid), Some(gid));
}

#[cfg(not(unix))]
fn owner_of(_: &Path) -> Option<(u32, u32)> {
    None
}

#[cfg(not(unix))]
fn give_to(_: &Path, _: (u32, u32)) {}

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
