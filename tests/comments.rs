//! Live comments sealed with a recording: Bilibili XML and JSONL in, their own Merkle root in
//! the signed manifest, searchable by source (CLI and API), exported, kept through reindex,
//! and refused with a clear error when malformed.

mod common;

use common::*;
use serde_json::Value;

const XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<i><chatserver>chat.bilibili.com</chatserver>
<d p="1.5,1,25,16777215,1714564805000,0,ab12cd34,0" user="小明">这个面霜全网最低价</d>
<d p="2.25,1,25,16777215,1714564806000,0,ee99ff00,0" user="托儿一号">用了三天皱纹全没了 refund guaranteed</d>
<gift ts="3.0" user="小红" uid="2" giftname="小心心" giftcount="5" />
</i>"#;

fn flv(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let wav = jfk_variant(dir, n);
    let out = dir.join(format!("room-{n}.flv"));
    ffmpeg(&wav, &out, &["-c:a", "aac", "-f", "flv"]);
    out
}

#[test]
fn comments_are_sealed_searchable_by_source_and_exported() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let rec = flv(d.path(), 7);
    let xml = d.path().join("room.xml");
    std::fs::write(&xml, XML).unwrap();
    let s = ingest(
        &data,
        &rec,
        &["--model", "tiny.en", "--comments", xml.to_str().unwrap()],
    );
    let sid = s["session"].as_str().unwrap().to_string();

    // The manifest (signed) carries the comments' count, source hash and root.
    let (_, show) = run(&data, &["show", &sid]);
    let c = &show.unwrap()["comments"];
    assert_eq!(c["count"], 3);
    assert_eq!(c["source_format"], "bilibili-xml");
    assert_eq!(c["root"].as_str().unwrap().len(), 64);
    let archived = files_under(&data, "sessions")
        .into_iter()
        .find(|p| p.ends_with("comments.source"))
        .expect("the source is kept");
    assert_eq!(std::fs::read_to_string(archived).unwrap(), XML);

    // Speech by default; comments on request, with the account; both with --source all.
    let (_, v) = run(&data, &["search", "最低价"]);
    assert_eq!(v.unwrap()["total"], 0);
    let (_, v) = run(&data, &["search", "最低价", "--source", "comments"]);
    let v = v.unwrap();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["hits"][0]["source"], "comments");
    assert_eq!(v["hits"][0]["user"], "小明");
    assert_eq!(v["hits"][0]["start_ms"], 1500);
    let (_, v) = run(&data, &["search", "fellow OR refund", "--source", "all"]);
    let v = v.unwrap();
    let sources: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["source"].as_str().unwrap())
        .collect();
    assert!(
        sources.contains(&"speech") && sources.contains(&"comments"),
        "{v}"
    );

    // Rebuilding the index keeps them.
    let (out, _) = run(&data, &["reindex"]);
    assert!(out.status.success());
    let (_, v) = run(&data, &["search", "皱纹", "--source", "comments"]);
    assert_eq!(v.unwrap()["total"], 1);

    // The API: the comments of a session, and search by source.
    let tok = common::server::token(&data, "auditor", None);
    let srv = common::server::start(&data, &[]);
    let (status, body) =
        common::server::get(&srv.1, &format!("/api/sessions/{sid}/comments"), Some(&tok));
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["comments"].as_array().unwrap().len(), 3);
    assert_eq!(v["comments"][0]["user"], "小明");
    let (status, body) = common::server::get(
        &srv.1,
        "/api/search?q=%E7%9A%B1%E7%BA%B9&source=comments",
        Some(&tok),
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["hits"][0]["source"], "comments", "{v}");
    drop(srv);

    // Exports: JSONL (the input format), Bilibili XML, ASS.
    let out = bin()
        .args([
            "comments",
            &sid,
            "--format",
            "jsonl",
            "--data",
            data.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["kind"], "gift");
    assert_eq!(lines[2]["text"], "小心心 ×5");
    for (format, needle) in [("xml", "<d p=\"1.500,"), ("ass", "Dialogue: 0,0:00:01.50")] {
        let out = bin()
            .args([
                "comments",
                &sid,
                "--format",
                format,
                "--data",
                data.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(needle), "{format}: {text}");
    }
}

#[test]
fn jsonl_comments_align_by_unix_time_and_bad_files_are_refused_before_any_work() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let rec = flv(d.path(), 8);
    let start = chrono::DateTime::parse_from_rfc3339("2026-05-01T20:00:00+08:00").unwrap();
    let meta = d.path().join("meta.json");
    std::fs::write(
        &meta,
        r#"{"platform":"douyin","room":"r1","started_at":"2026-05-01T20:00:00+08:00"}"#,
    )
    .unwrap();
    let jsonl = d.path().join("c.jsonl");
    std::fs::write(
        &jsonl,
        format!(
            "{{\"ts\": {}, \"kind\": \"chat\", \"user\": \"u1\", \"text\": \"真的有用吗\"}}\n{{\"ts\": {}, \"kind\": \"enter\", \"user\": \"u2\"}}\n",
            start.timestamp() + 2,
            (start.timestamp() - 60) * 1000
        ),
    )
    .unwrap();

    // Without the start time, `ts` cannot be placed: refused, nothing archived.
    let (out, _) = run(
        &data,
        &[
            "ingest",
            rec.to_str().unwrap(),
            "--model",
            "tiny.en",
            "--comments",
            jsonl.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("started_at"));
    let (_, v) = run(&data, &["sessions"]);
    assert_eq!(v.unwrap()["sessions"].as_array().unwrap().len(), 0);

    let s = ingest(
        &data,
        &rec,
        &[
            "--model",
            "tiny.en",
            "--meta",
            meta.to_str().unwrap(),
            "--comments",
            jsonl.to_str().unwrap(),
        ],
    );
    let sid = s["session"].as_str().unwrap();
    let (_, show) = run(&data, &["show", sid]);
    assert_eq!(
        show.unwrap()["comments"]["count"],
        1,
        "the one before the start is dropped"
    );
    let (_, v) = run(&data, &["search", "有用", "--source", "comments"]);
    let v = v.unwrap();
    assert_eq!(v["hits"][0]["start_ms"], 2000, "{v}");

    // A malformed file names the line.
    let bad = d.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"t_ms\": 1}\n{oops\n").unwrap();
    let other = flv(d.path(), 9);
    let (out, _) = run(
        &data,
        &[
            "ingest",
            other.to_str().unwrap(),
            "--model",
            "tiny.en",
            "--comments",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
}

#[test]
fn paid_looking_comments_are_signals_with_evidence_and_two_kinds_make_a_finding() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let rec = flv(d.path(), 11);
    let mut xml = String::from("<i>\n");
    // One account pastes the same line five times; two accounts post only praise at once.
    for i in 0..5 {
        xml.push_str(&format!(
            "<d p=\"{}.0,1,25,0,0,0,h1,0\" user=\"水军1\">买它！买它！</d>\n",
            i + 1
        ));
    }
    for (t, u, text) in [
        (1.2, "夸夸A", "好用"),
        (1.6, "夸夸A", "强烈推荐"),
        (2.1, "夸夸A", "已下单"),
        (1.3, "夸夸B", "绝了 好评"),
        (1.9, "夸夸B", "太值了"),
        (2.8, "夸夸B", "真香"),
        (3.5, "路人", "多少钱"),
    ] {
        xml.push_str(&format!(
            "<d p=\"{t},1,25,0,0,0,x,0\" user=\"{u}\">{text}</d>\n"
        ));
    }
    xml.push_str("</i>\n");
    let file = d.path().join("c.xml");
    std::fs::write(&file, xml).unwrap();
    let s = ingest(
        &data,
        &rec,
        &["--model", "tiny.en", "--comments", file.to_str().unwrap()],
    );
    let sid = s["session"].as_str().unwrap();
    let (_, r) = run(&data, &["report", sid]);
    let r = r.unwrap();
    let kinds: Vec<&str> = r["comment_signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["duplicate_comments", "praise_burst_accounts"],
        "{r:#}"
    );
    assert_eq!(
        r["comment_signals"][0]["evidence"]["clusters"][0]["accounts"][0],
        "水军1"
    );
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "suspected_shill_comments"));
    // The finding is a session tag: auditors filter on it.
    let (_, v) = run(
        &data,
        &["search", "fellow", "--tag", "suspected_shill_comments"],
    );
    assert_eq!(v.unwrap()["total"], 1);
}

#[test]
fn a_bundle_quotes_the_comments_of_its_range_and_both_verifiers_check_them() {
    use common::forge::{archive_key, members, resign_statement, write_bundle};
    use common::independent::{failed_checks, lpverify};
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let rec = flv(d.path(), 12);
    let xml = d.path().join("room.xml");
    std::fs::write(&xml, XML).unwrap();
    let s = ingest(
        &data,
        &rec,
        &["--model", "tiny.en", "--comments", xml.to_str().unwrap()],
    );
    let sid = s["session"].as_str().unwrap();
    let bundle = d.path().join("b.zip");
    // 0:00-0:02.5 holds the two <d> comments (1.5 s, 2.25 s), not the gift at 3 s.
    export_bundle(&data, sid, "0", "2.5", &bundle, &[]);
    let m = members(&bundle);
    let c: Value = serde_json::from_slice(&m["comments.json"]).unwrap();
    assert_eq!(c["comments"].as_array().unwrap().len(), 2, "{c:#}");
    assert_eq!(c["count"], 3);
    let (code, v) = verify_json(&data, &bundle, &[]);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "comments" && k["ok"] == true));
    assert!(v["proven"].to_string().contains("live comment"));
    let key = liveproof::seal::keys::public_hex(&archive_key(&data));
    let (code, pv) = lpverify(&bundle, &["--key", &key]);
    assert_eq!(code, 0, "{pv:#}");

    // A comment's words changed and the statement re-signed with the archive's own key: the
    // member hashes agree, but the comment no longer reaches the sealed root.
    let mut forged = members(&bundle);
    let mut c2 = c.clone();
    c2["comments"][0]["text"] = Value::from("这个面霜不是最低价");
    forged.insert(
        "comments.json".into(),
        serde_json::to_vec_pretty(&c2).unwrap(),
    );
    let st: Value = serde_json::from_slice(&forged["statement.json"]).unwrap();
    resign_statement(&mut forged, st, &archive_key(&data));
    let fb = d.path().join("forged.zip");
    write_bundle(&fb, &forged);
    let (code, v) = verify_json(&data, &fb, &[]);
    assert_eq!(code, 5, "{v:#}");
    let failed: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["ok"] == false)
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["comments"]);
    let (code, pv) = lpverify(&fb, &["--key", &key]);
    assert_ne!(code, 0);
    assert_eq!(failed_checks(&pv), ["comments"]);
}
