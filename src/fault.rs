//! Named crash points for the crash-safety tests: with `LIVEPROOF_CRASH_AT=NAME` the process
//! kills itself with SIGKILL when it reaches point NAME, exactly as an outside `kill -9` would,
//! but at a chosen instant (inside the log append, just before the index commit, ...).
//! Unset, a point costs one environment lookup.

/// Every crash point, in the order an ingest reaches them.
pub const POINTS: [&str; 8] = [
    "ingest.staged",
    "store.blob_stored",
    "store.files_written",
    "log.leaf_inserted",
    "log.head_inserted",
    "store.committed",
    "index.before_commit",
    "index.committed",
];

/// Kills the process here if `LIVEPROOF_CRASH_AT` names this point.
pub fn point(name: &str) {
    if std::env::var_os("LIVEPROOF_CRASH_AT").is_some_and(|v| v == name) {
        // SAFETY: raise() only sends a signal to this process; SIGKILL cannot be caught.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}

/// Faults a test can inject with `LIVEPROOF_FAULT=NAME`: `coverage.deaf` makes every region
/// the coverage audit decodes alone come back without text, so that a test can see speech
/// become a sealed gap. Unset, a check costs one environment lookup.
pub fn injected(name: &str) -> bool {
    std::env::var_os("LIVEPROOF_FAULT").is_some_and(|v| v == name)
}
