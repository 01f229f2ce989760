//! Structural completeness checks: does the file end where its own framing says it ends?
//!
//! Decoders happily stop at the end of a cut file without a word, so each container's framing
//! (RIFF sizes, MP4 boxes, FLV tags, TS packets, MPEG audio frames) is walked first. Only
//! headers are read (with seeks), never the media data, so this costs little on long files.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::Container;

/// Where a file stops short of what its framing announces.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shortfall {
    /// Which structure is cut (e.g. "FLV tag at byte 8117").
    pub what: String,
    /// Bytes the structure needs up to its end.
    pub needed: u64,
    /// Bytes the file has.
    pub size: u64,
}

fn read_at(f: &mut File, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
    f.seek(SeekFrom::Start(pos))?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Checks that `path`, of container `c`, is not cut short. `Ok(None)` means complete (or not
/// checkable for this container).
pub fn check(path: &Path, c: Container) -> io::Result<Option<Shortfall>> {
    let mut f = File::open(path)?;
    let size = f.metadata()?.len();
    match c {
        Container::Wav => wav(&mut f, size),
        Container::Mp4 => mp4(&mut f, size),
        Container::Flv => flv(&mut f, size),
        Container::Mpegts => Ok(ts(&mut f, size)?),
        Container::Mp3 => mp3(&mut f, size),
        _ => Ok(None),
    }
}

fn wav(f: &mut File, size: u64) -> io::Result<Option<Shortfall>> {
    let mut h = [0u8; 12];
    if read_at(f, 0, &mut h)? < 12 || &h[0..4] != b"RIFF" {
        return Ok(None); // RF64 keeps its sizes elsewhere; ffprobe's duration covers it.
    }
    let riff = u64::from(u32::from_le_bytes([h[4], h[5], h[6], h[7]]));
    // Streaming writers leave 0 or 0xFFFFFFFF: no claim to check.
    if riff == 0 || riff == 0xFFFF_FFFF {
        return Ok(None);
    }
    let mut pos = 12u64;
    while pos + 8 <= size {
        let mut ch = [0u8; 8];
        read_at(f, pos, &mut ch)?;
        let len = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        let end = pos + 8 + len;
        if &ch[0..4] == b"data" && len != 0xFFFF_FFFF && end > size {
            return Ok(Some(Shortfall {
                what: "WAV data chunk".into(),
                needed: end,
                size,
            }));
        }
        pos = end + (len & 1);
    }
    Ok((riff + 8 > size).then(|| Shortfall {
        what: "WAV RIFF chunk".into(),
        needed: riff + 8,
        size,
    }))
}

fn mp4(f: &mut File, size: u64) -> io::Result<Option<Shortfall>> {
    let mut pos = 0u64;
    while pos + 8 <= size {
        let mut h = [0u8; 16];
        let n = read_at(f, pos, &mut h)?;
        let small = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let kind = String::from_utf8_lossy(&h[4..8]).into_owned();
        let len = match small {
            0 => size - pos, // extends to the end of the file
            1 if n >= 16 => {
                u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]])
            }
            l => l,
        };
        if len < 8 {
            return Ok(None); // not box structure we can follow; the decoder will judge
        }
        // A 64-bit box size can overflow: that box cannot fit either (found by fuzzing).
        let end = pos.saturating_add(len);
        if end > size {
            return Ok(Some(Shortfall {
                what: format!("MP4 `{kind}` box at byte {pos}"),
                needed: end,
                size,
            }));
        }
        pos = end;
    }
    Ok(None)
}

fn flv(f: &mut File, size: u64) -> io::Result<Option<Shortfall>> {
    let mut h = [0u8; 9];
    if read_at(f, 0, &mut h)? < 9 {
        return Ok(Some(Shortfall {
            what: "FLV header".into(),
            needed: 9,
            size,
        }));
    }
    let mut pos = u64::from(u32::from_be_bytes([h[5], h[6], h[7], h[8]])) + 4;
    while pos < size {
        let mut t = [0u8; 11];
        let n = read_at(f, pos, &mut t)?;
        if n < 11 {
            return Ok(Some(Shortfall {
                what: format!("FLV tag header at byte {pos}"),
                needed: pos + 11,
                size,
            }));
        }
        let data = u64::from(u32::from_be_bytes([0, t[1], t[2], t[3]]));
        let end = pos + 11 + data + 4;
        if end > size {
            return Ok(Some(Shortfall {
                what: format!("FLV tag at byte {pos}"),
                needed: end,
                size,
            }));
        }
        pos = end;
    }
    Ok(None)
}

fn ts(f: &mut File, size: u64) -> io::Result<Option<Shortfall>> {
    let mut h = [0u8; 5];
    read_at(f, 0, &mut h)?;
    let packet = if h[0] == 0x47 { 188 } else { 192 };
    let rest = size % packet;
    Ok((rest != 0).then(|| Shortfall {
        what: format!("MPEG-TS packet at byte {}", size - rest),
        needed: size - rest + packet,
        size,
    }))
}

/// Length in bytes of the MPEG audio frame with this header, if it is one.
fn mpeg_frame_len(h: [u8; 4]) -> Option<u64> {
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
    let layer = (h[1] >> 1) & 3; // 3 = I, 2 = II, 1 = III
    let br_idx = (h[2] >> 4) as usize;
    let sr_idx = ((h[2] >> 2) & 3) as usize;
    let padding = u64::from((h[2] >> 1) & 1);
    if version == 1 || layer == 0 || br_idx == 0 || br_idx == 15 || sr_idx == 3 {
        return None;
    }
    const BR_V1: [[u64; 16]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0,
        ],
    ];
    const BR_V2: [[u64; 16]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0,
        ],
        [
            0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0,
        ],
    ];
    let sr = [44_100u64, 48_000, 32_000][sr_idx]
        >> match version {
            3 => 0,
            2 => 1,
            _ => 2,
        };
    let layer_i = layer == 3;
    let br = 1000
        * if version == 3 {
            BR_V1[(3 - layer) as usize][br_idx]
        } else {
            BR_V2[usize::from(!layer_i)][br_idx]
        };
    Some(if layer_i {
        (12 * br / sr + padding) * 4
    } else if layer == 1 && version != 3 {
        72 * br / sr + padding
    } else {
        144 * br / sr + padding
    })
}

fn mp3(f: &mut File, size: u64) -> io::Result<Option<Shortfall>> {
    let mut pos = 0u64;
    let mut h = [0u8; 10];
    read_at(f, 0, &mut h)?;
    if &h[0..3] == b"ID3" {
        let tag = h[6..10]
            .iter()
            .fold(0u64, |acc, &b| (acc << 7) | u64::from(b & 0x7F));
        pos = 10 + tag + if h[5] & 0x10 != 0 { 10 } else { 0 };
    }
    let mut frames = 0u64;
    // Walk frame headers (a seek each; frames are ~100-1500 bytes, so this reads ~1% of a file).
    let mut buf = vec![0u8; 1 << 16];
    let mut buf_start = u64::MAX;
    let mut buf_len = 0usize;
    while pos + 4 <= size {
        if pos < buf_start || pos + 4 > buf_start + buf_len as u64 {
            buf_start = pos;
            buf_len = read_at(f, pos, &mut buf)?;
        }
        let o = (pos - buf_start) as usize;
        let Some(len) = mpeg_frame_len([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]]) else {
            // Lost sync: trailing tags (ID3v1, APE) or junk; the decoder judges the rest.
            return Ok(None);
        };
        if pos + len > size {
            // A last frame cut short after many whole frames is a cut file.
            return Ok((frames > 0).then(|| Shortfall {
                what: format!("MPEG audio frame at byte {pos}"),
                needed: pos + len,
                size,
            }));
        }
        frames += 1;
        pos += len;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_mp4_box_size_near_2_64_is_a_shortfall_not_an_overflow() {
        // Fuzzing regression (fuzz/artifacts/container/crash-0f5906…): `largesize` of
        // 0xffff_ffff_ffff_ffff after a valid `ftyp` box wrapped the position around.
        let mut b = vec![0, 0, 0, 0x1c];
        b.extend(b"ftypisommp42");
        b.extend([0u8; 12]);
        b.extend([0, 0, 0, 1]);
        b.extend(b"free");
        b.extend([0xff; 8]);
        b.extend([0u8; 32]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.mp4");
        std::fs::write(&p, &b).unwrap();
        let s = check(&p, Container::Mp4).unwrap().expect("a shortfall");
        assert_eq!(s.needed, u64::MAX);
        assert!(s.what.contains("free"));
    }

    #[test]
    fn mp3_frame_lengths_match_the_standard() {
        // MPEG1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes.
        assert_eq!(mpeg_frame_len([0xFF, 0xFB, 0x90, 0x00]), Some(417));
        // MPEG2 layer III, 64 kbit/s, 16 kHz, no padding: 288 bytes.
        assert_eq!(mpeg_frame_len([0xFF, 0xF3, 0x88, 0x00]), Some(288));
        assert_eq!(mpeg_frame_len([0xFF, 0xFB, 0xF0, 0x00]), None);
    }

    #[test]
    fn a_cut_wav_is_found_short() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.wav");
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(36u32 + 1000).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&[1, 0, 1, 0, 0x80, 0x3E, 0, 0, 0, 0x7D, 0, 0, 2, 0, 16, 0]);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&1000u32.to_le_bytes());
        b.extend(std::iter::repeat_n(0u8, 1000));
        std::fs::write(&p, &b).unwrap();
        assert_eq!(check(&p, Container::Wav).unwrap(), None);
        std::fs::write(&p, &b[..500]).unwrap();
        assert!(check(&p, Container::Wav).unwrap().is_some());
    }
}
