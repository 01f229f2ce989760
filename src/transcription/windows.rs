//! Cutting the sample stream: sections (parts of a recording transcribed independently, in
//! parallel) and windows of at most 30 s (what Whisper hears at once), each cut at the quietest
//! 100 ms near its end; silence before the first sound is skipped. Pure functions of the samples:
//! where cuts fall never depends on the thread count.

use crate::media::SAMPLE_RATE;

/// Longest window handed to Whisper (its receptive field).
pub(crate) const MAX_WINDOW: usize = 30 * SAMPLE_RATE as usize;
/// Earliest cut point: windows are cut between 27 s and 30 s, at the quietest moment; what
/// Whisper leaves of an unfinished sentence at the end starts the next window.
pub(crate) const MIN_WINDOW: usize = 27 * SAMPLE_RATE as usize;
/// Energy frame used to find quiet cut points and silent windows (100 ms).
pub(crate) const FRAME: usize = SAMPLE_RATE as usize / 10;
/// RMS below which a 100 ms frame counts as silence (about -46 dBFS).
pub(crate) const SILENCE_RMS: f32 = 0.005;
/// Silence kept before the first sound of a window (0.5 s, a lead-in like Whisper's training).
pub(crate) const PREROLL: usize = SAMPLE_RATE as usize / 2;

/// Cuts a sample stream into windows of at most 30 s, at the quietest 100 ms near each end.
#[derive(Default)]
pub struct Windower {
    buf: Vec<f32>,
    /// Sample index (in the recording) of `buf[0]`.
    start: u64,
}

/// Cuts a sample stream into sections of `len`..`len` + 30 s at the quietest 100 ms: parts
/// of a recording that can be transcribed independently, in parallel.
pub struct Sectioner {
    buf: Vec<f32>,
    start: u64,
    len: usize,
}

impl Sectioner {
    /// Sections of at least `len_s` seconds (the last one may be shorter).
    pub fn new(len_s: u64) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            len: len_s as usize * SAMPLE_RATE as usize,
        }
    }

    /// Adds decoded samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.buf.extend_from_slice(samples);
    }

    /// The next section (first sample's index in the recording, samples), once enough audio
    /// is buffered.
    pub fn next_section(&mut self) -> Option<(u64, Vec<f32>)> {
        if self.buf.len() < self.len + MAX_WINDOW {
            return None;
        }
        let cut = quietest_cut(&self.buf[..self.len + MAX_WINDOW], self.len);
        Some(self.take(cut))
    }

    /// What remains at the end of the stream.
    pub fn finish(&mut self) -> Option<(u64, Vec<f32>)> {
        (!self.buf.is_empty()).then(|| self.take(self.buf.len()))
    }

    fn take(&mut self, n: usize) -> (u64, Vec<f32>) {
        let at = self.start;
        self.start += n as u64;
        (at, self.buf.drain(..n).collect())
    }
}

/// A window ready to transcribe.
pub struct Window {
    /// Offset of the first sample in the recording.
    pub offset_ms: u64,
    /// The samples.
    pub samples: Vec<f32>,
    /// False when every 100 ms frame is below the silence threshold.
    pub has_sound: bool,
}

/// The middle of the quietest 100 ms frame of `buf` starting at or after `from`, or the end
/// of `buf` when there is no room for a frame: where to cut a long stretch of audio.
pub(crate) fn quietest_cut(buf: &[f32], from: usize) -> usize {
    (from..buf.len().saturating_sub(FRAME))
        .step_by(FRAME / 2)
        .min_by(|&a, &b| rms(&buf[a..a + FRAME]).total_cmp(&rms(&buf[b..b + FRAME])))
        .map_or(buf.len(), |a| a + FRAME / 2)
}

fn rms(frame: &[f32]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    (frame.iter().map(|x| x * x).sum::<f32>() / frame.len() as f32).sqrt()
}

impl Windower {
    /// A windower holding `samples`, whose first sample is at `start` (no copy: a section's
    /// audio is the largest buffer of a transcription).
    pub fn with_samples(start: u64, samples: Vec<f32>) -> Self {
        Self {
            buf: samples,
            start,
        }
    }

    /// Adds decoded samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.buf.extend_from_slice(samples);
    }

    /// Takes the next full window, if 30 s are buffered.
    pub fn next_full(&mut self) -> Option<Window> {
        self.skip_leading_silence();
        if self.buf.len() < MAX_WINDOW {
            return None;
        }
        let cut = quietest_cut(&self.buf[..MAX_WINDOW], MIN_WINDOW);
        Some(self.take(cut))
    }

    /// Puts the unused tail of the last window back in front of the buffer.
    pub fn give_back(&mut self, tail: &[f32]) {
        self.start -= tail.len() as u64;
        self.buf.splice(0..0, tail.iter().copied());
    }

    /// Drops silence at the front of the buffer, keeping `PREROLL` before the first sound:
    /// Whisper places the first timestamp of a window badly after a long silence (often at
    /// 0 s), and silence costs encoder time for nothing.
    fn skip_leading_silence(&mut self) {
        let first_sound = self
            .buf
            .chunks(FRAME)
            .position(|f| f.len() == FRAME && rms(f) >= SILENCE_RMS)
            .map_or(self.buf.len() / FRAME * FRAME, |i| i * FRAME);
        let n = first_sound.saturating_sub(PREROLL);
        if n > 0 {
            self.buf.drain(..n);
            self.start += n as u64;
        }
    }

    /// Takes what remains at the end of the stream.
    pub fn finish(&mut self) -> Option<Window> {
        self.skip_leading_silence();
        if self.buf.len() < FRAME {
            return None;
        }
        let n = self.buf.len();
        Some(self.take(n))
    }

    fn take(&mut self, n: usize) -> Window {
        let samples: Vec<f32> = self.buf.drain(..n).collect();
        let offset_ms = self.start * 1000 / u64::from(SAMPLE_RATE);
        self.start += n as u64;
        let has_sound = samples.chunks(FRAME).any(|f| rms(f) >= SILENCE_RMS);
        Window {
            offset_ms,
            samples,
            has_sound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cut_at_the_quiet_point_and_cover_everything() {
        let sr = SAMPLE_RATE as usize;
        let mut s: Vec<f32> = (0..40 * sr)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        // A quiet gap around 28 s.
        for x in &mut s[28 * sr..28 * sr + sr / 5] {
            *x = 0.0;
        }
        let mut w = Windower::default();
        w.push(&s);
        let a = w.next_full().unwrap();
        assert!(a.samples.len() > 28 * sr && a.samples.len() < 28 * sr + sr / 5);
        assert!(w.next_full().is_none());
        let b = w.finish().unwrap();
        assert_eq!(a.samples.len() + b.samples.len(), s.len());
        assert_eq!(b.offset_ms, a.samples.len() as u64 * 1000 / sr as u64);
        assert!(a.has_sound && b.has_sound);
    }

    #[test]
    fn a_given_back_tail_starts_the_next_window() {
        let sr = SAMPLE_RATE as usize;
        let s: Vec<f32> = (0..70 * sr)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        let mut w = Windower::default();
        w.push(&s);
        let a = w.next_full().unwrap();
        let used = 20 * sr;
        w.give_back(&a.samples[used..]);
        let b = w.next_full().unwrap();
        assert_eq!(b.offset_ms, 20_000);
        assert_eq!(b.samples[..a.samples.len() - used], a.samples[used..]);
        assert!((MIN_WINDOW..=MAX_WINDOW).contains(&b.samples.len()));
    }

    #[test]
    fn leading_silence_is_skipped_but_a_lead_in_is_kept() {
        let sr = SAMPLE_RATE as usize;
        let mut s = vec![0.0f32; 12 * sr];
        s.extend((0..40 * sr).map(|i| ((i as f32) * 0.05).sin() * 0.3));
        let mut w = Windower::default();
        w.push(&s);
        let a = w.next_full().unwrap();
        assert_eq!(a.offset_ms, 11_500);
        assert!(a.has_sound);
    }

    #[test]
    fn sections_cover_the_stream_in_order_and_cut_at_quiet_points() {
        let sr = SAMPLE_RATE as usize;
        let mut s: Vec<f32> = (0..200 * sr)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        for x in &mut s[75 * sr..75 * sr + sr / 5] {
            *x = 0.0;
        }
        let mut sec = Sectioner::new(60);
        let mut got = Vec::new();
        for block in s.chunks(12_345) {
            sec.push(block);
            while let Some(part) = sec.next_section() {
                got.push(part);
            }
        }
        got.extend(sec.finish());
        let (first_at, first) = &got[0];
        assert_eq!(*first_at, 0);
        assert!(
            first.len() > 75 * sr && first.len() < 75 * sr + sr / 5,
            "quiet point"
        );
        let mut next = 0u64;
        for (at, part) in &got {
            assert_eq!(*at, next, "contiguous");
            assert!(part.len() <= 90 * sr);
            next += part.len() as u64;
        }
        assert_eq!(next as usize, s.len(), "everything, once");
    }

    #[test]
    fn silence_is_flagged() {
        let mut w = Windower::default();
        w.push(&vec![0.0; SAMPLE_RATE as usize * 3]);
        assert!(!w.finish().unwrap().has_sound);
    }
}
