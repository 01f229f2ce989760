//! The clip against the original: `verify --recording` cuts the stated range from the original
//! the way the archive did and compares the audio samples with the bundle's clip, so a clip
//! from another recording, another range, or edited audio is caught even when its hash is
//! signed.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use super::verify::Check;
use super::{member, Statement};

/// Name of the check.
pub const CHECK: &str = "clip.samples";

/// Decodes audio to 16-bit PCM at its own rate and channels.
fn pcm(path: &Path) -> Result<Vec<i16>, String> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le", "-"])
        .output()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(out
        .stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

/// How far two sample runs differ: root mean square of the difference over that of `a`
/// (0 = identical), or None when their lengths differ by more than 1%.
fn relative_error(a: &[i16], b: &[i16]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n == 0 || a.len().abs_diff(b.len()) * 100 > n {
        return None;
    }
    let (mut diff, mut energy) = (0f64, 0f64);
    for (x, y) in a[..n].iter().zip(&b[..n]) {
        diff += (f64::from(*x) - f64::from(*y)).powi(2);
        energy += f64::from(*x).powi(2);
    }
    Some(if energy == 0.0 {
        if diff == 0.0 {
            0.0
        } else {
            1.0
        }
    } else {
        (diff / energy).sqrt()
    })
}

fn read_member(bundle: &Path, name: &str) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(bundle).map_err(|e| e.to_string())?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| e.to_string())?;
    let mut e = z.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut b = Vec::new();
    // Sizes were checked against the bundle limits by the verifier before this runs.
    e.read_to_end(&mut b).map_err(|e| e.to_string())?;
    Ok(b)
}

/// Compares the bundle's clip with the stated range of `recording` (the verified original);
/// None for a v1 bundle, whose statement does not say which range the clip was cut from.
pub fn check(bundle: &Path, recording: &Path) -> Option<Check> {
    let statement = read_member(bundle, member::STATEMENT).ok()?;
    let r = (|| -> Result<String, String> {
        let st: Statement = serde_json::from_slice(&statement).map_err(|e| e.to_string())?;
        let clip = st.clip.ok_or("the statement names no clip")?;
        let (Some(from), Some(to)) = (clip.from_ms, clip.to_ms) else {
            return Err("the statement does not say which range the clip was cut from".into());
        };
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let given = dir.path().join("given.flac");
        std::fs::write(&given, read_member(bundle, &clip.file)?).map_err(|e| e.to_string())?;
        let recut = super::cut_clip(recording, from, to).map_err(|e| e.to_string())?;
        let range = format!(
            "{} – {}",
            crate::media::clock(from),
            crate::media::clock(to)
        );
        if crate::hashing::sha256_hex(&recut) == clip.sha256 {
            return Ok(format!(
                "cut again from the original over {range}, the clip is identical byte for byte"
            ));
        }
        let again = dir.path().join("again.flac");
        std::fs::write(&again, &recut).map_err(|e| e.to_string())?;
        let (a, b) = (pcm(&again)?, pcm(&given)?);
        match relative_error(&a, &b) {
            Some(0.0) => Ok(format!(
                "the clip's samples are those of the original over {range}, sample for sample"
            )),
            // Another ffmpeg build may round a lossy decoder's output differently.
            Some(e) if e < 1e-3 => Ok(format!(
                "the clip's samples are those of the original over {range} (within decoder rounding, {e:.1e})"
            )),
            Some(e) => Err(format!(
                "the clip's samples differ from the original's over {range} (relative error {e:.2}): the clip was not cut from this recording, or was edited"
            )),
            None => Err(format!(
                "the clip has {} samples, the original over {range} has {}: it was not cut from there",
                b.len(),
                a.len()
            )),
        }
    })();
    Some(Check {
        name: CHECK.into(),
        ok: r.is_ok(),
        detail: r.unwrap_or_else(|e| e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_runs_compare_by_relative_error() {
        let a: Vec<i16> = (0..1000).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        assert_eq!(relative_error(&a, &a), Some(0.0));
        let mut b = a.clone();
        b[10] += 1;
        assert!(relative_error(&a, &b).unwrap() < 1e-3);
        let c: Vec<i16> = a.iter().map(|x| -x).collect();
        assert!(relative_error(&a, &c).unwrap() > 1.0);
        assert_eq!(relative_error(&a, &a[..900]), None);
    }
}
