//! Transcription spread over several Whisper decoding states, one thread each.
//!
//! whisper.cpp scales poorly across threads on one window (measured on 2 cores with OpenBLAS:
//! two single-threaded ingests finish together in 1.25× the time of one two-threaded ingest),
//! so a recording is cut into independent parts (sections at quiet points, or VAD chunks)
//! and each worker transcribes whole parts with one thread. The weights are loaded once and
//! shared. Jobs go through a bounded queue, so decoded audio waiting for a worker stays small.
//! Invariant: results are returned in job order, whatever order the workers finish in.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::media::SAMPLE_RATE;
use crate::transcribe::{RawSegment, TranscribeError, Transcriber};
use crate::vad::Chunk;

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
        let handles = transcribers
            .into_iter()
            .map(|mut t| {
                let job_rx = Arc::clone(&job_rx);
                let res_tx = res_tx.clone();
                let failed = Arc::clone(&failed);
                std::thread::spawn(move || loop {
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
                })
            })
            .collect();
        Ok(Self {
            jobs: Some(job_tx),
            results,
            handles,
            failed,
            submitted: 0,
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
        self.done.iter().map(|d| d.end_ms).max().unwrap_or(0)
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
            self.done.push(r?);
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
    }
}

fn run(t: &mut Transcriber, index: usize, job: Job) -> Result<Done, TranscribeError> {
    let clock = Instant::now();
    let rate = u64::from(SAMPLE_RATE);
    let mut d = Done {
        index,
        ..Done::default()
    };
    match job {
        Job::Section(offset, samples) => {
            let (segments, stats) = t.section(offset, &samples)?;
            d.segments = segments;
            d.windows = stats.windows;
            d.speech_ms = stats.speech_samples * 1000 / rate;
            d.end_ms = (offset + samples.len() as u64) * 1000 / rate;
        }
        Job::Chunk(c) => {
            let r = t.window(&c.samples, 0, false)?;
            d.segments = r
                .segments
                .into_iter()
                .map(|mut s| {
                    s.start_ms = c.to_recording_ms(s.start_ms, false);
                    s.end_ms = c.to_recording_ms(s.end_ms, true).max(s.start_ms);
                    s
                })
                .collect();
            d.windows = 1;
            d.speech_ms = c.speech_samples() as u64 * 1000 / rate;
            d.end_ms = c
                .pieces
                .last()
                .map_or(0, |p| (p.src + p.len as u64) * 1000 / rate);
        }
    }
    d.busy_ms = clock.elapsed().as_millis() as u64;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_split_into_single_threaded_workers_up_to_a_limit() {
        assert_eq!(split_threads(1), (1, 1));
        assert_eq!(split_threads(2), (2, 1));
        assert_eq!(split_threads(4), (4, 1));
        assert_eq!(split_threads(8), (4, 2));
        assert_eq!(split_threads(0), (1, 1));
    }
}
