//! The dependency rules ARCHITECTURE.md states, checked by reading the sources: analysis never
//! imports search or the server; only `search/` touches tantivy, only `server/` (and the
//! binary, to run it) actix; only `transcription/` touches whisper-rs, and it imports nothing
//! downstream (store, seal, search, server); only `config.rs` reads the environment; only the modules owning catalog tables (store, the
//! log, access, custody, the job queue) touch SQLite, only `platform/queue.rs` PostgreSQL; the verifier crate needs none of whisper, tantivy, actix, SQLite.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Code lines (comments dropped) of a source file.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_dependency_rules_hold() {
    let src = root().join("src");
    let mut broken = Vec::new();
    for f in sources(&src) {
        let rel = f.strip_prefix(&src).unwrap().to_string_lossy().to_string();
        let text = code(&f);
        let analysis = [
            "claims.rs",
            "loops.rs",
            "disclosure.rs",
            "text.rs",
            "shills.rs",
            "comments.rs",
        ]
        .contains(&rel.as_str());
        if analysis && (text.contains("crate::search") || text.contains("crate::server")) {
            broken.push(format!("{rel}: analysis imports search or the server"));
        }
        if !rel.starts_with("search/") && text.contains("tantivy::") {
            broken.push(format!("{rel}: only search/ touches tantivy"));
        }
        let owns_tables = [
            "store.rs",
            "seal/log.rs",
            "seal/tree.rs",
            "access.rs",
            "custody.rs",
            "server/jobs.rs",
            "retention.rs",
        ];
        if !owns_tables.contains(&rel.as_str()) && text.contains(".db()") {
            broken.push(format!(
                "{rel}: only the modules owning catalog tables query the catalog; use Store's typed operations"
            ));
        }
        // The database drivers sit behind catalog/ (SQLite or PostgreSQL, one interface) and
        // the workers' queue; the store keeps SQLite's pragmas and its one migration.
        if !rel.starts_with("catalog/") && rel != "store.rs" && text.contains("rusqlite") {
            broken.push(format!(
                "{rel}: only catalog/ (and the store's SQLite set-up) touches SQLite; use Catalog"
            ));
        }
        if !rel.starts_with("catalog/") && rel != "platform/queue.rs" && text.contains("postgres::")
        {
            broken.push(format!(
                "{rel}: only catalog/ and platform/queue.rs touch PostgreSQL"
            ));
        }
        // Data flows one way: transcription reads media and writes segments, never the store,
        // the seal, the index or the server; and only it drives whisper.cpp.
        if rel.starts_with("transcription/")
            && [
                "crate::store",
                "crate::seal",
                "crate::search",
                "crate::server",
                "crate::ingest",
                "crate::evidence",
                "crate::manifest",
            ]
            .iter()
            .any(|m| text.contains(m))
        {
            broken.push(format!(
                "{rel}: transcription reads audio and returns segments; it imports nothing downstream"
            ));
        }
        if !rel.starts_with("transcription/") && text.contains("whisper_rs") {
            broken.push(format!("{rel}: only transcription/ touches whisper-rs"));
        }
        let reads_env = text.contains("env::var") || text.contains("env!(\"LIVEPROOF");
        if !["config.rs", "fault.rs"].contains(&rel.as_str()) && reads_env {
            broken.push(format!(
                "{rel}: only config.rs reads the environment (settings are passed down)"
            ));
        }
        if !rel.starts_with("server/") && rel != "cli/serve.rs" && text.contains("actix") {
            broken.push(format!(
                "{rel}: only server/ (and cli/serve.rs, to run it) touches actix"
            ));
        }
    }
    let verify = root().join("crates/verify");
    let manifest = std::fs::read_to_string(verify.join("Cargo.toml")).unwrap();
    let deps = &manifest[manifest.find("[dependencies]").unwrap()..];
    for banned in ["whisper", "tantivy", "actix", "rusqlite", "liveproof ="] {
        if deps.contains(banned) {
            broken.push(format!("crates/verify depends on {banned}"));
        }
    }
    for f in sources(&verify.join("src")) {
        let text = code(&f);
        for banned in ["whisper_rs", "tantivy", "actix", "rusqlite", "ffmpeg\""] {
            if text.contains(banned) {
                broken.push(format!("{}: the verifier uses {banned}", f.display()));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}
