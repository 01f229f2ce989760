//! A full disk: with the archive on a small tmpfs filled to different levels, ingest either
//! completes or fails with a clear "no space" error, and the archive stays consistent; once
//! space is freed, the same ingest completes. Needs root (it mounts a tmpfs).

mod common;
use common::*;
use std::path::Path;
use std::process::Command;

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Mount {
    std::fs::create_dir_all(dir).unwrap();
    let st = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .expect("mount runs");
    assert!(
        st.success(),
        "mounting a tmpfs needs root (the CI and dev machines run as root)"
    );
    Mount(dir.to_path_buf())
}

fn free_bytes(dir: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Fills the filesystem of `dir` until only about `leave` bytes are free.
fn ballast(dir: &Path, leave: u64) {
    let p = dir.join("ballast");
    let _ = std::fs::remove_file(&p);
    let free = free_bytes(dir);
    let size = free.saturating_sub(leave);
    std::fs::write(&p, vec![0xa5u8; size as usize]).unwrap();
}

#[test]
fn a_full_disk_fails_clearly_and_corrupts_nothing() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let mnt = d.path().join("mnt");
    let _m = mount_tmpfs(&mnt, "32m");
    let data = mnt.join("data");
    // One session archived first: it must survive everything below.
    let first = jfk_variant(d.path(), 0);
    let s0 = ingest(&data, &first, &["--model", "tiny.en"]);
    let size = std::fs::metadata(&first).unwrap().len();
    let mut failed = 0;
    let mut archived = vec![s0["session"].as_str().unwrap().to_string()];
    // Free space from nothing to a little more than the recording needs, so the failure lands
    // in staging, in the session files, in the catalog commit and in the index commit.
    let leaves: Vec<u64> = [0, 4096, 65_536]
        .into_iter()
        .chain((0..14).map(|k| size + k * 12_288))
        .collect();
    for (k, leave) in leaves.iter().enumerate() {
        let file = jfk_variant(d.path(), k + 1);
        ballast(&mnt, *leave);
        // Without the reserve, so the failure lands deep inside (the reserve is checked below).
        let out = bin()
            .args([
                "ingest",
                file.to_str().unwrap(),
                "--model",
                "tiny.en",
                "--data",
            ])
            .arg(&data)
            .env("LIVEPROOF_RESERVE_MIB", "0")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
        if out.status.success() {
            archived.push(String::new());
        } else {
            failed += 1;
            eprintln!("free {leave}: {}", err.lines().next().unwrap_or_default());
            assert!(
                err.contains("no space") || err.contains("full"),
                "leave={leave}: the error says the disk is full: {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
        // Consistent whatever happened, and every earlier session intact.
        std::fs::remove_file(mnt.join("ballast")).unwrap();
        let ids = assert_consistent(&data);
        assert!(ids.contains(&archived[0]));
        let (_, h) = run(&data, &["log", "head"]);
        // A manifest and an ingest event per session, never half of them.
        assert_eq!(h.unwrap()["size"].as_u64().unwrap() as usize, 2 * ids.len());
        // With space again, the same ingest completes and is searchable.
        let s = ingest(&data, &file, &["--model", "tiny.en"]);
        let id = s["session"].as_str().unwrap();
        let (o, hits) = run(&data, &["search", "fellow", "--session", id]);
        assert!(o.status.success());
        assert!(
            !hits.unwrap()["hits"].as_array().unwrap().is_empty(),
            "leave={leave}"
        );
        assert!(
            files_under(&data, "tmp").is_empty(),
            "leave={leave}: staging left"
        );
    }
    assert!(failed >= 3, "the sweep hit a full disk {failed} times");
    // With the default reserve, a nearly full disk is refused before any work.
    ballast(&mnt, size * 3);
    let before = files_under(&data, "blobs").len();
    let file = jfk_variant(d.path(), 999);
    let (out, _) = run(
        &data,
        &["ingest", file.to_str().unwrap(), "--model", "tiny.en"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no space left") && err.contains("take-999.wav"),
        "{err}"
    );
    assert_eq!(files_under(&data, "blobs").len(), before);
}
