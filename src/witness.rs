//! A witness: a party other than the archive, with its own key and state, that fetches the
//! archive log's newest checkpoint, checks that the log only grew since the last checkpoint it
//! cosigned (same root at the same size, a valid consistency proof to a larger one), and
//! cosigns it (C2SP cosignature/v1). An archive that shows two histories is caught by the
//! first witness that saw the other one.
//!
//! Invariant: the state moves forward only after the checks pass and the cosignature was
//! handed back; a refused checkpoint changes nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use liveproof_verify::note::{self, Note};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::seal::{self, merkle};
use crate::store::Store;

/// Why a witness did not cosign.
#[derive(Debug, Error)]
pub enum WitnessError {
    /// The state directory or a file in it.
    #[error("witness state `{path}`: {detail}")]
    State {
        /// File.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The archive could not be reached or answered nonsense.
    #[error("cannot get the log's checkpoint: {0}")]
    Source(String),
    /// The checkpoint is refused: the log's history is not the one this witness saw.
    #[error("refused to cosign: {0}")]
    Refused(String),
}

/// What the witness last cosigned for one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    size: u64,
    root: String,
}

/// Where a witness gets checkpoints and proofs, and hands cosignatures back.
pub enum Source<'a> {
    /// An archive on this machine.
    Local(&'a Store),
    /// A `liveproof serve` at this base URL.
    Http(String),
}

/// The key of an archive on this machine (its log signs checkpoints with it).
fn local_key(store: &Store) -> Result<SigningKey, WitnessError> {
    seal::keys::load_or_create(store.root()).map_err(|e| WitnessError::Source(e.to_string()))
}

impl Source<'_> {
    fn checkpoint(&self) -> Result<String, WitnessError> {
        let src = |e: String| WitnessError::Source(e);
        match self {
            Source::Local(store) => {
                let key = local_key(store)?;
                store
                    .log()
                    .checkpoint(&key, None)
                    .map_err(|e| src(e.to_string()))?
                    .map(|n| n.text())
                    .ok_or_else(|| src("the log's newest head is damaged".into()))
            }
            Source::Http(base) => get(&format!("{base}/api/log/checkpoint")),
        }
    }

    fn consistency(&self, old: u64, new: u64) -> Result<Vec<merkle::Hash>, WitnessError> {
        let src = |e: String| WitnessError::Source(e);
        let c = match self {
            Source::Local(store) => store
                .log()
                .consistency(old, new)
                .map_err(|e| src(e.to_string()))?
                .ok_or_else(|| src(format!("no consistency proof from {old} to {new}")))?,
            Source::Http(base) => {
                let body = get(&format!("{base}/api/log/consistency?old={old}&new={new}"))?;
                serde_json::from_str::<seal::log::Consistency>(&body)
                    .map_err(|e| src(format!("the consistency proof is malformed: {e}")))?
            }
        };
        c.proof
            .iter()
            .map(|h| seal::hex32(h))
            .collect::<Option<_>>()
            .ok_or_else(|| src("a proof hash is not 64 hex digits".into()))
    }

    fn submit(&self, text: &str) -> Result<(), WitnessError> {
        let src = |e: String| WitnessError::Source(e);
        match self {
            Source::Local(store) => {
                let key = local_key(store)?;
                store
                    .log()
                    .add_cosignatures(&key, text)
                    .map(|_| ())
                    .map_err(src)
            }
            Source::Http(base) => {
                let mut r = agent()
                    .post(&format!("{base}/api/log/cosignatures"))
                    .header("Content-Type", "text/plain; charset=utf-8")
                    .send(text)
                    .map_err(|e| src(e.to_string()))?;
                if r.status().is_success() {
                    Ok(())
                } else {
                    Err(src(format!(
                        "the archive refused the cosignature ({}): {}",
                        r.status(),
                        r.body_mut().read_to_string().unwrap_or_default()
                    )))
                }
            }
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into()
}

fn get(url: &str) -> Result<String, WitnessError> {
    let mut r = agent()
        .get(url)
        .call()
        .map_err(|e| WitnessError::Source(format!("{url}: {e}")))?;
    let status = r.status();
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_string()
        .map_err(|e| WitnessError::Source(format!("{url}: {e}")))?;
    if !status.is_success() {
        return Err(WitnessError::Source(format!("{url}: {status}: {body}")));
    }
    Ok(body)
}

/// What a cosigning run did.
#[derive(Debug, Clone, Serialize)]
pub struct Cosigned {
    /// The log's origin line.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// Its root, hex.
    pub root: String,
    /// The size last cosigned before (None: first time).
    pub previous_size: Option<u64>,
    /// When the cosignature was made (POSIX seconds).
    pub time: u64,
}

/// A witness: its key, its name, its state directory.
pub struct Witness {
    dir: PathBuf,
    name: String,
    key: SigningKey,
}

impl Witness {
    /// Opens the witness in `dir`, creating its key (0600) and name on first use; `name` (a
    /// schema-less URL naming the witness) is required then.
    pub fn open(dir: &Path, name: Option<&str>) -> Result<Self, WitnessError> {
        let err = |path: &Path, detail: String| WitnessError::State {
            path: path.into(),
            detail,
        };
        let key_path = dir.join("witness.ed25519");
        let name_path = dir.join("name");
        if !key_path.exists() {
            let name = name.ok_or_else(|| {
                err(
                    dir,
                    "no witness here yet: give --name (e.g. witness.example.org/w1) to create one"
                        .into(),
                )
            })?;
            if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
                return Err(err(
                    &name_path,
                    "a witness name has no spaces or '+'".into(),
                ));
            }
            std::fs::create_dir_all(dir).map_err(|e| err(dir, e.to_string()))?;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| err(&key_path, e.to_string()))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path)
                .map_err(|e| err(&key_path, e.to_string()))?;
            writeln!(f, "{}", hex::encode(seed)).map_err(|e| err(&key_path, e.to_string()))?;
            std::fs::write(&name_path, format!("{name}\n"))
                .map_err(|e| err(&name_path, e.to_string()))?;
        }
        let text = std::fs::read_to_string(&key_path).map_err(|e| err(&key_path, e.to_string()))?;
        let seed = seal::hex32(&text)
            .ok_or_else(|| err(&key_path, "damaged: not 64 hex digits".into()))?;
        let stored =
            std::fs::read_to_string(&name_path).map_err(|e| err(&name_path, e.to_string()))?;
        let stored = stored.trim().to_string();
        if let Some(n) = name {
            if n != stored {
                return Err(err(
                    &name_path,
                    format!("this witness is named {stored:?}, not {n:?}"),
                ));
            }
        }
        Ok(Self {
            dir: dir.into(),
            name: stored,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The verifier key others pass to `verify --witness`.
    pub fn vkey(&self) -> String {
        note::vkey(
            &self.name,
            note::TYPE_COSIGNATURE,
            &self.key.verifying_key().to_bytes(),
        )
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    fn state(&self) -> Result<BTreeMap<String, Seen>, WitnessError> {
        let p = self.state_path();
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| WitnessError::State {
                path: p,
                detail: format!("damaged ({e}); restore it from a backup — without it this witness cannot tell a forked log"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(WitnessError::State {
                path: p,
                detail: e.to_string(),
            }),
        }
    }

    fn save(&self, state: &BTreeMap<String, Seen>) -> Result<(), WitnessError> {
        let p = self.state_path();
        let err = |detail: String| WitnessError::State {
            path: p.clone(),
            detail,
        };
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| err(e.to_string()))?;
        tmp.write_all(&serde_json::to_vec_pretty(state).expect("serialises"))
            .map_err(|e| err(e.to_string()))?;
        tmp.as_file().sync_all().map_err(|e| err(e.to_string()))?;
        tmp.persist(&p).map_err(|e| err(e.error.to_string()))?;
        Ok(())
    }

    /// Fetches the newest checkpoint of the log signed by `log_key`, checks it against what
    /// this witness cosigned before, cosigns it at `now` and hands the cosignature back.
    pub fn cosign(
        &self,
        source: &Source,
        log_key: &[u8; 32],
        now: u64,
    ) -> Result<Cosigned, WitnessError> {
        let text = source.checkpoint()?;
        let mut n = Note::parse(&text).map_err(WitnessError::Source)?;
        let (origin, size, root) = n.checkpoint().map_err(WitnessError::Source)?;
        if size == 0 {
            return Err(WitnessError::Source(
                "the log is empty: nothing to cosign yet".into(),
            ));
        }
        if origin != note::origin(log_key) || !n.signed_by(&origin, log_key) {
            return Err(WitnessError::Refused(format!(
                "the checkpoint of {origin:?} is not signed by the log key you gave (fingerprint {})",
                seal::keys::fingerprint(log_key)
            )));
        }
        let mut state = self.state()?;
        let previous = state.get(&origin).cloned();
        if let Some(old) = &previous {
            let old_root = seal::hex32(&old.root).ok_or_else(|| WitnessError::State {
                path: self.state_path(),
                detail: "a root is not 64 hex digits".into(),
            })?;
            if size < old.size {
                return Err(WitnessError::Refused(format!(
                    "the log shrank: this witness cosigned size {}, the archive now shows {size}",
                    old.size
                )));
            }
            if size == old.size && root != old_root {
                return Err(WitnessError::Refused(format!(
                    "two different roots for size {size}: the archive shows a different history than the one this witness cosigned"
                )));
            }
            if size > old.size {
                let proof = source.consistency(old.size, size)?;
                if !merkle::verify_consistency(
                    old.size as usize,
                    size as usize,
                    &proof,
                    &old_root,
                    &root,
                ) {
                    return Err(WitnessError::Refused(format!(
                        "the log of size {size} does not extend the log of size {} this witness cosigned: entries were changed or removed",
                        old.size
                    )));
                }
            }
        }
        n.signatures.retain(|s| s.name == origin);
        n.signatures
            .push(note::cosign(&n.body, &self.name, &self.key, now));
        source.submit(&n.text())?;
        state.insert(
            origin.clone(),
            Seen {
                size,
                root: hex::encode(root),
            },
        );
        self.save(&state)?;
        Ok(Cosigned {
            origin,
            size,
            root: hex::encode(root),
            previous_size: previous.map(|p| p.size),
            time: now,
        })
    }
}
