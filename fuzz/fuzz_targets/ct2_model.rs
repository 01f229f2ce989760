//! CTranslate2 `model.bin` reader used by `models install`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = liveproof::models::ct2::parse(data);
});
