//! C2PA manifest stores in WAV, MP3 and MP4 files, read through the c2pa crate.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liveproof::media::{provenance, Container};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    for c in [Container::Wav, Container::Mp3, Container::Mp4] {
        let _ = provenance::read(f.path(), c);
    }
});
