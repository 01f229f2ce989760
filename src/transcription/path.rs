//! Choosing how to cut a recording before transcribing it. Plain 30-s windows are the default:
//! they keep the most of human speech. A digital host's looped script is different: most of its
//! speech repeats earlier audio sample for sample, and the packed path (`voice` + `repeats`)
//! transcribes each repeated region once instead of every time it comes back. So the opening of
//! the recording is listened to first and, when most of its speech repeats exactly, the packed
//! path with repeat reuse is taken. Invariant: a pure function of the samples, so `reproduce`
//! (which reads the path from the manifest anyway) and any thread count agree.

use super::voice::Packer;
use super::Audio;
use crate::media::{MediaError, SAMPLE_RATE};

/// How much of the opening is listened to (10 minutes): loops of a script that comes back
/// later than that are transcribed on the plain path.
pub const PROBE_SECONDS: u64 = 600;

/// Share of the opening's speech that must repeat earlier audio exactly for the packed path:
/// more than half. Human speech never repeats sample for sample; a stream that is half a
/// human host and half a jingle stays on the plain path, which keeps the human speech best.
pub const LOOP_SHARE: f64 = 0.5;

/// What listening to the opening found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoopProbe {
    /// Speech heard (ms).
    pub speech_ms: u64,
    /// Of it, regions repeating earlier audio exactly (ms).
    pub repeated_ms: u64,
}

impl LoopProbe {
    /// Share of the speech that repeats (0 when there was no speech).
    pub fn share(&self) -> f64 {
        if self.speech_ms == 0 {
            0.0
        } else {
            self.repeated_ms as f64 / self.speech_ms as f64
        }
    }

    /// Whether the packed path with repeat reuse should transcribe this recording.
    pub fn looped(&self) -> bool {
        self.share() > LOOP_SHARE
    }
}

/// Listens to the first `seconds` of `audio` (or all of it, if shorter) for speech regions that
/// repeat earlier ones exactly (`repeats`).
pub fn probe_loops(audio: &mut dyn Audio, seconds: u64) -> Result<LoopProbe, MediaError> {
    let limit = seconds as usize * SAMPLE_RATE as usize;
    let mut packer = Packer::with_repeats();
    let mut block = Vec::with_capacity(1 << 16);
    let mut read = 0;
    let mut repeated = 0u64;
    while read < limit {
        block.clear();
        let n = audio.read(&mut block, (1 << 16).min(limit - read))?;
        if n == 0 {
            break;
        }
        read += n;
        packer.push(&block);
        // Chunks and repeats are drained as they come: only the counts are kept.
        while packer.next_chunk().is_some() {}
        while let Some(r) = packer.next_repeat() {
            repeated += r.samples.len() as u64;
        }
    }
    packer.finish();
    while let Some(r) = packer.next_repeat() {
        repeated += r.samples.len() as u64;
    }
    let ms = |samples: u64| samples * 1000 / u64::from(SAMPLE_RATE);
    Ok(LoopProbe {
        speech_ms: ms(packer.speech_samples),
        repeated_ms: ms(repeated),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcription::fixture_samples as clip;

    /// Samples served from memory in blocks.
    struct Mem(Vec<f32>, usize);

    impl Audio for Mem {
        fn read(&mut self, out: &mut Vec<f32>, max: usize) -> Result<usize, MediaError> {
            let n = max.min(self.0.len() - self.1);
            out.extend_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
        fn ended(&mut self) -> Result<(), MediaError> {
            Ok(())
        }
    }

    fn with_pauses(parts: &[Vec<f32>]) -> Vec<f32> {
        let pause = vec![0.0f32; SAMPLE_RATE as usize];
        parts
            .iter()
            .flat_map(|p| p.iter().chain(&pause))
            .copied()
            .collect()
    }

    #[test]
    fn a_looped_opening_is_found_and_varied_speech_is_not() {
        let jfk = clip("jfk.wav");
        // The same clip three times over: two thirds of the speech repeats.
        let looped = with_pauses(&[jfk.clone(), jfk.clone(), jfk.clone()]);
        let p = probe_loops(&mut Mem(looped, 0), PROBE_SECONDS).unwrap();
        assert!(p.speech_ms > 20_000, "{p:?}");
        assert!(p.looped(), "{p:?}");
        let varied: Vec<Vec<f32>> = [
            "jfk.wav",
            "aishell_BAC009S0724W0121.wav",
            "paddlespeech_zh.wav",
            "funasr_zh.wav",
        ]
        .iter()
        .map(|n| clip(n))
        .collect();
        let p = probe_loops(&mut Mem(with_pauses(&varied), 0), PROBE_SECONDS).unwrap();
        assert!(p.speech_ms > 10_000, "{p:?}");
        assert_eq!(p.repeated_ms, 0, "{p:?}");
        assert!(!p.looped());
    }

    #[test]
    fn only_the_opening_is_heard() {
        let jfk = clip("jfk.wav");
        let audio = with_pauses(&[jfk.clone(), jfk.clone(), jfk]);
        // The first copy alone (11 s of speech and its pause) holds no repeat.
        let p = probe_loops(&mut Mem(audio.clone(), 0), 12).unwrap();
        assert_eq!(p.repeated_ms, 0, "{p:?}");
        assert!(
            probe_loops(&mut Mem(audio, 0), PROBE_SECONDS)
                .unwrap()
                .repeated_ms
                > 0
        );
    }
}
