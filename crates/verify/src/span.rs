//! Broadcast bundles (docs/evidence-format.md §9): an excerpt of a broadcast that crosses
//! segment boundaries. The zip holds `span.json` (signed in `span.sig` by the key in
//! `public_key.txt`) and one whole session bundle per segment, `part-N.zip`, stored. Each part
//! is verified as if given alone; then the statement ties them together: same key, the ranges
//! the broadcast range cuts from each segment, in time order, one room.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::bundle::{member, SpanStatement, SPAN_FORMAT};
use crate::clock;
use crate::seal::{self, DetachedSignature};
use crate::verify::{check_signer, finish, read_member, verify_bundle, Checks, Options, Verdict};

/// One part of a verified broadcast bundle, as `verify --json` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PartFacts {
    /// The session (segment) quoted.
    pub session: String,
    /// Where it starts on the broadcast's timeline (ms).
    pub offset_ms: u64,
    /// The range quoted, in the session's own time (ms).
    pub from_ms: u64,
    /// End of that range (ms).
    pub to_ms: u64,
    /// Whether every check of the part passed.
    pub ok: bool,
}

/// What a broadcast bundle is about.
#[derive(Debug, Clone, Serialize)]
pub struct SpanFacts {
    /// The broadcast's id.
    pub broadcast: String,
    /// The range on the broadcast's timeline (ms).
    pub from_ms: u64,
    /// End of the range (ms).
    pub to_ms: u64,
    /// Its parts, in time order.
    pub parts: Vec<PartFacts>,
}

/// Whether `bundle` is a broadcast bundle (its zip directory names `span.json`). Anything
/// unreadable is left to the ordinary verifier, which says why.
pub fn is_span(bundle: &Path, limits: &crate::limits::Bundle) -> bool {
    let Ok(mut f) = std::fs::File::open(bundle) else {
        return false;
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    crate::zipcheck::check(&mut f, len, limits)
        .map(|ms| ms.iter().any(|m| m.name == member::SPAN))
        .unwrap_or(false)
}

/// The members read: small ones' bytes, and the parts extracted to `dir`, with their hashes.
struct Members {
    small: BTreeMap<String, Vec<u8>>,
    parts: BTreeMap<String, (std::path::PathBuf, String)>,
}

fn is_part_name(n: &str) -> bool {
    n.strip_prefix("part-")
        .and_then(|r| r.strip_suffix(".zip"))
        .is_some_and(|d| !d.is_empty() && d.len() <= 3 && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads the outer zip: only `span.json`, `span.sig`, `public_key.txt` and `part-N.zip`; the
/// parts stored (not compressed), so extracting one writes no more than the bundle's own size.
fn read_members(
    bundle: &Path,
    shown: &str,
    limits: &crate::limits::Bundle,
    dir: &Path,
) -> Result<Members, String> {
    let mut file = std::fs::File::open(bundle).map_err(|e| format!("cannot open {shown}: {e}"))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let declared = crate::zipcheck::check(&mut file, len, limits)
        .map_err(|e| format!("{shown} is not a bundle zip: {e}"))?;
    let mut small_total = 0u64;
    for m in &declared {
        if is_part_name(&m.name) {
            if m.method != 0 {
                return Err(format!(
                    "member {} is compressed; the parts of a broadcast bundle are stored",
                    m.name
                ));
            }
            let limit = limits.max_recording.saturating_add(limits.max_clip);
            if m.size > limit {
                return Err(format!(
                    "member {} declares {} bytes; the limit is {limit}",
                    m.name, m.size
                ));
            }
        } else if [member::SPAN, member::SPAN_SIG, member::PUBLIC_KEY].contains(&m.name.as_str()) {
            small_total = small_total.saturating_add(m.size);
            if m.size > limits.max_small {
                return Err(format!(
                    "member {} declares {} bytes; the limit for it is {}",
                    m.name, m.size, limits.max_small
                ));
            }
        } else {
            return Err(format!(
                "member {:?} does not belong in a broadcast bundle (span.json, span.sig, public_key.txt and part-N.zip only)",
                m.name
            ));
        }
    }
    if small_total > limits.max_small_total {
        return Err(format!(
            "the metadata members declare {small_total} bytes in all; the limit is {}",
            limits.max_small_total
        ));
    }
    let mut zip = match zip::ZipArchive::new(file) {
        Ok(z) if z.len() == declared.len() => z,
        Ok(_) => {
            return Err(format!(
                "{shown}: the zip reader sees other members than the central directory declares"
            ))
        }
        Err(e) => return Err(format!("{shown} is not a readable zip file: {e}")),
    };
    let mut small = BTreeMap::new();
    let mut parts = BTreeMap::new();
    for (i, m) in declared.iter().enumerate() {
        let mut entry = zip.by_index(i).map_err(|e| format!("member {i}: {e}"))?;
        if entry.name() != m.name || entry.size() != m.size {
            return Err(format!(
                "member {i}: the zip reader sees {:?} where the directory declares {:?}",
                entry.name(),
                m.name
            ));
        }
        if is_part_name(&m.name) {
            let path = dir.join(&m.name);
            let mut out = std::fs::File::create(&path)
                .map_err(|e| format!("cannot extract {}: {e}", m.name))?;
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut n = 0u64;
            let mut r = (&mut entry).take(m.size + 1);
            loop {
                let k = r
                    .read(&mut buf)
                    .map_err(|e| format!("member {}: unreadable ({e})", m.name))?;
                if k == 0 {
                    break;
                }
                n += k as u64;
                h.update(&buf[..k]);
                std::io::Write::write_all(&mut out, &buf[..k])
                    .map_err(|e| format!("cannot extract {}: {e}", m.name))?;
            }
            if n != m.size {
                return Err(format!(
                    "member {}: inflates to {n} bytes, not the {} its header declares",
                    m.name, m.size
                ));
            }
            parts.insert(m.name.clone(), (path, hex::encode(h.finalize())));
        } else {
            let b = read_member(entry, m.size).map_err(|e| format!("member {}: {e}", m.name))?;
            small.insert(m.name.clone(), b);
        }
    }
    Ok(Members { small, parts })
}

/// The statement, read strictly, and whether `span.sig` signs its exact bytes with `key`.
fn read_statement(
    small: &BTreeMap<String, Vec<u8>>,
    key: &[u8; 32],
) -> Result<(SpanStatement, bool), String> {
    let bytes = small.get(member::SPAN).ok_or("span.json is missing")?;
    let st: SpanStatement = serde_json::from_slice(bytes)
        .map_err(|e| format!("span.json is not a broadcast statement: {e}"))?;
    if st.format != SPAN_FORMAT {
        return Err(format!(
            "span.json says format {:?}; this verifier reads {SPAN_FORMAT:?}",
            st.format
        ));
    }
    let sig: DetachedSignature = small
        .get(member::SPAN_SIG)
        .ok_or("span.sig is missing")
        .and_then(|b| serde_json::from_slice(b).map_err(|_| "span.sig is not a signature"))?;
    let signed =
        sig.public_key == hex::encode(key) && sig.domain == seal::SPAN_DOMAIN && sig.check(bytes);
    Ok((st, signed))
}

/// What one part's manifest says, for the timeline checks.
struct PartRead {
    duration_ms: u64,
    platform: Option<String>,
    room: Option<String>,
}

/// Verifies a broadcast bundle: its statement and signer, then every part as a whole bundle
/// (checks named `part-N.…`), then the timeline that ties them.
pub fn verify_span(bundle: &Path, shown: &str, opts: &Options) -> Verdict {
    let mut c = Checks(Vec::new());
    let mut not_proven = vec![
        "that the segments' places on the broadcast's timeline are right: they are the archive's, from the recorders' names and the metadata; only their order and lengths are checked".to_string(),
        "that no other segment of the broadcast with speech in the range was left out".to_string(),
    ];
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            c.add(
                "bundle.read",
                false,
                format!("cannot make a temporary directory: {e}"),
            );
            return finish(c, vec![], not_proven, None);
        }
    };
    let Members { small, parts } = match read_members(bundle, shown, &opts.limits, dir.path()) {
        Ok(m) => m,
        Err(e) => {
            c.add("bundle.read", false, e);
            return finish(c, vec![], not_proven, None);
        }
    };
    c.add(
        "bundle.read",
        true,
        format!(
            "a broadcast bundle of {} part(s), read within size limits",
            parts.len()
        ),
    );
    let Some(key) = small
        .get(member::PUBLIC_KEY)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(seal::hex32)
    else {
        c.add(
            "public_key",
            false,
            "public_key.txt is missing or not an Ed25519 key in hex",
        );
        return finish(c, vec![], not_proven, None);
    };
    let signer = check_signer(&mut c, &key, &opts.trust);
    let st = match read_statement(&small, &key) {
        Ok((st, signed)) => {
            c.add(
                "span.signature",
                signed,
                if signed {
                    "the broadcast statement (span.json) is signed by the key in public_key.txt"
                } else {
                    "span.json's signature does not verify with public_key.txt: the statement or the key was changed"
                },
            );
            st
        }
        Err(e) => {
            c.add("span.signature", false, e);
            return finish(c, vec![], not_proven, Some(signer));
        }
    };

    // The members are exactly the parts the statement lists, named in order, hashes equal.
    let mut problems = Vec::new();
    for (i, p) in st.parts.iter().enumerate() {
        if p.file != member::part(i + 1) {
            problems.push(format!(
                "part {} is named {:?}, not {:?}",
                i + 1,
                p.file,
                member::part(i + 1)
            ));
        }
        match parts.get(&p.file) {
            Some((_, h)) if *h == p.sha256 => {}
            Some(_) => problems.push(format!(
                "{} was changed (its SHA-256 is not the one span.json lists)",
                p.file
            )),
            None => problems.push(format!("{} is listed but missing", p.file)),
        }
    }
    for name in parts.keys() {
        if !st.parts.iter().any(|p| &p.file == name) {
            problems.push(format!("{name} is in the zip but not in span.json"));
        }
    }
    if st.parts.is_empty() {
        problems.push("span.json lists no parts".into());
    }
    c.add(
        "span.members",
        problems.is_empty(),
        if problems.is_empty() {
            format!("{} part(s), each the one span.json lists", st.parts.len())
        } else {
            problems.join("; ")
        },
    );

    // Every part, as a whole bundle of its own, under the same key.
    let part_opts = Options {
        recording: None,
        ..opts.clone()
    };
    let mut facts = Vec::new();
    let mut reads: Vec<Option<PartRead>> = Vec::new();
    let mut proven = Vec::new();
    let mut witnessed: Option<Vec<String>> = None;
    let mut custody = Vec::new();
    for p in &st.parts {
        let prefix = p.file.trim_end_matches(".zip");
        let Some((path, _)) = parts.get(&p.file) else {
            reads.push(None);
            continue;
        };
        let (v, read) = verify_bundle(path, &p.file, &part_opts);
        for k in v
            .checks
            .iter()
            .filter(|k| k.name != crate::verify::TRUST_CHECK)
        {
            c.add(&format!("{prefix}.{}", k.name), k.ok, k.detail.clone());
        }
        let same_key = v
            .signer
            .as_ref()
            .is_some_and(|s| s.public_key == signer.public_key);
        c.add(
            &format!("{prefix}.key"),
            same_key,
            if same_key {
                "signed by the same key as span.json".to_string()
            } else {
                "signed by another key than span.json: parts of different archives were put together".to_string()
            },
        );
        let range_ok = read.as_ref().is_some_and(|r| {
            r.statement.session == p.session
                && r.manifest.session == p.session
                && r.statement.from_ms == p.from_ms
                && r.statement.to_ms == p.to_ms
        });
        c.add(
            &format!("{prefix}.range"),
            range_ok,
            if range_ok {
                format!(
                    "quotes session {} from {} to {} (broadcast time {} – {})",
                    p.session,
                    clock(p.from_ms),
                    clock(p.to_ms),
                    clock(p.offset_ms + p.from_ms),
                    clock(p.offset_ms + p.to_ms)
                )
            } else {
                "its own statement names another session or range than span.json".to_string()
            },
        );
        proven.extend(
            v.proven
                .iter()
                .map(|x| format!("{prefix} (session {}): {x}", p.session)),
        );
        witnessed = Some(match witnessed {
            None => v.witnessed_by.clone(),
            Some(w) => w
                .into_iter()
                .filter(|x| v.witnessed_by.contains(x))
                .collect(),
        });
        custody.extend(v.custody.iter().cloned());
        for n in &v.not_proven {
            if !not_proven.contains(n) {
                not_proven.push(n.clone());
            }
        }
        facts.push(PartFacts {
            session: p.session.clone(),
            offset_ms: p.offset_ms,
            from_ms: p.from_ms,
            to_ms: p.to_ms,
            ok: v.ok && same_key && range_ok,
        });
        reads.push(read.map(|r| {
            let field = |k: &str| {
                r.manifest
                    .metadata
                    .as_ref()
                    .and_then(|m| m.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            PartRead {
                duration_ms: r.manifest.duration_ms,
                platform: field("platform"),
                room: field("room"),
            }
        }));
    }

    timeline(&mut c, &st, &reads);
    if opts.recording.is_some() {
        c.add(
            "recording.given",
            false,
            "a broadcast bundle quotes several recordings: unzip part-N.zip and verify it with --recording",
        );
    }

    let all_ok = c.0.iter().all(|k| k.ok);
    let mut head = Vec::new();
    if all_ok {
        head.push(format!(
            "the excerpt of broadcast {} from {} to {} is quoted from {} recording(s), each proven below as a bundle of its own, signed by one key",
            st.broadcast,
            clock(st.from_ms),
            clock(st.to_ms),
            st.parts.len()
        ));
    }
    head.extend(proven);
    let mut v = finish(c, head, not_proven, Some(signer));
    v.witnessed_by = witnessed.unwrap_or_default();
    v.custody = custody;
    v.span = Some(SpanFacts {
        broadcast: st.broadcast.clone(),
        from_ms: st.from_ms,
        to_ms: st.to_ms,
        parts: facts,
    });
    v
}

/// `span.timeline` and `span.room`: parts in time order without overlap, each quoting what the
/// broadcast range cuts from its segment, all of one platform and room.
fn timeline(c: &mut Checks, st: &SpanStatement, reads: &[Option<PartRead>]) {
    let mut problems = Vec::new();
    if st.to_ms <= st.from_ms {
        problems.push("the range is empty or reversed".to_string());
    }
    let mut sessions = std::collections::BTreeSet::new();
    let mut prev_end: Option<u64> = None;
    for (p, r) in st.parts.iter().zip(reads) {
        if !sessions.insert(&p.session) {
            problems.push(format!("session {} is quoted twice", p.session));
        }
        let Some(r) = r else {
            problems.push(format!("{}: its manifest could not be read", p.file));
            continue;
        };
        let end = p.offset_ms.saturating_add(r.duration_ms);
        // A recorder's segments may overlap by rounding; a second more is a different place.
        if prev_end.is_some_and(|e| p.offset_ms.saturating_add(1_000) < e) {
            problems.push(format!(
                "{} starts at broadcast time {}, before the previous segment ends",
                p.file,
                clock(p.offset_ms)
            ));
        }
        prev_end = Some(end);
        let want_from = st.from_ms.max(p.offset_ms) - p.offset_ms;
        let want_to = st.to_ms.min(end).saturating_sub(p.offset_ms);
        if p.offset_ms >= st.to_ms || end <= st.from_ms {
            problems.push(format!("{} lies outside the bundle's range", p.file));
        } else if (p.from_ms, p.to_ms) != (want_from, want_to) {
            problems.push(format!(
                "{} quotes {} – {} of its segment, but the range cuts {} – {} from it",
                p.file,
                clock(p.from_ms),
                clock(p.to_ms),
                clock(want_from),
                clock(want_to)
            ));
        }
    }
    c.add(
        "span.timeline",
        problems.is_empty(),
        if problems.is_empty() {
            format!(
                "{} segment(s) in time order, each quoting what {} – {} of the broadcast cuts from it",
                st.parts.len(),
                clock(st.from_ms),
                clock(st.to_ms)
            )
        } else {
            problems.join("; ")
        },
    );
    let read: Vec<&PartRead> = reads.iter().flatten().collect();
    let one_room = read
        .windows(2)
        .all(|w| (&w[0].platform, &w[0].room) == (&w[1].platform, &w[1].room));
    let detail = match read.first() {
        Some(r) if one_room => format!(
            "every segment's manifest names platform {} and room {}",
            r.platform.as_deref().unwrap_or("(none)"),
            r.room.as_deref().unwrap_or("(none)")
        ),
        _ => {
            "the segments' manifests name different platforms or rooms: they are not one broadcast"
                .to_string()
        }
    };
    c.add("span.room", one_room && !read.is_empty(), detail);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::SpanPart;

    fn part(n: usize, offset_ms: u64, from_ms: u64, to_ms: u64) -> SpanPart {
        SpanPart {
            file: member::part(n),
            sha256: String::new(),
            session: format!("s{n}"),
            offset_ms,
            from_ms,
            to_ms,
        }
    }

    fn read(duration_ms: u64, room: &str) -> Option<PartRead> {
        Some(PartRead {
            duration_ms,
            platform: Some("douyin".into()),
            room: Some(room.into()),
        })
    }

    fn run(st: &SpanStatement, reads: &[Option<PartRead>]) -> Vec<(String, bool)> {
        let mut c = Checks(Vec::new());
        timeline(&mut c, st, reads);
        c.0.into_iter().map(|k| (k.name, k.ok)).collect()
    }

    fn statement(from_ms: u64, to_ms: u64, parts: Vec<SpanPart>) -> SpanStatement {
        SpanStatement {
            format: SPAN_FORMAT.into(),
            broadcast: "s1".into(),
            created_at: String::new(),
            from_ms,
            to_ms,
            parts,
        }
    }

    #[test]
    fn a_range_across_a_boundary_cuts_each_segment_exactly() {
        // Segments of 60 s at 0 and 62 s; the range 50-70 s cuts 50-60 s and 0-8 s.
        let ok = statement(
            50_000,
            70_000,
            vec![part(1, 0, 50_000, 60_000), part(2, 62_000, 0, 8_000)],
        );
        let reads = [read(60_000, "r"), read(60_000, "r")];
        assert_eq!(
            run(&ok, &reads),
            [("span.timeline".into(), true), ("span.room".into(), true)]
        );
        // A part that quotes more than the range cuts from it, or parts out of order, fail.
        let wide = statement(
            50_000,
            70_000,
            vec![part(1, 0, 40_000, 60_000), part(2, 62_000, 0, 8_000)],
        );
        assert!(!run(&wide, &reads)[0].1);
        let swapped = statement(
            50_000,
            70_000,
            vec![part(1, 62_000, 0, 8_000), part(2, 0, 50_000, 60_000)],
        );
        assert!(!run(&swapped, &reads)[0].1);
    }

    #[test]
    fn segments_of_two_rooms_are_not_one_broadcast() {
        let st = statement(
            50_000,
            70_000,
            vec![part(1, 0, 50_000, 60_000), part(2, 62_000, 0, 8_000)],
        );
        let got = run(&st, &[read(60_000, "a"), read(60_000, "b")]);
        assert_eq!(got[1], ("span.room".into(), false));
    }

    #[test]
    fn part_names_are_numbered_zips_only() {
        assert!(is_part_name("part-1.zip"));
        assert!(is_part_name("part-12.zip"));
        assert!(!is_part_name("part-.zip"));
        assert!(!is_part_name("part-1.zip.flac"));
        assert!(!is_part_name("../part-1.zip"));
    }
}
