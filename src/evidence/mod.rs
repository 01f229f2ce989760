//! Evidence bundles: an excerpt of a session with everything needed to check it offline, in
//! one zip file, and the verifier that checks it.
//!
//! Members (names in [`member`]; the format is specified byte for byte in
//! docs/evidence-format.md): `statement.json` (every other member's SHA-256, the range and the
//! clip's range; its exact bytes are signed by the archive key in `statement.sig`),
//! `manifest.json` + `manifest.sig`, `excerpt.json` (segments with inclusion proofs
//! against the transcript root), `log.json` (the manifest's inclusion proof in the log and the
//! signed tree head), `public_key.txt`, `clip.flac` (the excerpt's audio, decoded losslessly
//! from the original), `report.html` (printable, Chinese and English), and optionally the
//! original recording. Invariant: the verifier trusts nothing in the bundle that it has not
//! checked, and reads members with size limits.

pub mod clipcheck;
pub mod report;
pub mod span;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

use crate::claims::SegmentFlag;
use crate::manifest::Manifest;
use crate::seal::{self, log::Inclusion, merkle, DetachedSignature};
use crate::store::{Store, StoreError};

pub use liveproof_verify::bundle::*;
pub use liveproof_verify::{trust, verify, zipcheck};

/// Why a bundle could not be made.
#[derive(Debug, Error)]
pub enum EvidenceError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key failed.
    #[error(transparent)]
    Key(#[from] seal::keys::KeyError),
    /// Bad range.
    #[error("{0}")]
    Range(String),
    /// The session has no log entry (archived before sealing existed).
    #[error("session {0} has no entry in the log: re-ingest it to seal it")]
    NotLogged(String),
    /// Cutting the clip failed.
    #[error("cannot cut the audio clip from the original: {0}")]
    Clip(String),
    /// Writing the bundle failed.
    #[error("cannot write bundle `{path}`: {detail}")]
    Write {
        /// Output path.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}

/// Parses `HH:MM:SS(.mmm)`, `MM:SS` or seconds into milliseconds.
pub fn parse_time(s: &str) -> Result<u64, EvidenceError> {
    let bad = || {
        EvidenceError::Range(format!(
            "time {s:?} is not HH:MM:SS, MM:SS or seconds (e.g. 00:12:00 or 720.5)"
        ))
    };
    let parts: Vec<&str> = s.trim().split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    // Digits, and a decimal fraction on the last part only (no signs, exponents or "inf").
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        let (whole, frac) = p.split_once('.').unwrap_or((p, "0"));
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || !digits(frac) || (i < last && p.contains('.')) {
            return Err(bad());
        }
    }
    let mut secs = 0f64;
    for (i, p) in parts.iter().enumerate() {
        let v: f64 = p.parse().map_err(|_| bad())?;
        if !v.is_finite() || v < 0.0 || (i > 0 && v >= 60.0) {
            return Err(bad());
        }
        secs = secs * 60.0 + v;
    }
    // No recording lasts a year; larger numbers are typos, not times.
    if secs > 366.0 * 86_400.0 {
        return Err(bad());
    }
    Ok((secs * 1000.0).round() as u64)
}

/// Options of `liveproof evidence`.
pub struct Request<'a> {
    /// Session id.
    pub session: &'a str,
    /// Range start (ms).
    pub from_ms: u64,
    /// Range end (ms).
    pub to_ms: u64,
    /// Output zip path.
    pub output: &'a Path,
    /// Include the original recording.
    pub with_recording: bool,
    /// Current time (RFC 3339), from the caller.
    pub now: String,
    /// Who is exporting, for the custody log (`custody::local_user` or `custody::token_user`).
    pub by: String,
    /// The time-stamping authorities that timestamp the head the export makes (`None`: none).
    pub tsa: Option<crate::seal::tsa::Config>,
}

/// The live comments of `from_ms..=to_ms` with their proofs against the comments root the
/// manifest seals (`comments.json`); `None` when the session has no comments.
fn comments_excerpt(
    store: &Store,
    manifest: &crate::manifest::Manifest,
    from_ms: u64,
    to_ms: u64,
) -> Result<Option<Vec<u8>>, EvidenceError> {
    let (Some(sealed), Some(all)) = (&manifest.comments, store.comments(&manifest.session)?) else {
        return Ok(None);
    };
    let leaves = all.leaves();
    let comments = all
        .comments
        .iter()
        .filter(|c| c.t_ms >= from_ms && c.t_ms <= to_ms)
        .map(|c| liveproof_verify::bundle::ProvenComment {
            index: c.index as u64,
            t_ms: c.t_ms,
            kind: c.kind.clone(),
            user: c.user.clone(),
            text: c.text.clone(),
            proof: merkle::inclusion_proof(&leaves, c.index)
                .iter()
                .map(hex::encode)
                .collect(),
        })
        .collect();
    let ex = liveproof_verify::bundle::CommentsExcerpt {
        session: manifest.session.clone(),
        root: sealed.root.clone(),
        count: sealed.count as u64,
        comments,
    };
    let bytes = serde_json::to_vec_pretty(&ex).expect("serialises");
    // A verifier reads JSON members up to its limit: a range that holds more comments than
    // that must be exported in parts.
    let limit = liveproof_verify::limits::Bundle::default().max_small;
    if bytes.len() as u64 > limit {
        return Err(EvidenceError::Range(format!(
            "the range holds {} bytes of live comments, more than a bundle member may ({limit}): export a shorter range",
            bytes.len()
        )));
    }
    Ok(Some(bytes))
}

/// Cuts `from_ms`..`to_ms` of `blob` to FLAC, the same way for the archive and a verifier.
pub fn cut_clip(blob: &Path, from_ms: u64, to_ms: u64) -> Result<Vec<u8>, EvidenceError> {
    // A seekable file, so that ffmpeg writes the FLAC header's sample count and MD5.
    let dir = tempfile::tempdir()
        .map_err(|e| EvidenceError::Clip(format!("cannot create a temporary directory: {e}")))?;
    let path = dir.path().join("clip.flac");
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error"])
        .args(["-ss", &format!("{:.3}", from_ms as f64 / 1000.0)])
        .args(["-t", &format!("{:.3}", (to_ms - from_ms) as f64 / 1000.0)])
        .arg("-i")
        .arg(blob)
        .args(["-map", "0:a:0", "-vn", "-c:a", "flac"])
        .args([
            "-fflags",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            "-f",
            "flac",
            "-y",
        ])
        .arg(&path)
        .output()
        .map_err(|e| EvidenceError::Clip(format!("cannot run ffmpeg: {e}")))?;
    let bytes = std::fs::read(&path).unwrap_or_default();
    if !out.status.success() || bytes.is_empty() {
        return Err(EvidenceError::Clip(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(bytes)
}

/// The range the clip is cut over: the requested one widened to hold the quoted segments
/// (`quoted` = first start, last end) whole, within the recording.
pub fn clip_range(from_ms: u64, to_ms: u64, quoted: (u64, u64), duration_ms: u64) -> (u64, u64) {
    let from = from_ms.min(quoted.0);
    let to = to_ms.max(quoted.1).min(duration_ms.max(from + 1));
    (from, to.max(from + 1))
}

/// What `create` made.
#[derive(Debug, Clone)]
pub struct Created {
    /// The signed statement.
    pub statement: Statement,
    /// Why the tree head the bundle is proven against has no trusted timestamp, when a TSA is
    /// configured but could not give one (the bundle is whole; `log timestamp` fetches it later
    /// and a new export carries it).
    pub timestamp_warning: Option<String>,
}

/// Makes an evidence bundle; returns the statement written.
pub fn create(store: &Store, req: &Request) -> Result<Created, EvidenceError> {
    if req.to_ms <= req.from_ms {
        return Err(EvidenceError::Range(format!(
            "the range is empty or reversed ({} to {}): --to must be after --from",
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms)
        )));
    }
    // Only a regular file (or nothing) is replaced: `-o /dev/full` must not swap a device
    // for a zip.
    if let Ok(m) = std::fs::symlink_metadata(req.output) {
        if !m.file_type().is_file() {
            return Err(EvidenceError::Write {
                path: req.output.to_path_buf(),
                detail: "it exists and is not a regular file; give a new file name".into(),
            });
        }
    }
    let row = store.resolve(req.session)?;
    let id = row.session.clone();
    let manifest_bytes = store.session_file(&id, crate::layout::MANIFEST)?;
    let sig_bytes = store.session_file(&id, crate::layout::MANIFEST_SIG)?;
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        EvidenceError::Store(StoreError::Damaged {
            path: PathBuf::from(format!("sessions/{id}/manifest.json")),
            detail: e.to_string(),
        })
    })?;
    // Rounding of the last second is tolerated; a range past that is a mistake, and the
    // bundle would state an end the recording never reached.
    if req.from_ms >= manifest.duration_ms || req.to_ms > manifest.duration_ms + 1000 {
        return Err(EvidenceError::Range(format!(
            "the range {} to {} goes past the end of session {id}, which lasts {} (to go on into the next segment of its broadcast, ask for a broadcast bundle — `--broadcast`, or `broadcast=true` in the API — with times on the broadcast's timeline)",
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms),
            crate::media::clock(manifest.duration_ms)
        )));
    }
    let transcript = store.transcript(&id)?;
    let leaves = seal::transcript_leaves(&transcript);
    let proof_hex = |leaf: usize| -> Vec<String> {
        merkle::inclusion_proof(&leaves, leaf)
            .iter()
            .map(hex::encode)
            .collect()
    };
    let segments: Vec<ProvenSegment> = transcript
        .segments
        .iter()
        .filter(|s| s.end_ms > req.from_ms && s.start_ms < req.to_ms)
        .map(|s| ProvenSegment {
            index: s.index as u64,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            text: s.text.clone(),
            proof: proof_hex(s.index),
        })
        .collect();
    let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
        return Err(EvidenceError::Range(format!(
            "session {id} has no speech between {} and {} (it lasts {})",
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms),
            crate::media::clock(manifest.duration_ms)
        )));
    };
    let (first_index, last_index) = (first.index, last.index);
    let claims: Vec<SegmentFlag> = manifest
        .claims
        .iter()
        .flat_map(|c| c.flags.iter())
        .filter(|f| (first_index..=last_index).contains(&(f.segment as u64)))
        .cloned()
        .collect();
    let n_segments = transcript.segments.len();
    let gaps = transcript
        .gaps
        .iter()
        .filter(|g| g.end_ms > req.from_ms && g.start_ms < req.to_ms)
        .map(|g| ProvenGap {
            index: g.index as u64,
            start_ms: g.start_ms,
            end_ms: g.end_ms,
            reason: g.reason.clone(),
            proof: proof_hex(n_segments + g.index),
        })
        .collect();
    let excerpt = Excerpt {
        session: id.clone(),
        transcript_root: manifest.transcript_root.clone(),
        segment_count: n_segments as u64,
        segments,
        claims: claims
            .iter()
            .filter_map(|c| match serde_json::to_value(c) {
                Ok(serde_json::Value::Object(o)) => Some(o),
                _ => None,
            })
            .collect(),
        gap_count: transcript.gaps.len() as u64,
        gaps,
    };
    // Custody first: the export is logged, then proven, so the bundle carries its own export.
    if !store.log().is_logged(&id)? {
        return Err(EvidenceError::NotLogged(id.clone()));
    }
    let mut exported = crate::custody::event(
        "export",
        &id,
        &req.by,
        format!(
            "exported an evidence bundle of {} – {}{}",
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms),
            if req.with_recording {
                ", with the original recording"
            } else {
                ""
            }
        ),
    );
    exported.at = req.now.clone();
    crate::custody::record(store, &exported)?;
    // The export made a new head; a configured TSA timestamps it, so the bundle carries a token.
    let timestamp_warning = store.log().timestamp_head(req.tsa.as_ref()).err().map(|e| {
        format!("the log head this bundle is proven against has no trusted timestamp: {e}")
    });
    let inclusion: Inclusion = store
        .log()
        .prove(&id)?
        .ok_or_else(|| EvidenceError::NotLogged(id.clone()))?;
    let key = seal::keys::load_or_create(store.root())?;
    let blob = store.original(&manifest.recording_sha256)?;
    // The clip holds every quoted segment whole, and the requested range.
    let (clip_from, clip_to) = clip_range(
        req.from_ms,
        req.to_ms,
        (
            excerpt.segments[0].start_ms,
            excerpt.segments[excerpt.segments.len() - 1].end_ms,
        ),
        manifest.duration_ms,
    );
    let clip = cut_clip(&blob, clip_from, clip_to)?;

    let mut members: Vec<(String, Vec<u8>)> = vec![
        (member::MANIFEST.into(), manifest_bytes),
        (member::MANIFEST_SIG.into(), sig_bytes),
        (
            member::EXCERPT.into(),
            serde_json::to_vec_pretty(&excerpt).expect("serialises"),
        ),
        (
            member::LOG.into(),
            serde_json::to_vec_pretty(&inclusion).expect("serialises"),
        ),
        (
            member::PUBLIC_KEY.into(),
            format!("{}\n", seal::keys::public_hex(&key)).into_bytes(),
        ),
    ];
    let token = store.log().token(inclusion.tree_head.size)?;
    let recording_token = store.log().recording_token(&manifest.recording_sha256)?;
    let custody = store.log().custody_chain(&id, inclusion.tree_head.size)?;
    members.push((
        member::CUSTODY.into(),
        serde_json::to_vec_pretty(&custody).expect("serialises"),
    ));
    let witnessed = store.log().witnessed(&key, inclusion.index)?;
    if let Some(w) = &witnessed {
        members.push((
            member::WITNESSED.into(),
            serde_json::to_vec_pretty(w).expect("serialises"),
        ));
    }
    if let Some(c) = comments_excerpt(store, &manifest, req.from_ms, req.to_ms)? {
        members.push((member::COMMENTS.into(), c));
    }
    let mut tsa_pem = String::new();
    for (name, t) in [
        (member::TIMESTAMP, &token),
        (member::RECORDING_TIMESTAMP, &recording_token),
    ] {
        if let Some(t) = t {
            members.push((name.into(), t.token.clone()));
            if !tsa_pem.contains(t.tsa_cert.trim()) {
                tsa_pem.push_str(&t.tsa_cert);
            }
        }
    }
    if !tsa_pem.is_empty() {
        members.push((member::TSA_PEM.into(), tsa_pem.into_bytes()));
    }
    let custody_events: Vec<crate::custody::CustodyEvent> = custody
        .entries
        .iter()
        .filter_map(|c| serde_json::from_str(&c.event).ok())
        .collect();
    let report = report::render(&report::Facts {
        custody: &custody_events,
        claims: &claims,
        tsa_time: token.as_ref().map(|t| t.tsa_time.as_str()),
        manifest: &manifest,
        excerpt: &excerpt,
        inclusion: &inclusion,
        public_key: &seal::keys::public_hex(&key),
        created_at: &req.now,
        from_ms: req.from_ms,
        to_ms: req.to_ms,
        with_recording: req.with_recording,
    });
    members.push((member::REPORT.into(), report.into_bytes()));
    let clip_ref = ClipRef {
        file: member::CLIP.into(),
        sha256: crate::hashing::sha256_hex(&clip),
        from_ms: Some(clip_from),
        to_ms: Some(clip_to),
    };
    members.push((member::CLIP.into(), clip));
    let mut refs: Vec<FileRef> = members
        .iter()
        .map(|(n, b)| FileRef {
            file: n.clone(),
            sha256: crate::hashing::sha256_hex(b),
        })
        .collect();
    let recording_name = format!(
        "{}{}",
        member::RECORDING_PREFIX,
        Path::new(&manifest.original_name)
            .extension()
            .and_then(|e| e.to_str())
            .filter(|e| e.chars().all(|c| c.is_ascii_alphanumeric()) && e.len() <= 8)
            .unwrap_or("bin")
    );
    if req.with_recording {
        // The original's hash is already in the signed manifest; it is streamed, not loaded.
        refs.push(FileRef {
            file: recording_name.clone(),
            sha256: manifest.recording_sha256.clone(),
        });
    }
    let statement = Statement {
        format: FORMAT.into(),
        session: id.clone(),
        created_at: req.now.clone(),
        from_ms: req.from_ms,
        to_ms: req.to_ms,
        first_index,
        last_index,
        transcript_root: manifest.transcript_root.clone(),
        clip: Some(clip_ref),
        members: refs,
    };
    let statement_json = statement_file(&statement);
    let statement_sig = DetachedSignature::create(&key, seal::STATEMENT_DOMAIN, &statement_json);

    let write_err = |detail: String| EvidenceError::Write {
        path: req.output.to_path_buf(),
        detail,
    };
    let dir = req
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".bundle-")
        .tempfile_in(dir)
        .map_err(|e| write_err(e.to_string()))?;
    {
        let mut z = zip::ZipWriter::new(tmp.as_file());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        let stored = opts.compression_method(zip::CompressionMethod::Stored);
        let put = |z: &mut zip::ZipWriter<&std::fs::File>,
                   name: &str,
                   bytes: &[u8],
                   o|
         -> Result<(), EvidenceError> {
            z.start_file(name, o)
                .map_err(|e| write_err(e.to_string()))?;
            z.write_all(bytes).map_err(|e| write_err(e.to_string()))
        };
        put(&mut z, member::STATEMENT, &statement_json, opts)?;
        let mut sig = serde_json::to_vec_pretty(&statement_sig).expect("serialises");
        sig.push(b'\n');
        put(&mut z, member::STATEMENT_SIG, &sig, opts)?;
        for (name, bytes) in &members {
            let o = if name.ends_with(".flac") {
                stored
            } else {
                opts
            };
            put(&mut z, name, bytes, o)?;
        }
        if req.with_recording {
            z.start_file(recording_name.as_str(), stored)
                .map_err(|e| write_err(e.to_string()))?;
            let mut f = std::fs::File::open(&blob).map_err(|e| write_err(e.to_string()))?;
            std::io::copy(&mut f, &mut z).map_err(|e| write_err(e.to_string()))?;
        }
        z.finish().map_err(|e| write_err(e.to_string()))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| write_err(e.to_string()))?;
    tmp.persist(req.output)
        .map_err(|e| write_err(e.error.to_string()))?;
    Ok(Created {
        statement,
        timestamp_warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_documented_form() {
        assert_eq!(parse_time("00:12:00").unwrap(), 720_000);
        assert_eq!(parse_time("01:02:03.5").unwrap(), 3_723_500);
        assert_eq!(parse_time("12:30").unwrap(), 750_000);
        assert_eq!(parse_time("5.25").unwrap(), 5_250);
        assert!(parse_time("00:61:00").is_err());
        assert!(parse_time("noon").is_err());
        assert!(parse_time("").is_err());
    }

    #[test]
    fn the_clip_holds_the_quoted_segments_whole() {
        // Asked for 3-9 s; the segments quoted run 2.77-11.46 s.
        assert_eq!(
            clip_range(3_000, 9_000, (2_770, 11_460), 60_000),
            (2_770, 11_460)
        );
        // Asked for more than the segments span: the request is kept.
        assert_eq!(
            clip_range(1_000, 20_000, (2_770, 11_460), 60_000),
            (1_000, 20_000)
        );
        // Never past the end of the recording.
        assert_eq!(
            clip_range(50_000, 61_000, (55_000, 60_500), 60_000),
            (50_000, 60_000)
        );
    }
}
