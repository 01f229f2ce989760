//! `liveproof sessions` and `GET /api/sessions`: the columns reviewers browse by (platform,
//! room, host, start, verdicts, claim count), the same filters on both, sorting and paging.

mod common;

use common::*;
use serde_json::Value;

fn sessions(data: &std::path::Path, args: &[&str]) -> Value {
    let mut a = vec!["sessions"];
    a.extend_from_slice(args);
    let (o, v) = run(data, &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sessions_carry_verdicts_and_claims_and_filter_alike_on_the_cli_and_the_api() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = |name: &str, body: &str| {
        let p = d.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    // A declared digital host on douyin making claims; a human on bilibili, started earlier.
    let m1 = meta(
        "a.json",
        r#"{"platform":"douyin","room":"17","host":"Ann","host_kind":"digital_human","started_at":"2026-05-02T20:00:00+08:00"}"#,
    );
    let wav = d.path().join("pitch.wav");
    speak(
        &wav,
        "This cream is the best cream ever and it cures insomnia. Only three left, hurry up.",
    );
    let a = ingest(
        &data,
        &wav,
        &["--model", "tiny.en", "--meta", m1.to_str().unwrap()],
    );
    let a = a["session"].as_str().unwrap().to_string();
    let m2 = meta(
        "b.json",
        r#"{"platform":"bilibili","room":"9","host":"Bo","host_kind":"human","started_at":"2026-04-01T20:00:00+08:00"}"#,
    );
    let b = ingest(
        &data,
        &fixture("jfk.wav"),
        &["--model", "tiny.en", "--meta", m2.to_str().unwrap()],
    );
    let b = b["session"].as_str().unwrap().to_string();

    let all = sessions(&data, &[]);
    assert_eq!(all["total"], 2);
    assert_eq!(ids(&all), [a.as_str(), b.as_str()], "newest start first");
    let first = &all["sessions"][0];
    for (k, want) in [
        ("platform", "douyin"),
        ("room", "17"),
        ("host", "Ann"),
        ("started_at", "2026-05-02T20:00:00+08:00"),
        ("digital_host", "declared"),
        ("disclosure", "missing"),
    ] {
        assert_eq!(first[k], want, "{k}: {first:#}");
    }
    assert!(first["claim_count"].as_u64().unwrap() >= 2, "{first:#}");
    assert!(first["duration_ms"].as_u64().unwrap() > 0);
    assert_eq!(all["sessions"][1]["digital_host"], "none");
    assert_eq!(all["sessions"][1]["claim_count"], 0);

    // Filters, each alone and together; sort and paging.
    assert_eq!(
        ids(&sessions(&data, &["--platform", "bilibili"])),
        [b.as_str()]
    );
    assert_eq!(
        ids(&sessions(&data, &["--digital-host", "declared"])),
        [a.as_str()]
    );
    assert_eq!(ids(&sessions(&data, &["--has-claims"])), [a.as_str()]);
    assert_eq!(
        ids(&sessions(&data, &["--until", "2026-04-30"])),
        [b.as_str()]
    );
    assert_eq!(
        ids(&sessions(
            &data,
            &["--since", "2026-05-01", "--disclosure", "missing"]
        )),
        [a.as_str()]
    );
    assert!(ids(&sessions(
        &data,
        &["--platform", "douyin", "--digital-host", "none"]
    ))
    .is_empty());
    let page = sessions(
        &data,
        &["--sort", "duration", "--limit", "1", "--offset", "1"],
    );
    assert_eq!(page["total"], 2);
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    let (o, _) = run(&data, &["sessions", "--limit", "0"]);
    assert_eq!(o.status.code(), Some(2));
    let (o, _) = run(&data, &["sessions", "--digital-host", "robot"]);
    assert_eq!(o.status.code(), Some(2));

    // The text form shows the columns.
    let o = bin()
        .args(["sessions", "--data", data.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("douyin/17/Ann") && text.contains("declared"),
        "{text}"
    );

    // The API: same fields and filters, scoped to the caller.
    let srv = server::start(&data, &[]);
    let admin = server::token(&data, "admin", None);
    let (status, body) = server::get(
        &srv.1,
        "/api/sessions?digital_host=declared&has_claims=true",
        Some(&admin),
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(ids(&v), [a.as_str()]);
    assert_eq!(v["sessions"][0]["started_at"], "2026-05-02T20:00:00+08:00");
    let bili = server::token(&data, "platform", Some("bilibili"));
    let (_, body) = server::get(&srv.1, "/api/sessions", Some(&bili));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        ids(&v),
        [b.as_str()],
        "another platform's sessions are not listed"
    );
    assert_eq!(v["total"], 1);
    for bad in [
        "limit=0",
        "limit=5000",
        "offset=99999999",
        "since=yesterday",
        "sort=random",
    ] {
        let (status, _) = server::get(&srv.1, &format!("/api/sessions?{bad}"), Some(&admin));
        assert_eq!(status, 400, "{bad}");
    }
}

#[test]
fn the_claims_desk_lists_flags_without_a_keyword_and_records_decisions() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let meta = d.path().join("m.json");
    std::fs::write(
        &meta,
        r#"{"platform":"douyin","room":"5","started_at":"2026-05-03T20:00:00+08:00"}"#,
    )
    .unwrap();
    let wav = d.path().join("pitch.wav");
    speak(
        &wav,
        "This cream is the best cream ever. It cures insomnia. Only three left, hurry up.",
    );
    let s = ingest(
        &data,
        &wav,
        &["--model", "tiny.en", "--meta", meta.to_str().unwrap()],
    );
    let id = s["session"].as_str().unwrap().to_string();

    let (o, v) = run(&data, &["claims", "list"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = v.unwrap();
    let claims = v["claims"].as_array().unwrap().clone();
    assert!(v["total"].as_u64().unwrap() >= 2, "{v:#}");
    for c in &claims {
        for k in [
            "session", "start_ms", "end_ms", "category", "words", "text", "article", "review",
        ] {
            assert!(!c[k].is_null(), "{k} in {c}");
        }
        assert_eq!(c["review"], "open");
    }
    let health = claims
        .iter()
        .find(|c| c["category"] == "health_claims")
        .expect("a health claim");
    assert!(health["text"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("insomnia"));
    let (_, v) = run(
        &data,
        &[
            "claims",
            "list",
            "--category",
            "pressure",
            "--platform",
            "douyin",
        ],
    );
    assert!(v.unwrap()["claims"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["category"] == "pressure"));
    let (_, v) = run(&data, &["claims", "list", "--platform", "kuaishou"]);
    assert_eq!(v.unwrap()["total"], 0);

    // A decision from the command line: logged, then shown; the filter finds it.
    let seg = health["segment"].as_u64().unwrap().to_string();
    let (o, r) = run(
        &data,
        &[
            "claims",
            "review",
            &id,
            "--segment",
            &seg,
            "--category",
            "health_claims",
            "--confirm",
            "--note",
            "no licence shown",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(r.unwrap()["decision"], "confirmed");
    let (_, v) = run(&data, &["claims", "list", "--review", "confirmed"]);
    let v = v.unwrap();
    assert_eq!(v["total"], 1, "{v:#}");
    assert_eq!(v["claims"][0]["decision"]["note"], "no licence shown");
    assert!(v["claims"][0]["decision"]["by"]
        .as_str()
        .unwrap()
        .starts_with("local:"));
    // The decision is a custody event in the log: an exported bundle carries it.
    let bundle = d.path().join("b.zip");
    export_bundle(&data, &id, "0", "3", &bundle, &[]);
    let (code, verdict) = verify_json(&data, &bundle, &[]);
    assert_eq!(code, 0, "{verdict:#}");
    assert!(
        verdict["custody"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "claim_review"),
        "{verdict:#}"
    );
    // A flag that is not there is refused.
    let (o, _) = run(
        &data,
        &[
            "claims",
            "review",
            &id,
            "--segment",
            "99",
            "--category",
            "pressure",
            "--dismiss",
        ],
    );
    assert_eq!(o.status.code(), Some(3));

    // The API: the same desk; a consumer may not decide.
    let srv = server::start(&data, &[]);
    let auditor = server::token(&data, "auditor", None);
    let (status, body) = server::get(&srv.1, "/api/claims?category=health_claims", Some(&auditor));
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["claims"][0]["review"], "confirmed");
    let send = |tok: &str, body: Value| {
        let mut r = server::agent()
            .post(&format!("{}/api/claims/review", srv.1))
            .header("Authorization", &format!("Bearer {tok}"))
            .header("Content-Type", "application/json")
            .send(&serde_json::to_vec(&body).unwrap()[..])
            .unwrap();
        let status = r.status().as_u16();
        let v: Value =
            serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap_or(Value::Null);
        (status, v)
    };
    let (status, r) = send(
        &auditor,
        serde_json::json!({"session": id, "segment": health["segment"], "category": "health_claims", "decision": "dismissed", "note": "licensed drug"}),
    );
    assert_eq!(status, 200, "{r}");
    assert!(r["by"].as_str().unwrap().starts_with("token:"));
    let (_, body) = server::get(&srv.1, "/api/claims?review=dismissed", Some(&auditor));
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["total"], 1, "the latest decision counts");
    let consumer = server::token(&data, "consumer", None);
    let (status, _) = send(
        &consumer,
        serde_json::json!({"session": id, "segment": 0, "category": "pressure", "decision": "confirmed"}),
    );
    assert_eq!(status, 403);
    let (status, _) = send(
        &auditor,
        serde_json::json!({"session": id, "segment": 0, "category": "pressure", "decision": "maybe"}),
    );
    assert_eq!(status, 400);
}
