//! C2PA content credentials: whether a file's manifest store says it was made by a trained
//! model (IPTC digital source types `trainedAlgorithmicMedia`, `compositeWithTrainedAlgorithmicMedia`).
//!
//! Read with the `c2pa` crate from the formats it supports that carry audio (MP4/MOV/M4A, WAV,
//! MP3). The manifest store is walked as JSON so every manifest (active and ingredients) and
//! both action assertion versions are seen. Signatures are validated by the crate; there is no
//! trust list here, so an unknown signer is reported as such, not hidden.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Container;

/// IPTC digital source types that mean "made by a trained model", last path segment.
const AI_SOURCE_TYPES: [&str; 2] = [
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
];

/// What the C2PA manifest store of a file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Label of the active manifest.
    pub active_manifest: Option<String>,
    /// The claim generator (tool that signed), when stated.
    pub claim_generator: Option<String>,
    /// Signer named in the signature certificate, when stated.
    pub signer: Option<String>,
    /// `Valid`, `Trusted` or `Invalid`, as the c2pa crate judges the store.
    pub validation_state: String,
    /// Validation failure codes (e.g. `assertion.dataHash.mismatch`), empty when none.
    pub failures: Vec<String>,
    /// Every action carrying a digital source type: where and what.
    pub actions: Vec<SourceAction>,
    /// Problems reading the store (malformed data); empty when it read cleanly.
    pub problems: Vec<String>,
}

/// One action with a `digitalSourceType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAction {
    /// The manifest it is in.
    pub manifest: String,
    /// The assertion label (`c2pa.actions` or `c2pa.actions.v2`).
    pub assertion: String,
    /// The action (`c2pa.created`, ...).
    pub action: String,
    /// The digital source type URI, exactly as written.
    pub digital_source_type: String,
}

impl Credentials {
    /// True when a validly signed manifest declares AI-generated content.
    pub fn declares_ai(&self) -> bool {
        self.validation_state != "Invalid" && self.actions.iter().any(SourceAction::is_ai)
    }

    /// True when some manifest declares AI-generated content, valid or not.
    pub fn mentions_ai(&self) -> bool {
        self.actions.iter().any(SourceAction::is_ai)
    }
}

impl SourceAction {
    /// True for the IPTC trained-model source types (http or https URIs).
    pub fn is_ai(&self) -> bool {
        let t = self.digital_source_type.trim();
        let rest = t
            .strip_prefix("http://cv.iptc.org/newscodes/digitalsourcetype/")
            .or_else(|| t.strip_prefix("https://cv.iptc.org/newscodes/digitalsourcetype/"));
        rest.is_some_and(|r| AI_SOURCE_TYPES.contains(&r.trim_end_matches('/')))
    }
}

/// The MIME type the c2pa crate reads this container as, if it reads it at all.
fn mime(container: Container) -> Option<&'static str> {
    match container {
        Container::Mp4 => Some("video/mp4"),
        Container::Wav => Some("audio/wav"),
        Container::Mp3 => Some("audio/mpeg"),
        _ => None,
    }
}

/// Reads the C2PA store of `path`; `None` when the format cannot carry one or none is present.
pub fn read(path: &Path, container: Container) -> Option<Credentials> {
    let format = mime(container)?;
    let file = std::fs::File::open(path).ok()?;
    let context = c2pa::Context::new();
    let reader = match c2pa::Reader::from_context(context).with_stream(format, file) {
        Ok(r) => r,
        Err(c2pa::Error::JumbfNotFound) | Err(c2pa::Error::ProvenanceMissing) => return None,
        Err(e) => {
            // A store that is present but unreadable is itself evidence worth reporting.
            return Some(Credentials {
                active_manifest: None,
                claim_generator: None,
                signer: None,
                validation_state: "Invalid".into(),
                failures: Vec::new(),
                actions: Vec::new(),
                problems: vec![format!("C2PA data could not be read: {e}")],
            });
        }
    };
    let state = format!("{:?}", reader.validation_state());
    let failures = reader
        .validation_status()
        .unwrap_or_default()
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    let json: Value = serde_json::from_str(&reader.json()).unwrap_or(Value::Null);
    Some(from_store_json(&json, state, failures))
}

/// Builds the summary from the crate's JSON view of a manifest store.
pub fn from_store_json(
    json: &Value,
    validation_state: String,
    failures: Vec<String>,
) -> Credentials {
    let active = json["active_manifest"].as_str().map(str::to_string);
    let mut actions = Vec::new();
    let mut claim_generator = None;
    let mut signer = None;
    if let Some(manifests) = json["manifests"].as_object() {
        for (label, m) in manifests {
            if Some(label) == active.as_ref() {
                claim_generator = m["claim_generator"]
                    .as_str()
                    .or_else(|| m["claim_generator_info"][0]["name"].as_str())
                    .map(str::to_string);
                signer = m["signature_info"]["common_name"]
                    .as_str()
                    .or_else(|| m["signature_info"]["issuer"].as_str())
                    .map(str::to_string);
            }
            for a in m["assertions"].as_array().into_iter().flatten() {
                let name = a["label"].as_str().unwrap_or_default();
                if !name.starts_with("c2pa.actions") {
                    continue;
                }
                for act in a["data"]["actions"].as_array().into_iter().flatten() {
                    if let Some(t) = act["digitalSourceType"].as_str() {
                        actions.push(SourceAction {
                            manifest: label.clone(),
                            assertion: name.to_string(),
                            action: act["action"].as_str().unwrap_or_default().to_string(),
                            digital_source_type: t.chars().take(500).collect(),
                        });
                    }
                }
            }
        }
    }
    Credentials {
        active_manifest: active,
        claim_generator,
        signer,
        validation_state,
        failures,
        actions,
        problems: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn action(t: &str) -> SourceAction {
        SourceAction {
            manifest: "m".into(),
            assertion: "c2pa.actions.v2".into(),
            action: "c2pa.created".into(),
            digital_source_type: t.into(),
        }
    }

    #[test]
    fn both_iptc_uri_schemes_and_both_ai_types_count() {
        for t in [
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            "https://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            "https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia",
        ] {
            assert!(action(t).is_ai(), "{t}");
        }
        for t in [
            "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            "https://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia",
            "https://example.com/digitalsourcetype/trainedAlgorithmicMedia",
            "trainedAlgorithmicMedia",
        ] {
            assert!(!action(t).is_ai(), "{t}");
        }
    }

    #[test]
    fn every_manifest_and_action_version_is_walked() {
        let store = json!({
            "active_manifest": "urn:a",
            "manifests": {
                "urn:a": {
                    "claim_generator_info": [{"name": "studio"}],
                    "signature_info": {"common_name": "Host Studio"},
                    "assertions": [
                        {"label": "c2pa.actions.v2", "data": {"actions": [
                            {"action": "c2pa.created", "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}
                        ]}},
                        {"label": "stds.schema-org.CreativeWork", "data": {}}
                    ]
                },
                "urn:b": {
                    "assertions": [
                        {"label": "c2pa.actions", "data": {"actions": [
                            {"action": "c2pa.edited", "digitalSourceType": "https://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}
                        ]}}
                    ]
                }
            }
        });
        let c = from_store_json(&store, "Valid".into(), vec![]);
        assert_eq!(c.actions.len(), 2);
        assert_eq!(c.claim_generator.as_deref(), Some("studio"));
        assert_eq!(c.signer.as_deref(), Some("Host Studio"));
        assert!(c.declares_ai());
        let invalid = from_store_json(&store, "Invalid".into(), vec!["x".into()]);
        assert!(!invalid.declares_ai() && invalid.mentions_ai());
    }
}
