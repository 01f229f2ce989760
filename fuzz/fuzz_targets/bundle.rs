//! Evidence bundle reader (`verify`, `POST /api/verify`): any zip gives a verdict, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile::Builder::new().suffix(".zip").tempfile().unwrap();
    f.write_all(data).unwrap();
    let v = liveproof::evidence::verify::verify(f.path(), None, None, None);
    let _ = serde_json::to_string(&v);
});
