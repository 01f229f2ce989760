//! Platform sidecar JSON (`--meta`, upload form): any bytes give Ok or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(map) = liveproof::sidecar::parse(data) {
        for k in ["platform", "room", "host", "host_kind", "start_time"] {
            let _ = liveproof::sidecar::field(&map, k);
        }
    }
});
