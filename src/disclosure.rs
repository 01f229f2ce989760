//! Digital-host verdicts and AI disclosure, with the evidence behind each.
//!
//! Signals implemented: the platform sidecar's `host_kind`, spoken disclosure in the
//! transcript (every occurrence, whether near the start, near the end, and at least every N
//! minutes), looped scripts (`loops`), GB 45438 implicit `AIGC` labels in the file, and C2PA
//! manifests whose actions declare a trained-model digital source type. Not implemented
//! (reported as `not_checked`): acoustic cues. The rules, weights and why: docs/digital-hosts.md.
//! Invariant: pure functions of the manifest and transcript.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::manifest::Manifest;
use crate::transcript::Transcript;

/// The phrase list shipped with this build.
pub const PHRASES_JSON: &str = include_str!("../data/disclosure-phrases.json");

#[derive(Deserialize)]
struct Phrases {
    version: String,
    phrases: Vec<String>,
    start_window_min: u64,
    end_window_min: u64,
    default_interval_min: u64,
}

/// Loop-detection thresholds and the verdict rule shipped with this build.
pub const DIGITAL_HOST_JSON: &str = include_str!("../data/digital-host.json");

#[derive(Deserialize)]
struct Rules {
    version: String,
    loops: crate::loops::Params,
    suspect_coverage: f64,
}

fn rules() -> Rules {
    serde_json::from_str(DIGITAL_HOST_JSON).expect("the built-in digital-host rules are valid")
}

fn phrases() -> Phrases {
    serde_json::from_str(PHRASES_JSON).expect("the built-in phrase list is valid")
}

/// Why acoustic cues are not a signal (BENCHMARKS.md, `benches/synthetic_voice.py`).
pub const ACOUSTIC_NOT_CHECKED: &str = "acoustic (synthetic-voice) cues: measured, not used — the best cue (pitch spread) separated espeak-ng voices from 4 human speakers with ROC AUC 0.71 only (6 human pieces, 38 synthetic), too weak to point at anyone";

/// Longest disclosure interval `report` accepts, in minutes (a day).
pub const MAX_INTERVAL_MIN: u64 = 1440;

/// Default longest allowed gap between spoken disclosures, in minutes.
pub fn default_interval_min() -> u64 {
    phrases().default_interval_min
}

/// One signal with its weight and evidence.
#[derive(Debug, Clone)]
pub struct Signal {
    /// What kind of signal (`declared_metadata`, `aigc_label`, `c2pa`, `spoken_disclosure`,
    /// `looped_script`).
    pub kind: String,
    /// How much it counts toward a digital-host verdict (0..1).
    pub weight: f64,
    /// The evidence: fields, values, time ranges, counts.
    pub evidence: Value,
}

/// A signal serialises with its plain sentence beside the evidence (`report --json`, the API).
impl Serialize for Signal {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = ser.serialize_struct("Signal", 4)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("weight", &self.weight)?;
        st.serialize_field("evidence", &self.evidence)?;
        st.serialize_field("sentence", &self.sentence())?;
        st.end()
    }
}

impl Signal {
    /// The signal in one plain sentence with its times, for people (`report` without --json).
    pub fn sentence(&self) -> String {
        let e = &self.evidence;
        let clock = |v: &Value| v.as_u64().map(crate::media::clock).unwrap_or_default();
        let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
        match self.kind.as_str() {
            "declared_metadata" => format!(
                "The platform's metadata declares host_kind = {}.",
                s("value")
            ),
            "spoken_disclosure" => {
                let times: Vec<String> = e["occurrences"]
                    .as_array()
                    .map(|o| o.iter().map(|x| clock(&x["start_ms"])).collect())
                    .unwrap_or_default();
                let minutes = e["longest_gap_ms"].as_u64().unwrap_or(0) as f64 / 60_000.0;
                format!(
                    "Spoken disclosure {} time(s), at {}; {} near the start, {} near the end; the longest stretch without one is {:.1} min, from {} to {}{}.",
                    e["count"],
                    times.join(", "),
                    if e["near_start"] == true { "one" } else { "none" },
                    if e["near_end"] == true { "one" } else { "none" },
                    minutes,
                    clock(&e["longest_gap_from_ms"]),
                    clock(&e["longest_gap_to_ms"]),
                    if e["every_interval"] == true {
                        String::new()
                    } else {
                        format!(
                            ", longer than the rules allow (one every {} min)",
                            e["interval_min"].as_u64().unwrap_or(0)
                        )
                    }
                )
            }
            "looped_script" => {
                let first = &e["passages"][0];
                format!(
                    "Repeated passages cover {:.0}% of the speech (period about {}){}.",
                    e["coverage"].as_f64().unwrap_or(0.0) * 100.0,
                    clock(&e["period_ms"]),
                    if first.is_null() {
                        String::new()
                    } else {
                        format!(", e.g. {:?}", first["text"].as_str().unwrap_or(""))
                    }
                )
            }
            "aigc_label" => {
                format!(
                    "A GB 45438 label in {} says {} (Label {}){}.",
                    s("location"),
                    s("meaning"),
                    e["label"].as_str().unwrap_or("?"),
                    if e["counts"] == false {
                        format!(
                        "; it is not in the standard's form, so it is for review, not evidence: {}",
                        e["problems"]
                            .as_array()
                            .map(|p| p.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("; "))
                            .unwrap_or_default()
                    )
                    } else {
                        String::new()
                    }
                )
            }
            "c2pa" => format!(
                "C2PA content credentials by {} ({}), validation {}{}.",
                s("claim_generator"),
                s("signer"),
                s("validation_state"),
                if self.weight > 0.0 {
                    ", declaring AI-generated content"
                } else {
                    ""
                }
            ),
            "contradiction" => format!(
                "The metadata says a human hosts, but {}.",
                e["observed"]
                    .as_array()
                    .map(|o| o
                        .iter()
                        .filter_map(|x| x["signal"].as_str())
                        .map(|k| match k {
                            "spoken_disclosure" => "the host says it is an AI",
                            "aigc_label" => "a valid label says AI-generated",
                            "c2pa" => "a valid C2PA manifest declares AI",
                            _ => "the script loops",
                        })
                        .collect::<Vec<_>>()
                        .join(" and "))
                    .unwrap_or_default()
            ),
            "duplicate_comments" => {
                let c = e["clusters"].as_array().cloned().unwrap_or_default();
                let parts: Vec<String> = c
                    .iter()
                    .map(|x| {
                        format!(
                            "{:?} {} times from {} account(s) between {} and {}",
                            x["text"].as_str().unwrap_or(""),
                            x["copies"],
                            x["accounts"].as_array().map_or(0, |a| a.len()),
                            clock(&x["first_ms"]),
                            clock(&x["last_ms"])
                        )
                    })
                    .collect();
                format!(
                    "The same comment posted by few accounts: {}.",
                    parts.join("; ")
                )
            }
            "claim_echo_burst" => {
                let b = e["bursts"].as_array().cloned().unwrap_or_default();
                let parts: Vec<String> = b
                    .iter()
                    .map(|x| {
                        format!(
                            "the {} claim at {} ({}) echoed by {} account(s)",
                            x["claim"]["category"].as_str().unwrap_or(""),
                            clock(&x["claim"]["start_ms"]),
                            x["claim"]["words"]
                                .as_array()
                                .map(|w| w
                                    .iter()
                                    .filter_map(|v| v.as_str())
                                    .collect::<Vec<_>>()
                                    .join("、"))
                                .unwrap_or_default(),
                            x["accounts"].as_array().map_or(0, |a| a.len())
                        )
                    })
                    .collect();
                format!(
                    "Comments repeat the host's claims right after them: {}.",
                    parts.join("; ")
                )
            }
            "praise_burst_accounts" => {
                let a = e["accounts"].as_array().cloned().unwrap_or_default();
                let first = a
                    .first()
                    .and_then(|x| x["comments"][0]["t_ms"].as_u64())
                    .map(crate::media::clock)
                    .unwrap_or_default();
                format!(
                    "{} account(s) posted nothing but praise in a short burst (from {first}): {}.",
                    a.len(),
                    a.iter()
                        .filter_map(|x| x["user"].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
            _ => e.to_string(),
        }
    }
}

/// The disclosure report of a session.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Session id.
    pub session: String,
    /// `declared`, `suspected` or `none`.
    pub digital_host: String,
    /// `present`, `partial`, `missing` or `n/a`.
    pub disclosure: String,
    /// Signals behind the verdicts.
    pub signals: Vec<Signal>,
    /// Findings, e.g. `undisclosed_digital_host`.
    pub findings: Vec<String>,
    /// Longest allowed gap between spoken disclosures (minutes).
    pub interval_min: u64,
    /// Phrase list version.
    pub phrases: String,
    /// Signals this version does not check yet.
    pub not_checked: Vec<String>,
    /// Risky sales claims: counts per category and every flag.
    pub claims: Value,
    /// Shill-comment signals in the live comments (`shills`), each with its evidence.
    pub comment_signals: Vec<Signal>,
    /// The broadcast this report is part of (`{broadcast, offset_ms}`), or covers whole
    /// (`{broadcast, sessions, offsets_ms, duration_ms}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcast: Option<Value>,
}

impl Report {
    /// Tags for the manifest and the search index (`digital_host:…`, `disclosure:…`, findings).
    pub fn tags(&self) -> Vec<String> {
        let mut t = vec![
            format!("digital_host:{}", self.digital_host),
            format!("disclosure:{}", self.disclosure),
        ];
        t.extend(self.findings.iter().cloned());
        t
    }
}

/// Builds the report of a session.
pub fn report(m: &Manifest, t: &Transcript, interval_min: u64) -> Report {
    let p = phrases();
    let mut signals = Vec::new();
    let kind = m
        .metadata
        .as_ref()
        .and_then(|md| crate::sidecar::field(md, "host_kind"))
        .map(str::to_string);
    if let Some(k) = &kind {
        signals.push(Signal {
            kind: "declared_metadata".into(),
            weight: if k == "digital_human" { 1.0 } else { 0.0 },
            evidence: json!({"source": "sidecar", "field": "host_kind", "value": k}),
        });
    }
    let label_problems = crate::media::labels::problems(&m.labels);
    // Only a label in the standard's form is evidence; a malformed one is for review
    // (`malformed_aigc_label`): anyone's tool can write a broken tag, and a human host must not
    // be accused on it.
    let valid = |l: &&crate::media::labels::Label| l.problems.is_empty() && l.label.is_some();
    let ai_label = m
        .labels
        .iter()
        .filter(valid)
        .any(|l| l.label.as_deref() == Some("1"));
    let maybe_label = m
        .labels
        .iter()
        .filter(valid)
        .any(|l| matches!(l.label.as_deref(), Some("2" | "3")));
    let mut label_values: Vec<&str> = m
        .labels
        .iter()
        .filter(valid)
        .filter_map(|l| l.label.as_deref())
        .collect();
    label_values.sort_unstable();
    label_values.dedup();
    for l in &m.labels {
        let ok = l.problems.is_empty() && l.label.is_some();
        signals.push(Signal {
            kind: "aigc_label".into(),
            weight: match l.label.as_deref() {
                Some("1") if ok => 1.0,
                Some("2" | "3") if ok => 0.5,
                _ => 0.0,
            },
            evidence: json!({
                "standard": "GB 45438-2025 implicit label",
                "location": l.location,
                "value": l.value,
                "label": l.label,
                "meaning": match l.label.as_deref() {
                    Some("1") => "AI-generated",
                    Some("2") => "possibly AI-generated",
                    Some("3") => "suspected AI-generated",
                    _ => "unreadable",
                },
                "problems": l.problems,
                "counts": ok,
            }),
        });
    }
    let c2pa_ai = m.c2pa.as_ref().is_some_and(|c| c.declares_ai());
    let c2pa_doubtful = m
        .c2pa
        .as_ref()
        .is_some_and(|c| !c.declares_ai() && c.mentions_ai());
    if let Some(c) = &m.c2pa {
        let ai: Vec<_> = c.actions.iter().filter(|a| a.is_ai()).collect();
        signals.push(Signal {
            kind: "c2pa".into(),
            // An invalid manifest that names an AI source is for review, not evidence.
            weight: if c2pa_ai { 1.0 } else { 0.0 },
            evidence: json!({
                "standard": "C2PA content credentials",
                "active_manifest": c.active_manifest,
                "claim_generator": c.claim_generator,
                "signer": c.signer,
                "validation_state": c.validation_state,
                "failures": c.failures,
                "ai_actions": ai,
                "actions": c.actions.len(),
                "problems": c.problems,
            }),
        });
    }
    let mut hits = Vec::new();
    for s in &t.segments {
        let folded = crate::text::fold(&s.text);
        if let Some(phrase) = p.phrases.iter().find(|ph| folded.contains(ph.as_str())) {
            hits.push(json!({"start_ms": s.start_ms, "end_ms": s.end_ms, "text": s.text, "phrase": phrase}));
        }
    }
    let duration = m.duration_ms;
    let starts: Vec<u64> = hits.iter().filter_map(|h| h["start_ms"].as_u64()).collect();
    let near_start = starts
        .first()
        .is_some_and(|&s| s <= p.start_window_min * 60_000);
    let near_end = starts
        .last()
        .is_some_and(|&s| s + p.end_window_min * 60_000 >= duration);
    let interval = interval_min * 60_000;
    // The longest stretch without a disclosure, and where it lies (first such, on ties).
    let mut longest = (0u64, 0u64);
    let mut prev = 0u64;
    for &s in starts.iter().chain(std::iter::once(&duration)) {
        if s.saturating_sub(prev) > longest.1 - longest.0 {
            longest = (prev, s.max(prev));
        }
        prev = s;
    }
    let longest_gap = longest.1 - longest.0;
    let regular = !starts.is_empty() && longest_gap <= interval;
    if !hits.is_empty() {
        signals.push(Signal {
            kind: "spoken_disclosure".into(),
            weight: 1.0,
            evidence: json!({
                "count": hits.len(),
                "occurrences": hits,
                "near_start": near_start,
                "near_end": near_end,
                "longest_gap_ms": longest_gap,
                "longest_gap_from_ms": longest.0,
                "longest_gap_to_ms": longest.1,
                "every_interval": regular,
                "interval_min": interval_min,
            }),
        });
    }
    let rules = rules();
    let loops = crate::loops::detect(&t.segments, &rules.loops);
    if !loops.passages.is_empty() {
        signals.push(Signal {
            kind: "looped_script".into(),
            weight: (loops.coverage / rules.suspect_coverage).min(1.0),
            evidence: json!({
                "coverage": (loops.coverage * 1000.0).round() / 1000.0,
                "period_ms": loops.period_ms,
                "passages": loops.passages.iter().take(5).collect::<Vec<_>>(),
                "rules": rules.version,
            }),
        });
    }
    let looped = loops.coverage >= rules.suspect_coverage;
    let declared =
        kind.as_deref() == Some("digital_human") || !hits.is_empty() || ai_label || c2pa_ai;
    // Suspected only on behaviour (a looped script) or a valid label saying "possibly" or
    // "suspected" AI-generated; never on a malformed label or an invalid manifest alone.
    let suspected = !declared && (looped || maybe_label);
    let digital_host = if declared {
        "declared"
    } else if suspected {
        "suspected"
    } else {
        "none"
    };
    let disclosure = if !declared && !suspected {
        "n/a"
    } else if hits.is_empty() {
        "missing"
    } else if near_start && near_end && regular {
        "present"
    } else {
        "partial"
    };
    let mut findings = Vec::new();
    if (declared || suspected) && disclosure != "present" {
        findings.push("undisclosed_digital_host".to_string());
    }
    // Declared and observed disagree: the sidecar says a human hosts, while the host says it
    // is an AI, a valid label or manifest says AI-generated, or the script loops.
    if kind.as_deref() == Some("human") {
        let mut observed = Vec::new();
        if !hits.is_empty() {
            observed.push(json!({"signal": "spoken_disclosure", "first": hits[0]}));
        }
        if ai_label || maybe_label {
            observed.push(json!({"signal": "aigc_label", "labels": label_values}));
        }
        if c2pa_ai {
            observed.push(json!({"signal": "c2pa"}));
        }
        if looped {
            observed.push(json!({"signal": "looped_script", "coverage": (loops.coverage * 1000.0).round() / 1000.0}));
        }
        if !observed.is_empty() {
            signals.push(Signal {
                kind: "contradiction".into(),
                weight: 0.0,
                evidence: json!({
                    "declared": {"source": "sidecar", "field": "host_kind", "value": "human"},
                    "observed": observed,
                }),
            });
            findings.push("host_kind_contradicted".to_string());
        }
    }
    if label_values.len() > 1 {
        findings.push("contradictory_aigc_labels".to_string());
    }
    if !label_problems.is_empty() {
        findings.push("malformed_aigc_label".to_string());
    }
    if m.c2pa
        .as_ref()
        .is_some_and(|c| c.validation_state == "Invalid")
    {
        findings.push("invalid_c2pa_manifest".to_string());
    }
    if c2pa_doubtful {
        findings.push("c2pa_mentions_ai".to_string());
    }
    let flags = m
        .claims
        .as_ref()
        .map(|c| c.flags.clone())
        .unwrap_or_default();
    let mut counts = serde_json::Map::new();
    for c in crate::claims::CATEGORIES {
        counts.insert(
            c.into(),
            json!(flags.iter().filter(|f| f.flag.category == c).count()),
        );
    }
    if !flags.is_empty() {
        findings.push("risky_claims".to_string());
    }
    Report {
        session: m.session.clone(),
        digital_host: digital_host.into(),
        disclosure: disclosure.into(),
        signals,
        findings,
        interval_min,
        phrases: p.version,
        not_checked: vec![ACOUSTIC_NOT_CHECKED.into()],
        claims: json!({
            "lexicon": m.claims.as_ref().map(|c| c.lexicon.clone()),
            "counts": counts,
            "flags": flags,
        }),
        comment_signals: Vec::new(),
        broadcast: None,
    }
}
