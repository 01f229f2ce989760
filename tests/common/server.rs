//! Starting the real server on a free loopback port, and talking to it.

use std::path::Path;
use std::process::{Child, Stdio};

use super::{bin, run};

/// A running `liveproof serve`, killed when dropped: (process, base URL).
pub struct Server(pub Child, pub String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start(data: &Path, extra: &[&str]) -> Server {
    start_with(data, extra, Stdio::null())
}

/// Like `start`, with the server's log (its stderr) written to `log`, for tests that show it
/// when something fails.
#[allow(dead_code)]
pub fn start_logged(data: &Path, extra: &[&str], log: &Path) -> Server {
    start_with(data, extra, std::fs::File::create(log).unwrap().into())
}

fn start_with(data: &Path, extra: &[&str], stderr: Stdio) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = bin()
        .args(["serve", "--addr", &addr, "--model", "tiny.en", "--data"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    // Owned by the guard at once, so it is killed and waited for on every path.
    let server = Server(child, format!("http://{addr}"));
    // Wait for it to listen (bounded by attempts, not by a time budget).
    for _ in 0..600 {
        if ureq::get(&format!("{}/api/health", server.1))
            .call()
            .is_ok()
        {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server did not start");
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

pub fn get(base: &str, path: &str, token: Option<&str>) -> (u16, Vec<u8>) {
    let mut r = agent().get(&format!("{base}{path}"));
    if let Some(t) = token {
        r = r.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = r.call().unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_vec().unwrap())
}

pub fn token(data: &Path, role: &str, platform: Option<&str>) -> String {
    let mut args = vec!["token", "create", "--role", role];
    if let Some(p) = platform {
        args.extend(["--platform", p]);
    }
    let (o, v) = run(data, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()["token"].as_str().unwrap().to_string()
}

/// Sends `request` as raw bytes (no client-side path normalisation) and returns the response.
pub fn raw(base: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).to_string()
}

/// POSTs `body`; (status, JSON body or Null; status 0 when the server closed early).
pub fn post(base: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
    let mut r = agent().post(&format!("{base}{path}"));
    if let Some(t) = token {
        r = r.header("Authorization", &format!("Bearer {t}"));
    }
    match r.send(body) {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let bytes = resp.body_mut().read_to_vec().unwrap_or_default();
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
            )
        }
        // The server may answer early (413) and close while the client still sends.
        Err(e) => (0, serde_json::Value::String(e.to_string())),
    }
}
