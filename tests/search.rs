//! Search over real transcripts: both languages, both Chinese scripts, highlights, filters,
//! reindex, and syntax errors.

mod common;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Archives the English and two Mandarin fixtures (with sidecars) once per test.
fn archive(data: &Path) -> (String, String, String) {
    require_model("tiny.en");
    require_model("base");
    let dir = data.parent().unwrap();
    let meta = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let m1 = meta(
        "jfk.json",
        r#"{"platform":"douyin","room":"r1","host":"jfk","started_at":"2026-05-01T20:00:00+08:00"}"#,
    );
    let m2 = meta(
        "aishell.json",
        r#"{"platform":"kuaishou","room":"r2","started_at":"2026-06-10T09:00:00Z"}"#,
    );
    let en = ingest(
        data,
        &fixture("jfk.wav"),
        &["--model", "tiny.en", "--meta", m1.to_str().unwrap()],
    );
    let zh = ingest(
        data,
        &fixture("aishell_BAC009S0724W0121.wav"),
        &[
            "--model",
            "base",
            "--lang",
            "zh",
            "--meta",
            m2.to_str().unwrap(),
        ],
    );
    let zh2 = ingest(
        data,
        &fixture("paddlespeech_zh.wav"),
        &["--model", "base", "--lang", "zh"],
    );
    let id = |v: &Value| v["session"].as_str().unwrap().to_string();
    (id(&en), id(&zh), id(&zh2))
}

fn search(data: &Path, args: &[&str]) -> Value {
    let mut a = vec!["search"];
    a.extend_from_slice(args);
    let (out, json) = run(data, &a);
    assert!(
        out.status.success(),
        "search {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json.unwrap()
}

/// Sessions of the hits, in hit order, each once.
fn sessions_of(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for h in v["hits"].as_array().unwrap() {
        let s = h["session"].as_str().unwrap().to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[test]
fn reference_words_find_their_transcripts_in_both_languages_and_both_scripts() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (en, zh, zh2) = archive(&data);
    let r = search(&data, &["\"fellow Americans\""]);
    assert_eq!(r["total"], 1);
    let hit = &r["hits"][0];
    assert_eq!(hit["session"], en.as_str());
    for k in ["start_ms", "end_ms", "text", "snippet"] {
        assert!(!hit[k].is_null(), "hit has {k}");
    }
    assert!(hit["play"].as_str().unwrap().contains("ffplay"));
    // Stemming: "countries" finds "country"; case and width are folded.
    assert_eq!(
        sessions_of(&search(&data, &["countries"])),
        vec![en.clone()]
    );
    assert_eq!(sessions_of(&search(&data, &["ＡＳＫ"])), vec![en.clone()]);
    // Mandarin words from the references, in simplified and in traditional characters.
    assert_eq!(sessions_of(&search(&data, &["协会"])), vec![zh.clone()]);
    assert_eq!(sessions_of(&search(&data, &["協會"])), vec![zh.clone()]);
    assert_eq!(
        sessions_of(&search(&data, &["身体健康"])),
        vec![zh2.clone()]
    );
    assert_eq!(sessions_of(&search(&data, &["身體"])), vec![zh2.clone()]);
    assert_eq!(sessions_of(&search(&data, &["跑步"])), vec![zh2]);
    // A word that no one said.
    assert_eq!(search(&data, &["诺贝尔"])["total"], 0);
}

#[test]
fn highlights_fall_on_the_matched_words() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    archive(&data);
    let snippet = |q: &str| {
        search(&data, &[q])["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let s = snippet("americans");
    assert!(s.contains("<b>Americans</b>"), "{s}");
    assert_eq!(s.matches("<b>").count(), 1, "{s}");
    let s = snippet("跑步");
    assert!(s.contains("<b>跑步</b>"), "{s}");
    let s = snippet("協會");
    assert!(s.contains("<b>协会</b>"), "{s}");
}

#[test]
fn phrases_boolean_operators_prefixes_and_filters_work() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (en, zh, zh2) = archive(&data);
    assert_eq!(search(&data, &["\"ask not\""])["total"], 1);
    assert_eq!(search(&data, &["\"not ask\""])["total"], 0);
    assert_eq!(sessions_of(&search(&data, &["countr*"])), vec![en.clone()]);
    let mut both = sessions_of(&search(&data, &["协会 OR americans"]));
    both.sort();
    let mut expected = vec![en.clone(), zh.clone()];
    expected.sort();
    assert_eq!(both, expected);
    assert_eq!(search(&data, &["americans -fellow"])["total"], 0);
    assert_eq!(search(&data, &["americans AND 协会"])["total"], 0);
    // Filters.
    let or = "协会 OR americans OR 跑步";
    assert_eq!(
        sessions_of(&search(&data, &[or, "--platform", "douyin"])),
        vec![en.clone()]
    );
    assert_eq!(
        sessions_of(&search(&data, &[or, "--room", "r2"])),
        vec![zh.clone()]
    );
    assert_eq!(
        sessions_of(&search(&data, &[or, "--lang", "en"])),
        vec![en.clone()]
    );
    assert_eq!(
        sessions_of(&search(
            &data,
            &[or, "--since", "2026-06-01", "--until", "2026-06-30"]
        )),
        vec![zh.clone()]
    );
    assert_eq!(
        sessions_of(&search(&data, &[or, "--until", "2026-05-01"])),
        vec![en.clone()]
    );
    assert_eq!(
        sessions_of(&search(&data, &[or, "--session", &zh2])),
        vec![zh2.clone()]
    );
    // Time order and pagination.
    let or = "协会 OR \"fellow americans\" OR 跑步";
    let by_time = sessions_of(&search(&data, &[or, "--sort", "time"]));
    assert_eq!(&by_time[..2], &[en.clone(), zh.clone()]);
    let page2 = search(
        &data,
        &[or, "--sort", "time", "--limit", "1", "--offset", "1"],
    );
    assert_eq!(page2["total"], 3);
    assert_eq!(sessions_of(&page2), vec![zh]);
}

#[test]
fn reindex_reproduces_the_same_results() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    archive(&data);
    let queries = ["americans", "协会 OR 跑步", "\"ask not\"", "countr*"];
    let before: Vec<Value> = queries.iter().map(|q| search(&data, &[q])).collect();
    // The index is derived: search rebuilds what is missing from the archive on its own.
    std::fs::remove_dir_all(data.join("tantivy")).unwrap();
    assert_eq!(search(&data, &["americans"])["total"], before[0]["total"]);
    assert!(data.join("tantivy/meta.json").is_file());
    let (out, json) = run(&data, &["reindex"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json.unwrap()["sessions"], 3);
    let after: Vec<Value> = queries.iter().map(|q| search(&data, &[q])).collect();
    assert_eq!(before, after);
    // Reindexing again over an existing index is just as good.
    run(&data, &["reindex"]);
    assert_eq!(
        before,
        queries
            .iter()
            .map(|q| search(&data, &[q]))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_query_with_bad_syntax_gives_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    for (q, expect) in [
        ("(协会 OR 跑步", "never closed"),
        ("(协会 OR", "term was expected"),
        ("\"ask not", "never closed"),
        ("OR americans", "both sides"),
        ("-americans", "not only exclusions"),
        ("", "empty"),
    ] {
        let (out, _) = run(&data, &["search", q]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{q}");
        assert!(
            err.contains("bad query") && err.contains(expect),
            "{q}: {err}"
        );
    }
    let (out, _) = run(&data, &["search", "x", "--since", "last week"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"));
}
