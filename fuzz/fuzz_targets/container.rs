//! Container sniffing and the framing walks (WAV, MP4, FLV, MPEG-TS, MP3) that find truncation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use liveproof::media::{framing, Container};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(data).unwrap();
    let _ = liveproof::media::sniff(f.path());
    for c in [
        Container::Wav,
        Container::Mp4,
        Container::Flv,
        Container::Mpegts,
        Container::Mp3,
    ] {
        let _ = framing::check(f.path(), c);
    }
});
