//! Attacks on the server and the CLI, each from the hardening issue: huge offsets, zip bombs,
//! polyglot bundles, verify floods, slow bodies, tenants crossing boundaries, bad uploads,
//! non-JSON errors, leftovers after a kill, bad evidence ranges and outputs, token lifetimes,
//! and schemathesis against the live server.

mod common;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use common::server::*;
use common::*;
use serde_json::Value;

/// `liveproof evidence ID --from 0 --to 5 -o OUT`.
fn export_0_5(data: &Path, id: &str, out: &Path) -> (std::process::Output, Option<Value>) {
    run(
        data,
        &[
            "evidence",
            id,
            "--from",
            "0",
            "--to",
            "5",
            "-o",
            out.to_str().unwrap(),
        ],
    )
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

/// Peak resident memory of a process, in bytes.
fn peak_rss(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

fn wait_job(base: &str, job: i64, token: &str) -> Value {
    for _ in 0..3000 {
        let (s, body) = get(base, &format!("/api/jobs/{job}"), Some(token));
        assert_eq!(s, 200);
        let j = json(&body);
        if j["status"] == "done" || j["status"] == "failed" {
            return j;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("job {job} never finished");
}

fn upload(base: &str, token: &str, query: &str, bytes: &[u8]) -> (u16, Value) {
    post(base, &format!("/api/uploads?{query}"), Some(token), bytes)
}

/// A session of the JFK clip, archived by the CLI.
fn jfk_session(data: &Path, meta: Option<&str>) -> String {
    require_model("tiny.en");
    let mut extra = vec!["--model", "tiny.en"];
    let meta_path = data.with_extension("meta.json");
    if let Some(m) = meta {
        std::fs::write(&meta_path, m).unwrap();
        extra.extend(["--meta", meta_path.to_str().unwrap()]);
    }
    ingest(data, &fixture("jfk.wav"), &extra)["session"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_huge_offset_is_refused_and_the_server_lives_on() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    jfk_session(&data, None);
    for offset in ["10000000000", "9801", "18446744073709551615"] {
        let (o, _) = run(&data, &["search", "the", "--offset", offset]);
        assert_eq!(o.status.code(), Some(2), "--offset {offset}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("offset"));
    }
    let (o, _) = run(&data, &["search", "the", "--limit", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let consumer = token(&data, "consumer", None);
    let admin = token(&data, "admin", None);
    let srv = start(&data, &[]);
    for q in [
        "offset=3000000000",
        "offset=9223372036854775807",
        "offset=99999999999999999999999",
        "offset=-1",
        "limit=0",
        "limit=201",
        "limit=18446744073709551615",
    ] {
        for t in [&consumer, &admin] {
            let (status, body) = get(&srv.1, &format!("/api/search?q=%E7%9A%84&{q}"), Some(t));
            assert_eq!(status, 400, "{q}: {}", String::from_utf8_lossy(&body));
            assert_eq!(json(&body)["error"]["status"], 400);
        }
    }
    // The deepest allowed page works, and the server is still there.
    let (status, _) = get(
        &srv.1,
        "/api/search?q=the&offset=9800&limit=200",
        Some(&admin),
    );
    assert_eq!(status, 200);
    assert_eq!(get(&srv.1, "/api/health", None).0, 200);
}

/// A 67-KB zip whose 32 central entries all point at one 64 MiB deflated member.
fn overlapping_bomb() -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(
        "m00.json",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..64 {
        z.write_all(&zeros).unwrap();
    }
    let bytes = z.finish().unwrap().into_inner();
    let n = bytes.len();
    let cd_size = u32::from_le_bytes(bytes[n - 10..n - 6].try_into().unwrap()) as usize;
    let cd_offset = u32::from_le_bytes(bytes[n - 6..n - 2].try_into().unwrap()) as usize;
    let entry = &bytes[cd_offset..cd_offset + cd_size];
    let mut out = bytes[..cd_offset].to_vec();
    for i in 0..32 {
        let mut e = entry.to_vec();
        let name = format!("m{i:02}.json");
        e[46..46 + 8].copy_from_slice(name.as_bytes());
        out.extend_from_slice(&e);
    }
    let mut end = bytes[n - 22..].to_vec();
    end[8..10].copy_from_slice(&32u16.to_le_bytes());
    end[10..12].copy_from_slice(&32u16.to_le_bytes());
    end[12..16].copy_from_slice(&((32 * cd_size) as u32).to_le_bytes());
    out.extend_from_slice(&end);
    out
}

#[test]
fn overlapping_entries_are_refused_with_the_servers_memory_bounded() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let bomb = overlapping_bomb();
    assert!(bomb.len() < 100 << 10, "{} bytes", bomb.len());
    let p = d.path().join("bomb.zip");
    std::fs::write(&p, &bomb).unwrap();
    let (o, v) = run(&data, &["verify", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5));
    let detail = v.unwrap()["checks"][0]["detail"].to_string();
    assert!(
        ["disagree", "overlap", "inflation limit"]
            .iter()
            .any(|w| detail.contains(w)),
        "{detail}"
    );

    let srv = start(&data, &["--verify-concurrency", "3"]);
    let pid = srv.0.id();
    let before = peak_rss(pid);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..3)
            .map(|_| s.spawn(|| post(&srv.1, "/api/verify", None, &bomb)))
            .collect();
        for h in hs {
            let (status, v) = h.join().unwrap();
            assert_eq!(status, 200, "{v}");
            assert_eq!(v["ok"], false);
            assert!(!v.to_string().contains("/tmp"), "no server paths: {v}");
        }
    });
    let after = peak_rss(pid);
    // Three bombs at once used to take 6.2 GiB; reading nothing of them takes next to nothing.
    assert!(
        after < before + (64 << 20),
        "peak RSS grew from {before} to {after} bytes"
    );
}

/// A real bundle, with a second zip (forged report) appended and hidden in the first one's
/// end-record comment: the trick that made other zip readers see other files.
#[test]
fn a_bundle_hiding_a_second_zip_is_refused_by_cli_and_api() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let id = jfk_session(&data, None);
    let real = d.path().join("real.zip");
    let (o, _) = export_0_5(&data, &id, &real);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut bytes = std::fs::read(&real).unwrap();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file("report.html", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(b"<h1>this cream won the Nobel prize</h1>")
        .unwrap();
    let forged = z.finish().unwrap().into_inner();
    let n = bytes.len();
    bytes[n - 2..].copy_from_slice(&(forged.len() as u16).to_le_bytes());
    bytes.extend_from_slice(&forged);
    let poly = d.path().join("poly.zip");
    std::fs::write(&poly, &bytes).unwrap();
    // Python's zipfile, like unzip, reads the last end record: the forged report.
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read('report.html')[:40])",
        ])
        .arg(&poly)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&py.stdout).contains("Nobel"));
    let (o, v) = run(&data, &["verify", poly.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(v.unwrap()["ok"], false);
    // Appended bytes without the comment trick are refused too; the real bundle still passes.
    let mut appended = std::fs::read(&real).unwrap();
    appended.extend_from_slice(&forged);
    let app = d.path().join("appended.zip");
    std::fs::write(&app, &appended).unwrap();
    assert_eq!(
        run(&data, &["verify", app.to_str().unwrap()])
            .0
            .status
            .code(),
        Some(5)
    );
    assert!(run(&data, &["verify", real.to_str().unwrap()])
        .0
        .status
        .success());
    let srv = start(&data, &[]);
    let (status, v) = post(&srv.1, "/api/verify", None, &bytes);
    assert_eq!((status, &v["ok"]), (200, &Value::Bool(false)), "{v}");
    let detail = v["checks"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("not a bundle zip"), "{detail}");
    let (status, v) = post(&srv.1, "/api/verify", None, &std::fs::read(&real).unwrap());
    assert_eq!((status, &v["ok"]), (200, &Value::Bool(true)), "{v}");
}

/// Opens a connection that sends a request head and only part of its body.
fn half_sent(base: &str, path: &str, declared: usize) -> std::net::TcpStream {
    let mut s = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/zip\r\nContent-Length: {declared}\r\n\r\nPK"
    )
    .unwrap();
    s.flush().unwrap();
    s
}

#[test]
fn verify_limits_answer_400_408_413_and_429_as_json() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let srv = start(
        &data,
        &[
            "--max-verify-mib",
            "1",
            "--verify-concurrency",
            "1",
            "--verify-rate-limit",
            "1000",
            "--body-timeout-secs",
            "2",
        ],
    );
    // No body.
    let (status, v) = post(&srv.1, "/api/verify", None, b"");
    assert_eq!(status, 400, "{v}");
    // Too large: refused while it streams in.
    let (status, v) = post(&srv.1, "/api/verify", None, &vec![0u8; 2 << 20]);
    assert!(status == 413 || status == 0, "{status} {v}");
    // One verification runs and one waits; a third is refused at once.
    let a = half_sent(&srv.1, "/api/verify", 1000);
    let b = half_sent(&srv.1, "/api/verify", 1000);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, v) = post(&srv.1, "/api/verify", None, b"PK");
    assert_eq!(status, 429, "{v}");
    assert_eq!(v["error"]["code"], "rate_limited");
    // The half-sent bodies time out with a JSON 408.
    for mut s in [a, b] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut out = String::new();
        let mut buf = [0u8; 4096];
        while !out.contains("}}") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
            }
        }
        assert!(out.starts_with("HTTP/1.1 408"), "{out}");
        assert!(out.contains("\"body_timeout\""), "{out}");
    }
    // Admission is given back: verification works again.
    let (status, v) = post(&srv.1, "/api/verify", None, b"PK");
    assert_eq!(status, 200, "{v}");
    assert!(
        !v.to_string().contains(&*data.to_string_lossy()),
        "no server paths: {v}"
    );
    assert!(!v.to_string().contains("/tmp"), "no server paths: {v}");
    drop(srv);
    // Per-address rate.
    let srv = start(&data, &["--verify-rate-limit", "3"]);
    let statuses: Vec<u16> = (0..5)
        .map(|_| post(&srv.1, "/api/verify", None, b"PK").0)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    // Nothing spooled is left behind.
    let spool = data.join("spool");
    assert!(
        !spool.exists() || std::fs::read_dir(&spool).unwrap().count() == 0,
        "spooled bundles are removed"
    );
}

#[test]
fn tenants_write_only_their_own_space_and_never_see_each_other() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // The archive operator's session of the JFK clip, for taobao.
    let theirs = jfk_session(&data, Some(r#"{"platform":"taobao","room":"secret-room"}"#));
    let douyin = token(&data, "platform", Some("douyin"));
    let taobao = token(&data, "platform", Some("taobao"));
    let alice = token(&data, "consumer", None);
    let bob = token(&data, "consumer", None);
    let srv = start(&data, &[]);
    let bytes = std::fs::read(fixture("jfk.wav")).unwrap();

    // A douyin token cannot write into taobao's space...
    let meta = "%7B%22platform%22%3A%22taobao%22%7D";
    let (status, v) = upload(
        &srv.1,
        &douyin,
        &format!("name=a.wav&lang=en&meta={meta}"),
        &bytes,
    );
    assert_eq!(status, 403, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("douyin"));
    // ...and its upload without a platform lands in its own.
    let (status, v) = upload(&srv.1, &douyin, "name=a.wav&lang=en", &bytes);
    assert_eq!(status, 202, "{v}");
    let j = wait_job(&srv.1, v["job"].as_i64().unwrap(), &douyin);
    assert_eq!(j["status"], "done", "{j}");
    let mine = j["session"].as_str().unwrap().to_string();
    assert_ne!(mine, theirs, "same bytes, another owner: another session");
    let (status, body) = get(&srv.1, &format!("/api/sessions/{mine}"), Some(&douyin));
    assert_eq!(status, 200);
    let m = json(&body);
    assert_eq!(m["metadata"]["platform"], "douyin");
    assert!(!body.windows(11).any(|w| w == b"secret-room"));
    assert_eq!(
        get(&srv.1, &format!("/api/sessions/{theirs}"), Some(&douyin)).0,
        404
    );
    assert_eq!(
        get(&srv.1, &format!("/api/sessions/{mine}"), Some(&taobao)).0,
        404
    );

    // A consumer uploading the same bytes gets a session of their own and nothing of others'.
    let (status, v) = upload(&srv.1, &alice, "name=mine.wav&lang=en", &bytes);
    assert_eq!(status, 202, "{v}");
    let j = wait_job(&srv.1, v["job"].as_i64().unwrap(), &alice);
    let alices = j["session"].as_str().unwrap().to_string();
    assert!(alices != theirs && alices != mine);
    for other in [&theirs, &mine] {
        for route in [
            "",
            "/transcript",
            "/report",
            "/media",
            "/evidence?from=0&to=5",
        ] {
            let (status, _) = get(
                &srv.1,
                &format!("/api/sessions/{other}{route}"),
                Some(&alice),
            );
            assert_eq!(status, 404, "alice reads {other}{route}");
        }
    }
    let (_, body) = get(&srv.1, &format!("/api/sessions/{alices}"), Some(&alice));
    let m = json(&body);
    assert!(
        m["metadata"].is_null(),
        "alice's session has her metadata: {m}"
    );
    // Platforms do not see consumers' sessions, whatever the consumer's sidecar says.
    let (status, v) = upload(
        &srv.1,
        &bob,
        &format!(
            "name=b.wav&lang=en&meta={}",
            "%7B%22platform%22%3A%22douyin%22%7D"
        ),
        &bytes,
    );
    assert_eq!(status, 202, "{v}");
    let j = wait_job(&srv.1, v["job"].as_i64().unwrap(), &bob);
    let bobs = j["session"].as_str().unwrap().to_string();
    assert_eq!(
        get(&srv.1, &format!("/api/sessions/{bobs}"), Some(&douyin)).0,
        404
    );

    // Search: totals count only what the caller may read, whatever the page size.
    for (who, expect) in [(&alice, 1u64), (&bob, 1), (&douyin, 1), (&taobao, 1)] {
        let mut totals = Vec::new();
        for limit in [1, 20] {
            let (status, body) = get(
                &srv.1,
                &format!("/api/search?q=americans&limit={limit}"),
                Some(who),
            );
            assert_eq!(status, 200);
            let r = json(&body);
            totals.push(r["total"].as_u64().unwrap());
        }
        assert_eq!(totals, [expect, expect]);
    }
    let admin = token(&data, "admin", None);
    let (_, body) = get(&srv.1, "/api/search?q=americans&limit=1", Some(&admin));
    assert_eq!(json(&body)["total"], 4, "four sessions of the same bytes");
    let (_, body) = get(&srv.1, "/api/sessions", Some(&alice));
    let listed: Vec<String> = json(&body)["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, vec![alices]);
}

#[test]
fn bad_uploads_are_refused_at_once_and_errors_never_show_server_paths() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let consumer = token(&data, "consumer", None);
    let srv = start(&data, &[]);
    let long = "a".repeat(300);
    for q in [
        "name=..".to_string(),
        "name=".to_string(),
        "name=%2F".to_string(),
        "name=a%2Fb.wav".to_string(),
        format!("name={long}"),
        "name=a%00b.wav".to_string(),
        "name=x.wav&lang=klingon".to_string(),
        "name=x.wav&lang=English".to_string(),
        "name=x.wav&meta=%7Bnot%20json".to_string(),
        "lang=en".to_string(),
    ] {
        let (status, v) = upload(&srv.1, &consumer, &q, b"RIFF....WAVE");
        assert_eq!(status, 400, "{q}: {v}");
        assert_eq!(v["error"]["status"], 400, "{q}");
    }
    assert_eq!(
        jobs_count(&data),
        0,
        "no job was queued for a refused upload"
    );
    // A job that fails names the upload, not the server's files.
    let noise: Vec<u8> = (0..48_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let (status, v) = upload(&srv.1, &consumer, "name=noise.wav&lang=en", &noise);
    assert_eq!(status, 202, "{v}");
    let j = wait_job(&srv.1, v["job"].as_i64().unwrap(), &consumer);
    assert_eq!(j["status"], "failed");
    let e = j["error"].as_str().unwrap();
    assert!(e.contains("noise.wav"), "{e}");
    for leak in [
        data.to_string_lossy().as_ref(),
        "/uploads/",
        "/tmp/",
        ".tmp",
    ] {
        assert!(!e.contains(leak), "{e} shows {leak}");
    }
    let (_, v) = post(&srv.1, "/api/verify", None, b"not a zip at all");
    assert!(
        !v.to_string().contains("/tmp") && !v.to_string().contains(".tmp"),
        "{v}"
    );
}

fn jobs_count(data: &Path) -> i64 {
    let c = rusqlite::Connection::open(data.join("catalog.sqlite")).unwrap();
    c.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))
        .unwrap_or(0)
}

#[test]
fn every_error_is_json_and_wrong_methods_get_405() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let admin = token(&data, "admin", None);
    let srv = start(&data, &[]);
    let auth = format!("Authorization: Bearer {admin}\r\n");
    for (req, status) in [
        (format!("GET /api/search?q=a&offset=abc HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"), 400),
        (format!("GET /api/search?limit=5 HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"), 400),
        (format!("GET /api/jobs/abc HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"), 400),
        (format!("GET /api/sessions/x/report?interval=0 HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"), 400),
        (format!("GET /api/sessions/x/report?interval=-5 HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"), 400),
        ("TRACE /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(), 405),
        ("DELETE /api/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(), 405),
        ("PUT /api/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(), 405),
        ("POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(), 400),
        ("GET /api/nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(), 404),
        ("GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_string(), 404),
    ] {
        let resp = raw(&srv.1, &req);
        let code: u16 = resp.split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(code, status, "{}: {resp}", req.lines().next().unwrap());
        let lower = resp.to_lowercase();
        assert!(lower.contains("content-type: application/json"), "{resp}");
        let body = &resp[resp.find("\r\n\r\n").unwrap() + 4..];
        let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{resp}"));
        assert_eq!(v["error"]["status"], status);
        if status == 405 {
            assert!(lower.contains("\r\nallow: "), "{resp}");
        }
    }
}

#[test]
fn start_up_removes_orphaned_uploads_and_spooled_bundles() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    run(&data, &["sessions"]);
    let uploads = data.join("uploads");
    let spool = data.join("spool");
    std::fs::create_dir_all(&uploads).unwrap();
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(uploads.join("upload-orphan"), b"half an upload").unwrap();
    std::fs::create_dir_all(uploads.join(".tmpWORK")).unwrap();
    std::fs::write(spool.join("verify-orphan"), b"PK").unwrap();
    let srv = start(&data, &[]);
    assert!(!uploads.join("upload-orphan").exists());
    assert!(!uploads.join(".tmpWORK").exists());
    assert!(!spool.join("verify-orphan").exists());
    drop(srv);
}

#[test]
fn evidence_refuses_bad_ranges_with_exit_2_and_never_replaces_a_non_file() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let id = jfk_session(&data, None);
    let out = d.path().join("b.zip");
    let o = out.to_str().unwrap();
    for (from, to) in [
        ("5", "2"),
        ("3", "3"),
        ("60", "70"),
        ("0", "99999999999999999999"),
        ("0", "1e3"),
        ("-1", "5"),
        ("0", "inf"),
    ] {
        let (res, _) = run(
            &data,
            &["evidence", &id, "--from", from, "--to", to, "-o", o],
        );
        assert_eq!(
            res.status.code(),
            Some(2),
            "{from}..{to}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
        assert!(!out.exists());
    }
    // A FIFO and a directory stay what they are.
    let fifo = d.path().join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let dir = d.path().join("adir");
    std::fs::create_dir(&dir).unwrap();
    for target in [&fifo, &dir] {
        let (res, _) = export_0_5(&data, &id, target);
        assert!(!res.status.success());
        assert!(String::from_utf8_lossy(&res.stderr).contains("not a regular file"));
    }
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(dir.is_dir());
    // An existing regular file is replaced.
    std::fs::write(&out, b"old").unwrap();
    let (res, _) = export_0_5(&data, &id, &out);
    assert!(res.status.success());
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK"));
}

use std::os::unix::fs::FileTypeExt;

#[test]
fn tokens_expire_and_revoke_and_query_tokens_work_only_for_media() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let id = jfk_session(&data, None);
    let (o, v) = run(
        &data,
        &["token", "create", "--role", "auditor", "--expires", "2s"],
    );
    assert!(o.status.success());
    let short = v.unwrap();
    assert!(short["expires_at"].is_string());
    let keep = token(&data, "auditor", None);
    let gone = token(&data, "admin", None);
    let srv = start(&data, &[]);
    let short_t = short["token"].as_str().unwrap();
    assert_eq!(get(&srv.1, "/api/sessions", Some(short_t)).0, 200);
    // Revoked by its secret: 401 from then on.
    let (o, _) = run(&data, &["token", "revoke", &gone]);
    assert!(o.status.success());
    assert_eq!(get(&srv.1, "/api/sessions", Some(&gone)).0, 401);
    // Expired.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(get(&srv.1, "/api/sessions", Some(short_t)).0, 401);
    assert_eq!(get(&srv.1, "/api/sessions", Some(&keep)).0, 200);
    let (_, v) = run(&data, &["token", "list"]);
    let statuses: Vec<String> = v.unwrap()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["expired", "active", "revoked"]);
    let (o, _) = run(&data, &["token", "list"]);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains(&keep[3..]),
        "no secrets listed"
    );
    // Revoked by id too; an unknown one is a usage error.
    let (o, _) = run(&data, &["token", "revoke", "2"]);
    assert!(o.status.success());
    assert_eq!(get(&srv.1, "/api/sessions", Some(&keep)).0, 401);
    assert_eq!(
        run(&data, &["token", "revoke", "999"]).0.status.code(),
        Some(3)
    );
    assert_eq!(
        run(
            &data,
            &["token", "create", "--role", "auditor", "--expires", "soon"]
        )
        .0
        .status
        .code(),
        Some(3)
    );
    // `access_token` in the query string: media only.
    let admin = token(&data, "admin", None);
    let q = format!("access_token={admin}");
    assert_eq!(
        get(&srv.1, &format!("/api/sessions/{id}/media?{q}"), None).0,
        200
    );
    for path in [
        format!("/api/sessions?{q}"),
        format!("/api/sessions/{id}?{q}"),
        format!("/api/sessions/{id}/transcript?{q}"),
        format!("/api/search?q=the&{q}"),
    ] {
        assert_eq!(get(&srv.1, &path, None).0, 401, "{path}");
    }
}

/// schemathesis from the venv `scripts/test.sh` makes (or `LIVEPROOF_SCHEMATHESIS`).
fn schemathesis() -> PathBuf {
    std::env::var_os("LIVEPROOF_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schemathesis-venv/bin/schemathesis")
        })
}

#[test]
fn the_api_document_and_the_server_agree_under_schemathesis() {
    let st = schemathesis();
    assert!(
        st.is_file(),
        "{} is missing: run `bash scripts/test.sh` (it makes the venv with schemathesis)",
        st.display()
    );
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let id = jfk_session(&data, Some(r#"{"platform":"douyin"}"#));
    // Under legal hold, so the admin's fuzzed DELETE gets 409 and the session stays there for
    // every other operation.
    let (o, _) = run(&data, &["hold", &id, "--reason", "schemathesis run"]);
    assert!(o.status.success());
    let srv = start(
        &data,
        &["--rate-limit", "1000000", "--verify-rate-limit", "1000000"],
    );
    // As an admin (reaches everything) and as a platform token (whose uploads naming another
    // platform are refused).
    for t in [
        token(&data, "admin", None),
        token(&data, "platform", Some("douyin")),
    ] {
        let out = std::process::Command::new(&st)
            .arg("--config-file")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/schemathesis.toml"))
            .args([
                "run",
                &format!("{}/api/openapi.json", srv.1),
                "--checks",
                "all",
            ])
            .args(["--max-examples", "40", "--workers", "1", "--seed", "1"])
            .args(["-H", &format!("Authorization: Bearer {t}")])
            .env("LP_SESSION", &id)
            .current_dir(d.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "schemathesis found problems:\n{text}");
        assert!(
            !text.contains("failures") && text.contains("passed"),
            "{text}"
        );
    }
    // It ran against a live server that is still answering.
    assert_eq!(get(&srv.1, "/api/health", None).0, 200);
}
