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
    /// Polls `script` until it returns a truthy value (bounded by attempts: two minutes, for
    /// a loaded machine transcribing an upload). A script that throws while the page is still
    /// being drawn counts as not yet.
    fn until(&self, session: &str, script: &str) -> Value {
        let guarded = format!("try {{ {script} }} catch (e) {{ return null; }}");
        for _ in 0..1200 {
            let v = self.js(session, &guarded);
            if !(v.is_null() || v == false || v == 0) {
                return v;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("never true: {script}");
    }
}

/// A running server and a headless Chromium driven over WebDriver, all stopped when dropped.
struct Browser {
    wd: Driver,
    sid: String,
    base: String,
    _server: common::server::Server,
    _driver: Proc,
}

impl Browser {
    fn start(data: &Path, dir: &Path, window: &str) -> Self {
        // The same server every other test starts (tiny.en, a free loopback port).
        let server = common::server::start(data, &[]);
        let base = server.1.clone();
        let dport = free_port();
        let driver = Proc(
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
        let profile = dir.join("profile");
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-quic", "--autoplay-policy=no-user-gesture-required",
                     format!("--window-size={window}"), format!("--user-data-dir={}", profile.display())]
        }}}});
        let sid = wd.call("POST", "/session", caps)["sessionId"]
            .as_str()
            .unwrap()
            .to_string();
        Browser {
            wd,
            sid,
            base,
            _server: server,
            _driver: driver,
        }
    }
    fn open(&self, fragment: &str) {
        self.wd.call(
            "POST",
            &format!("/session/{}/url", self.sid),
            json!({"url": format!("{}/{fragment}", self.base)}),
        );
    }
    fn js(&self, script: &str) -> Value {
        self.wd.js(&self.sid, script)
    }
    fn until(&self, script: &str) -> Value {
        self.wd.until(&self.sid, script)
    }
    /// Gives `path` to the file input `selector`, as a user picking the file would.
    fn pick_file(&self, selector: &str, path: &Path) {
        let el = self.wd.call(
            "POST",
            &format!("/session/{}/element", self.sid),
            json!({"using": "css selector", "value": selector}),
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
        self.wd.call(
            "POST",
            &format!("/session/{}/element/{el}/value", self.sid),
            json!({"text": path.to_str().unwrap()}),
        );
    }
    /// Keeps a screenshot of the page (under the test target directory), and fails if it shows
    /// tofu — a CJK character drawn as the missing-glyph box — or had an uncaught JS error.
    fn page_ok(&self, name: &str) {
        let shot = self.wd.call(
            "GET",
            &format!("/session/{}/screenshot", self.sid),
            json!({}),
        );
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{name}.png")),
            base64_decode(shot.as_str().unwrap()),
        )
        .unwrap();
        let tofu = self.js(TOFU);
        assert_eq!(
            tofu["checked"].as_u64().map(|n| n > 0),
            Some(true),
            "{name}: no Chinese text checked: {tofu}"
        );
        assert_eq!(
            tofu["missing"],
            json!([]),
            "{name}: characters drawn as tofu (install fonts-noto-cjk)"
        );
        let errors = self.js("return window.__errors");
        assert_eq!(errors, json!([]), "{name}: uncaught errors in the page");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the browser before its driver is killed, so no Chromium outlives the test.
        let _ = ureq::delete(&format!("{}/session/{}", self.wd.base, self.sid)).call();
    }
}

/// Draws every CJK character on the page and the one code point no font has (U+10FFFD) in
/// the page's font: a character drawn exactly like it is tofu.
const TOFU: &str = r#"
const chars = [...new Set((document.body.innerText.match(/[\u3400-\u9fff\uff01-\uff5e\u3001-\u303f]/g) || []))];
const c = document.createElement('canvas'); c.width = 48; c.height = 48;
const g = c.getContext('2d');
const font = '28px ' + getComputedStyle(document.body).fontFamily;
const draw = (ch) => { g.clearRect(0, 0, 48, 48); g.font = font; g.fillText(ch, 6, 36); return c.toDataURL(); };
const missing = draw(String.fromCodePoint(0x10FFFD));
return {checked: chars.length, missing: chars.filter((ch) => draw(ch) === missing)};
"#;

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

    let b = Browser::start(&data, d.path(), "420,900");
    let (wd, sid, base) = (&b.wd, b.sid.as_str(), b.base.as_str());
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
        b.pick_file("#bundle", file);
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

/// The reviewer's desk as each kind of user meets it: a deep link that survives the sign-in,
/// the sessions page and its filters, the claims desk without a keyword and a review decision,
/// a badge opening readable evidence whose times seek the player, the timeline, an upload from
/// the page as a consumer, revoking a token (401 from then on), and a deletion whose tombstone
/// verifies. Every page is screenshotted and checked for tofu and uncaught errors.
#[test]
fn the_reviewers_desk_in_a_browser() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // A digital host on douyin: says it is an AI, makes claims; a human on taobao.
    let wav = d.path().join("host.wav");
    speak(&wav, "Hello, I am an AI host. Welcome to the live room. This face cream will cure your insomnia. It is the best cream ever. Only three left, so hurry up. Remember, this video is AI generated.");
    let meta = d.path().join("host.meta.json");
    std::fs::write(&meta, r#"{"platform":"douyin","room":"美妆间","host":"小美","started_at":"2026-11-20T20:00:00+08:00"}"#).unwrap();
    let host = ingest(
        &data,
        &wav,
        &["--model", "tiny.en", "--meta", meta.to_str().unwrap()],
    )["session"]
        .as_str()
        .unwrap()
        .to_string();
    let meta2 = d.path().join("jfk.meta.json");
    std::fs::write(&meta2, r#"{"platform":"taobao","room":"r2","host":"JFK","started_at":"2026-11-21T09:00:00+08:00"}"#).unwrap();
    let human = ingest(
        &data,
        &fixture("jfk.wav"),
        &["--model", "tiny.en", "--meta", meta2.to_str().unwrap()],
    )["session"]
        .as_str()
        .unwrap()
        .to_string();
    let token_of = |role: &str| -> (String, i64) {
        let (_, t) = run(&data, &["token", "create", "--role", role]);
        let t = t.unwrap();
        (
            t["token"].as_str().unwrap().to_string(),
            t["id"].as_i64().unwrap(),
        )
    };
    let (auditor, auditor_id) = token_of("auditor");
    let (admin, _) = token_of("admin");
    let (consumer, _) = token_of("consumer");
    let b = Browser::start(&data, d.path(), "1280,1000");

    // A deep link without a token goes to the sign-in screen and comes back after it.
    b.open(&format!("#/session/{host}"));
    b.until(
        "return location.hash.startsWith('#/signin') && document.getElementById('signin-token')",
    );
    b.page_ok("signin");
    b.js(&format!("document.getElementById('signin-token').value = '{auditor}'; document.getElementById('signin-form').requestSubmit(); return true"));
    b.until(&format!("return location.hash === '#/session/{host}' && document.querySelectorAll('li.segment').length > 0"));

    // A link carrying the token keeps the page it points to, and drops the token from the address.
    b.open(&format!("#/claims?token={auditor}"));
    b.until("return document.querySelectorAll('#claims tbody tr').length > 0");
    assert_eq!(b.js("return location.hash"), "#/claims");
    let n = b
        .js("return document.querySelectorAll('#claims tbody tr').length")
        .as_u64()
        .unwrap();
    assert!(n >= 2, "every flag listed, no keyword needed: {n}");
    b.page_ok("claims");
    // Confirm the first flag with a note: recorded (who, when) and shown.
    b.js("const r = document.querySelector('#claims tbody tr'); r.querySelector('.note').value = '已截图 screenshot kept'; r.querySelector('.confirm').click(); return true");
    b.until(
        "return document.querySelector('#claims tbody tr').className.includes('review-confirmed')",
    );
    let (_, body) = common::server::get(&b.base, "/api/claims?review=confirmed", Some(&auditor));
    let confirmed: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(confirmed["total"], 1, "{confirmed}");
    assert_eq!(
        confirmed["claims"][0]["decision"]["note"],
        "已截图 screenshot kept"
    );
    assert_eq!(
        confirmed["claims"][0]["decision"]["by"],
        format!("token:{auditor_id} (auditor)")
    );
    // The desk filters by review state.
    b.open("#/claims?review=open");
    b.until(&format!(
        "return document.querySelectorAll('#claims tbody tr').length === {}",
        n - 1
    ));

    // Sessions: both, then only douyin's.
    b.open("#/sessions");
    b.until("return document.querySelectorAll('#sessions tbody tr').length === 2");
    let text = b.js("return document.getElementById('sessions').textContent");
    assert!(
        text.as_str().unwrap().contains("美妆间") && text.as_str().unwrap().contains("taobao"),
        "{text}"
    );
    b.page_ok("sessions");
    b.js("const f = document.getElementById('filters'); f.platform.value = 'douyin'; f.requestSubmit(); return true");
    b.until("return location.hash.includes('platform=douyin') && document.querySelectorAll('#sessions tbody tr').length === 1");
    assert_eq!(
        b.js("return document.querySelector('#sessions tbody tr').dataset.session"),
        host.as_str()
    );
    // Broadcasts: each room's run as one; the strip opens the segment at that moment.
    b.open("#/broadcasts");
    b.until("return document.querySelectorAll('#broadcasts tbody tr').length === 2");
    b.page_ok("broadcasts");
    b.open(&format!("#/broadcast/{host}"));
    b.until("return document.querySelectorAll('#badges button').length >= 2 && document.querySelectorAll('#strip rect').length > 0");
    b.page_ok("broadcast");
    b.js("const s = document.getElementById('strip'); const r = s.getBoundingClientRect(); s.dispatchEvent(new MouseEvent('click', {clientX: r.left + r.width * 0.5, clientY: r.top + 5, bubbles: true})); return true");
    b.until(&format!(
        "return location.hash.startsWith('#/session/{host}/')"
    ));
    // Search lists a platform's lines with no keyword.
    b.open("#/search?platform=taobao");
    b.until("return document.querySelectorAll('li.hit').length > 0");
    b.page_ok("search");

    // The session: the disclosure badge opens sentences; their times seek the player.
    b.js(&format!("document.querySelector('#sessions tbody tr') ; location.hash = '#/session/{host}'; return true"));
    b.until("return document.querySelectorAll('#badges button').length >= 2 && document.getElementById('player').readyState >= 1");
    b.js("[...document.querySelectorAll('#badges button')].find((x) => x.textContent.includes('disclosure')).click(); return true");
    let sentence = b.until("const e = document.getElementById('evidence'); return e.querySelectorAll('a.seek').length >= 2 && e.textContent");
    assert!(
        sentence.as_str().unwrap().contains("Spoken disclosure"),
        "{sentence}"
    );
    assert!(
        !sentence.as_str().unwrap().contains('{'),
        "no JSON: {sentence}"
    );
    let target = b.js("const a = document.querySelectorAll('#evidence a.seek')[1]; a.click(); return +a.dataset.ms");
    b.until(&format!(
        "return Math.abs(document.getElementById('player').currentTime * 1000 - {target}) < 300"
    ));
    // The risky-claims badge reads as sentences too, with the words and the rule.
    b.js("[...document.querySelectorAll('#badges button')].find((x) => x.textContent.includes('risky_claims')).click(); return true");
    let claims = b.until("return document.getElementById('evidence-title').textContent.includes('advertising') && document.getElementById('evidence').textContent");
    assert!(
        claims.as_str().unwrap().contains("cure your insomnia"),
        "{claims}"
    );
    // The timeline: speech, disclosures and claims drawn; a click seeks.
    let rects = b
        .js("return document.querySelectorAll('#strip rect').length")
        .as_u64()
        .unwrap();
    assert!(rects >= 4, "{rects}");
    b.js("const s = document.getElementById('strip'); const r = s.getBoundingClientRect(); s.dispatchEvent(new MouseEvent('click', {clientX: r.left + r.width * 0.5, clientY: r.top + 5, bubbles: true})); return true");
    let dur = b
        .js("return document.getElementById('player').duration")
        .as_f64()
        .unwrap();
    b.until(&format!(
        "return Math.abs(document.getElementById('player').currentTime - {}) < 1.0",
        dur * 0.5
    ));
    assert_eq!(
        b.js("return document.getElementById('export').disabled"),
        false,
        "export is ready, with its range stated"
    );
    assert!(b
        .js("return document.getElementById('range').textContent")
        .as_str()
        .unwrap()
        .contains("shift-click"));
    b.page_ok("session");

    // A consumer uploads from the page and lands on the new session.
    let flv = d.path().join("mine.flv");
    ffmpeg(
        &fixture("jfk.wav"),
        &flv,
        &["-c:a", "aac", "-b:a", "64k", "-f", "flv"],
    );
    b.open(&format!("#/upload?token={consumer}"));
    b.until("return document.getElementById('file')");
    b.page_ok("upload");
    b.pick_file("#file", &flv);
    b.until("return location.hash.startsWith('#/session/') && document.querySelectorAll('li.segment').length > 0");
    let mine = b
        .js("return location.hash.split('/')[2]")
        .as_str()
        .unwrap()
        .to_string();
    assert!(mine != host && mine != human);

    // The admin revokes the auditor's key: 401 from then on.
    b.open(&format!("#/admin?token={admin}"));
    b.until(&format!(
        "return document.querySelector('#tokens tr[data-id=\"{auditor_id}\"] .revoke')"
    ));
    b.page_ok("admin");
    b.js(&format!("window.confirm = () => true; document.querySelector('#tokens tr[data-id=\"{auditor_id}\"] .revoke').click(); return true"));
    b.until(&format!("return document.querySelector('#tokens tr[data-id=\"{auditor_id}\"] .status').textContent === 'revoked'"));
    let (st, _) = common::server::get(&b.base, "/api/sessions", Some(&auditor));
    assert_eq!(st, 401);

    // The admin deletes the human session; the page verifies its tombstone.
    b.open(&format!("#/session/{human}"));
    b.until("return !document.getElementById('admin-actions').hidden");
    b.js("window.prompt = () => 'duplicate of another recording'; document.getElementById('delete').click(); return true");
    b.until("return document.getElementById('tomb-verify')");
    b.js("document.getElementById('tomb-verify').click(); return true");
    let v = b.until("const h = document.querySelector('#verdict h3'); return h && document.getElementById('verdict').textContent");
    let v = v.as_str().unwrap();
    assert!(
        v.contains("VERIFIED")
            && !v.contains("NOT VERIFIED")
            && v.contains("duplicate of another recording"),
        "{v}"
    );
    b.page_ok("tombstone");
    let (st, _) = common::server::get(&b.base, &format!("/api/sessions/{human}"), Some(&admin));
    assert_eq!(st, 410);
}
