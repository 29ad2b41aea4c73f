//! Creating files the careful way: never overwrite, secrets born with mode 0600.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// Create `path` (which must not exist) with `contents` and `mode` (Unix permissions).
pub fn create_new(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(|e| Error::io("cannot create", path, e))?;
    f.write_all(contents).and_then(|()| f.sync_all()).map_err(|e| Error::io("cannot write", path, e))
}

/// Create a file holding a secret: mode 0600, never overwriting.
pub fn create_secret(path: &Path, contents: &[u8]) -> Result<()> {
    create_new(path, contents, 0o600)
}

/// Create a directory and its parents (mode 0700 for the ones created).
pub fn create_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::io("cannot create directory", dir, e))
}

/// Unix permission bits of a file (for checks and tests).
#[cfg(unix)]
pub fn mode(path: &Path) -> Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path).map_err(|e| Error::io("cannot read", path, e))?.permissions().mode() & 0o777)
}
