//! Running the independent Python verifier (`verifiers/python/lpverify.py`).

use std::path::{Path, PathBuf};

/// The Python with `cryptography` that scripts/test.sh prepares.
pub fn python() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/verifier-venv/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run scripts/test.sh (it makes the venv with cryptography from PyPI)",
        venv.display()
    );
    venv
}

/// `lpverify.py BUNDLE --json EXTRA…`: (exit code, verdict).
pub fn lpverify(bundle: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("verifiers/python/lpverify.py");
    let o = std::process::Command::new(python())
        .arg(script)
        .arg(bundle)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    (o.status.code().unwrap(), v)
}

/// Names of the failed checks, sorted.
pub fn failed_checks(v: &serde_json::Value) -> Vec<String> {
    let mut f: Vec<String> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    f.sort();
    f
}
