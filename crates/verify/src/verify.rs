//! Offline verification of an evidence bundle. Every check is listed with its result and a
//! detail a person can act on; the verdict is ok only if every check passed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bundle::{
    member, statement_bytes_v1, BundleFile, Excerpt, ManifestView, Statement, FORMAT, FORMAT_V1,
};
use crate::log::Inclusion;
use crate::seal::{self, DetachedSignature};
use crate::trust::{Signer, Trust};
use crate::{clock, merkle};

/// What a verification is given besides the bundle.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// The original recording, re-hashed and compared when given.
    pub recording: Option<&'a Path>,
    /// The keys a signer must have for the bundle to count as verified.
    pub trust: Trust,
    /// Witnesses (name, Ed25519 key) whose cosignatures count; when any are given, at least
    /// one must have cosigned a checkpoint that includes the manifest.
    pub witnesses: Vec<(String, [u8; 32])>,
    /// The TSA certificate timestamp tokens are checked against.
    pub tsa_cert: Option<&'a Path>,
    /// What the bundle may hold.
    pub limits: crate::limits::Bundle,
}

/// One check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Details, in plain words.
    pub detail: String,
}

/// The verdict in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check passed and the signer is trusted.
    Verified,
    /// Intact, but signed by a key the verifier was not told to trust: anyone can make such
    /// a bundle, so it proves nothing about what an archive recorded.
    UnknownSigner,
    /// A check failed: something was changed, or the bundle is not one.
    NotVerified,
}

/// The result of verifying a bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True only if every check passed, the signer's key included.
    pub ok: bool,
    /// `verified`, `unknown_signer` or `not_verified`.
    pub status: Status,
    /// Who signed the bundle statement (absent when the bundle has no readable key).
    pub signer: Option<Signer>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// What is proven (when ok).
    pub proven: Vec<String>,
    /// What is not proven.
    pub not_proven: Vec<String>,
    /// The trusted witnesses that cosigned a checkpoint of the log including this manifest.
    pub witnessed_by: Vec<String>,
    /// The session's chain of custody (and the archive's key events), each proven in the log.
    pub custody: Vec<crate::bundle::CustodyEvent>,
    /// The session the bundle is about, once its manifest was read.
    pub session: Option<String>,
    /// A broadcast bundle's parts: the broadcast, its range and each segment quoted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<crate::span::SpanFacts>,
}

impl Verdict {
    /// Adds a check made outside the bundle reader (e.g. the clip against the original); a
    /// failed one makes the verdict not verified.
    pub fn add_check(&mut self, check: Check) {
        if !check.ok {
            self.ok = false;
            self.status = Status::NotVerified;
            self.proven.clear();
        }
        self.checks.push(check);
    }
}

pub(crate) struct Checks(pub(crate) Vec<Check>);

impl Checks {
    pub(crate) fn add(&mut self, name: &str, ok: bool, detail: impl Into<String>) -> bool {
        self.0.push(Check {
            name: name.into(),
            ok,
            detail: detail.into(),
        });
        ok
    }
}

fn name_ok(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !n.starts_with('.')
        && !n.contains("..")
}

/// Reads a member fully; it must inflate to exactly its declared size (checked beforehand
/// against the member's limit).
pub(crate) fn read_member<R: Read>(mut r: R, declared: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    (&mut r)
        .take(declared + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("unreadable ({e})"))?;
    if buf.len() as u64 != declared {
        return Err(format!(
            "inflates to {} bytes, not the {declared} its header declares",
            buf.len()
        ));
    }
    Ok(buf)
}

/// Hashes a member as it streams; it must inflate to exactly its declared size.
fn hash_member<R: Read>(r: R, declared: u64) -> Result<(String, u64), String> {
    let limit = declared;
    let mut h = Sha256::new();
    let mut r = r.take(limit + 1);
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).map_err(|e| format!("unreadable ({e})"))?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    if n != declared {
        return Err(format!(
            "inflates to {n} bytes, not the {declared} its header declares"
        ));
    }
    Ok((hex::encode(h.finalize()), n))
}

/// Checks an RFC 3161 token over `digest`: against `anchor` (the TSA certificate the user
/// trusts) with the bundle's `tsa.pem` as untrusted chain, or else against `tsa.pem` itself.
fn check_token(
    token: &[u8],
    digest: Option<[u8; 32]>,
    anchor: Option<&Path>,
    bundle_pem: Option<&Vec<u8>>,
) -> Result<String, String> {
    let digest = digest.ok_or("there is no hash to compare the token with")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let carried = match bundle_pem {
        Some(pem) => {
            let p = dir.path().join("tsa.pem");
            std::fs::write(&p, pem).map_err(|e| e.to_string())?;
            Some(p)
        }
        None => None,
    };
    let (anchors, chain) = match (anchor, carried.as_deref()) {
        (Some(a), chain) => (a, chain),
        (None, Some(c)) => (c, None),
        (None, None) => {
            return Err("no TSA certificate: the bundle lacks tsa.pem and none was given".into())
        }
    };
    crate::tsa::verify(token, &digest, anchors, chain).map_err(|e| e.to_string())
}

/// Checks `witnessed.json`: a checkpoint signed by the bundle's key that includes the
/// manifest's log entry; returns (size, cosignature lines, names of `witnesses` that cosigned).
fn check_witnessed(
    bytes: &[u8],
    key: &[u8; 32],
    session: &str,
    manifest_bytes: &[u8],
    witnesses: &[(String, [u8; 32])],
) -> Result<(u64, usize, Vec<String>), String> {
    let w: crate::bundle::Witnessed = serde_json::from_slice(bytes)
        .map_err(|e| format!("{} is not a witnessed checkpoint: {e}", member::WITNESSED))?;
    let note = crate::note::Note::parse(&w.checkpoint)?;
    let (origin, size, root) = note.checkpoint()?;
    if origin != crate::note::origin(key) || !note.signed_by(&origin, key) {
        return Err("the witnessed checkpoint is not signed by the bundle's key as its log".into());
    }
    let proof: Vec<merkle::Hash> = w
        .proof
        .iter()
        .map(|p| seal::hex32(p))
        .collect::<Option<_>>()
        .ok_or("a proof hash is not 64 hex digits")?;
    let leaf = merkle::leaf_hash(&seal::log_entry(session, &seal::sha256(manifest_bytes)));
    if !merkle::verify_inclusion(&leaf, w.index as usize, size as usize, &proof, &root) {
        return Err(format!(
            "the manifest is not at position {} of the witnessed checkpoint of size {size}",
            w.index
        ));
    }
    let names = witnesses
        .iter()
        .filter(|(name, pk)| note.cosigned_by(name, pk).is_some())
        .map(|(name, _)| name.clone())
        .collect();
    Ok((size, note.signatures.len() - 1, names))
}

/// OpenSSL's time (`Nov 26 12:00:00 2026 GMT`, maybe with a fraction) as `YYYY-MM-DDTHH:MM:SS`.
fn tsa_time_utc(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [mon, day, time, year, "GMT"] = parts[..] else {
        return None;
    };
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|x| *x == mon)? + 1;
    let day: u32 = day.parse().ok()?;
    let hms = time.split('.').next()?;
    if hms.len() != 8 || year.len() != 4 {
        return None;
    }
    Some(format!("{year}-{m:02}-{day:02}T{hms}"))
}

/// Checks `custody.json` against the tree head in `log.json`; returns the events.
fn check_custody(
    bytes: &[u8],
    log: Option<&Vec<u8>>,
    session: &str,
) -> Result<Vec<crate::bundle::CustodyEvent>, String> {
    let chain: crate::bundle::Custody = serde_json::from_slice(bytes)
        .map_err(|e| format!("{} is not a custody chain: {e}", member::CUSTODY))?;
    let head = log
        .and_then(|b| serde_json::from_slice::<Inclusion>(b).ok())
        .map(|i| i.tree_head)
        .ok_or("log.json has no tree head to check it against")?;
    let root = seal::hex32(&head.root).ok_or("the tree head's root is not 64 hex digits")?;
    let mut events = Vec::new();
    for e in &chain.entries {
        let ev: crate::bundle::CustodyEvent = serde_json::from_str(&e.event)
            .map_err(|err| format!("entry {} is not a custody event: {err}", e.index))?;
        if ev.format != crate::bundle::CUSTODY_FORMAT
            || !(ev.session == session || ev.session.is_empty())
        {
            return Err(format!(
                "entry {} is about another session or in another format",
                e.index
            ));
        }
        let proof: Vec<merkle::Hash> = e
            .proof
            .iter()
            .map(|p| seal::hex32(p))
            .collect::<Option<_>>()
            .ok_or("a proof hash is not 64 hex digits")?;
        let leaf = merkle::leaf_hash(&seal::custody_entry(
            &ev.session,
            &seal::sha256(e.event.as_bytes()),
        ));
        if !merkle::verify_inclusion(&leaf, e.index as usize, head.size as usize, &proof, &root) {
            return Err(format!(
                "the {} event of {} is not entry {} of the log: it was changed or made up",
                ev.event, ev.at, e.index
            ));
        }
        events.push(ev);
    }
    Ok(events)
}

/// A statement as read from a bundle.
struct ReadStatement {
    statement: Statement,
    /// Whether its signature verifies with the bundle's key.
    signed: bool,
    /// The member it came from.
    member: &'static str,
}

/// Reads the statement strictly (unknown fields refused: what is not signed is not read) and
/// checks its signature: v2 over the exact bytes of `statement.json`, v1 over `bundle.json`'s
/// statement re-serialised.
fn read_statement(
    small: &BTreeMap<String, Vec<u8>>,
    key: &[u8; 32],
) -> Result<ReadStatement, String> {
    let key_hex = hex::encode(key);
    match (
        small.get(member::STATEMENT),
        small.get(member::LEGACY_BUNDLE),
    ) {
        (Some(bytes), None) => {
            let st: Statement = serde_json::from_slice(bytes)
                .map_err(|e| format!("{} is not a bundle statement: {e}", member::STATEMENT))?;
            if st.format != FORMAT {
                return Err(format!(
                    "{} says format {:?}; this verifier reads {:?}",
                    member::STATEMENT,
                    st.format,
                    FORMAT
                ));
            }
            let sig: DetachedSignature = small
                .get(member::STATEMENT_SIG)
                .ok_or_else(|| format!("{} is missing", member::STATEMENT_SIG))
                .and_then(|b| {
                    serde_json::from_slice(b)
                        .map_err(|e| format!("{} is not a signature: {e}", member::STATEMENT_SIG))
                })?;
            let signed = sig.public_key == key_hex
                && sig.domain == seal::STATEMENT_DOMAIN
                && sig.check(bytes);
            Ok(ReadStatement {
                statement: st,
                signed,
                member: member::STATEMENT,
            })
        }
        (None, Some(bytes)) => {
            let bf: BundleFile = serde_json::from_slice(bytes)
                .map_err(|e| format!("{} is not a bundle statement: {e}", member::LEGACY_BUNDLE))?;
            if bf.statement.format != FORMAT_V1 {
                return Err(format!(
                    "{} says format {:?}; a v1 bundle is {:?}",
                    member::LEGACY_BUNDLE,
                    bf.statement.format,
                    FORMAT_V1
                ));
            }
            let signed = bf.signature.public_key == key_hex
                && bf.signature.domain == seal::BUNDLE_DOMAIN
                && bf.signature.check(&statement_bytes_v1(&bf.statement));
            Ok(ReadStatement {
                statement: bf.statement,
                signed,
                member: member::LEGACY_BUNDLE,
            })
        }
        (Some(_), Some(_)) => Err(format!(
            "the bundle has both {} and {}: one statement only",
            member::STATEMENT,
            member::LEGACY_BUNDLE
        )),
        (None, None) => Err(format!(
            "{} is missing: this is not an evidence bundle",
            member::STATEMENT
        )),
    }
}

/// Name of the check that the signer's key is trusted.
pub const TRUST_CHECK: &str = "key.trusted";

/// A bundle's members: the small ones' bytes, and every member's SHA-256.
struct Members {
    small: BTreeMap<String, Vec<u8>>,
    hashes: BTreeMap<String, String>,
}

/// Step 1: one unambiguous zip (`zipcheck`), then its members, each read to exactly its
/// declared size within `limits`; big members (clip, recording) only hashed as they stream.
fn read_bundle(
    bundle: &Path,
    shown: &str,
    limits: &crate::limits::Bundle,
) -> Result<Members, String> {
    let mut file = match std::fs::File::open(bundle) {
        Ok(f) => f,
        Err(e) => {
            return Err(format!("cannot open {shown}: {e}"));
        }
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let declared = match crate::zipcheck::check(&mut file, len, limits) {
        Ok(m) => m,
        Err(e) => {
            return Err(format!("{shown} is not a bundle zip: {e}"));
        }
    };
    let mut problems = Vec::new();
    let mut small_total = 0u64;
    for m in &declared {
        let big = m.name.ends_with(".flac") || m.name.starts_with("recording.");
        let limit = if m.name.starts_with("recording.") {
            limits.max_recording
        } else if big {
            limits.max_clip
        } else {
            small_total = small_total.saturating_add(m.size);
            limits.max_small
        };
        if m.size > limit {
            problems.push(format!(
                "member {} declares {} bytes; the limit for it is {limit}",
                m.name, m.size
            ));
        }
    }
    if small_total > limits.max_small_total {
        problems.push(format!(
            "the metadata members declare {small_total} bytes in all; the limit is {}",
            limits.max_small_total
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let mut zip = match zip::ZipArchive::new(file) {
        Ok(z) if z.len() == declared.len() => z,
        Ok(_) => {
            return Err(format!(
                "{shown}: the zip reader sees other members than the central directory declares"
            ));
        }
        Err(e) => {
            return Err(format!("{shown} is not a readable zip file: {e}"));
        }
    };
    let mut small: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut hashes: BTreeMap<String, String> = BTreeMap::new();
    for (i, m) in declared.iter().enumerate() {
        let entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("member {i}: {e}"));
                continue;
            }
        };
        let name = entry.name().to_string();
        if name != m.name || entry.size() != m.size {
            problems.push(format!(
                "member {i}: the zip reader sees {name:?} where the directory declares {:?}",
                m.name
            ));
            continue;
        }
        if !name_ok(&name) {
            problems.push(format!(
                "member name {name:?} is not allowed (no paths, no hidden files)"
            ));
            continue;
        }
        let big = name.ends_with(".flac") || name.starts_with("recording.");
        if big {
            match hash_member(entry, m.size) {
                Ok((h, _)) => {
                    hashes.insert(name, h);
                }
                Err(e) => problems.push(format!("member {name}: {e}")),
            }
        } else {
            match read_member(entry, m.size) {
                Ok(b) => {
                    hashes.insert(name.clone(), crate::sha256_hex(&b));
                    small.insert(name, b);
                }
                Err(e) => problems.push(format!("member {name}: {e}")),
            }
        }
    }
    if problems.is_empty() {
        Ok(Members { small, hashes })
    } else {
        Err(problems.join("; "))
    }
}

/// Step 3: every member but the statement and its signature has the SHA-256 the statement
/// lists; none is added or missing.
fn check_members(c: &mut Checks, st: &Statement, hashes: &BTreeMap<String, String>) {
    let mut listed: BTreeMap<&str, &str> = st
        .members
        .iter()
        .map(|m| (m.file.as_str(), m.sha256.as_str()))
        .collect();
    if let Some(clip) = &st.clip {
        listed
            .entry(clip.file.as_str())
            .or_insert(clip.sha256.as_str());
    }
    for (name, hash) in hashes {
        // The statement cannot list itself, nor the signature over it.
        if [
            member::STATEMENT,
            member::STATEMENT_SIG,
            member::LEGACY_BUNDLE,
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        match listed.get(name.as_str()) {
            Some(expected) if *expected == hash.as_str() => {
                c.add(
                    &format!("member {name}"),
                    true,
                    "SHA-256 matches the signed statement",
                );
            }
            Some(expected) => {
                c.add(
                    &format!("member {name}"),
                    false,
                    format!("SHA-256 is {hash}, the signed statement says {expected}: this file was changed after the bundle was made"),
                );
            }
            None => {
                c.add(
                    &format!("member {name}"),
                    false,
                    "this file is not listed in the signed statement: it was added",
                );
            }
        }
    }
    for name in listed.keys() {
        if !hashes.contains_key(*name) {
            c.add(
                &format!("member {name}"),
                false,
                "listed in the signed statement but missing from the bundle",
            );
        }
    }
}

/// Step 8: an included original (`recording.*`) and a given one are the manifest's recording.
fn check_recording(
    c: &mut Checks,
    hashes: &BTreeMap<String, String>,
    expected: &str,
    recording: Option<&Path>,
) {
    let inside: Vec<&String> = hashes
        .keys()
        .filter(|n| n.starts_with("recording."))
        .collect();
    for n in inside {
        let ok = hashes[n] == expected;
        c.add(
            "recording.included",
            ok,
            if ok {
                format!("{n} is the original recording (SHA-256 matches the manifest)")
            } else {
                format!("{n} is not the recording the manifest names")
            },
        );
    }
    if let Some(path) = recording {
        let r = crate::sha256_file(path);
        match r {
            Ok(h) if h == expected => {
                c.add(
                    "recording.given",
                    true,
                    format!("{} is the archived original, byte for byte", path.display()),
                );
            }
            Ok(h) => {
                c.add(
                    "recording.given",
                    false,
                    format!(
                        "{} has SHA-256 {h}, the archived original has {}: it is a different file",
                        path.display(),
                        expected
                    ),
                );
            }
            Err(e) => {
                c.add(
                    "recording.given",
                    false,
                    format!("cannot read {}: {e}", path.display()),
                );
            }
        }
    }
}

/// Steps 5 and 5b: excerpt, statement and manifest name one session and root; every quoted
/// segment and gap is proven against the root, in order, none left out; the clip's stated range
/// holds every quoted segment whole.
fn check_excerpt(c: &mut Checks, excerpt: &Excerpt, manifest: &ManifestView, st: &Statement) {
    let same_ids = excerpt.session == manifest.session && st.session == manifest.session;
    let same_root = excerpt.transcript_root == manifest.transcript_root
        && st.transcript_root == manifest.transcript_root;
    c.add(
        "excerpt.session",
        same_ids && same_root,
        if same_ids && same_root {
            format!("excerpt, statement and manifest all name session {} and transcript root {}", manifest.session, manifest.transcript_root)
        } else {
            "the excerpt or the statement belongs to another session or transcript than the manifest".to_string()
        },
    );
    let root = seal::hex32(&manifest.transcript_root).unwrap_or([0u8; 32]);
    // Segments then gaps are the transcript's leaves.
    let leaves = (excerpt.segment_count as usize).saturating_add(excerpt.gap_count as usize);
    let mut seg_problems = Vec::new();
    for s in &excerpt.segments {
        let proof: Option<Vec<merkle::Hash>> = s.proof.iter().map(|p| seal::hex32(p)).collect();
        let leaf = merkle::leaf_hash(&seal::segment_encoding(
            &manifest.session,
            s.index,
            s.start_ms,
            s.end_ms,
            &s.text,
        ));
        let ok = proof
            .is_some_and(|p| merkle::verify_inclusion(&leaf, s.index as usize, leaves, &p, &root));
        if !ok {
            seg_problems.push(format!(
                "segment {} ({} – {}): its text, times or position differ from the sealed transcript",
                s.index,
                clock(s.start_ms),
                clock(s.end_ms)
            ));
        }
    }
    for g in &excerpt.gaps {
        let proof: Option<Vec<merkle::Hash>> = g.proof.iter().map(|p| seal::hex32(p)).collect();
        let leaf = merkle::leaf_hash(&seal::gap_encoding(
            &manifest.session,
            g.index,
            g.start_ms,
            g.end_ms,
            &g.reason,
        ));
        let at = (excerpt.segment_count as usize).saturating_add(g.index as usize);
        let ok = g.index < excerpt.gap_count
            && proof.is_some_and(|p| merkle::verify_inclusion(&leaf, at, leaves, &p, &root));
        if !ok {
            seg_problems.push(format!(
                "gap {} ({} – {}): its times or reason differ from the sealed transcript",
                g.index,
                clock(g.start_ms),
                clock(g.end_ms)
            ));
        }
    }
    let count_ok = excerpt.segment_count as usize == manifest.segment_count
        && excerpt.gap_count as usize == manifest.gap_count;
    if !count_ok {
        seg_problems.push(format!(
            "the excerpt says the transcript has {} segments and {} gaps, the manifest {} and {}",
            excerpt.segment_count, excerpt.gap_count, manifest.segment_count, manifest.gap_count
        ));
    }
    c.add(
        "excerpt.proofs",
        seg_problems.is_empty() && !excerpt.segments.is_empty(),
        if excerpt.segments.is_empty() {
            "the excerpt has no segments".to_string()
        } else if seg_problems.is_empty() {
            format!(
                "all {} segments are in the sealed transcript, word for word",
                excerpt.segments.len()
            )
        } else {
            seg_problems.join("; ")
        },
    );
    let indices: Vec<u64> = excerpt.segments.iter().map(|s| s.index).collect();
    let expected: Vec<u64> = (st.first_index..=st.last_index).collect();
    c.add(
        "excerpt.complete",
        indices == expected,
        if indices == expected {
            format!("segments {}–{} are all there, in order, none left out", st.first_index, st.last_index)
        } else {
            format!(
                "the signed statement covers segments {}–{}, the excerpt has {:?}: segments were removed, added or reordered",
                st.first_index, st.last_index, indices
            )
        },
    );

    // The clip holds every quoted segment whole (v2 states the clip's range).
    if let (Some(clip), Some(first), Some(last)) =
        (&st.clip, excerpt.segments.first(), excerpt.segments.last())
    {
        if let (Some(from), Some(to)) = (clip.from_ms, clip.to_ms) {
            let end = last.end_ms.min(manifest.duration_ms);
            let ok = from <= first.start_ms && to >= end && from < to;
            c.add(
                "clip.range",
                ok,
                if ok {
                    format!(
                        "the clip runs {} – {} of the original and holds every quoted segment ({} – {}) whole",
                        clock(from),
                        clock(to),
                        clock(first.start_ms),
                        clock(last.end_ms)
                    )
                } else {
                    format!(
                        "the clip runs {} – {}, but the quoted segments run {} – {}: the clip does not hold what is quoted",
                        clock(from),
                        clock(to),
                        clock(first.start_ms),
                        clock(last.end_ms)
                    )
                },
            );
        }
    }
}

/// Verifies `bundle` (named by its path in messages).
pub fn verify(bundle: &Path, opts: &Options) -> Verdict {
    verify_with(bundle, &bundle.display().to_string(), opts)
}

/// Verifies `bundle`, naming it `shown` in messages (a server does not show its paths): a
/// broadcast bundle (`span.json`) part by part (`crate::span`), a deleted session's tombstone
/// document (`crate::tombstone`), any other as one session's.
pub fn verify_with(bundle: &Path, shown: &str, opts: &Options) -> Verdict {
    if crate::tombstone::is_tombstone(bundle) {
        return crate::tombstone::verify_tombstone(bundle, shown, opts);
    }
    if crate::span::is_span(bundle, &opts.limits) {
        return crate::span::verify_span(bundle, shown, opts);
    }
    verify_bundle(bundle, shown, opts).0
}

/// What a verified session bundle says, for the broadcast bundle holding it.
pub(crate) struct SessionRead {
    /// Its statement.
    pub statement: Statement,
    /// Its manifest.
    pub manifest: ManifestView,
}

/// One session's bundle: the named checks below, in order, each adding its results; a check
/// that leaves nothing to go on ends the verification.
pub(crate) fn verify_bundle(
    bundle: &Path,
    shown: &str,
    opts: &Options,
) -> (Verdict, Option<SessionRead>) {
    let mut c = Checks(Vec::new());
    let not_proven = vec![
        "that the speech recognition is right: the audio clip is the evidence, the text a guide"
            .to_string(),
        "who was speaking, or that the recording was unedited before it was archived".to_string(),
        "that the platform, room, host or start time in the manifest are true: they are what the metadata file supplied at ingest said, kept verbatim".to_string(),
        "the time, beyond the archive's own clock (no trusted timestamp token is checked)"
            .to_string(),
    ];

    // 1. One unambiguous zip, then its members, each to exactly its declared size.
    let Members { small, hashes } = match read_bundle(bundle, shown, &opts.limits) {
        Ok(m) => m,
        Err(e) => {
            c.add("bundle.read", false, e);
            return (finish(c, vec![], not_proven, None), None);
        }
    };
    c.add(
        "bundle.read",
        true,
        format!("{} members read within size limits", hashes.len()),
    );

    // 2. The key, whose it is, and the signed statement. An unreadable key fails here, but
    // the member checks below still run, so the report names every file that was changed.
    let key_text = small
        .get(member::PUBLIC_KEY)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(seal::hex32);
    if key_text.is_none() {
        c.add(
            "public_key",
            false,
            "public_key.txt is missing or not an Ed25519 key in hex",
        );
    }
    let bundle_key = key_text.unwrap_or([0u8; 32]);
    let signer = key_text.map(|k| check_signer(&mut c, &k, &opts.trust));
    let Some(st) = check_statement(&mut c, &small, &bundle_key) else {
        return (finish(c, vec![], not_proven, signer), None);
    };

    // 3. Every member is the one the statement lists.
    check_members(&mut c, &st, &hashes);

    // 4. The manifest and its signature.
    let Some((manifest, manifest_bytes)) = check_manifest(&mut c, &small, &bundle_key) else {
        return (finish(c, vec![], not_proven, signer), None);
    };

    // 5. The excerpt: every segment proven against the sealed transcript root, in order.
    let excerpt: Option<Excerpt> = small
        .get(member::EXCERPT)
        .and_then(|b| serde_json::from_slice(b).ok());
    let Some(excerpt) = excerpt else {
        c.add(
            "excerpt.segments",
            false,
            "excerpt.json is missing or unreadable",
        );
        return (finish(c, vec![], not_proven, signer), None);
    };
    check_excerpt(&mut c, &excerpt, &manifest, &st);
    let comments = check_comments(&mut c, &small, &manifest, &st);

    // 6. The manifest is in the log under a signed tree head; witnesses; custody.
    check_log(&mut c, &small, &manifest, &manifest_bytes, &bundle_key);
    let witnessed_by = check_witnesses(
        &mut c,
        &small,
        &bundle_key,
        &manifest,
        &manifest_bytes,
        &opts.witnesses,
    );
    let custody = check_custody_chain(&mut c, &small, &manifest.session);

    // 7. Trusted time: the tree head's token, and the recording's.
    let times = check_timestamps(&mut c, &small, &manifest, opts.tsa_cert);

    // 8. The original recording, inside the bundle or given.
    check_recording(&mut c, &hashes, &manifest.recording_sha256, opts.recording);

    // 9. A revoked key counts only for what a trusted time shows existed before.
    if let Some(k) = key_text {
        check_revocation(&mut c, &k, &opts.trust, times.head.as_deref());
    }

    let facts = Facts {
        comments,
        signer: signer.as_ref(),
        excerpt: &excerpt,
        manifest: &manifest,
        times: &times,
        witnessed_by: &witnessed_by,
        custody: custody.len(),
    };
    let proven = facts.proven();
    let not_proven = facts.not_proven(not_proven, opts.tsa_cert.is_some());
    let mut v = finish(c, proven, not_proven, signer);
    v.witnessed_by = witnessed_by;
    v.custody = custody;
    v.session = Some(manifest.session.clone());
    (
        v,
        Some(SessionRead {
            statement: st,
            manifest,
        }),
    )
}

/// The verdict from the checks: verified only when all passed; intact but unknown when every
/// check but the signer's passed.
pub(crate) fn finish(
    c: Checks,
    proven: Vec<String>,
    not_proven: Vec<String>,
    signer: Option<Signer>,
) -> Verdict {
    let ok = !c.0.is_empty() && c.0.iter().all(|k| k.ok);
    let intact = !c.0.is_empty() && c.0.iter().all(|k| k.ok || k.name == TRUST_CHECK);
    let status = if ok {
        Status::Verified
    } else if intact && signer.is_some() {
        Status::UnknownSigner
    } else {
        Status::NotVerified
    };
    Verdict {
        ok,
        status,
        signer,
        checks: c.0,
        proven: if ok { proven } else { Vec::new() },
        not_proven,
        witnessed_by: Vec::new(),
        custody: Vec::new(),
        session: None,
        span: None,
    }
}

/// Step 2a: whose key signed, and whether the caller trusts it (`key.trusted`).
pub(crate) fn check_signer(c: &mut Checks, key: &[u8; 32], trust: &Trust) -> Signer {
    let sg = trust.signer(key);
    c.add(
        TRUST_CHECK,
        sg.trusted,
        match &sg.name {
            Some(name) => format!("the bundle is signed with the key of {name} (fingerprint {}), which you trust", sg.fingerprint),
            None if trust.is_empty() => format!(
                "the bundle is signed with key {} (fingerprint {}), and you named no key to trust: anyone can make a bundle that passes every other check with a key of their own. Pass --key with the key the archive publishes, or --trust FILE",
                sg.public_key, sg.fingerprint
            ),
            None => format!(
                "the bundle is signed with key {} (fingerprint {}), not one you trust: it does not come from the archive(s) you named",
                sg.public_key, sg.fingerprint
            ),
        },
    );
    sg
}

/// Step 2b: the statement, read strictly, and its signature by the bundle's key
/// (`bundle.signature`). `None` when there is no statement to go on.
fn check_statement(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    key: &[u8; 32],
) -> Option<Statement> {
    let statement = match read_statement(small, key) {
        Ok(s) => s,
        Err(detail) => {
            c.add("bundle.signature", false, detail);
            return None;
        }
    };
    let st = statement.statement;
    c.add(
        "bundle.signature",
        statement.signed,
        if statement.signed {
            format!("the bundle statement ({}) is signed by the key in public_key.txt", st.format)
        } else {
            format!("the bundle statement's signature does not verify with public_key.txt: {} or the key was changed", statement.member)
        },
    );
    Some(st)
}

/// Step 4: the manifest and its signature under the bundle's key (`manifest.signature`).
/// Returns the manifest and its exact bytes; `None` when it cannot be read.
fn check_manifest(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    key: &[u8; 32],
) -> Option<(ManifestView, Vec<u8>)> {
    let bytes = small.get(member::MANIFEST).cloned().unwrap_or_default();
    let manifest: Option<ManifestView> = serde_json::from_slice(&bytes).ok();
    let sig: Option<DetachedSignature> = small
        .get(member::MANIFEST_SIG)
        .and_then(|b| serde_json::from_slice(b).ok());
    let key_hex = hex::encode(key);
    let signed = sig.as_ref().is_some_and(|s| {
        s.public_key == key_hex && s.domain == seal::MANIFEST_DOMAIN && s.check(&bytes)
    });
    let ok = signed && manifest.is_some();
    c.add(
        "manifest.signature",
        ok,
        if ok {
            "the session manifest is signed by the archive key"
        } else {
            "manifest.json or manifest.sig was changed, or they are signed by another key"
        },
    );
    manifest.map(|m| (m, bytes))
}

/// Step 5b: `comments.json` (when present): every comment proven against the comments root the
/// manifest seals, in order, within the statement's range (`comments`). Returns how many.
fn check_comments(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    manifest: &ManifestView,
    st: &Statement,
) -> usize {
    let Some(b) = small.get(member::COMMENTS) else {
        return 0;
    };
    let r = (|| -> Result<usize, String> {
        let ex: crate::bundle::CommentsExcerpt = serde_json::from_slice(b)
            .map_err(|e| format!("{} is not a comments excerpt: {e}", member::COMMENTS))?;
        let sealed = manifest
            .comments
            .as_ref()
            .ok_or("the manifest seals no live comments")?;
        if ex.session != manifest.session || ex.root != sealed.root || ex.count != sealed.count {
            return Err(
                "the comments are not the ones this manifest seals (session, root or count differ)"
                    .into(),
            );
        }
        let root = seal::hex32(&sealed.root).ok_or("the comments root is not 64 hex digits")?;
        let mut last: Option<u64> = None;
        for x in &ex.comments {
            if last.is_some_and(|l| x.index <= l) {
                return Err(format!("comment {} is out of order", x.index));
            }
            last = Some(x.index);
            if x.t_ms < st.from_ms || x.t_ms > st.to_ms {
                return Err(format!(
                    "comment {} at {} is outside the bundle's range",
                    x.index,
                    clock(x.t_ms)
                ));
            }
            let proof: Vec<merkle::Hash> = x
                .proof
                .iter()
                .map(|p| seal::hex32(p))
                .collect::<Option<_>>()
                .ok_or("a proof hash is not 64 hex digits")?;
            let leaf = merkle::leaf_hash(&seal::comment_encoding(
                &manifest.session,
                x.index,
                x.t_ms,
                &x.kind,
                x.user.as_deref().unwrap_or(""),
                &x.text,
            ));
            if !merkle::verify_inclusion(
                &leaf,
                x.index as usize,
                sealed.count as usize,
                &proof,
                &root,
            ) {
                return Err(format!(
                    "comment {} was changed: its proof does not reach the sealed root",
                    x.index
                ));
            }
        }
        Ok(ex.comments.len())
    })();
    c.add(
        "comments",
        r.is_ok(),
        match &r {
            Ok(n) => {
                format!("{n} live comment(s) shown are word for word those sealed with the session")
            }
            Err(e) => e.clone(),
        },
    );
    r.unwrap_or(0)
}

/// Step 6: `log.json` proves the manifest is an entry of the log under a tree head signed by
/// the bundle's key (`log.inclusion`).
fn check_log(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    manifest: &ManifestView,
    manifest_bytes: &[u8],
    key: &[u8; 32],
) {
    let inclusion: Option<Inclusion> = small
        .get(member::LOG)
        .and_then(|b| serde_json::from_slice(b).ok());
    let Some(inc) = inclusion else {
        c.add("log.inclusion", false, "log.json is missing or unreadable");
        return;
    };
    let r = if inc.manifest_sha256 != crate::sha256_hex(manifest_bytes)
        || inc.session != manifest.session
    {
        Err("the log entry is for another manifest or session".to_string())
    } else if inc.tree_head.public_key != hex::encode(key) {
        Err("the tree head is signed by another key".to_string())
    } else {
        crate::log::verify_inclusion(&inc)
    };
    c.add(
        "log.inclusion",
        r.is_ok(),
        match r {
            Ok(()) => format!(
                "the manifest is entry {} of the archive log; the signed tree head of size {} ({}) commits to it",
                inc.index, inc.tree_head.size, inc.tree_head.timestamp
            ),
            Err(e) => e,
        },
    );
}

/// Step 6b: a cosigned checkpoint that includes the manifest (`log.witnessed`); required when
/// the caller named witnesses. Returns the named witnesses that cosigned.
fn check_witnesses(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    key: &[u8; 32],
    manifest: &ManifestView,
    manifest_bytes: &[u8],
    witnesses: &[(String, [u8; 32])],
) -> Vec<String> {
    let Some(b) = small.get(member::WITNESSED) else {
        if !witnesses.is_empty() {
            c.add(
                "log.witnessed",
                false,
                "you named witnesses, but the bundle carries no cosigned checkpoint: no witness had vouched for this part of the log when the bundle was made",
            );
        }
        return Vec::new();
    };
    match check_witnessed(b, key, &manifest.session, manifest_bytes, witnesses) {
        Ok((size, all, _)) if witnesses.is_empty() => {
            c.add("log.witnessed", true, format!(
                "the log's checkpoint of size {size}, which includes this manifest, carries {all} cosignature(s); name the witnesses you trust with --witness to count them"
            ));
            Vec::new()
        }
        Ok((size, _, names)) if names.is_empty() => {
            c.add(
                "log.witnessed",
                false,
                format!(
                    "none of the witnesses you named cosigned the log's checkpoint of size {size}"
                ),
            );
            names
        }
        Ok((size, _, names)) => {
            c.add("log.witnessed", true, format!(
                "witnessed by {}: they cosigned the log's checkpoint of size {size}, which includes this manifest",
                names.join(", ")
            ));
            names
        }
        Err(e) => {
            c.add("log.witnessed", false, e);
            Vec::new()
        }
    }
}

/// Step 6c: every custody event shown is in the log under the tree head of `log.json`
/// (`custody`, when the bundle has a chain). Returns the events.
fn check_custody_chain(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    session: &str,
) -> Vec<crate::bundle::CustodyEvent> {
    let Some(b) = small.get(member::CUSTODY) else {
        return Vec::new();
    };
    let r = check_custody(b, small.get(member::LOG), session);
    c.add(
        "custody",
        r.is_ok(),
        match &r {
            Ok(events) => format!(
                "{} custody event(s) ({}) are entries of the archive's log under the signed tree head",
                events.len(),
                events.iter().map(|e| e.event.as_str()).collect::<Vec<_>>().join(", ")
            ),
            Err(e) => format!("the custody chain does not check out: {e}"),
        },
    );
    r.unwrap_or_default()
}

/// Attested times from the bundle's timestamp tokens.
#[derive(Debug, Default)]
struct Times {
    /// When the log's tree head existed, per its token.
    head: Option<String>,
    /// When the recording's hash existed, per its token.
    recording: Option<String>,
}

/// Step 7: the tree head's token (`timestamp`) and the recording's (`timestamp.recording`),
/// each against the TSA certificate the caller trusts, else the one the bundle carries. With
/// `--tsa-cert`, a bundle without a head token fails.
fn check_timestamps(
    c: &mut Checks,
    small: &BTreeMap<String, Vec<u8>>,
    manifest: &ManifestView,
    tsa_cert: Option<&Path>,
) -> Times {
    let head_digest = small
        .get(member::LOG)
        .and_then(|b| serde_json::from_slice::<Inclusion>(b).ok())
        .and_then(|i| i.tree_head.digest());
    let mut times = Times::default();
    for (name, member_name, digest, what) in [
        (
            "timestamp",
            member::TIMESTAMP,
            head_digest,
            "the log's tree head",
        ),
        (
            "timestamp.recording",
            member::RECORDING_TIMESTAMP,
            seal::hex32(&manifest.recording_sha256),
            "the recording's SHA-256",
        ),
    ] {
        let Some(token) = small.get(member_name) else {
            if tsa_cert.is_some() && name == "timestamp" {
                c.add(
                    name,
                    false,
                    format!("you gave --tsa-cert, but the bundle has no timestamp token ({member_name}): its time is only the archive's claim"),
                );
            }
            continue;
        };
        let r = check_token(token, digest, tsa_cert, small.get(member::TSA_PEM));
        c.add(
            name,
            r.is_ok(),
            match &r {
                Ok(t) => format!("a time-stamping authority attests that {what} existed by {t}"),
                Err(e) => {
                    format!("the timestamp token ({member_name}) does not verify for {what}: {e}")
                }
            },
        );
        if name == "timestamp" {
            times.head = r.ok();
        } else {
            times.recording = r.ok();
        }
    }
    times
}

/// Step 9: a key the trust file revokes counts only when a trusted timestamp shows the log
/// head existed before the revocation (`key.revoked`, only for revoked keys).
fn check_revocation(c: &mut Checks, key: &[u8; 32], trust: &Trust, head_time: Option<&str>) {
    let Some(rev) = trust.revoked(key) else {
        return;
    };
    let before = head_time
        .and_then(tsa_time_utc)
        .map(|t| t.as_str() < &rev.since[..19]);
    let ok = before == Some(true);
    c.add(
        "key.revoked",
        ok,
        if ok {
            format!("the key was revoked from {} ({}), but a trusted timestamp shows the log head existed before", rev.since, rev.reason)
        } else {
            format!("the key was revoked from {} ({}); no trusted timestamp shows this bundle's log head existed before, so anything it signed may be forged", rev.since, rev.reason)
        },
    );
}

/// What the checks established, to say what the bundle proves and what it does not.
struct Facts<'a> {
    comments: usize,
    signer: Option<&'a Signer>,
    excerpt: &'a Excerpt,
    manifest: &'a ManifestView,
    times: &'a Times,
    witnessed_by: &'a [String],
    custody: usize,
}

impl Facts<'_> {
    /// What a verified bundle proves, in plain words.
    fn proven(&self) -> Vec<String> {
        let (m, e) = (self.manifest, self.excerpt);
        let mut proven = Vec::new();
        if let Some(Signer {
            name: Some(name),
            fingerprint,
            ..
        }) = self.signer
        {
            proven.push(format!(
                "the bundle was signed with the key of {name} (fingerprint {fingerprint}), which you trust"
            ));
        }
        proven.extend([
            format!(
                "the {} segments shown ({} – {}) are word for word in the transcript sealed for session {}",
                e.segments.len(),
                clock(e.segments.first().map(|s| s.start_ms).unwrap_or(0)),
                clock(e.segments.last().map(|s| s.end_ms).unwrap_or(0)),
                m.session
            ),
            format!(
                "that transcript belongs to the recording with SHA-256 {} ({} bytes), archived at {} with model {}",
                m.recording_sha256, m.recording_size, m.ingested_at, m.model
            ),
            "the manifest is in the archive's append-only log: deleting, replacing or back-dating it would break the signed tree head".to_string(),
            "the audio clip is the one the archive cut from that recording for this range".to_string(),
        ]);
        if self.comments > 0 {
            proven.push(format!(
                "the {} live comment(s) shown are word for word those sealed with the recording, at their times",
                self.comments
            ));
        }
        if let Some(t) = &self.times.head {
            proven.push(format!("the log head covering this manifest existed by {t}, as a time-stamping authority attests"));
        }
        if !self.witnessed_by.is_empty() {
            proven.push(format!(
                "witnesses you trust ({}) saw the same log, including this manifest: the archive did not show them a different history",
                self.witnessed_by.join(", ")
            ));
        }
        if let Some(t) = &self.times.recording {
            proven.push(format!(
                "the recording with SHA-256 {} existed by {t}, as a time-stamping authority attests",
                m.recording_sha256
            ));
        }
        if self.custody > 0 {
            proven.push(format!(
                "the chain of custody shown ({} events: who archived, exported or verified it, and key changes) is in the archive's log",
                self.custody
            ));
        }
        proven
    }

    /// What it does not prove: the defaults, less the time once a token attests it, plus the
    /// TSA certificate's own trust when the caller named none.
    fn not_proven(&self, mut not_proven: Vec<String>, tsa_cert_given: bool) -> Vec<String> {
        if self.times.head.is_some() {
            not_proven.retain(|p| !p.starts_with("the time, beyond"));
            if !tsa_cert_given {
                not_proven.push("that tsa.pem is the certificate of a TSA you trust: pass --tsa-cert with the one you trust".into());
            }
        }
        not_proven
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{ClipRef, FileRef};

    fn statement(members: &[(&str, &str)]) -> Statement {
        Statement {
            format: FORMAT.into(),
            session: "s".into(),
            created_at: "t".into(),
            from_ms: 0,
            to_ms: 1,
            first_index: 0,
            last_index: 0,
            transcript_root: "00".repeat(32),
            clip: Some(ClipRef {
                file: "clip.flac".into(),
                sha256: "c".into(),
                from_ms: Some(0),
                to_ms: Some(1),
            }),
            members: members
                .iter()
                .map(|(f, h)| FileRef {
                    file: f.to_string(),
                    sha256: h.to_string(),
                })
                .collect(),
        }
    }

    fn failed(c: &Checks) -> Vec<String> {
        c.0.iter()
            .filter(|k| !k.ok)
            .map(|k| k.name.clone())
            .collect()
    }

    #[test]
    fn members_must_be_exactly_the_listed_ones() {
        let st = statement(&[("a.json", "1"), ("b.json", "2")]);
        let hashes: BTreeMap<String, String> = [
            ("a.json", "1"),
            ("b.json", "9"),
            ("clip.flac", "c"),
            ("extra.txt", "3"),
            ("statement.json", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut c = Checks(Vec::new());
        check_members(&mut c, &st, &hashes);
        assert_eq!(failed(&c), vec!["member b.json", "member extra.txt"]);
        let mut c = Checks(Vec::new());
        let mut fewer = hashes.clone();
        fewer.remove("clip.flac");
        fewer.remove("extra.txt");
        fewer.insert("b.json".into(), "2".into());
        check_members(&mut c, &st, &fewer);
        assert_eq!(failed(&c), vec!["member clip.flac"]);
    }

    #[test]
    fn an_included_recording_must_be_the_manifests() {
        let hashes: BTreeMap<String, String> = [("recording.flv".to_string(), "ab".to_string())]
            .into_iter()
            .collect();
        let mut c = Checks(Vec::new());
        check_recording(&mut c, &hashes, "ab", None);
        assert!(failed(&c).is_empty());
        let mut c = Checks(Vec::new());
        check_recording(&mut c, &hashes, "cd", None);
        assert_eq!(failed(&c), vec!["recording.included"]);
    }

    #[test]
    fn openssl_times_compare_as_utc() {
        assert_eq!(
            tsa_time_utc("Nov  6 12:00:01.5 2026 GMT").as_deref(),
            Some("2026-11-06T12:00:01")
        );
        assert_eq!(tsa_time_utc("yesterday"), None);
    }

    fn names(c: &Checks) -> Vec<(String, bool)> {
        c.0.iter().map(|k| (k.name.clone(), k.ok)).collect()
    }

    fn manifest_json() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "session": "s1", "recording_sha256": "ab".repeat(32), "recording_size": 3,
            "duration_ms": 1000, "transcript_root": "00".repeat(32), "segment_count": 1,
            "gap_count": 0, "model": "base", "ingested_at": "2026-11-26T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn the_signer_is_trusted_only_when_named() {
        let key = [7u8; 32];
        let mut c = Checks(Vec::new());
        let sg = check_signer(&mut c, &key, &Trust::default());
        assert!(!sg.trusted);
        assert_eq!(names(&c), [(TRUST_CHECK.to_string(), false)]);
        assert!(c.0[0].detail.contains("you named no key"));
        let mut t = Trust::default();
        t.add("the archive", key);
        let mut c = Checks(Vec::new());
        assert!(check_signer(&mut c, &key, &t).trusted);
        let mut c = Checks(Vec::new());
        check_signer(&mut c, &[8u8; 32], &t);
        assert!(c.0[0].detail.contains("not one you trust"));
    }

    #[test]
    fn the_manifest_must_be_signed_by_the_bundles_key_in_its_domain() {
        let k = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]);
        let pk = k.verifying_key().to_bytes();
        let m = manifest_json();
        let small = |sig: DetachedSignature| -> BTreeMap<String, Vec<u8>> {
            [
                (member::MANIFEST.to_string(), m.clone()),
                (
                    member::MANIFEST_SIG.to_string(),
                    serde_json::to_vec(&sig).unwrap(),
                ),
            ]
            .into_iter()
            .collect()
        };
        let mut c = Checks(Vec::new());
        let good = small(DetachedSignature::create(&k, seal::MANIFEST_DOMAIN, &m));
        let (view, bytes) = check_manifest(&mut c, &good, &pk).unwrap();
        assert_eq!((view.session.as_str(), bytes), ("s1", m.clone()));
        assert_eq!(names(&c), [("manifest.signature".to_string(), true)]);
        // Another domain, another key, or no manifest: a failed check.
        let other_domain = small(DetachedSignature::create(&k, "liveproof/other/v1", &m));
        let mut c = Checks(Vec::new());
        check_manifest(&mut c, &other_domain, &pk);
        assert_eq!(failed(&c), ["manifest.signature"]);
        let mut c = Checks(Vec::new());
        check_manifest(&mut c, &good, &[2u8; 32]);
        assert_eq!(failed(&c), ["manifest.signature"]);
        let mut c = Checks(Vec::new());
        assert!(check_manifest(&mut c, &BTreeMap::new(), &pk).is_none());
        assert_eq!(failed(&c), ["manifest.signature"]);
    }

    #[test]
    fn missing_log_witness_custody_and_token_members_are_judged_by_what_was_asked() {
        let view: ManifestView = serde_json::from_slice(&manifest_json()).unwrap();
        let none = BTreeMap::new();
        let mut c = Checks(Vec::new());
        check_log(&mut c, &none, &view, b"", &[0u8; 32]);
        assert_eq!(failed(&c), ["log.inclusion"]);
        // No cosigned checkpoint: fine unless witnesses were named.
        let mut c = Checks(Vec::new());
        assert!(check_witnesses(&mut c, &none, &[0u8; 32], &view, b"", &[]).is_empty());
        assert!(c.0.is_empty());
        let named = [("w".to_string(), [3u8; 32])];
        check_witnesses(&mut c, &none, &[0u8; 32], &view, b"", &named);
        assert_eq!(failed(&c), ["log.witnessed"]);
        // No custody chain: nothing to check.
        let mut c = Checks(Vec::new());
        assert!(check_custody_chain(&mut c, &none, "s1").is_empty());
        assert!(c.0.is_empty());
        // No token: fine, unless the caller gave a TSA certificate to check it against.
        let t = check_timestamps(&mut c, &none, &view, None);
        assert!(c.0.is_empty() && t.head.is_none());
        check_timestamps(&mut c, &none, &view, Some(Path::new("tsa.pem")));
        assert_eq!(failed(&c), ["timestamp"]);
        // A custody chain that is not one is a failure, not a panic.
        let bad: BTreeMap<String, Vec<u8>> = [(member::CUSTODY.to_string(), b"[1]".to_vec())]
            .into_iter()
            .collect();
        let mut c = Checks(Vec::new());
        check_custody_chain(&mut c, &bad, "s1");
        assert_eq!(failed(&c), ["custody"]);
    }

    #[test]
    fn a_revoked_key_counts_only_with_a_trusted_time_from_before() {
        let key = [9u8; 32];
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trust");
        std::fs::write(
            &file,
            format!("revoked {} 2026-06-01T00:00:00Z leaked\n", hex::encode(key)),
        )
        .unwrap();
        let mut t = Trust::default();
        t.add_file(&file).unwrap();
        let mut c = Checks(Vec::new());
        check_revocation(&mut c, &[1u8; 32], &t, None);
        assert!(c.0.is_empty(), "only revoked keys get the check");
        check_revocation(&mut c, &key, &t, None);
        check_revocation(&mut c, &key, &t, Some("Jul  1 00:00:00 2026 GMT"));
        check_revocation(&mut c, &key, &t, Some("May  1 00:00:00 2026 GMT"));
        let oks: Vec<bool> = c.0.iter().map(|k| k.ok).collect();
        assert_eq!(oks, [false, false, true]);
    }

    #[test]
    fn a_timestamp_lifts_the_time_caveat_and_asks_for_a_trusted_tsa() {
        let view: ManifestView = serde_json::from_slice(&manifest_json()).unwrap();
        let excerpt: Excerpt = serde_json::from_value(serde_json::json!({
            "session": "s1", "transcript_root": "00".repeat(32), "segment_count": 1,
            "segments": []
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let times = Times {
            head: Some("Jul  1 00:00:00 2026 GMT".into()),
            recording: None,
        };
        let f = Facts {
            comments: 0,
            signer: None,
            excerpt: &excerpt,
            manifest: &view,
            times: &times,
            witnessed_by: &[],
            custody: 2,
        };
        let base = vec!["the time, beyond the archive's own clock".to_string()];
        let np = f.not_proven(base.clone(), false);
        assert!(np.iter().all(|p| !p.starts_with("the time, beyond")));
        assert!(np.iter().any(|p| p.contains("--tsa-cert")));
        assert!(f.not_proven(base, true).is_empty());
        let proven = f.proven();
        assert!(proven.iter().any(|p| p.contains("existed by Jul")));
        assert!(proven
            .iter()
            .any(|p| p.contains("chain of custody shown (2 events")));
    }
}
