//! The transcription loop: reads the audio, cuts it (sections, or voice-active chunks with
//! repeats set aside), feeds the worker pool, and assembles what comes back in recording order.

use std::time::Instant;

use super::voice::{Chunk, Packer};
use super::windows::Sectioner;
use super::workers::{split_threads, Done, Job, Pool};
use super::{Audio, Options, Output, Stats, Transcriber, TranscriptionError};
use crate::media::SAMPLE_RATE;
use crate::text;
use crate::transcript::{Gap, Segment};

/// Section length (s) for parallel transcription with plain windows: a function of the
/// recording's declared length only, never of the thread count (sections decide where
/// windows are cut, so the text must not depend on how many workers there are): 1/16 of the
/// recording (about four sections for each of up to four workers), between 60 s (each
/// section's last window is partly empty) and 150 s (bounded audio in memory).
fn section_seconds(declared_ms: Option<u64>) -> u64 {
    declared_ms.map_or(120, |ms| (ms / 1000 / 16).clamp(60, 150))
}

/// Whisper loaded and its workers started, waiting for audio. Loading takes a few tenths of a
/// second, so an ingest starts it while it still probes the file and listens for loops.
pub struct Engine {
    pool: Pool,
}

impl Engine {
    /// Loads the model of `opts` and starts its workers (reads its model, language, threads
    /// and beam; how the audio is cut is read when transcribing).
    pub fn load(opts: &Options) -> Result<Self, TranscriptionError> {
        let transcriber = Transcriber::load(
            &opts.model_path,
            &opts.model_name,
            opts.language.clone(),
            opts.threads,
            opts.beam,
        )?;
        Ok(Self {
            pool: Pool::start(transcriber, opts.threads)?,
        })
    }
}

/// Transcribes `audio` in sections cut at quiet points (with `vad`: packed speech chunks),
/// spread over parallel Whisper workers, in bounded memory. `progress` is told how much of the
/// recording (ms) has been transcribed.
pub fn transcribe(
    audio: &mut dyn Audio,
    opts: &Options,
    progress: &dyn Fn(u64),
) -> Result<Output, TranscriptionError> {
    transcribe_on(Engine::load(opts)?, audio, opts, progress)
}

/// [`transcribe`] on an `engine` already loaded with the model, language, threads and beam of
/// `opts`.
pub fn transcribe_on(
    engine: Engine,
    audio: &mut dyn Audio,
    opts: &Options,
    progress: &dyn Fn(u64),
) -> Result<Output, TranscriptionError> {
    let mut stats = Stats::default();
    let mut pool = engine.pool;
    let mut sectioner = Sectioner::new(section_seconds(opts.declared_ms));
    let mut packer = opts.vad.then(|| {
        if opts.reuse_repeats {
            Packer::with_repeats()
        } else {
            Packer::default()
        }
    });
    let mut reuse = RepeatFlow::default();
    let mut done = Vec::new();
    let mut block = Vec::with_capacity(1 << 16);
    let clock = Instant::now();
    loop {
        block.clear();
        let waited = Instant::now();
        let n = audio.read(&mut block, 1 << 16)?;
        stats.decode_wait_ms += waited.elapsed().as_millis() as u64;
        if n == 0 {
            break;
        }
        if let Some(p) = packer.as_mut() {
            let vad_clock = Instant::now();
            p.push(&block);
            stats.vad_ms += vad_clock.elapsed().as_millis() as u64;
            reuse.feed(p, &mut pool, &mut done)?;
        } else {
            sectioner.push(&block);
            while let Some((at, samples)) = sectioner.next_section() {
                pool.submit(Job::Section(at, samples))?;
            }
        }
        progress(pool.progress_ms());
    }
    // Judge the decode before transcribing the tail: a truncated file fails as such.
    audio.ended()?;
    if let Some(p) = packer.as_mut() {
        p.finish();
        reuse.feed(p, &mut pool, &mut done)?;
        reuse.drain(&mut pool, &mut done)?;
    } else if let Some((at, samples)) = sectioner.finish() {
        pool.submit(Job::Section(at, samples))?;
    }
    done.extend(pool.finish()?);
    done.sort_by_key(|d| d.index);
    // Wall time of the parallel transcription, less the time spent waiting for audio.
    stats.transcribe_ms =
        (clock.elapsed().as_millis() as u64).saturating_sub(stats.decode_wait_ms + stats.vad_ms);
    stats.workers = split_threads(opts.threads).0 as u64;
    let mut raw = Vec::new();
    let mut raw_gaps = Vec::new();
    let (mut voice_ms, mut covered_ms) = (0u64, 0u64);
    let mut engine = super::whisper::EngineCounters::default();
    for d in &done {
        engine.add(&d.engine);
    }
    stats.encoder_ms = engine.encode_us / 1000;
    stats.encoder_passes = engine.encoder_passes;
    stats.decoder_ms = engine.decode_us / 1000;
    stats.decoder_runs = engine.decoder_runs;
    stats.fallbacks = engine.fallbacks;
    for d in done {
        stats.windows += d.windows;
        stats.speech_ms += d.speech_ms;
        stats.worker_busy_ms += d.busy_ms;
        stats.regions_redecoded += d.redecoded;
        voice_ms += d.voice_ms;
        covered_ms += d.covered_ms;
        raw.extend(d.segments);
        raw_gaps.extend(d.gaps);
    }
    stats.repeats_found = reuse.state.found;
    stats.repeats_reused = reuse.state.reused;
    stats.repeats_reused_ms = reuse.state.reused_samples * 1000 / u64::from(SAMPLE_RATE);
    // Reused repeats have their reference's text over their whole length.
    voice_ms += stats.repeats_reused_ms;
    covered_ms += stats.repeats_reused_ms;
    let share = if voice_ms == 0 {
        1.0
    } else {
        covered_ms as f64 / voice_ms as f64
    };
    stats.coverage = Some((share * 1000.0).round() / 1000.0);
    raw_gaps.sort_by_key(|g| (g.start_ms, g.end_ms));
    stats.gaps = raw_gaps.len() as u64;
    let gaps = raw_gaps
        .into_iter()
        .enumerate()
        .map(|(index, g)| Gap {
            index,
            start_ms: g.start_ms,
            end_ms: g.end_ms,
            reason: g.reason.to_string(),
        })
        .collect();
    raw.append(&mut reuse.state.segments);
    // Repeats and regions transcribed after all come back out of recording order.
    raw.sort_by_key(|r| (r.start_ms, r.end_ms));
    let segments = raw
        .into_iter()
        .enumerate()
        .map(|(index, r)| Segment {
            index,
            start_ms: r.start_ms,
            end_ms: r.end_ms,
            language: text::spoken_language(&r.raw_text, &r.language),
            text: text::normalize(&r.raw_text),
            raw_text: r.raw_text,
            confidence: (f64::from(r.confidence) * 1000.0).round() / 1000.0,
        })
        .collect();
    Ok(Output {
        segments,
        gaps,
        stats,
    })
}

/// Audio of repeats waiting for their reference's text, at most (10 minutes): beyond it the
/// ingest waits for Whisper to catch up.
const MAX_WAITING_SAMPLES: usize = 600 * SAMPLE_RATE as usize;

/// Repeated regions between the packer and the workers: references are tracked as they go
/// to Whisper and come back; repeats take their text or, when it is unusable, are packed
/// into chunks of their own and transcribed.
#[derive(Default)]
struct RepeatFlow {
    state: super::repeats::Reuse,
    fallback: Chunk,
}

impl RepeatFlow {
    /// Submits the packer's ready chunks, takes its repeats, and applies what came back.
    fn feed(
        &mut self,
        p: &mut Packer,
        pool: &mut Pool,
        done: &mut Vec<Done>,
    ) -> Result<(), TranscriptionError> {
        while let Some(c) = p.next_chunk() {
            c.pieces
                .iter()
                .filter_map(|piece| piece.id)
                .for_each(|id| self.state.sent(id));
            pool.submit(Job::Chunk(c))?;
        }
        while let Some(r) = p.next_repeat() {
            self.state.defer(r);
        }
        for d in pool.take_done()? {
            self.learn(d, done);
        }
        while self.state.waiting_samples() > MAX_WAITING_SAMPLES {
            match pool.wait_one()? {
                Some(d) => self.learn(d, done),
                None => break,
            }
        }
        self.settle(pool, false)
    }

    /// After the last chunk: waits until every repeat has its text or has been sent.
    fn drain(&mut self, pool: &mut Pool, done: &mut Vec<Done>) -> Result<(), TranscriptionError> {
        while self.state.is_waiting() {
            match pool.wait_one()? {
                Some(d) => self.learn(d, done),
                None => self.settle(pool, true)?,
            }
            self.settle(pool, false)?;
        }
        if !self.fallback.samples.is_empty() {
            pool.submit(Job::Chunk(std::mem::take(&mut self.fallback)))?;
        }
        Ok(())
    }

    fn learn(&mut self, mut d: Done, done: &mut Vec<Done>) {
        for (id, text) in d.regions.drain(..) {
            self.state.learn(id, text);
        }
        done.push(d);
    }

    /// Resolves waiting repeats; those whose reference text is unusable go to Whisper.
    fn settle(&mut self, pool: &mut Pool, all: bool) -> Result<(), TranscriptionError> {
        for r in self.state.settle(all) {
            if r.retry.is_some() {
                // Alone in its window, so its text cannot run into a neighbour's, and the
                // repeats waiting for it get it as soon as possible.
                let mut alone = Chunk::default();
                alone.add(r.src, &r.samples, r.retry, r.speech);
                pool.submit(Job::Chunk(alone))?;
                continue;
            }
            if !self.fallback.room_for(r.samples.len()) {
                pool.submit(Job::Chunk(std::mem::take(&mut self.fallback)))?;
            }
            self.fallback.add(r.src, &r.samples, None, r.speech);
        }
        if all && !self.fallback.samples.is_empty() {
            pool.submit(Job::Chunk(std::mem::take(&mut self.fallback)))?;
        }
        Ok(())
    }
}
