//! The transcription queue in PostgreSQL (`--catalog postgres://…`): one row per (recording,
//! settings), leased by workers with `FOR UPDATE SKIP LOCKED`, kept by heartbeats; a lease that
//! runs out (its worker died) is taken by the next worker that asks. Invariant: a task's key is
//! a function of the recording hash and the settings, so submitting the same work twice finds
//! the same row — delivery is at least once, the result (deterministic text) is the same.

use std::time::Duration;

use postgres::{Client, NoTls};
use serde::{Deserialize, Serialize};

use super::PlatformError;

/// Times a task is leased before a worker dying on it every time makes it fail.
pub const MAX_ATTEMPTS: i32 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS transcription_tasks (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    recording_sha256 TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'leased', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until TIMESTAMPTZ,
    progress_ms BIGINT NOT NULL DEFAULT 0,
    total_ms BIGINT,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS transcription_tasks_open ON transcription_tasks (id)
    WHERE state IN ('queued', 'leased');
";

/// What a worker needs to do one recording: its hash and the settings that fix the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// SHA-256 of the original (its key in the bucket: `originals/<sha256>`).
    pub recording_sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// The name it was archived under (for messages and the container sniffing of labels).
    pub name: String,
    /// Everything that can change the text (the manifest's `transcription`).
    pub settings: crate::manifest::Settings,
}

impl Request {
    /// The task's key: SHA-256 over the recording hash and the canonical settings.
    pub fn key(&self) -> String {
        let settings = serde_json::to_vec(&self.settings).expect("settings serialise");
        let mut bytes = self.recording_sha256.as_bytes().to_vec();
        bytes.push(b'\n');
        bytes.extend_from_slice(&settings);
        hex::encode(crate::seal::sha256(&bytes))
    }
}

/// A task as its submitter sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// `queued`, `leased`, `done` or `failed`.
    pub state: String,
    /// Audio transcribed so far by the worker holding it (ms).
    pub progress_ms: u64,
    /// The recording's duration, once a worker probed it (ms).
    pub total_ms: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Leases so far.
    pub attempts: i32,
}

/// A task a worker holds.
#[derive(Debug, Clone)]
pub struct Leased {
    /// Row id.
    pub id: i64,
    /// Task key.
    pub key: String,
    /// What to do.
    pub request: Request,
    /// This lease's number (1 for the first).
    pub attempt: i32,
}

/// A connection to the queue.
pub struct Queue {
    client: Client,
}

fn db(what: &str, e: postgres::Error) -> PlatformError {
    PlatformError::Catalog(format!("{what}: {e}"))
}

impl Queue {
    /// Connects and creates the table if needed (under an advisory lock: many processes start
    /// at once).
    pub fn connect(url: &str) -> Result<Self, PlatformError> {
        let mut client = Client::connect(url, NoTls).map_err(|e| {
            let cause = std::error::Error::source(&e)
                .map(|c| format!(" ({c})"))
                .unwrap_or_default();
            PlatformError::Catalog(format!(
                "cannot connect to --catalog {}: {e}{cause}; is PostgreSQL running there?",
                redact(url)
            ))
        })?;
        let mut tx = client.transaction().map_err(|e| db("schema", e))?;
        tx.execute("SELECT pg_advisory_xact_lock(7436018)", &[])
            .map_err(|e| db("schema lock", e))?;
        tx.batch_execute(SCHEMA)
            .map_err(|e| db("creating the queue", e))?;
        tx.commit().map_err(|e| db("schema", e))?;
        Ok(Self { client })
    }

    /// Queues `req` unless its key is already queued, running or done; a failed task is queued
    /// afresh. Returns the key.
    pub fn submit(&mut self, req: &Request) -> Result<String, PlatformError> {
        let key = req.key();
        let body = serde_json::to_string(req).expect("request serialises");
        self.client
            .execute(
                "INSERT INTO transcription_tasks (key, recording_sha256, request) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET state = 'queued', attempts = 0, error = NULL,
                     worker = NULL, lease_until = NULL, progress_ms = 0
                 WHERE transcription_tasks.state = 'failed'",
                &[&key, &req.recording_sha256, &body],
            )
            .map_err(|e| db("queueing a transcription", e))?;
        Ok(key)
    }

    /// The task `key`'s state, if it exists.
    pub fn status(&mut self, key: &str) -> Result<Option<Status>, PlatformError> {
        let row = self
            .client
            .query_opt(
                "SELECT state, progress_ms, total_ms, error, attempts FROM transcription_tasks WHERE key = $1",
                &[&key],
            )
            .map_err(|e| db("reading a task", e))?;
        Ok(row.map(|r| Status {
            state: r.get(0),
            progress_ms: r.get::<_, i64>(1).max(0) as u64,
            total_ms: r.get::<_, Option<i64>>(2).map(|v| v.max(0) as u64),
            error: r.get(3),
            attempts: r.get(4),
        }))
    }

    /// Leases the oldest open task to `worker` for `lease`: a queued one, or one whose lease ran
    /// out (its worker stopped heartbeating). Tasks whose workers died `MAX_ATTEMPTS` times fail.
    pub fn lease(
        &mut self,
        worker: &str,
        lease: Duration,
    ) -> Result<Option<Leased>, PlatformError> {
        self.client
            .execute(
                "UPDATE transcription_tasks SET state = 'failed', finished_at = now(), lease_until = NULL,
                     error = 'no worker finished it: ' || attempts || ' workers stopped while transcribing it'
                 WHERE state = 'leased' AND lease_until < now() AND attempts >= $1",
                &[&MAX_ATTEMPTS],
            )
            .map_err(|e| db("expiring tasks", e))?;
        let secs = lease.as_secs_f64();
        let row = self
            .client
            .query_opt(
                "UPDATE transcription_tasks SET state = 'leased', worker = $1, attempts = attempts + 1,
                     lease_until = now() + make_interval(secs => $2), progress_ms = 0
                 WHERE id = (SELECT id FROM transcription_tasks
                             WHERE state = 'queued' OR (state = 'leased' AND lease_until < now())
                             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING id, key, request, attempts",
                &[&worker, &secs],
            )
            .map_err(|e| db("leasing a task", e))?;
        let Some(r) = row else { return Ok(None) };
        let body: String = r.get(2);
        let request = serde_json::from_str(&body).map_err(|e| {
            PlatformError::Catalog(format!("task {} is unreadable: {e}", r.get::<_, i64>(0)))
        })?;
        Ok(Some(Leased {
            id: r.get(0),
            key: r.get(1),
            request,
            attempt: r.get(3),
        }))
    }

    /// Extends `worker`'s lease on task `id` and records its progress; false when the lease
    /// was lost (it ran out and another worker took the task).
    pub fn heartbeat(
        &mut self,
        id: i64,
        worker: &str,
        lease: Duration,
        progress_ms: u64,
        total_ms: Option<u64>,
    ) -> Result<bool, PlatformError> {
        let n = self
            .client
            .execute(
                "UPDATE transcription_tasks SET lease_until = now() + make_interval(secs => $3),
                     progress_ms = $4, total_ms = COALESCE($5, total_ms)
                 WHERE id = $1 AND worker = $2 AND state = 'leased'",
                &[
                    &id,
                    &worker,
                    &lease.as_secs_f64(),
                    &(progress_ms as i64),
                    &total_ms.map(|t| t as i64),
                ],
            )
            .map_err(|e| db("heartbeat", e))?;
        Ok(n == 1)
    }

    /// Marks task `id` done with `audio_ms` of audio transcribed (its result is in the bucket).
    /// Any worker's result will do: the text is a function of the recording and the settings.
    pub fn finish(&mut self, id: i64, audio_ms: u64) -> Result<(), PlatformError> {
        self.client
            .execute(
                "UPDATE transcription_tasks SET state = 'done', finished_at = now(), lease_until = NULL,
                     progress_ms = $2, total_ms = $2, error = NULL
                 WHERE id = $1 AND state <> 'done'",
                &[&id, &(audio_ms as i64)],
            )
            .map_err(|e| db("finishing a task", e))?;
        Ok(())
    }

    /// Marks task `id` failed for good (bad input, or a worker that cannot do it).
    pub fn fail(&mut self, id: i64, error: &str) -> Result<(), PlatformError> {
        self.client
            .execute(
                "UPDATE transcription_tasks SET state = 'failed', finished_at = now(), lease_until = NULL, error = $2
                 WHERE id = $1 AND state <> 'done'",
                &[&id, &error],
            )
            .map_err(|e| db("failing a task", e))?;
        Ok(())
    }

    /// Marks the finished task `key` failed: its result was refused by the node that sealed it
    /// (so the next submission queues it afresh).
    pub fn refuse(&mut self, key: &str, error: &str) -> Result<(), PlatformError> {
        self.client
            .execute(
                "UPDATE transcription_tasks SET state = 'failed', error = $2 WHERE key = $1",
                &[&key, &error],
            )
            .map_err(|e| db("refusing a result", e))?;
        Ok(())
    }

    /// Gives task `id` back to the queue (a worker shutting down, or one without the model),
    /// not counting the lease as an attempt.
    pub fn release(&mut self, id: i64, worker: &str) -> Result<(), PlatformError> {
        self.client
            .execute(
                "UPDATE transcription_tasks SET state = 'queued', worker = NULL, lease_until = NULL,
                     progress_ms = 0, attempts = GREATEST(attempts - 1, 0)
                 WHERE id = $1 AND worker = $2 AND state = 'leased'",
                &[&id, &worker],
            )
            .map_err(|e| db("releasing a task", e))?;
        Ok(())
    }

    /// Counts tasks by state (for `worker --json` and readiness).
    pub fn counts(&mut self) -> Result<Vec<(String, i64)>, PlatformError> {
        let rows = self
            .client
            .query(
                "SELECT state, count(*) FROM transcription_tasks GROUP BY state ORDER BY state",
                &[],
            )
            .map_err(|e| db("counting tasks", e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

/// One task as `liveproof tasks` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// Task key.
    pub key: String,
    /// The recording.
    pub recording_sha256: String,
    /// Its name.
    pub name: String,
    /// State and progress.
    #[serde(flatten)]
    pub status: Status,
    /// The worker holding (or last holding) it.
    pub worker: Option<String>,
}

impl Queue {
    /// The newest `limit` tasks, optionally of one state.
    pub fn list(&mut self, state: Option<&str>, limit: i64) -> Result<Vec<Listed>, PlatformError> {
        let rows = self
            .client
            .query(
                "SELECT key, recording_sha256, request, state, progress_ms, total_ms, error, attempts, worker
                 FROM transcription_tasks WHERE $1::TEXT IS NULL OR state = $1
                 ORDER BY id DESC LIMIT $2",
                &[&state, &limit],
            )
            .map_err(|e| db("listing tasks", e))?;
        Ok(rows
            .iter()
            .map(|r| Listed {
                key: r.get(0),
                recording_sha256: r.get(1),
                name: serde_json::from_str::<Request>(r.get(2))
                    .map(|q| q.name)
                    .unwrap_or_default(),
                status: Status {
                    state: r.get(3),
                    progress_ms: r.get::<_, i64>(4).max(0) as u64,
                    total_ms: r.get::<_, Option<i64>>(5).map(|v| v.max(0) as u64),
                    error: r.get(6),
                    attempts: r.get(7),
                },
                worker: r.get(8),
            })
            .collect())
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    crate::catalog::describe_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(sha: &str, lang: &str) -> Request {
        Request {
            recording_sha256: sha.into(),
            size: 1,
            name: "a.wav".into(),
            settings: crate::manifest::Settings {
                format: crate::manifest::TRANSCRIPTION_FORMAT.into(),
                model: "base".into(),
                language: lang.into(),
                beam: 1,
                vad: false,
                reuse_repeats: true,
                allow_truncated: false,
            },
        }
    }

    #[test]
    fn a_task_key_follows_the_recording_and_the_settings_not_the_name() {
        let a = req("ab", "zh");
        let mut renamed = a.clone();
        renamed.name = "b.flv".into();
        assert_eq!(a.key(), renamed.key());
        assert_ne!(a.key(), req("ab", "en").key());
        assert_ne!(a.key(), req("ac", "zh").key());
    }

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            redact("postgres://u:secret@h:5/db"),
            "postgres://u:***@h:5/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
