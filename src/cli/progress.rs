//! A terminal progress bar over a recording's duration (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};
use liveproof::media::clock;

/// Progress of an ingest or a reproduction, shown on stderr.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar prefixed with the file's name.
    pub fn new(file: &std::path::Path) -> Self {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template(
                "{prefix} {spinner} {wide_msg} [{bar:30}] {percent:>3}% eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        pb.set_prefix(
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        Self(pb)
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl liveproof::ingest::Progress for Bar {
    fn start(&self, total_ms: Option<u64>) {
        self.0.set_length(total_ms.unwrap_or(0));
    }
    fn advance(&self, done_ms: u64) {
        self.0.set_position(done_ms);
        let len = self.0.length().unwrap_or(0);
        self.0
            .set_message(format!("{} of {}", clock(done_ms), clock(len)));
    }
    fn phase(&self, name: &str) {
        self.0.set_message(name.to_string());
        self.0.tick();
    }
}

/// Progress as JSON lines on stderr, for scripts: {"file", "phase", "done_ms", "total_ms"}.
pub struct JsonLines {
    file: String,
    total: std::sync::Mutex<Option<u64>>,
}

impl JsonLines {
    /// Lines about `file`.
    pub fn new(file: &std::path::Path) -> Self {
        Self {
            file: file.display().to_string(),
            total: std::sync::Mutex::new(None),
        }
    }

    fn line(&self, phase: &str, done_ms: Option<u64>) {
        let total = self.total.lock().map(|t| *t).unwrap_or(None);
        let v = serde_json::json!({"file": self.file, "phase": phase, "done_ms": done_ms, "total_ms": total});
        eprintln!("{v}");
    }
}

impl liveproof::ingest::Progress for JsonLines {
    fn start(&self, total_ms: Option<u64>) {
        if let Ok(mut t) = self.total.lock() {
            *t = total_ms;
        }
        self.line("start", Some(0));
    }
    fn advance(&self, done_ms: u64) {
        self.line("transcribing", Some(done_ms));
    }
    fn phase(&self, name: &str) {
        self.line(name, None);
    }
}

/// The progress sink `--progress` asks for, for one file. A bar is cleared when dropped.
pub fn sink(
    mode: super::args::ProgressMode,
    file: &std::path::Path,
) -> Box<dyn liveproof::ingest::Progress> {
    use super::args::ProgressMode;
    use std::io::IsTerminal;
    match mode {
        ProgressMode::Json => Box::new(JsonLines::new(file)),
        ProgressMode::None => Box::new(liveproof::ingest::Quiet),
        ProgressMode::Auto if !std::io::stderr().is_terminal() => {
            Box::new(liveproof::ingest::Quiet)
        }
        ProgressMode::Auto | ProgressMode::Bar => Box::new(Bar::new(file)),
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
