//! The web page in headless Chromium (Debian `chromium` + `chromium-driver`), driven over the
//! W3C WebDriver protocol: search, click a hit, and the player is at the segment's start; the
//! verify page with a real and a forged bundle.

mod common;
use std::path::Path;
use std::process::{Child, Stdio};

use common::*;
use serde_json::{json, Value};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(url: &str) {
    for _ in 0..600 {
        if ureq::get(url).call().is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{url} did not come up");
}

/// A minimal W3C WebDriver client.
struct Driver {
    base: String,
}

impl Driver {
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{}", self.base, path);
        let mut resp = if method == "GET" {
            agent.get(&url).call().unwrap()
        } else {
            agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(&serde_json::to_vec(&body).unwrap()[..])
                .unwrap()
        };
        let v: Value = serde_json::from_slice(&resp.body_mut().read_to_vec().unwrap()).unwrap();
        assert!(v["value"].get("error").is_none(), "WebDriver {path}: {v}");
        v["value"].clone()
    }
    fn js(&self, session: &str, script: &str) -> Value {
        self.call(
            "POST",
            &format!("/session/{session}/execute/sync"),
            json!({"script": script, "args": []}),
        )
    }
    /// Polls `script` until it returns a truthy value (bounded by attempts).
    fn until(&self, session: &str, script: &str) -> Value {
        for _ in 0..300 {
            let v = self.js(session, script);
            if !(v.is_null() || v == false || v == 0) {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("never true: {script}");
    }
}

#[test]
fn search_click_a_hit_and_the_player_is_at_the_segment_start() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // Speech from 6 s on, so jumping to the hit really moves the player; as FLV, what live
    // recorders write and no browser plays: the page plays the playable rendition.
    let wav = d.path().join("late.wav");
    speech_in_silence(&fixture("jfk.wav"), 6, 1, &wav, &[]);
    let late = d.path().join("late.flv");
    ffmpeg(&wav, &late, &["-c:a", "aac", "-b:a", "64k", "-f", "flv"]);
    // Two live comments on the same timeline, shown beside the transcript.
    let xml = d.path().join("late.xml");
    std::fs::write(
        &xml,
        r#"<i><d p="7.0,1,25,0,0,0,u,0" user="观众甲">主播说的是真的吗</d><d p="8.0,1,25,0,0,0,v,0" user="观众乙">已下单</d></i>"#,
    )
    .unwrap();
    let s = ingest(
        &data,
        &late,
        &["--model", "tiny.en", "--comments", xml.to_str().unwrap()],
    );
    let id = s["session"].as_str().unwrap().to_string();
    let (_, show) = run(&data, &["show", &id]);
    let segs = show.unwrap()["segments"].as_array().unwrap().clone();
    let (_, t) = run(&data, &["token", "create", "--role", "auditor"]);
    let token = t.unwrap()["token"].as_str().unwrap().to_string();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = Proc(
        bin()
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("{base}/api/health"));
    let dport = free_port();
    let _driver = Proc(
        std::process::Command::new("chromedriver")
            .arg(format!("--port={dport}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (apt-get install chromium chromium-driver)"),
    );
    let wd = Driver {
        base: format!("http://127.0.0.1:{dport}"),
    };
    wait_for(&format!("{}/status", wd.base));
    let profile = d.path().join("profile");
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required",
                 "--window-size=420,900", format!("--user-data-dir={}", profile.display())]
    }}}});
    let session = wd.call("POST", "/session", caps)["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let sid = session.as_str();
    wd.call(
        "POST",
        &format!("/session/{sid}/url"),
        json!({"url": format!("{base}/#token={token}")}),
    );
    wd.call(
        "POST",
        &format!("/session/{sid}/url"),
        json!({"url": format!("{base}/#/search/%22your%20country%22")}),
    );
    wd.until(sid, "return document.querySelectorAll('li.hit').length");
    let snippet = wd.js(sid, "return document.querySelector('li.hit').innerHTML");
    assert!(
        snippet.as_str().unwrap().contains("<b>"),
        "highlighted: {snippet}"
    );
    // Click the first hit (a segment that says "your country").
    let start = wd.js(
        sid,
        "return +document.querySelector('li.hit').dataset.start",
    );
    let click = format!(
        "document.querySelector('li.hit[data-start=\"{}\"]').click(); return true",
        start
    );
    wd.js(sid, &click);
    wd.until(sid, "return document.getElementById('player') && document.getElementById('player').readyState >= 1");
    let err = wd.js(
        sid,
        "var p = document.getElementById('player'); return p.error ? p.error.code : 0",
    );
    assert_eq!(err, 0, "the FLV session plays (no MediaError)");
    assert!(wd
        .js(sid, "return document.getElementById('player').currentSrc")
        .as_str()
        .unwrap()
        .contains("/audio"));
    assert!(
        start.as_f64().unwrap() >= 5000.0,
        "the hit is after the silence: {start}"
    );
    wd.until(sid, &format!("var p = document.getElementById('player'); return Math.abs(p.currentTime * 1000 - {start}) < 300"));
    let t = wd.js(sid, "return document.getElementById('player').currentTime");
    assert!((t.as_f64().unwrap() * 1000.0 - start.as_f64().unwrap()).abs() < 300.0);
    assert!(
        segs.iter().any(|g| g["start_ms"] == start),
        "the hit starts where its segment does: {start}"
    );
    // Clicking a line of the transcript jumps the player there too, and it is highlighted.
    wd.js(
        sid,
        "document.querySelector('li.segment').click(); return true",
    );
    let first = segs[0]["start_ms"].as_u64().unwrap();
    wd.until(
        sid,
        &format!(
            "return Math.abs(document.getElementById('player').currentTime * 1000 - {first}) < 300"
        ),
    );
    // The live comments beside the transcript: clicking one jumps the player to its time.
    wd.until(
        sid,
        "return document.querySelectorAll('#comments li').length",
    );
    let n = wd.js(
        sid,
        "return document.querySelectorAll('#comments li').length",
    );
    assert_eq!(n, 2);
    let text = wd.js(
        sid,
        "return document.getElementById('comments').textContent",
    );
    assert!(text.as_str().unwrap().contains("观众甲"), "{text}");
    wd.js(
        sid,
        "document.querySelectorAll('#comments li')[1].click(); return true",
    );
    wd.until(
        sid,
        "return Math.abs(document.getElementById('player').currentTime * 1000 - 8000) < 300",
    );
    let shot = wd.call("GET", &format!("/session/{sid}/screenshot"), json!({}));
    let png = base64_decode(shot.as_str().unwrap());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-session.png");
    std::fs::write(&out, png).unwrap();

    // The verify page: the archive's own bundle is VERIFIED and names its signer; the same
    // bundle forged and re-signed by a stranger is not, and shows the stranger's fingerprint
    // until the user pins that key.
    let real = d.path().join("real.zip");
    export_bundle(&data, &id, "0", "10", &real, &[]);
    let forger = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let forged = d.path().join("forged.zip");
    forge::write_bundle(
        &forged,
        &forge::forge(
            &forge::members(&real),
            &forger,
            "this cream won the Nobel prize",
        ),
    );
    let fingerprint = liveproof::seal::keys::fingerprint(&forger.verifying_key().to_bytes());
    let upload = |file: &Path| -> String {
        wd.call(
            "POST",
            &format!("/session/{sid}/url"),
            json!({"url": format!("{base}/#/verify")}),
        );
        wd.call("POST", &format!("/session/{sid}/refresh"), json!({}));
        wd.until(sid, "return document.getElementById('bundle')");
        let el = wd.call(
            "POST",
            &format!("/session/{sid}/element"),
            json!({"using": "css selector", "value": "#bundle"}),
        );
        let el = el
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        wd.call(
            "POST",
            &format!("/session/{sid}/element/{el}/value"),
            json!({"text": file.to_str().unwrap()}),
        );
        wd.until(sid, "return document.querySelector('#verdict h3') !== null");
        wd.js(sid, "return document.getElementById('verdict').textContent")
            .as_str()
            .unwrap()
            .to_string()
    };
    let v = upload(&real);
    assert!(
        v.contains("Chain of custody") && v.contains("ingest") && v.contains("export"),
        "{v}"
    );
    assert!(
        v.contains("VERIFIED") && !v.contains("NOT VERIFIED") && v.contains("this archive"),
        "{v}"
    );
    let v = upload(&forged);
    assert!(
        v.contains("UNKNOWN KEY") && v.contains("NOT VERIFIED") && v.contains(&fingerprint),
        "{v}"
    );
    let shot = wd.call("GET", &format!("/session/{sid}/screenshot"), json!({}));
    std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-verify-forged.png"),
        base64_decode(shot.as_str().unwrap()),
    )
    .unwrap();
    // Pinning the stranger's key is the user's own decision, and then it counts.
    wd.js(sid, &format!("document.getElementById('pin').value = 'ed25519:{}'; document.getElementById('pin-add').click(); return true", hex::encode(forger.verifying_key().to_bytes())));
    let v = upload(&forged);
    assert!(v.contains("VERIFIED") && !v.contains("NOT VERIFIED"), "{v}");
    let _ = ureq::delete(&format!("{}/session/{sid}", wd.base)).call();
}

fn base64_decode(s: &str) -> Vec<u8> {
    let table = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|&c| u32::from(table(c))).collect();
        let n = v
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (x << (18 - 6 * i)));
        out.push((n >> 16) as u8);
        if v.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if v.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}
