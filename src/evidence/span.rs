//! Broadcast bundles: an excerpt of a broadcast that crosses segment boundaries. The range is
//! on the broadcast's timeline; each segment it touches with speech gets an ordinary bundle of
//! its own (its proofs, log entry, clip and custody) as `part-N.zip`, and `span.json`, signed
//! by the archive key, says which range of which segment each part quotes and where that
//! segment sits on the broadcast (docs/evidence-format.md §9).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::{
    create, member, EvidenceError, Request, SpanPart, SpanStatement, Statement, SPAN_FORMAT,
};
use crate::broadcasts::{Broadcast, Locator};
use crate::seal::{self, DetachedSignature};
use crate::store::Store;

/// Options of `liveproof evidence --broadcast`.
pub struct SpanRequest<'a> {
    /// The broadcast's id, or any of its sessions' ids (or a unique prefix).
    pub id: &'a str,
    /// Range start on the broadcast's timeline (ms).
    pub from_ms: u64,
    /// Range end on the broadcast's timeline (ms).
    pub to_ms: u64,
    /// Output zip path.
    pub output: &'a Path,
    /// Include each quoted segment's original recording.
    pub with_recording: bool,
    /// Current time (RFC 3339), from the caller.
    pub now: String,
    /// Who is exporting, for the custody log.
    pub by: String,
    /// Time-stamping authorities for the heads the export makes.
    pub tsa: Option<crate::seal::tsa::Config>,
    /// The longest pause between segments of one broadcast.
    pub gap: Duration,
    /// The sessions the caller may see (a server's tenant); a broadcast is made of those only.
    pub visible: &'a dyn Fn(&crate::store::SessionRow) -> bool,
}

/// What `create_span` made.
#[derive(Debug, Clone)]
pub struct SpanCreated {
    /// The signed broadcast statement.
    pub statement: SpanStatement,
    /// Each part's own statement, in order.
    pub parts: Vec<Statement>,
    /// Parts whose log head has no trusted timestamp, and why.
    pub timestamp_warnings: Vec<String>,
}

/// The broadcast holding the session `id` names (a caller may only name what it may see).
pub fn locate(
    store: &Store,
    id: &str,
    gap: Duration,
    visible: &dyn Fn(&crate::store::SessionRow) -> bool,
) -> Result<Broadcast, EvidenceError> {
    let row = store.resolve(id)?;
    if !visible(&row) {
        return Err(crate::store::StoreError::NoSuchSession(id.to_string()).into());
    }
    let mut l = Locator::new(store, gap, visible);
    let (b, _) = l
        .locate(&row.session)?
        .ok_or_else(|| crate::store::StoreError::NoSuchSession(id.to_string()))?;
    Ok(b)
}

/// Makes a broadcast bundle over `from_ms..to_ms` of the broadcast's timeline.
pub fn create_span(store: &Store, req: &SpanRequest) -> Result<SpanCreated, EvidenceError> {
    if req.to_ms <= req.from_ms {
        return Err(EvidenceError::Range(format!(
            "the range is empty or reversed ({} to {}): --to must be after --from",
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms)
        )));
    }
    if let Ok(m) = std::fs::symlink_metadata(req.output) {
        if !m.file_type().is_file() {
            return Err(EvidenceError::Write {
                path: req.output.to_path_buf(),
                detail: "it exists and is not a regular file; give a new file name".into(),
            });
        }
    }
    let b = locate(store, req.id, req.gap, req.visible)?;
    if req.from_ms >= b.duration_ms || req.to_ms > b.duration_ms + 1000 {
        return Err(EvidenceError::Range(format!(
            "the range {} to {} goes past the end of broadcast {}, which lasts {} (times are on the broadcast's timeline: `liveproof broadcasts` lists it)",
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms),
            b.broadcast,
            crate::media::clock(b.duration_ms)
        )));
    }
    // The segments the range touches with speech, and what it cuts from each.
    let mut cuts = Vec::new();
    for (session, &offset) in b.sessions.iter().zip(&b.offsets_ms) {
        let m = store.manifest(session)?;
        let end = offset + m.duration_ms;
        if offset >= req.to_ms || end <= req.from_ms {
            continue;
        }
        let from = req.from_ms.max(offset) - offset;
        let to = req.to_ms.min(end) - offset;
        let t = store.transcript(session)?;
        if t.segments
            .iter()
            .any(|s| s.end_ms > from && s.start_ms < to)
        {
            cuts.push((session.clone(), offset, from, to));
        }
    }
    if cuts.is_empty() {
        return Err(EvidenceError::Range(format!(
            "broadcast {} has no speech between {} and {}",
            b.broadcast,
            crate::media::clock(req.from_ms),
            crate::media::clock(req.to_ms)
        )));
    }
    let write_err = |detail: String| EvidenceError::Write {
        path: req.output.to_path_buf(),
        detail,
    };
    let dir = req
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".span-")
        .tempdir_in(dir)
        .map_err(|e| write_err(e.to_string()))?;
    let mut parts = Vec::new();
    let mut statements = Vec::new();
    let mut warnings = Vec::new();
    for (i, (session, offset, from, to)) in cuts.into_iter().enumerate() {
        let file = member::part(i + 1);
        let path = work.path().join(&file);
        let made = create(
            store,
            &Request {
                session: &session,
                from_ms: from,
                to_ms: to,
                output: &path,
                with_recording: req.with_recording,
                now: req.now.clone(),
                by: req.by.clone(),
                tsa: req.tsa.clone(),
            },
        )?;
        warnings.extend(made.timestamp_warning);
        parts.push(SpanPart {
            sha256: crate::hashing::sha256_file(&path).map_err(|e| write_err(e.to_string()))?,
            file,
            session,
            offset_ms: offset,
            from_ms: from,
            to_ms: to,
        });
        statements.push(made.statement);
    }
    let statement = SpanStatement {
        format: SPAN_FORMAT.into(),
        broadcast: b.broadcast.clone(),
        created_at: req.now.clone(),
        from_ms: req.from_ms,
        to_ms: req.to_ms,
        parts,
    };
    let key = seal::keys::load_or_create(store.root())?;
    let span_json = super::span_file(&statement);
    let mut sig = serde_json::to_vec_pretty(&DetachedSignature::create(
        &key,
        seal::SPAN_DOMAIN,
        &span_json,
    ))
    .expect("serialises");
    sig.push(b'\n');
    let tmp = tempfile::Builder::new()
        .prefix(".bundle-")
        .tempfile_in(dir)
        .map_err(|e| write_err(e.to_string()))?;
    {
        let mut z = zip::ZipWriter::new(tmp.as_file());
        let small = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        // Parts are stored: a verifier extracts them, and stored bytes cannot inflate.
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        for (name, bytes) in [
            (member::SPAN, span_json.as_slice()),
            (member::SPAN_SIG, sig.as_slice()),
            (
                member::PUBLIC_KEY,
                format!("{}\n", seal::keys::public_hex(&key)).as_bytes(),
            ),
        ] {
            z.start_file(name, small)
                .map_err(|e| write_err(e.to_string()))?;
            z.write_all(bytes).map_err(|e| write_err(e.to_string()))?;
        }
        for p in &statement.parts {
            z.start_file(p.file.as_str(), stored)
                .map_err(|e| write_err(e.to_string()))?;
            let mut f = std::fs::File::open(work.path().join(&p.file))
                .map_err(|e| write_err(e.to_string()))?;
            std::io::copy(&mut f, &mut z).map_err(|e| write_err(e.to_string()))?;
        }
        z.finish().map_err(|e| write_err(e.to_string()))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| write_err(e.to_string()))?;
    tmp.persist(req.output)
        .map_err(|e| write_err(e.error.to_string()))?;
    Ok(SpanCreated {
        statement,
        parts: statements,
        timestamp_warnings: warnings,
    })
}
