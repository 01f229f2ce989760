//! C2PA content credentials: a file signed as AI-generated is a declared digital host, a tampered
//! one is reported as invalid, a camera capture is not AI. Certificates are made here with
//! openssl (a CA and an ES256 leaf) and files are signed with the c2pa crate itself.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const TRAINED: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";
const COMPOSITE: &str =
    "https://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia";
const CAPTURE: &str = "https://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture";

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA and a leaf certificate fit for C2PA signing (ES256, emailProtection); returns (chain, key).
fn signing_identity(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    std::fs::write(
        dir.join("ca.cnf"),
        "[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n\
         [leaf]\nbasicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n",
    )
    .unwrap();
    for (name, ext, issuer) in [("ca", "ca", None), ("leaf", "leaf", Some("ca"))] {
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                &format!("{name}.key"),
            ],
        );
        openssl(
            dir,
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.pk8"),
            ],
        );
        let subj = format!("/CN=Test {name}/O=liveproof tests");
        match issuer {
            None => openssl(
                dir,
                &[
                    "req",
                    "-new",
                    "-x509",
                    "-key",
                    "ca.key",
                    "-subj",
                    &subj,
                    "-days",
                    "30",
                    "-config",
                    "ca.cnf",
                    "-extensions",
                    ext,
                    "-out",
                    "ca.pem",
                    "-sha256",
                ],
            ),
            Some(ca) => {
                openssl(
                    dir,
                    &[
                        "req", "-new", "-key", "leaf.key", "-subj", &subj, "-config", "ca.cnf",
                        "-out", "leaf.csr",
                    ],
                );
                openssl(
                    dir,
                    &[
                        "x509",
                        "-req",
                        "-in",
                        "leaf.csr",
                        "-CA",
                        &format!("{ca}.pem"),
                        "-CAkey",
                        &format!("{ca}.key"),
                        "-CAcreateserial",
                        "-days",
                        "30",
                        "-extfile",
                        "ca.cnf",
                        "-extensions",
                        ext,
                        "-out",
                        "leaf.pem",
                        "-sha256",
                    ],
                );
            }
        }
    }
    let mut chain = std::fs::read(dir.join("leaf.pem")).unwrap();
    chain.extend(std::fs::read(dir.join("ca.pem")).unwrap());
    (chain, std::fs::read(dir.join("leaf.pk8")).unwrap())
}

/// Signs `src` into `dst` with a manifest whose `c2pa.created` action has `source_type`.
fn sign(dir: &Path, src: &Path, dst: &Path, format: &str, source_type: &str) {
    let (chain, key) = signing_identity(dir);
    let signer = c2pa::create_signer::from_keys(&chain, &key, c2pa::SigningAlg::Es256, None)
        .expect("signer from test keys");
    let definition = json!({
        "claim_generator_info": [{"name": "digital-host-studio", "version": "1.0"}],
        "title": "live room recording",
        "assertions": [{
            "label": "c2pa.actions",
            "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": source_type}]}
        }]
    });
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(definition.to_string())
        .expect("manifest definition");
    let mut input = std::fs::File::open(src).unwrap();
    let mut output = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(dst)
        .unwrap();
    builder
        .sign(&*signer, format, &mut input, &mut output)
        .expect("c2pa signs the file");
}

fn c2pa_signal(r: &Value) -> Option<Value> {
    r["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "c2pa")
        .cloned()
}

fn report_of(data: &Path, file: &Path) -> Value {
    let s = ingest(data, file, &["--model", "tiny.en"]);
    let (o, v) = run(data, &["report", s["session"].as_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    v.unwrap()
}

#[test]
fn a_c2pa_manifest_declaring_trained_media_makes_a_declared_digital_host() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    for (ext, format, source_type) in [
        ("mp4", "video/mp4", TRAINED),
        ("wav", "audio/wav", COMPOSITE),
        ("mp3", "audio/mpeg", TRAINED),
    ] {
        let plain = d.path().join(format!("plain.{ext}"));
        let codec: &[&str] = match ext {
            "mp4" => &["-c:a", "aac"],
            "mp3" => &["-c:a", "libmp3lame"],
            _ => &[],
        };
        ffmpeg(&fixture("jfk.wav"), &plain, codec);
        let signed = d.path().join(format!("signed.{ext}"));
        sign(d.path(), &plain, &signed, format, source_type);
        let r = report_of(&data, &signed);
        let sig = c2pa_signal(&r).unwrap_or_else(|| panic!("{ext}: no c2pa signal in {r:#}"));
        assert_eq!(sig["weight"], 1.0, "{ext}: {sig:#}");
        assert_ne!(
            sig["evidence"]["validation_state"], "Invalid",
            "{ext}: {sig:#}"
        );
        assert_eq!(
            sig["evidence"]["ai_actions"][0]["digital_source_type"],
            source_type
        );
        assert_eq!(sig["evidence"]["claim_generator"], "digital-host-studio");
        assert_eq!(r["digital_host"], "declared", "{ext}");
        assert!(r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "undisclosed_digital_host"));
        // The plain file has no credentials at all.
        let r = report_of(&data, &plain);
        assert!(c2pa_signal(&r).is_none(), "{ext}: {r:#}");
        assert_eq!(r["digital_host"], "none");
    }
}

#[test]
fn a_camera_capture_manifest_is_not_ai_and_a_tampered_one_is_invalid() {
    require_model("tiny.en");
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let plain = d.path().join("plain.wav");
    std::fs::copy(fixture("jfk.wav"), &plain).unwrap();

    let capture = d.path().join("capture.wav");
    sign(d.path(), &plain, &capture, "audio/wav", CAPTURE);
    let r = report_of(&data, &capture);
    let sig = c2pa_signal(&r).expect("c2pa signal");
    assert_eq!(sig["weight"], 0.0);
    assert_eq!(r["digital_host"], "none");

    // Change one audio sample after signing: the data hash no longer matches.
    let ai = d.path().join("ai.wav");
    sign(d.path(), &plain, &ai, "audio/wav", TRAINED);
    let mut bytes = std::fs::read(&ai).unwrap();
    let data_at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    bytes[data_at + 1000] ^= 0x55;
    let tampered = d.path().join("tampered.wav");
    std::fs::write(&tampered, bytes).unwrap();
    let r = report_of(&data, &tampered);
    let sig = c2pa_signal(&r).expect("c2pa signal");
    assert_eq!(sig["evidence"]["validation_state"], "Invalid", "{sig:#}");
    assert!(!sig["evidence"]["failures"].as_array().unwrap().is_empty());
    // A manifest that no longer validates is for review, not evidence against the host.
    assert_eq!(sig["weight"], 0.0);
    assert_eq!(r["digital_host"], "none");
    for f in ["invalid_c2pa_manifest", "c2pa_mentions_ai"] {
        assert!(
            r["findings"].as_array().unwrap().iter().any(|x| x == f),
            "{f}: {r:#}"
        );
    }
    assert!(!r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "undisclosed_digital_host"));
}
