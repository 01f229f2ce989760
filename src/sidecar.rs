//! Platform sidecar metadata (`--meta FILE.json`): a JSON object with, where known, `platform`,
//! `room`, `host`, `host_kind` (`human` | `digital_human`), `started_at` (RFC 3339),
//! `language` (what the room speaks: `zh`, `en`, `zh-CN`...; fixes the transcription language
//! unless `--lang` is given), and any other fields, kept verbatim in the manifest.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use thiserror::Error;

/// Largest sidecar accepted.
pub const MAX_BYTES: u64 = 1 << 20;

/// Why a sidecar was refused.
#[derive(Debug, Error)]
pub enum SidecarError {
    /// The file could not be read.
    #[error("cannot read sidecar `{path}`: {source}")]
    Read {
        /// The sidecar.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_BYTES`].
    #[error("sidecar `{path}` is {size} bytes; the limit is {MAX_BYTES}: keep only the platform's metadata in it")]
    TooLarge {
        /// The sidecar.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// Not JSON, not an object, or a field of the wrong kind.
    #[error("sidecar `{path}` is not valid: {detail}")]
    Invalid {
        /// The sidecar.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// Fields that must be strings when present.
const STRING_FIELDS: [&str; 6] = [
    "platform",
    "room",
    "host",
    "host_kind",
    "started_at",
    "language",
];

/// Reads and validates a sidecar, returning the object as given.
pub fn load(path: &Path) -> Result<Map<String, Value>, SidecarError> {
    let read = |source| SidecarError::Read {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_BYTES {
        return Err(SidecarError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    let bytes = std::fs::read(path).map_err(read)?;
    parse(&bytes).map_err(|detail| SidecarError::Invalid {
        path: path.to_path_buf(),
        detail,
    })
}

/// Validates sidecar bytes.
pub fn parse(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    // serde_json refuses nesting deeper than 128 levels, so hostile depth is an error.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    let Value::Object(map) = v else {
        return Err("the top level must be a JSON object".into());
    };
    for key in STRING_FIELDS {
        if let Some(v) = map.get(key) {
            let Some(s) = v.as_str() else {
                return Err(format!("`{key}` must be a string"));
            };
            if s.chars().any(char::is_control) {
                return Err(format!("`{key}` contains control characters"));
            }
        }
    }
    if let Some(kind) = map.get("host_kind").and_then(Value::as_str) {
        if kind != "human" && kind != "digital_human" {
            return Err(format!(
                "`host_kind` is {kind:?}; use \"human\" or \"digital_human\""
            ));
        }
    }
    if let Some(t) = map.get("started_at").and_then(Value::as_str) {
        chrono::DateTime::parse_from_rfc3339(t).map_err(|e| {
            format!(
                "`started_at` {t:?} is not an RFC 3339 time like 2026-05-01T20:00:00+08:00 ({e})"
            )
        })?;
    }
    Ok(map)
}

/// A string field of the sidecar, if present.
pub fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_known_fields_and_keeps_extras() {
        let m = parse(br#"{"platform":"douyin","host_kind":"digital_human","started_at":"2026-05-01T20:00:00+08:00","x":{"y":[1]}}"#).unwrap();
        assert_eq!(field(&m, "platform"), Some("douyin"));
        assert_eq!(m["x"]["y"][0], 1);
    }

    #[test]
    fn refuses_bad_kinds_times_and_shapes() {
        assert!(parse(b"[1,2]").is_err());
        assert!(parse(br#"{"host_kind":"robot"}"#).is_err());
        assert!(parse(br#"{"started_at":"yesterday"}"#).is_err());
        assert!(parse(br#"{"room":42}"#).is_err());
        assert!(parse(b"\xff\xfe").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse(format!("{{\"a\":{deep}}}").as_bytes()).is_err());
    }
}
