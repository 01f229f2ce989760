//! GB 45438 `AIGC` label validation and the WAV chunk walker that finds labels.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let _ = liveproof::media::labels::validate(&String::from_utf8_lossy(data));
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"RIFF\0\0\0\0WAVE").unwrap();
    f.write_all(data).unwrap();
    if let Ok(labels) = liveproof::media::labels::wav_chunks(f.path()) {
        let _ = liveproof::media::labels::problems(&labels);
    }
});
