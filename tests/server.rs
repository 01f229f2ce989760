//! The HTTP API on loopback: every endpoint × every role, public verify, ranges, uploads as
//! jobs, and the JSON errors (400/401/403/404/413/429).

mod common;

use common::server::*;
use common::*;
use serde_json::Value;

#[test]
fn every_endpoint_answers_every_role_as_the_access_rules_say() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = d.path().join("douyin.json");
    std::fs::write(&meta, r#"{"platform":"douyin","room":"r1"}"#).unwrap();
    let s = ingest(
        &data,
        &fixture("jfk.wav"),
        &["--model", "tiny.en", "--meta", meta.to_str().unwrap()],
    );
    let id = s["session"].as_str().unwrap().to_string();
    let tokens = [
        ("admin", Some(token(&data, "admin", None))),
        ("auditor", Some(token(&data, "auditor", None))),
        (
            "platform-douyin",
            Some(token(&data, "platform", Some("douyin"))),
        ),
        (
            "platform-other",
            Some(token(&data, "platform", Some("kuaishou"))),
        ),
        ("consumer", Some(token(&data, "consumer", None))),
        ("nobody", None),
        ("forged", Some("lp_0000".to_string())),
    ];
    let srv = start(&data, &[]);
    let endpoints = [
        format!("/api/sessions/{id}"),
        format!("/api/sessions/{id}/transcript"),
        format!("/api/sessions/{id}/report"),
        format!("/api/sessions/{id}/evidence?from=0&to=5"),
        format!("/api/sessions/{id}/media"),
        format!("/api/sessions/{id}/audio"),
    ];
    for (role, tok) in &tokens {
        let expected = match *role {
            "admin" | "auditor" | "platform-douyin" => 200,
            "platform-other" | "consumer" => 404,
            _ => 401,
        };
        for e in &endpoints {
            let (status, body) = get(&srv.1, e, tok.as_deref());
            assert_eq!(
                status,
                expected,
                "{role} {e}: {}",
                String::from_utf8_lossy(&body)
            );
            if status != 200 {
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(v["error"]["status"], expected, "JSON error body");
            }
        }
        let (status, body) = get(&srv.1, "/api/sessions", tok.as_deref());
        let listed = if status == 200 {
            serde_json::from_slice::<Value>(&body).unwrap()["sessions"]
                .as_array()
                .unwrap()
                .len()
        } else {
            0
        };
        let (sstatus, sbody) = get(&srv.1, "/api/search?q=americans", tok.as_deref());
        let found = if sstatus == 200 {
            serde_json::from_slice::<Value>(&sbody).unwrap()["total"]
                .as_u64()
                .unwrap()
        } else {
            0
        };
        match *role {
            "admin" | "auditor" | "platform-douyin" => {
                assert_eq!((status, listed), (200, 1), "{role} lists");
                assert!(found >= 1, "{role} finds");
            }
            "platform-other" | "consumer" => {
                assert_eq!(
                    (status, listed, sstatus, found),
                    (200, 0, 200, 0),
                    "{role} sees nothing"
                );
            }
            _ => assert_eq!((status, sstatus), (401, 401), "{role}"),
        }
    }
    let admin = tokens[0].1.as_deref();
    // Range requests on the original.
    let mut resp = agent()
        .get(&format!("{}/api/sessions/{id}/media", srv.1))
        .header("Authorization", &format!("Bearer {}", admin.unwrap()))
        .header("Range", "bytes=0-99")
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(
        resp.body_mut().read_to_vec().unwrap(),
        std::fs::read(fixture("jfk.wav")).unwrap()[..100].to_vec()
    );
    assert_eq!(
        resp.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap(),
        "audio/wav"
    );
    // The playable rendition: AAC in MP4, made once (same hash twice), with ranges.
    let get_audio = |range: Option<&str>| {
        let mut r = agent()
            .get(&format!("{}/api/sessions/{id}/audio", srv.1))
            .header("Authorization", &format!("Bearer {}", admin.unwrap()));
        if let Some(x) = range {
            r = r.header("Range", x);
        }
        r.call().unwrap()
    };
    let mut a = get_audio(None);
    assert_eq!(a.status().as_u16(), 200);
    assert_eq!(a.headers().get("content-type").unwrap(), "audio/mp4");
    let hash = a
        .headers()
        .get("x-rendition-sha256")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let whole = a.body_mut().read_to_vec().unwrap();
    assert_eq!(&whole[4..8], b"ftyp", "an MP4");
    assert_eq!(liveproof::hashing::sha256_hex(&whole), hash);
    let mut part = get_audio(Some("bytes=10-19"));
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(
        part.headers()
            .get("x-rendition-sha256")
            .unwrap()
            .to_str()
            .unwrap(),
        hash
    );
    assert_eq!(
        part.body_mut().read_to_vec().unwrap(),
        whole[10..20].to_vec()
    );
    // A bad query is a 400 with the parser's words.
    let (status, body) = get(&srv.1, "/api/search?q=%28a%20OR", admin);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    // Verify is public: a bundle from the API verifies through the API.
    let (_, bundle) = get(
        &srv.1,
        &format!("/api/sessions/{id}/evidence?from=0&to=5"),
        admin,
    );
    let mut resp = agent()
        .post(&format!("{}/api/verify", srv.1))
        .send(&bundle[..])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let v: Value = serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(v["ok"], true, "{v:#}");
    // Security headers.
    let resp = agent()
        .get(&format!("{}/api/health", srv.1))
        .call()
        .unwrap();
    assert_eq!(
        resp.headers().get("X-Content-Type-Options").unwrap(),
        "nosniff"
    );
}

#[test]
fn an_upload_becomes_a_job_and_its_uploader_can_read_the_session() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let consumer = token(&data, "consumer", None);
    let auditor = token(&data, "auditor", None);
    let srv = start(&data, &[]);
    let bytes = std::fs::read(fixture("jfk.wav")).unwrap();
    let post = |tok: &str| {
        let mut resp = agent()
            .post(&format!("{}/api/uploads?name=room.wav&lang=en", srv.1))
            .header("Authorization", &format!("Bearer {tok}"))
            .send(&bytes[..])
            .unwrap();
        (
            resp.status().as_u16(),
            serde_json::from_slice::<Value>(&resp.body_mut().read_to_vec().unwrap()).unwrap(),
        )
    };
    let (status, v) = post(&auditor);
    assert_eq!(status, 403, "auditors read, they do not upload: {v}");
    let (status, _) = post("lp_forged");
    assert_eq!(status, 401);
    let (status, v) = post(&consumer);
    assert_eq!(status, 202, "{v}");
    let job = v["job"].as_i64().unwrap();
    let mut session = None;
    for _ in 0..3000 {
        let (s, body) = get(&srv.1, &format!("/api/jobs/{job}"), Some(&consumer));
        assert_eq!(s, 200);
        let j: Value = serde_json::from_slice(&body).unwrap();
        assert_ne!(j["status"], "failed", "{j}");
        if j["status"] == "done" {
            session = j["session"].as_str().map(str::to_string);
            assert_eq!(j["sha256"], liveproof::hashing::sha256_hex(&bytes));
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let session = session.expect("the job finished");
    assert_eq!(
        get(&srv.1, &format!("/api/sessions/{session}"), Some(&consumer)).0,
        200
    );
    assert_eq!(
        get(&srv.1, &format!("/api/jobs/{job}"), Some(&auditor)).0,
        404,
        "jobs are their uploader's"
    );
}

#[test]
fn size_and_rate_limits_answer_413_and_429() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let consumer = token(&data, "consumer", None);
    let srv = start(&data, &["--max-upload-mib", "1", "--rate-limit", "3"]);
    let big = vec![0u8; 2 << 20];
    let resp = agent()
        .post(&format!("{}/api/uploads?name=big.wav", srv.1))
        .header("Authorization", &format!("Bearer {consumer}"))
        .send(&big[..]);
    // The server may close the connection after answering 413 mid-upload.
    if let Ok(r) = resp {
        assert_eq!(r.status().as_u16(), 413);
    }
    let statuses: Vec<u16> = (0..5)
        .map(|_| get(&srv.1, "/api/sessions", Some(&consumer)).0)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        std::fs::read_dir(data.join("uploads")).unwrap().count() == 0,
        "a refused upload leaves nothing"
    );
}

#[test]
fn the_openapi_document_is_served_and_lists_exactly_the_routes() {
    let doc: Value = serde_json::from_str(liveproof::server::routes::OPENAPI_JSON).unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut routes: Vec<(String, String)> = liveproof::server::routes::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    routes.sort();
    assert_eq!(
        documented, routes,
        "data/openapi.json and the routes disagree"
    );
    let d = tempfile::tempdir().unwrap();
    let srv = start(&d.path().join("data"), &[]);
    let (status, body) = get(&srv.1, "/api/openapi.json", None);
    assert_eq!(status, 200);
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served["openapi"], "3.1.0");
    // Every documented route exists (an unauthenticated call is refused, not unknown).
    for (method, path) in liveproof::server::routes::ROUTES {
        let url = format!("{}{}", srv.1, path.replace("{id}", "1"));
        let status = if *method == "get" {
            agent().get(&url).call().unwrap().status().as_u16()
        } else if *method == "delete" {
            agent().delete(&url).call().unwrap().status().as_u16()
        } else {
            agent().post(&url).send(&b""[..]).unwrap().status().as_u16()
        };
        assert!(status != 404 && status != 405, "{method} {path}: {status}");
    }
}

#[test]
fn a_job_interrupted_by_a_crash_resumes_after_a_restart() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let consumer = token(&data, "consumer", None);
    let long = d.path().join("long.wav");
    ffmpeg(
        &fixture("jfk.wav"),
        &long,
        &["-filter_complex", "aloop=loop=5:size=176000"],
    );
    let bytes = std::fs::read(&long).unwrap();
    let mut srv = start(&data, &[]);
    let mut resp = agent()
        .post(&format!("{}/api/uploads?name=long.wav&lang=en", srv.1))
        .header("Authorization", &format!("Bearer {consumer}"))
        .send(&bytes[..])
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let job = serde_json::from_slice::<Value>(&resp.body_mut().read_to_vec().unwrap()).unwrap()
        ["job"]
        .as_i64()
        .unwrap();
    // Kill the server (SIGKILL) while the job runs.
    for _ in 0..3000 {
        let (_, body) = get(&srv.1, &format!("/api/jobs/{job}"), Some(&consumer));
        if serde_json::from_slice::<Value>(&body).unwrap()["status"] == "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    srv.0.kill().unwrap();
    srv.0.wait().unwrap();
    assert_consistent(&data);
    // A new server picks the job up again and finishes it.
    srv = start(&data, &[]);
    let mut done = None;
    for _ in 0..3000 {
        let (_, body) = get(&srv.1, &format!("/api/jobs/{job}"), Some(&consumer));
        let j: Value = serde_json::from_slice(&body).unwrap();
        assert_ne!(j["status"], "failed", "{j}");
        if j["status"] == "done" {
            done = Some(j);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let j = done.expect("the job finished after the restart");
    assert_eq!(j["sha256"], liveproof::hashing::sha256_hex(&bytes));
    let sessions = assert_consistent(&data);
    assert_eq!(sessions, vec![j["session"].as_str().unwrap().to_string()]);
    drop(srv);
}

#[test]
fn cross_origin_requests_path_tricks_and_leaked_tokens_get_nothing() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let s = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap();
    let admin = token(&data, "admin", None);
    let srv = start(&data, &[]);
    let auth = format!("Authorization: Bearer {admin}\r\n");

    // CORS is closed: no Access-Control-Allow-Origin, on a request or a preflight.
    for req in [
        format!("GET /api/sessions HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n{auth}Connection: close\r\n\r\n"),
        "OPTIONS /api/sessions HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\nConnection: close\r\n\r\n".to_string(),
    ] {
        let resp = raw(&srv.1, &req);
        assert!(
            !resp.to_lowercase().contains("access-control-allow"),
            "CORS must be closed: {resp}"
        );
    }

    // Path traversal through the session id, encoded or not, and through the page's paths.
    for path in [
        "/api/sessions/..%2F..%2F..%2F..%2Fetc%2Fpasswd/media".to_string(),
        "/api/sessions/../../../../etc/passwd/media".to_string(),
        "/api/sessions/%2e%2e%2f%2e%2e%2fcatalog.sqlite/media".to_string(),
        format!("/api/sessions/{id}/media/../../../catalog.sqlite"),
        "/..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "/static/../../keys/archive.ed25519".to_string(),
        "/keys/archive.ed25519".to_string(),
        "/catalog.sqlite".to_string(),
    ] {
        let resp = raw(
            &srv.1,
            &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
        );
        let status: u16 = resp.split(' ').nth(1).unwrap().parse().unwrap();
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(!resp.contains("root:x:0:0"), "{path} leaked /etc/passwd");
        assert!(!resp.contains("SQLite format"), "{path} leaked the catalog");
        // Error responses carry the security headers too.
        let lower = resp.to_lowercase();
        assert!(lower.contains("x-content-type-options: nosniff"), "{path}");
        assert!(lower.contains("x-frame-options: deny"), "{path}");
        assert!(lower.contains("content-security-policy"), "{path}");
    }

    // Tokens are stored hashed: the secret appears nowhere in the archive.
    for f in files_under(&data, "") {
        if let Ok(bytes) = std::fs::read(&f) {
            assert!(
                !bytes.windows(admin.len()).any(|w| w == admin.as_bytes()),
                "{} holds a token in the clear",
                f.display()
            );
        }
    }
    // A made-up or truncated token gets 401, never data.
    for bad in [&admin[..admin.len() - 1], "lp_not_a_token", ""] {
        let (code, body) = get(&srv.1, "/api/sessions", Some(bad));
        assert_eq!(code, 401, "{bad:?}");
        assert!(!String::from_utf8_lossy(&body).contains(id));
    }
}

#[test]
fn ingests_searches_and_exports_at_once_keep_log_catalog_and_index_consistent() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let first = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let first_id = first["session"].as_str().unwrap().to_string();
    let (_, h0) = run(&data, &["log", "head"]);
    let head0 = h0.unwrap();
    let consumer = token(&data, "consumer", None);
    let admin = token(&data, "admin", None);
    let srv = start(&data, &[]);
    let inputs: Vec<_> = (1..=4).map(|k| jfk_variant(d.path(), k)).collect();
    std::thread::scope(|s| {
        // CLI ingests, two of them of the same bytes.
        let mut handles = Vec::new();
        for f in inputs.iter().take(3).chain(std::iter::once(&inputs[0])) {
            let data = data.clone();
            handles.push(s.spawn(move || ingest(&data, f, &["--model", "tiny.en"])));
        }
        // An upload through the server, processed by its job worker.
        let up = std::fs::read(&inputs[3]).unwrap();
        let mut resp = agent()
            .post(&format!("{}/api/uploads?name=up.wav&lang=en", srv.1))
            .header("Authorization", &format!("Bearer {consumer}"))
            .send(&up[..])
            .unwrap();
        assert_eq!(resp.status().as_u16(), 202);
        let job: Value = serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap();
        // Meanwhile: CLI searches and exports, and API searches and exports.
        for k in 0..6 {
            let (o, v) = run(&data, &["search", "fellow Americans"]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(!v.unwrap()["hits"].as_array().unwrap().is_empty());
            let out = d.path().join(format!("cli-{k}.zip"));
            let (o, _) = run(
                &data,
                &[
                    "evidence",
                    &first_id,
                    "--from",
                    "0",
                    "--to",
                    "5",
                    "--output",
                    out.to_str().unwrap(),
                ],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let (code, _) = get(&srv.1, "/api/search?q=fellow", Some(&admin));
            assert_eq!(code, 200);
            let (code, zip) = get(
                &srv.1,
                &format!("/api/sessions/{first_id}/evidence?from=0&to=5"),
                Some(&admin),
            );
            assert_eq!(code, 200);
            let p = d.path().join(format!("api-{k}.zip"));
            std::fs::write(&p, zip).unwrap();
        }
        let ids: Vec<String> = handles
            .into_iter()
            .map(|h| h.join().unwrap()["session"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids[0], ids[3], "the same bytes are one session");
        let job_id = job["job"].as_i64().unwrap();
        let mut done = false;
        for _ in 0..3000 {
            let (_, body) = get(&srv.1, &format!("/api/jobs/{job_id}"), Some(&consumer));
            let j: Value = serde_json::from_slice(&body).unwrap();
            assert_ne!(j["status"], "failed", "{j}");
            if j["status"] == "done" {
                done = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        assert!(done, "the upload job finished");
    });
    // Five distinct recordings, five sessions, their log entries, all searchable, and the log
    // still extends the head seen before the storm.
    let ids = assert_consistent(&data);
    assert_eq!(ids.len(), 5);
    let (_, h) = run(&data, &["log", "head"]);
    let size = h.unwrap()["size"].as_u64().unwrap();
    // Per session a manifest and its ingest event; per bundle its export event.
    assert_eq!(size, 5 * 2 + 12);
    let old = head0["size"].to_string();
    let (o, c) = run(&data, &["log", "consistency", &old, &size.to_string()]);
    assert!(o.status.success());
    assert_eq!(c.unwrap()["old"], head0);
    for id in &ids {
        let (_, v) = run(&data, &["search", "fellow", "--session", id]);
        assert!(
            !v.unwrap()["hits"].as_array().unwrap().is_empty(),
            "{id} searchable"
        );
    }
    // Every bundle exported during the storm verifies.
    for k in 0..6 {
        for name in [format!("cli-{k}.zip"), format!("api-{k}.zip")] {
            let (o, v) = run(&data, &["verify", d.path().join(&name).to_str().unwrap()]);
            assert!(o.status.success(), "{name}: {:?}", v);
        }
    }
}

#[test]
fn every_request_and_job_step_is_logged_as_one_line_without_the_token() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let s = ingest(&data, &fixture("jfk.wav"), &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap().to_string();
    let tok = token(&data, "auditor", None);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let log = d.path().join("serve.log");
    let child = bin()
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--model",
            "tiny.en",
            "--log-format",
            "json",
            "--data",
        ])
        .arg(&data)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _srv = Server(child, base.clone());
    for _ in 0..600 {
        if ureq::get(&format!("{base}/api/health")).call().is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (status, _) = get(&base, "/api/sessions", Some(&tok));
    assert_eq!(status, 200);
    let (status, _) = get(
        &base,
        &format!("/api/sessions/{id}/media?access_token={tok}"),
        None,
    );
    assert_eq!(status, 200);
    let (status, _) = get(&base, "/api/sessions", Some("lp_wrong"));
    assert_eq!(status, 401);
    // A consumer's upload: its job steps are logged too.
    let consumer = token(&data, "consumer", None);
    let mut r = agent()
        .post(&format!("{base}/api/uploads?name=jfk.wav&lang=en"))
        .header("Authorization", &format!("Bearer {consumer}"))
        .send(&std::fs::read(fixture("jfk.wav")).unwrap()[..])
        .unwrap();
    let job: Value = serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    let job_id = job["job"]
        .as_u64()
        .or(job["id"].as_u64())
        .expect("a job id");
    let mut text = String::new();
    for _ in 0..600 {
        text = std::fs::read_to_string(&log).unwrap();
        if text.contains("\"step\":\"done\"") || text.contains("\"step\":\"failed\"") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !text.contains(&tok) && !text.contains(&consumer),
        "a token leaked into the log: {text}"
    );
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let sessions = lines
        .iter()
        .find(|l| l["route"] == "/api/sessions" && l["status"] == 200)
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(sessions["method"], "GET");
    assert!(sessions["ms"].is_u64());
    assert!(
        sessions["by"].as_str().unwrap().contains("(auditor)"),
        "{sessions}"
    );
    assert!(lines
        .iter()
        .any(|l| l["route"] == "/api/sessions/{id}/media" && l["status"] == 200));
    assert!(lines
        .iter()
        .any(|l| l["route"] == "/api/sessions" && l["status"] == 401 && l["by"].is_null()));
    assert!(lines
        .iter()
        .any(|l| l["kind"] == "job" && l["job"] == job_id && l["step"] == "running"));
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "job" && l["step"] == "done"),
        "{text}"
    );
}
