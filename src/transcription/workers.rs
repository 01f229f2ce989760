//! Transcription spread over several Whisper decoding states, one thread each.
//!
//! whisper.cpp gains less from a second thread on one window than from a second window (on 2
//! cores a 30-s encoder pass takes 2.0 s on one thread, 1.35 s on two), so a recording is cut
//! into independent parts (sections at quiet points, or VAD chunks) and each worker transcribes
//! whole parts with one thread. Once no part is left to start, a worker that leaves lends its
//! threads to those still busy ([`SpareThreads`]), so the last part of a recording does not
//! run on one core while the others idle. The weights are loaded once and shared. Jobs go
//! through a bounded queue, so decoded audio waiting for a worker stays small.
//! Invariant: results are returned in job order, whatever order the workers finish in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::media::SAMPLE_RATE;
use crate::transcription::voice::Chunk;
use crate::transcription::whisper::{RawSegment, SpareThreads, TranscribeError, Transcriber};

/// Most workers: each holds a decoding state (tens of MB for base).
const MAX_WORKERS: usize = 4;

/// A part of the recording to transcribe.
pub enum Job {
    /// A stretch of the recording: first sample's index, samples.
    Section(u64, Vec<f32>),
    /// Packed speech from the voice detector, mapped back to the recording.
    Chunk(Chunk),
}

/// A transcribed part.
#[derive(Debug, Default)]
pub struct Done {
    /// Position of the job in submission order.
    pub index: usize,
    /// Segments, in recording time.
    pub segments: Vec<RawSegment>,
    /// End of the part in the recording (ms), for progress.
    pub end_ms: u64,
    /// Windows Whisper processed.
    pub windows: u64,
    /// Audio sent to Whisper (ms).
    pub speech_ms: u64,
    /// Time the worker spent on it (ms).
    pub busy_ms: u64,
    /// For each region with a repeat id (VAD chunks): its own segments, or `None` when a
    /// segment ran across its edges.
    pub regions: Vec<(usize, Option<Vec<RawSegment>>)>,
    /// Speech that yielded no text (VAD chunks, after the coverage audit).
    pub gaps: Vec<crate::transcription::coverage::RawGap>,
    /// Voice-active audio of VAD chunks (ms).
    pub voice_ms: u64,
    /// Of it, covered by segments (ms).
    pub covered_ms: u64,
    /// Regions decoded again alone by the coverage audit.
    pub redecoded: u64,
    /// What whisper.cpp spent on it.
    pub engine: crate::transcription::whisper::EngineCounters,
}

/// How `threads` are split: (workers, threads per worker).
pub fn split_threads(threads: usize) -> (usize, usize) {
    let workers = threads.clamp(1, MAX_WORKERS);
    (workers, (threads / workers).max(1))
}

/// A set of workers transcribing jobs in parallel.
pub struct Pool {
    jobs: Option<SyncSender<(usize, Job)>>,
    results: Receiver<Result<Done, TranscribeError>>,
    handles: Vec<JoinHandle<()>>,
    failed: Arc<AtomicBool>,
    submitted: usize,
    returned: usize,
    furthest_ms: u64,
    done: Vec<Done>,
}

impl Pool {
    /// Starts workers for `threads` threads; `first` becomes one of them, the others share
    /// its weights.
    pub fn start(mut first: Transcriber, threads: usize) -> Result<Self, TranscribeError> {
        let (workers, per_worker) = split_threads(threads);
        first.set_threads(per_worker);
        let mut transcribers = Vec::with_capacity(workers);
        for _ in 1..workers {
            transcribers.push(first.fork(per_worker)?);
        }
        transcribers.push(first);
        let (job_tx, job_rx) = mpsc::sync_channel::<(usize, Job)>(workers);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (res_tx, results) = mpsc::channel();
        let failed = Arc::new(AtomicBool::new(false));
        // A worker that finds the queue closed and empty leaves, lending its threads to those
        // still on a part (the last parts of a recording otherwise run on one core each while
        // the others idle). Only then: a worker merely waiting for the next part keeps its
        // threads, so cores are never oversubscribed while parts keep coming.
        let spare = Arc::new(SpareThreads::new(workers));
        let handles = transcribers
            .into_iter()
            .map(|mut t| {
                let job_rx = Arc::clone(&job_rx);
                let res_tx = res_tx.clone();
                let failed = Arc::clone(&failed);
                let spare = Arc::clone(&spare);
                t.borrow_from(Arc::clone(&spare));
                std::thread::spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job.
                        let next = job_rx.lock().map(|rx| rx.recv());
                        let Ok(Ok((index, job))) = next else { break };
                        if failed.load(Ordering::Relaxed) {
                            continue; // drain: an earlier job failed, the ingest is ending
                        }
                        let r = run(&mut t, index, job);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        if res_tx.send(r).is_err() {
                            break;
                        }
                    }
                    spare.leave(per_worker);
                })
            })
            .collect();
        Ok(Self {
            jobs: Some(job_tx),
            results,
            handles,
            failed,
            submitted: 0,
            returned: 0,
            furthest_ms: 0,
            done: Vec::new(),
        })
    }

    /// Queues a job (waits while every worker is busy and the queue is full). Returns the
    /// first failure of any worker.
    pub fn submit(&mut self, job: Job) -> Result<(), TranscribeError> {
        self.collect()?;
        let index = self.submitted;
        self.submitted += 1;
        let sent = self.jobs.as_ref().map(|tx| tx.send((index, job)));
        if !matches!(sent, Some(Ok(()))) || self.failed.load(Ordering::Relaxed) {
            // Workers have stopped: the reason is in the results.
            self.wait_all()?;
        }
        Ok(())
    }

    /// End (ms) of the furthest part transcribed so far.
    pub fn progress_ms(&self) -> u64 {
        self.furthest_ms
    }

    /// The results that came back since the last call, without waiting (any order).
    pub fn take_done(&mut self) -> Result<Vec<Done>, TranscribeError> {
        self.collect()?;
        Ok(std::mem::take(&mut self.done))
    }

    /// Waits for the next result; `None` when no job is outstanding.
    pub fn wait_one(&mut self) -> Result<Option<Done>, TranscribeError> {
        if self.returned == self.submitted {
            return Ok(None);
        }
        match self.results.recv() {
            Ok(r) => {
                let d = r?;
                self.returned += 1;
                self.furthest_ms = self.furthest_ms.max(d.end_ms);
                Ok(Some(d))
            }
            // Every worker is gone: the failure is in the results already read, or they
            // panicked.
            Err(_) => {
                self.wait_all()?;
                Ok(None)
            }
        }
    }

    /// Waits for every job; the results in submission order.
    pub fn finish(mut self) -> Result<Vec<Done>, TranscribeError> {
        self.wait_all()?;
        let mut done = std::mem::take(&mut self.done);
        done.sort_by_key(|d| d.index);
        Ok(done)
    }

    /// Takes finished results without waiting; the first failure, if any.
    fn collect(&mut self) -> Result<(), TranscribeError> {
        while let Ok(r) = self.results.try_recv() {
            let d = r?;
            self.returned += 1;
            self.furthest_ms = self.furthest_ms.max(d.end_ms);
            self.done.push(d);
        }
        Ok(())
    }

    fn wait_all(&mut self) -> Result<(), TranscribeError> {
        self.jobs = None; // workers leave their loop once the queue is empty
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        let mut first_err = None;
        while let Ok(r) = self.results.try_recv() {
            match r {
                Ok(d) => self.done.push(d),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.failed.store(true, Ordering::Relaxed);
        self.jobs = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
        // The workers' states are gone; what whisper.cpp kept of them for reuse goes too.
        super::whisper::release_kept_buffers();
    }
}

fn run(t: &mut Transcriber, index: usize, job: Job) -> Result<Done, TranscribeError> {
    let clock = Instant::now();
    let before = t.engine_counters();
    let rate = u64::from(SAMPLE_RATE);
    let mut d = Done {
        index,
        ..Done::default()
    };
    match job {
        Job::Section(offset, samples) => {
            let end = offset + samples.len() as u64;
            let (segments, stats) = t.section(offset, samples)?;
            d.segments = segments;
            d.windows = stats.windows;
            d.gaps = stats.gaps;
            d.voice_ms = stats.voice_ms;
            d.covered_ms = stats.covered_ms;
            d.redecoded = stats.redecoded;
            d.speech_ms = stats.speech_samples * 1000 / rate;
            d.end_ms = end * 1000 / rate;
        }
        Job::Chunk(c) => {
            let r = t.window(&c.samples, 0, false)?;
            // A chunk that sounds like both Mandarin and English has each region decoded in
            // its own language (one decoder step to ask).
            let mixed =
                c.pieces.len() > 1 && t.zh_en_mix()? >= crate::transcription::coverage::MIXED;
            let (mapped, mut regions) = region_texts(&c, &r.segments);
            // Regions the chunk's decoding left without text are decoded again alone.
            let mut audit =
                crate::transcription::coverage::audit(&c, &r.segments, mixed, |samples, ask| {
                    t.decode_for_audit(samples, ask)
                })?;
            d.segments = audit.apply(mapped);
            for (k, text) in audit.redone {
                if let Some(id) = c.pieces[k].id {
                    if let Some(entry) = regions.iter_mut().find(|(i, _)| *i == id) {
                        // A reference that became a gap gives its repeats nothing to reuse:
                        // they are transcribed themselves.
                        entry.1 = text.filter(|t| !t.is_empty());
                    }
                }
            }
            d.regions = regions;
            d.gaps = audit.gaps;
            d.voice_ms = audit.voice_ms;
            d.covered_ms = audit.covered_ms;
            d.redecoded = audit.redecoded;
            d.windows = 1 + audit.redecoded;
            d.speech_ms = c.speech_samples() as u64 * 1000 / rate;
            d.end_ms = c
                .pieces
                .last()
                .map_or(0, |p| (p.src + p.len as u64) * 1000 / rate);
        }
    }
    d.busy_ms = clock.elapsed().as_millis() as u64;
    d.engine = t.engine_counters().since(&before);
    Ok(d)
}

/// Maps a chunk's segments back to the recording, each within the region whose speech it
/// overlaps most (Whisper often starts a segment in the silence before it; the pieces of a
/// chunk may lie far apart in the recording, so a segment never spans two of them), and each
/// identified region's own segments, or `None` when one segment covers more than `CROSS_MS`
/// of the speech of two regions (its text cannot be told apart from a neighbour's).
#[allow(clippy::type_complexity)]
fn region_texts(
    c: &Chunk,
    segments: &[RawSegment],
) -> (Vec<RawSegment>, Vec<(usize, Option<Vec<RawSegment>>)>) {
    const CROSS_MS: u64 = 200;
    let ms = |samples: usize| samples as u64 * 1000 / u64::from(SAMPLE_RATE);
    let overlap =
        |s: &RawSegment, (a, b): (u64, u64)| s.end_ms.min(b).saturating_sub(s.start_ms.max(a));
    let speech: Vec<(u64, u64)> = c
        .pieces
        .iter()
        .map(|p| (ms(p.at + p.speech.0), ms(p.at + p.speech.1)))
        .collect();
    let whole: Vec<(u64, u64)> = c
        .pieces
        .iter()
        .map(|p| (ms(p.at), ms(p.at + p.len)))
        .collect();
    let best = |s: &RawSegment, spans: &[(u64, u64)]| {
        (0..spans.len())
            .max_by_key(|&k| overlap(s, spans[k]))
            .filter(|&k| overlap(s, spans[k]) > 0)
    };
    // A segment may run over the silence between two packed regions: up to 10 s (regions
    // further apart are never packed together, except repeats sent to Whisper together).
    const MAX_SPREAD_MS: u64 = 10_000;
    let mut mapped = Vec::with_capacity(segments.len());
    let mut owned = Vec::with_capacity(segments.len());
    let mut owners = Vec::with_capacity(segments.len());
    for s in segments {
        let k = best(s, &speech).or_else(|| best(s, &whole)).unwrap_or(0);
        let crosses = speech
            .iter()
            .filter(|&&sp| overlap(s, sp) > CROSS_MS)
            .count()
            > 1;
        owners.push((k, crosses));
        let Some(&(from, to)) = whole.get(k) else {
            continue;
        };
        let start = c.to_recording_ms(s.start_ms.clamp(from, to), false);
        let own = RawSegment {
            start_ms: start,
            end_ms: c.to_recording_ms(s.end_ms.clamp(from, to), true).max(start),
            ..s.clone()
        };
        // Across neighbouring regions a segment keeps both ends; across regions far apart
        // (repeats transcribed together) it stays within its own.
        let (a, b) = (
            c.to_recording_ms(s.start_ms, false),
            c.to_recording_ms(s.end_ms, true),
        );
        let spread = b.saturating_sub(a);
        mapped.push(
            if b >= a && spread <= s.end_ms - s.start_ms + MAX_SPREAD_MS {
                RawSegment {
                    start_ms: a,
                    end_ms: b,
                    ..s.clone()
                }
            } else {
                own.clone()
            },
        );
        owned.push(own);
    }
    let regions = c
        .pieces
        .iter()
        .enumerate()
        .filter_map(|(k, p)| {
            let id = p.id?;
            let crossed = segments
                .iter()
                .zip(&owners)
                .any(|(s, o)| o.1 && overlap(s, speech[k]) > CROSS_MS);
            let text = (!crossed).then(|| {
                owned
                    .iter()
                    .zip(&owners)
                    .filter(|(_, o)| o.0 == k)
                    .map(|(s, _)| s.clone())
                    .collect()
            });
            Some((id, text))
        })
        .collect();
    (mapped, regions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_text_is_kept_only_when_no_segment_runs_across_two_regions() {
        let seg = RawSegment::mandarin_for_tests;
        // Two 4-s regions (speech 0.5..3.5 s in each), recorded at 100 s and 200 s.
        let mut c = Chunk::default();
        c.add(1_600_000, &vec![0.1; 64_000], Some(7), (8_000, 56_000));
        c.add(3_200_000, &vec![0.1; 64_000], Some(8), (8_000, 56_000));
        // The second segment starts in the first region's trailing padding: still region 8's.
        let segs = [seg(300, 3_500, "第一句"), seg(3_800, 7_900, "第二句")];
        let (mapped, texts) = region_texts(&c, &segs);
        assert_eq!(mapped.len(), 2);
        assert_eq!(texts[0].0, 7);
        assert_eq!(texts[0].1, Some(vec![seg(100_300, 103_500, "第一句")]));
        // Clamped to the region's start (4.3 s in the chunk), then mapped to 200 s.
        assert_eq!(texts[1].1, Some(vec![seg(200_000, 203_600, "第二句")]));
        // One segment over the speech of both: neither text can be told apart.
        let (mapped, texts) = region_texts(&c, &[seg(300, 7_900, "第一句第二句")]);
        // The regions are 100 s apart: the segment stays within the one it covers most.
        assert!(mapped[0].end_ms - mapped[0].start_ms <= 4_000, "{mapped:?}");
        assert_eq!(texts, vec![(7, None), (8, None)]);
    }

    #[test]
    fn threads_are_split_into_single_threaded_workers_up_to_a_limit() {
        assert_eq!(split_threads(1), (1, 1));
        assert_eq!(split_threads(2), (2, 1));
        assert_eq!(split_threads(4), (4, 1));
        assert_eq!(split_threads(8), (4, 2));
        assert_eq!(split_threads(0), (1, 1));
    }
}
