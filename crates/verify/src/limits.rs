//! What a verifier reads from an untrusted bundle, at most.

/// Limits on what an evidence bundle may hold, applied by the verifier before and while it
/// inflates anything. A real bundle holds a few small JSON and HTML members, a FLAC clip and
/// (with `--with-recording`) the original recording, stored uncompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bundle {
    /// Most members.
    pub max_members: usize,
    /// Largest JSON, HTML, key or token member, inflated.
    pub max_small: u64,
    /// Largest sum of all small members, inflated (they are held in memory).
    pub max_small_total: u64,
    /// Largest audio clip.
    pub max_clip: u64,
    /// Largest original recording inside a bundle.
    pub max_recording: u64,
    /// Largest ratio of a member's inflated size to its compressed size (a zip bomb inflates
    /// thousands of times; JSON and HTML compress about ten times, audio not at all).
    pub max_ratio: u64,
}

impl Default for Bundle {
    fn default() -> Self {
        Self {
            max_members: 32,
            max_small: 16 << 20,
            max_small_total: 48 << 20,
            max_clip: 2 << 30,
            max_recording: 64 << 30,
            max_ratio: 100,
        }
    }
}
