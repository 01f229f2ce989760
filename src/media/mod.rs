//! Audio from recordings: detect the container by content, probe it, and stream its first audio
//! track as 16 kHz mono f32 samples, in bounded memory.
//!
//! Decoding is done by Debian's `ffmpeg`, the one decoder here that demuxes FLV and MPEG-TS as
//! live-platform recorders write them (see docs/decisions.md). The container is detected from
//! the file's bytes and passed to ffmpeg explicitly, so nothing is guessed from the extension.
//! Invariant: this module never writes anything; it reads the file it is given.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod framing;
pub mod labels;
pub mod provenance;

/// Sample rate of the decoded stream.
pub const SAMPLE_RATE: u32 = 16_000;

/// Containers recognised by their leading bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// RIFF/WAVE or RF64.
    Wav,
    /// Native FLAC.
    Flac,
    /// MPEG audio (usually layer III), with or without an ID3v2 tag.
    Mp3,
    /// ADTS-framed raw AAC.
    Aac,
    /// ISO base media: MP4, M4A, MOV.
    Mp4,
    /// Flash Video, as most Chinese live platforms record.
    Flv,
    /// MPEG transport stream (188- or 192-byte packets), as HLS recorders write.
    Mpegts,
    /// Ogg (Vorbis, Opus).
    Ogg,
    /// Matroska or WebM.
    Matroska,
}

impl Container {
    /// ffmpeg's demuxer name for this container.
    fn demuxer(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Mp3 => "mp3",
            Container::Aac => "aac",
            Container::Mp4 => "mov",
            Container::Flv => "flv",
            Container::Mpegts => "mpegts",
            Container::Ogg => "ogg",
            Container::Matroska => "matroska",
        }
    }

    /// Whether the container states its duration reliably, so that a shortfall means truncation.
    fn declares_duration(self) -> bool {
        matches!(
            self,
            Container::Wav | Container::Flac | Container::Mp4 | Container::Matroska
        )
    }

    /// Lower-case name, as recorded in manifests.
    pub fn name(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Mp3 => "mp3",
            Container::Aac => "aac",
            Container::Mp4 => "mp4",
            Container::Flv => "flv",
            Container::Mpegts => "mpegts",
            Container::Ogg => "ogg",
            Container::Matroska => "matroska",
        }
    }
}

/// Why a recording's audio could not be read.
#[derive(Debug, Error)]
pub enum MediaError {
    /// The path does not exist or is not a regular file.
    #[error("cannot read recording `{path}`: {source}")]
    Open {
        /// The recording.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The bytes match no known container.
    #[error("`{path}` is not a recording liveproof can read (no WAV, FLAC, MP3, AAC, MP4/M4A, FLV, MPEG-TS, Ogg or Matroska signature{detail}): check that the file is the recording itself and not a page or a partial download")]
    NotMedia {
        /// The recording.
        path: PathBuf,
        /// Extra context, e.g. for an empty file.
        detail: String,
    },
    /// The container holds no audio track.
    #[error(
        "`{path}` ({container}) has no audio track: liveproof transcribes speech, so it needs one"
    )]
    NoAudio {
        /// The recording.
        path: PathBuf,
        /// Container name.
        container: &'static str,
    },
    /// The audio codec cannot be decoded.
    #[error("`{path}`: audio codec `{codec}` cannot be decoded here ({detail}): convert the file to WAV or FLAC first; the original is untouched")]
    UnsupportedCodec {
        /// The recording.
        path: PathBuf,
        /// Codec name.
        codec: String,
        /// The decoder's words.
        detail: String,
    },
    /// The container or the audio data is damaged.
    #[error("`{path}` is corrupt ({container}): {detail}")]
    Corrupt {
        /// The recording.
        path: PathBuf,
        /// Container name.
        container: &'static str,
        /// The decoder's words.
        detail: String,
    },
    /// Fewer samples were decoded than the container declares.
    #[error("`{path}` is truncated: its {container} header declares {declared}, but audio stops at {decoded}; find the complete recording, or re-run with --allow-truncated to archive what is there")]
    Truncated {
        /// The recording.
        path: PathBuf,
        /// Container name.
        container: &'static str,
        /// Declared duration, as HH:MM:SS.mmm.
        declared: String,
        /// Decoded duration, as HH:MM:SS.mmm.
        decoded: String,
    },
    /// The file ends inside a structure its own framing announces.
    #[error("`{path}` is truncated: its {what} needs {needed} bytes but the file has {size}; find the complete recording, or re-run with --allow-truncated to archive what is there (the manifest records the cut)")]
    Cut {
        /// The recording.
        path: PathBuf,
        /// The structure that is cut.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// Bytes present.
        size: u64,
    },
    /// ffmpeg/ffprobe are not installed.
    #[error("cannot run `{program}`: {source}; install it with `apt-get install ffmpeg` (scripts/setup.sh does)")]
    Tool {
        /// The program.
        program: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading the decoder's output failed.
    #[error("reading decoded audio of `{path}` failed: {source}")]
    Pipe {
        /// The recording.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Formats milliseconds as `HH:MM:SS.mmm`.
pub fn clock(ms: u64) -> String {
    liveproof_verify::clock(ms)
}

fn sniff_bytes(b: &[u8]) -> Option<Container> {
    let at = |o: usize, m: &[u8]| b.len() >= o + m.len() && &b[o..o + m.len()] == m;
    if (at(0, b"RIFF") || at(0, b"RF64")) && at(8, b"WAVE") {
        return Some(Container::Wav);
    }
    if at(0, b"fLaC") {
        return Some(Container::Flac);
    }
    if at(4, b"ftyp") {
        return Some(Container::Mp4);
    }
    if at(0, b"FLV\x01") {
        return Some(Container::Flv);
    }
    if at(0, b"OggS") {
        return Some(Container::Ogg);
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(Container::Matroska);
    }
    // Transport streams: a 0x47 sync byte every 188 (or 192) bytes.
    for (first, stride) in [(0usize, 188usize), (4, 192)] {
        let needed = (first + 2 * stride + 1).min(b.len());
        if b.len() > first + stride
            && (first..needed).step_by(stride).all(|i| b[i] == 0x47)
            && needed > first + stride
        {
            return Some(Container::Mpegts);
        }
    }
    if b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0 {
        // MPEG sync word: layer bits 00 mean ADTS AAC, anything else MPEG audio.
        return Some(if b[1] & 0x06 == 0 {
            Container::Aac
        } else {
            Container::Mp3
        });
    }
    None
}

/// Detects the container of `path` from its bytes.
pub fn sniff(path: &Path) -> Result<Container, MediaError> {
    sniff_as(path, path)
}

/// Like [`sniff`], naming `label` in errors.
fn sniff_as(file: &Path, path: &Path) -> Result<Container, MediaError> {
    let open_err = |source| MediaError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut f = File::open(file).map_err(open_err)?;
    let mut head = vec![0u8; 4096];
    let n = read_full(&mut f, &mut head).map_err(open_err)?;
    head.truncate(n);
    let not_media = |detail: &str| MediaError::NotMedia {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    if n == 0 {
        return Err(not_media("; the file is empty"));
    }
    if head.starts_with(b"ID3") && n >= 10 {
        // Skip an ID3v2 tag (syncsafe size) and look at what it prefixes.
        let size = head[6..10]
            .iter()
            .fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7F));
        let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
        f.seek(SeekFrom::Start(10 + size + footer))
            .map_err(open_err)?;
        let mut after = vec![0u8; 4096];
        let m = read_full(&mut f, &mut after).map_err(open_err)?;
        after.truncate(m);
        return match sniff_bytes(&after) {
            Some(c @ (Container::Flac | Container::Aac)) => Ok(c),
            Some(Container::Mp3) => Ok(Container::Mp3),
            _ => Err(not_media("; an ID3 tag is followed by no MPEG audio frame")),
        };
    }
    sniff_bytes(&head).ok_or_else(|| not_media(""))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// What ffprobe says about a recording's first audio track.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// Detected container.
    pub container: Container,
    /// Audio codec name, as ffmpeg calls it.
    pub codec: String,
    /// Original sample rate in Hz.
    pub sample_rate: u32,
    /// Original channel count.
    pub channels: u32,
    /// Duration the container declares, when it declares one.
    pub declared_ms: Option<u64>,
    /// Where the file's framing says it was cut short, if it was.
    pub shortfall: Option<framing::Shortfall>,
    /// Implicit AI-content labels (`AIGC`) found in the file's metadata.
    pub labels: Vec<labels::Label>,
    /// The C2PA manifest store's claims, when the file carries one.
    pub c2pa: Option<provenance::Credentials>,
}

impl Probe {
    /// The truncation error for this probe, if the file was cut.
    pub fn cut_error(&self, path: &Path) -> Option<MediaError> {
        self.shortfall.as_ref().map(|s| MediaError::Cut {
            path: path.to_path_buf(),
            what: s.what.clone(),
            needed: s.needed,
            size: s.size,
        })
    }
}

#[derive(Deserialize)]
struct FfprobeOut {
    #[serde(default)]
    streams: Vec<FfprobeStream>,
    #[serde(default)]
    format: Option<FfprobeFormat>,
}

#[derive(Deserialize)]
struct FfprobeStream {
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
    codec_type: Option<String>,
    codec_name: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u32>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct FfprobeFormat {
    duration: Option<String>,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
}

fn seconds_to_ms(s: &Option<String>) -> Option<u64> {
    s.as_deref()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| (s * 1000.0).round() as u64)
}

/// Sniffs and probes `file`; errors name `path`, the name the user knows it by.
pub fn probe(file: &Path, path: &Path) -> Result<Probe, MediaError> {
    let container = sniff_as(file, path)?;
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-f", container.demuxer()])
        .args([
            "-show_entries",
            "format=duration:format_tags:stream=codec_type,codec_name,sample_rate,channels,duration:stream_tags",
        ])
        .args(["-of", "json"])
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| MediaError::Tool {
            program: "ffprobe",
            source,
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let corrupt = |detail: String| MediaError::Corrupt {
        path: path.to_path_buf(),
        container: container.name(),
        detail,
    };
    let shortfall = framing::check(file, container).map_err(|source| MediaError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    if !out.status.success() {
        // A cut file is best described as cut, whatever the decoder makes of it.
        if let Some(s) = shortfall {
            return Err(MediaError::Cut {
                path: path.to_path_buf(),
                what: s.what,
                needed: s.needed,
                size: s.size,
            });
        }
        return Err(corrupt(first_lines(&stderr, file)));
    }
    let parsed: FfprobeOut = serde_json::from_slice(&out.stdout)
        .map_err(|e| corrupt(format!("unreadable probe output: {e}")))?;
    let audio = parsed
        .streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"))
        .ok_or(MediaError::NoAudio {
            path: path.to_path_buf(),
            container: container.name(),
        })?;
    let channels = audio.channels.unwrap_or(0);
    let sample_rate = audio
        .sample_rate
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if channels == 0 || sample_rate == 0 {
        return Err(corrupt(format!(
            "its audio track declares {channels} channels at {sample_rate} Hz"
        )));
    }
    let declared_ms = seconds_to_ms(&audio.duration).or_else(|| {
        parsed
            .format
            .as_ref()
            .and_then(|f| seconds_to_ms(&f.duration))
    });
    let mut tags: Vec<(String, String, String)> = Vec::new();
    if let Some(f) = &parsed.format {
        tags.extend(
            f.tags
                .iter()
                .map(|(k, v)| ("format".to_string(), k.clone(), v.clone())),
        );
    }
    for s in &parsed.streams {
        tags.extend(
            s.tags
                .iter()
                .map(|(k, v)| ("stream".to_string(), k.clone(), v.clone())),
        );
    }
    let mut found = labels::from_tags(&tags);
    // The same value seen at file and stream level is one label shown twice by ffprobe.
    let mut seen = std::collections::HashSet::new();
    found.retain(|l| seen.insert(l.value.clone()));
    if container == Container::Wav {
        found.extend(labels::wav_chunks(file).unwrap_or_default());
    }
    Ok(Probe {
        labels: found,
        c2pa: provenance::read(file, container),
        shortfall,
        container,
        codec: audio.codec_name.clone().unwrap_or_else(|| "unknown".into()),
        sample_rate,
        channels,
        declared_ms,
    })
}

/// A decoder message without the file path and the memory addresses ffmpeg puts in it, so that
/// it reads well and is the same on every run.
fn clean_line(line: &str, path: &Path) -> String {
    let line = line.replace(path.to_string_lossy().as_ref(), "input");
    let mut out = String::with_capacity(line.len());
    let mut rest = line.as_str();
    while let Some(i) = rest.find(" @ 0x") {
        out.push_str(&rest[..i]);
        rest = rest[i + 5..].trim_start_matches(|c: char| c.is_ascii_hexdigit());
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// The decoder's first words.
fn first_lines(stderr: &str, path: &Path) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .map(|l| clean_line(l, path))
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    if lines.is_empty() {
        "the decoder gave up without a message".into()
    } else {
        lines.join("; ")
    }
}

/// A running decode: 16 kHz mono f32 samples, read block by block.
pub struct PcmStream {
    file: PathBuf,
    path: PathBuf,
    probe: Probe,
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    samples: u64,
    pending: Vec<u8>,
}

/// How a finished decode went.
#[derive(Debug, Clone)]
pub struct DecodeReport {
    /// Decoded duration.
    pub decoded_ms: u64,
    /// Decoder complaints that did not stop it (kept in the manifest).
    pub warnings: Vec<String>,
}

impl PcmStream {
    /// Starts decoding `file`, already probed; errors name `path`.
    pub fn open(file: &Path, path: &Path, probe: Probe) -> Result<Self, MediaError> {
        let mut child = Command::new("ffmpeg")
            .args(["-nostdin", "-hide_banner", "-v", "error"])
            .args(["-f", probe.container.demuxer()])
            .arg("-i")
            .arg(file)
            .args(["-map", "0:a:0", "-vn", "-sn", "-dn"])
            .args(["-ac", "1", "-ar", &SAMPLE_RATE.to_string()])
            .args(["-f", "f32le", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| MediaError::Tool {
                program: "ffmpeg",
                source,
            })?;
        let stdout = BufReader::with_capacity(
            1 << 16,
            child.stdout.take().ok_or_else(|| MediaError::Pipe {
                path: path.to_path_buf(),
                source: std::io::Error::other("no stdout"),
            })?,
        );
        // Drain stderr on its own thread so a chatty decoder cannot block on a full pipe.
        let stderr = child.stderr.take().map(|mut e| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let mut limited = (&mut e).take(64 * 1024);
                let _ = limited.read_to_string(&mut s);
                let _ = std::io::copy(&mut e, &mut std::io::sink());
                s
            })
        });
        Ok(Self {
            file: file.to_path_buf(),
            path: path.to_path_buf(),
            probe,
            child,
            stdout,
            stderr,
            samples: 0,
            pending: Vec::new(),
        })
    }

    /// Probe data of the stream.
    pub fn probe(&self) -> &Probe {
        &self.probe
    }

    /// Milliseconds decoded so far.
    pub fn decoded_ms(&self) -> u64 {
        self.samples * 1000 / u64::from(SAMPLE_RATE)
    }

    /// Appends up to `max` samples to `out`; returns how many were appended (0 at the end).
    pub fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, MediaError> {
        let mut buf = vec![0u8; max.max(1) * 4];
        loop {
            let carried = self.pending.len();
            buf[..carried].copy_from_slice(&self.pending);
            let n = self
                .stdout
                .read(&mut buf[carried..])
                .map_err(|source| MediaError::Pipe {
                    path: self.path.clone(),
                    source,
                })?;
            let total = carried + n;
            let whole = total / 4 * 4;
            out.extend(
                buf[..whole]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
            self.pending = buf[whole..total].to_vec();
            let got = whole / 4;
            self.samples += got as u64;
            // A read that ended inside a sample is not the end of the stream: read on.
            if got > 0 || n == 0 {
                return Ok(got);
            }
        }
    }

    /// Waits for the decoder and judges the result: errors if it failed, or if it stopped short
    /// of the declared duration and `allow_truncated` is false (then a warning is kept instead).
    pub fn finish(mut self, allow_truncated: bool) -> Result<DecodeReport, MediaError> {
        let status = self.child.wait().map_err(|source| MediaError::Pipe {
            path: self.path.clone(),
            source,
        })?;
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        let decoded_ms = self.decoded_ms();
        let c = self.probe.container;
        if !status.success() || decoded_ms == 0 {
            let detail = first_lines(&stderr, &self.file);
            if detail.contains("Decoder") && detail.contains("not found")
                || detail.contains("unsupported")
                || detail.contains("Unsupported")
            {
                return Err(MediaError::UnsupportedCodec {
                    path: self.path.clone(),
                    codec: self.probe.codec.clone(),
                    detail,
                });
            }
            return Err(MediaError::Corrupt {
                path: self.path.clone(),
                container: c.name(),
                detail: if status.success() {
                    "no audio could be decoded".into()
                } else {
                    detail
                },
            });
        }
        let mut warnings: Vec<String> = Vec::new();
        if let Some(declared) = self.probe.declared_ms.filter(|_| c.declares_duration()) {
            let slack = 1000u64.max(declared / 50);
            if decoded_ms + slack < declared {
                if !allow_truncated {
                    return Err(MediaError::Truncated {
                        path: self.path.clone(),
                        container: c.name(),
                        declared: clock(declared),
                        decoded: clock(decoded_ms),
                    });
                }
                warnings.push(format!(
                    "truncated: the container declares {} but audio stops at {}",
                    clock(declared),
                    clock(decoded_ms)
                ));
            }
        }
        warnings.extend(
            stderr
                .lines()
                .map(|l| clean_line(l, &self.file))
                .filter(|l| !l.trim().is_empty())
                .take(20),
        );
        Ok(DecodeReport {
            decoded_ms,
            warnings,
        })
    }
}

impl Drop for PcmStream {
    fn drop(&mut self) {
        // An abandoned decode (error elsewhere) must not leave ffmpeg running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_containers_by_content() {
        let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        wav.resize(64, 0);
        assert_eq!(sniff_bytes(&wav), Some(Container::Wav));
        assert_eq!(sniff_bytes(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(sniff_bytes(b"\0\0\0\x20ftypisom"), Some(Container::Mp4));
        assert_eq!(sniff_bytes(b"FLV\x01\x05\0\0\0\x09"), Some(Container::Flv));
        assert_eq!(sniff_bytes(&[0xFF, 0xFB, 0x90, 0x00]), Some(Container::Mp3));
        assert_eq!(sniff_bytes(&[0xFF, 0xF1, 0x50, 0x80]), Some(Container::Aac));
        let mut ts = vec![0u8; 188 * 3];
        for i in 0..3 {
            ts[i * 188] = 0x47;
        }
        assert_eq!(sniff_bytes(&ts), Some(Container::Mpegts));
    }

    #[test]
    fn text_and_random_bytes_are_not_media() {
        assert_eq!(sniff_bytes(b"<html><body>404</body></html>"), None);
        assert_eq!(sniff_bytes(&[0x47, 1, 2, 3]), None);
        assert_eq!(sniff_bytes(b""), None);
    }

    #[test]
    fn decoder_messages_lose_paths_and_addresses() {
        let l = clean_line(
            "[aac @ 0x55ad4f102f40] bad frame in /tmp/x.ts",
            Path::new("/tmp/x.ts"),
        );
        assert_eq!(l, "[aac] bad frame in input");
    }

    #[test]
    fn clock_formats_hours() {
        assert_eq!(clock(3_723_004), "01:02:03.004");
    }
}
