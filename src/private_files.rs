//! Files that hold secrets or identities (the data key, the SQLite database, `.eml` files of
//! the mail folder) are created readable by the service's own user only, whatever the
//! umask, and a data key file that others can read is refused, as OpenSSH refuses a
//! private key with loose permissions.

use std::io;
use std::path::Path;

/// Creates (or truncates) `path` with mode 0600 and writes `bytes`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut f = options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Creates (or truncates) `path` with mode 0600 and returns it, to write into.
pub fn create(path: &Path) -> io::Result<std::fs::File> {
    options().write(true).create(true).truncate(true).open(path)
}

/// Creates `path`, empty, with mode 0600; fails if anything (a file, a link) is there.
pub fn create_new(path: &Path) -> io::Result<()> {
    options()
        .write(true)
        .create_new(true)
        .open(path)
        .map(|_| ())
}

/// The lock a running server holds on its SQLite database (shared: several instances may
/// run on one file), and that a restore must take alone. A file of its own beside the
/// database, so that SQLite's own locks on the database file are never touched.
pub fn lock_file(db: &Path) -> io::Result<std::fs::File> {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(std::path::PathBuf::from(name))
}

/// Opens `path` for appending, creating it with mode 0600 if it does not exist.
pub fn touch(path: &Path) -> io::Result<()> {
    options().create(true).append(true).open(path).map(|_| ())
}

/// Writes a new file with mode 0600 from async code (the `.eml` folder).
pub async fn write_async(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.mode(0o600);
    let mut f = o.open(path).await?;
    f.write_all(bytes).await?;
    f.flush().await
}

/// Creates `dir` (and its parents) and makes it 0700: the folder lists who was written to.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Makes an existing file 0600.
pub fn make_private(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `Some(mode)` when users other than the owner may read or write `path`.
pub fn loose_mode(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}

fn options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn files_and_folders_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let folder = dir.path().join("mail");
        std::fs::create_dir(&folder).expect("folder");
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_dir(&folder).expect("tightened");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&folder), 0o700);
        let f = folder.join("a");
        write(&f, b"x").expect("write");
        assert_eq!(mode(&f), 0o600);
        assert_eq!(loose_mode(&f).expect("mode"), None);
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert_eq!(loose_mode(&f).expect("mode"), Some(0o640));
    }
}
