//! Risky claims: plain-text checks, the annotated evaluation sets, and flags on real ingests.

mod common;
use std::io::Write;
use std::process::Stdio;

use common::*;
use serde_json::Value;

fn check_stdin(text: &str) -> Vec<Value> {
    let mut child = bin()
        .args(["claims", "check", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn categories(v: &Value) -> Vec<String> {
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["category"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn claims_check_prints_one_object_per_line_with_category_words_article_severity_review() {
    let lines = check_stdin("这是全网最低价\n第一次来的家人们点点关注\n这个蜂蜜可以治疗失眠\n这是我们家这个系列里最好用的一款\nOnly 3 left, today only!\n");
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(categories(&lines[0]), vec!["absolute_terms"]);
    let f = &lines[0]["flags"][0];
    assert!(f["words"][0].as_str().unwrap().contains("最低"));
    assert!(f["article"].as_str().unwrap().contains("9(3)"));
    assert_eq!(f["review"], false);
    assert!(
        categories(&lines[1]).is_empty(),
        "第一次 is not an absolute claim"
    );
    assert_eq!(categories(&lines[2]), vec!["health_claims"]);
    assert!(
        lines[2]["flags"][0]["severity"].as_u64() > f["severity"].as_u64(),
        "health is more severe"
    );
    assert_eq!(
        lines[3]["flags"][0]["review"], true,
        "self-comparison goes to review"
    );
    assert_eq!(categories(&lines[4]), vec!["pressure"]);
}

#[test]
fn claims_check_reads_a_file_and_names_a_missing_one() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("talk.txt");
    std::fs::write(&f, "假一赔十\n最近天气冷\n").unwrap();
    let out = bin()
        .args(["claims", "check", f.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(categories(&lines[0]), vec!["after_sales"]);
    assert!(categories(&lines[1]).is_empty());
    let out = bin()
        .args(["claims", "check", "/nonexistent/talk.txt"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/talk.txt"));
}

#[test]
fn the_lexicon_reaches_f1_of_0_9_on_every_annotated_set() {
    for set in [
        "data/claims-eval.tsv",
        "data/claims-heldout.tsv",
        "data/claims-heldout-2.tsv",
        "data/claims-heldout-3.tsv",
        "data/claims-heldout-4.tsv",
        "data/claims-heldout-5.tsv",
        "data/claims-heldout-6.tsv",
        "data/claims-heldout-7.tsv",
        "data/claims-heldout-8.tsv",
        "data/claims-heldout-9.tsv",
        "data/claims-heldout-10.tsv",
        "data/claims-heldout-11.tsv",
        "data/claims-heldout-12.tsv",
        "data/claims-heldout-13.tsv",
        "data/claims-heldout-14.tsv",
        "data/claims-heldout-15.tsv",
        "data/claims-heldout-16.tsv",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(set);
        let out = bin()
            .args(["claims", "eval", path.to_str().unwrap(), "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        if set.ends_with("claims-eval.tsv") {
            assert!(v["sentences"].as_u64().unwrap() >= 200);
        }
        let scores = v["scores"].as_array().unwrap();
        for s in scores {
            assert!(s["f1"].as_f64().unwrap() >= 0.9, "{set}: {s}");
        }
        // The pooled row sums the categories' counts.
        let sum = |k: &str| scores.iter().map(|s| s[k].as_u64().unwrap()).sum::<u64>();
        for k in ["tp", "fp", "fn_", "positives"] {
            assert_eq!(v["micro"][k].as_u64().unwrap(), sum(k), "{set}: micro.{k}");
        }
        assert!(
            v["micro"]["f1"].as_f64().unwrap() >= 0.9,
            "{set}: {}",
            v["micro"]
        );
    }
}

#[test]
fn spoken_claims_are_flagged_at_ingest_and_filterable_in_search() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let wav = d.path().join("pitch.wav");
    speak(&wav, "Hello everyone, welcome to my live room. This face cream cures insomnia. It is the best cream ever. Only three left, so hurry up. Thank you for watching.");
    let data = d.path().join("data");
    let s = ingest(&data, &wav, &["--model", "tiny.en"]);
    let id = s["session"].as_str().unwrap();
    let (_, show) = run(&data, &["show", id]);
    let show = show.unwrap();
    let flags = show["claims"]["flags"].as_array().unwrap();
    let cats: Vec<&str> = flags
        .iter()
        .map(|f| f["category"].as_str().unwrap())
        .collect();
    assert!(cats.contains(&"health_claims"), "{cats:?}");
    assert!(flags
        .iter()
        .all(|f| f["end_ms"].as_u64() > f["start_ms"].as_u64()));
    let (_, r) = run(&data, &["search", "insomnia", "--flag", "health_claims"]);
    let r = r.unwrap();
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(r["hits"][0]["session"], id);
    let (_, r) = run(&data, &["search", "insomnia", "--flag", "after_sales"]);
    assert_eq!(r.unwrap()["total"], 0);
    let (_, r) = run(&data, &["search", "welcome", "--flag", "health_claims"]);
    assert_eq!(
        r.unwrap()["total"],
        0,
        "only the flagged segment carries the flag"
    );

    // The report lists them, and so does the evidence report of a bundle covering them.
    let (_, rep) = run(&data, &["report", id]);
    assert!(
        rep.unwrap()["claims"]["counts"]["health_claims"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let bundle = d.path().join("b.zip");
    let end = format!("{:.3}", s["duration_ms"].as_u64().unwrap() as f64 / 1000.0);
    let (o, _) = run(
        &data,
        &[
            "evidence",
            id,
            "--from",
            "0",
            "--to",
            &end,
            "-o",
            bundle.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut z = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let mut html = String::new();
    std::io::Read::read_to_string(&mut z.by_name("report.html").unwrap(), &mut html).unwrap();
    assert!(
        html.contains("health_claims") && html.contains("cures insomnia"),
        "report lacks the claims"
    );
    // The excerpt's timeline strip: speech and the claim drawn in the health colour.
    let strip = &html[html
        .find("<figure class=\"strip\"")
        .expect("a timeline strip")..];
    assert!(strip.contains("fill=\"#9ca3af\"") && strip.contains("fill=\"#9333ea\""));
    let mut ex = String::new();
    std::io::Read::read_to_string(&mut z.by_name("excerpt.json").unwrap(), &mut ex).unwrap();
    assert!(ex.contains("health_claims"));
}
