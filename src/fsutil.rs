//! Durable file writes: temp file in the same directory, fsync, rename, fsync the directory.
//! A reader sees either the old file or the whole new one, never a half-written one.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `bytes` to `path` atomically and durably.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Archive files are meant to be read by other tools and users: 0644, not tempfile's 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// What to tell the user after a failure when the archive's disk is (nearly) full: storage
/// errors deep in SQLite or tantivy rarely say "disk full" in plain words. `None` when there
/// is room. The CLI prints it under any error; the server adds it to its 500s.
pub fn disk_full_hint(data: &Path) -> Option<String> {
    let free = free_bytes(data).filter(|&b| b < 1 << 20)?;
    Some(format!(
        "no space left on the archive's disk ({free} bytes free at `{}`): free some space and run again; what was not committed was discarded",
        data.display()
    ))
}

/// Bytes available to this user on the filesystem holding `path` (`None` if unknown).
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is written by statvfs on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    Some(st.f_bavail * st.f_frsize)
}

/// Flushes a directory entry list to disk (best effort: not every filesystem supports it).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The upload's name as a file name the file system takes (at most 255 bytes): long names
/// keep their start and their extension, cut at a character boundary.
pub fn safe_file_name(name: &str) -> String {
    const MAX: usize = 200;
    if name.len() <= MAX {
        return name.to_string();
    }
    let ext = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .filter(|e| e.len() <= 16)
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let mut stem = String::new();
    for c in name.chars() {
        if stem.len() + c.len_utf8() + ext.len() > MAX {
            break;
        }
        stem.push(c);
    }
    stem + &ext
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_upload_names_fit_the_file_system_and_keep_their_extension() {
        let name = format!("{}.flv", "录".repeat(200));
        let d = super::safe_file_name(&name);
        assert!(d.len() <= 200 && d.ends_with(".flv") && d.starts_with("录"));
        assert_eq!(super::safe_file_name("room.wav"), "room.wav");
    }

    use super::*;

    #[test]
    fn write_atomic_replaces_whole_file_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
