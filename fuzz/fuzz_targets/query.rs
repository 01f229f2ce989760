//! Search query parser (CLI, API, web page).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(q) = std::str::from_utf8(data) {
        let _ = liveproof::search::query::parse(q);
    }
});
