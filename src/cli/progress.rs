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
