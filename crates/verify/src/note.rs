//! Tree heads as C2SP signed notes: the log's checkpoint (c2sp.org/tlog-checkpoint), the
//! archive's note signature (c2sp.org/signed-note, Ed25519, type 0x01) and witnesses'
//! cosignatures (c2sp.org/tlog-cosignature, cosignature/v1, type 0x04), and verifier keys
//! (`vkey`: `name+keyid+base64(type || key)`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type of a log's Ed25519 note signature.
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of an Ed25519 cosignature/v1.
pub const TYPE_COSIGNATURE: u8 = 0x04;
/// The em dash and space that start a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// The archive log's origin line: names the log by its key's fingerprint.
pub fn origin(public: &[u8; 32]) -> String {
    format!("liveproof/{}", crate::seal::fingerprint(public))
}

/// A checkpoint body: origin, size, base64 root, each on its own line.
pub fn checkpoint_body(origin: &str, size: u64, root: &[u8; 32]) -> String {
    format!("{origin}\n{size}\n{}\n", B64.encode(root))
}

/// Key ID: `SHA-256(name || "\n" || type || key)[:4]`.
pub fn key_id(name: &str, kind: u8, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([kind]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A verifier key in the signed-note `vkey` form.
pub fn vkey(name: &str, kind: u8, public: &[u8; 32]) -> String {
    let mut material = vec![kind];
    material.extend_from_slice(public);
    format!(
        "{name}+{}+{}",
        hex::encode(key_id(name, kind, public)),
        B64.encode(material)
    )
}

/// Parses a `vkey` of the given type: (name, public key).
pub fn parse_vkey(text: &str, kind: u8) -> Option<(String, [u8; 32])> {
    // Names have no '+'; base64 may.
    let mut parts = text.trim().splitn(3, '+');
    let name = parts.next()?.to_string();
    let id = hex::decode(parts.next()?).ok()?;
    let material = B64.decode(parts.next()?).ok()?;
    if material.len() != 33 || material[0] != kind || name.is_empty() {
        return None;
    }
    let public: [u8; 32] = material[1..].try_into().ok()?;
    (id == key_id(&name, kind, &public)).then_some((name, public))
}

/// One signature line: name, key ID, signature bytes (after the key ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigLine {
    /// Key name.
    pub name: String,
    /// Key ID.
    pub key_id: [u8; 4],
    /// What follows the key ID.
    pub signature: Vec<u8>,
}

impl SigLine {
    /// The line as written in a note, with its newline.
    pub fn line(&self) -> String {
        let mut b = self.key_id.to_vec();
        b.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(b))
    }

    /// Parses one line (without its newline).
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix(SIG_PREFIX)?;
        let (name, b64) = rest.rsplit_once(' ')?;
        let raw = B64.decode(b64).ok()?;
        if name.is_empty() || name.contains(char::is_whitespace) || raw.len() < 5 {
            return None;
        }
        Some(Self {
            name: name.into(),
            key_id: raw[..4].try_into().ok()?,
            signature: raw[4..].to_vec(),
        })
    }
}

/// A signed note: its text body and signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The body, ending in a newline.
    pub body: String,
    /// Signature lines, in order.
    pub signatures: Vec<SigLine>,
}

impl Note {
    /// Parses a note: body, an empty line, one or more signature lines, each ending in `\n`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (body, sigs) = text
            .split_once("\n\n")
            .ok_or("not a signed note: no empty line before the signatures")?;
        if !sigs.ends_with('\n') {
            return Err("not a signed note: the last line has no newline".into());
        }
        let signatures = sigs
            .lines()
            .map(|l| SigLine::parse(l).ok_or_else(|| format!("not a signature line: {l:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.is_empty() || signatures.len() > 64 {
            return Err("a signed note has 1 to 64 signature lines".into());
        }
        Ok(Self {
            body: format!("{body}\n"),
            signatures,
        })
    }

    /// The note as text.
    pub fn text(&self) -> String {
        let mut t = format!("{}\n", self.body);
        for s in &self.signatures {
            t.push_str(&s.line());
        }
        t
    }

    /// The checkpoint it holds: (origin, size, root).
    pub fn checkpoint(&self) -> Result<(String, u64, [u8; 32]), String> {
        let mut lines = self.body.lines();
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err("a checkpoint has an origin, a size and a root line".into());
        };
        let size: u64 = size
            .parse()
            .ok()
            .filter(|_| !size.starts_with('0') || size == "0")
            .ok_or("the checkpoint size is not a decimal number")?;
        let root: [u8; 32] = B64
            .decode(root)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or("the checkpoint root is not 32 bytes of base64")?;
        Ok((origin.to_string(), size, root))
    }

    /// Whether `name`'s Ed25519 note signature (type 0x01) by `public` is on the note.
    pub fn signed_by(&self, name: &str, public: &[u8; 32]) -> bool {
        let id = key_id(name, TYPE_ED25519, public);
        self.signatures.iter().any(|s| {
            s.name == name
                && s.key_id == id
                && ed25519_ok(public, self.body.as_bytes(), &s.signature)
        })
    }

    /// When `name`'s cosignature/v1 by `public` was made, if the note carries a valid one.
    pub fn cosigned_by(&self, name: &str, public: &[u8; 32]) -> Option<u64> {
        let id = key_id(name, TYPE_COSIGNATURE, public);
        self.signatures.iter().find_map(|s| {
            if s.name != name || s.key_id != id || s.signature.len() != 72 {
                return None;
            }
            let time = u64::from_be_bytes(s.signature[..8].try_into().ok()?);
            ed25519_ok(
                public,
                &cosigned_message(time, &self.body),
                &s.signature[8..],
            )
            .then_some(time)
        })
    }
}

fn ed25519_ok(public: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(vk), Ok(sig)) = (VerifyingKey::from_bytes(public), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    vk.verify(msg, &Signature::from_bytes(&sig)).is_ok()
}

fn cosigned_message(time: u64, body: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {time}\n{body}").into_bytes()
}

/// The log's note signature line over `body`.
pub fn sign(body: &str, name: &str, key: &SigningKey) -> SigLine {
    SigLine {
        name: name.into(),
        key_id: key_id(name, TYPE_ED25519, &key.verifying_key().to_bytes()),
        signature: key.sign(body.as_bytes()).to_bytes().to_vec(),
    }
}

/// A witness's cosignature/v1 line over `body`, made at `time` (POSIX seconds).
pub fn cosign(body: &str, name: &str, key: &SigningKey, time: u64) -> SigLine {
    let mut signature = time.to_be_bytes().to_vec();
    signature.extend_from_slice(&key.sign(&cosigned_message(time, body)).to_bytes());
    SigLine {
        name: name.into(),
        key_id: key_id(name, TYPE_COSIGNATURE, &key.verifying_key().to_bytes()),
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_sign_cosign_parse_and_refuse_changes() {
        let log = SigningKey::from_bytes(&[1u8; 32]);
        let w = SigningKey::from_bytes(&[2u8; 32]);
        let o = origin(&log.verifying_key().to_bytes());
        let body = checkpoint_body(&o, 7, &[9u8; 32]);
        let note = Note {
            body: body.clone(),
            signatures: vec![
                sign(&body, &o, &log),
                cosign(&body, "witness.example/w1", &w, 1_700_000_000),
            ],
        };
        let parsed = Note::parse(&note.text()).unwrap();
        assert_eq!(parsed, note);
        assert_eq!(parsed.checkpoint().unwrap(), (o.clone(), 7, [9u8; 32]));
        assert!(parsed.signed_by(&o, &log.verifying_key().to_bytes()));
        let wpk = w.verifying_key().to_bytes();
        assert_eq!(
            parsed.cosigned_by("witness.example/w1", &wpk),
            Some(1_700_000_000)
        );
        assert_eq!(parsed.cosigned_by("witness.example/w2", &wpk), None);
        // Another size under the same signatures verifies for nobody.
        let mut other = parsed.clone();
        other.body = checkpoint_body(&o, 8, &[9u8; 32]);
        assert!(!other.signed_by(&o, &log.verifying_key().to_bytes()));
        assert_eq!(other.cosigned_by("witness.example/w1", &wpk), None);
        // vkeys round-trip and carry their key ID, also when the base64 has a '+'.
        for seed in 0..64u8 {
            let k = SigningKey::from_bytes(&[seed; 32])
                .verifying_key()
                .to_bytes();
            let v = vkey("w", TYPE_COSIGNATURE, &k);
            assert_eq!(
                parse_vkey(&v, TYPE_COSIGNATURE),
                Some(("w".to_string(), k)),
                "{v}"
            );
        }
        let v = vkey("witness.example/w1", TYPE_COSIGNATURE, &wpk);
        assert_eq!(
            parse_vkey(&v, TYPE_COSIGNATURE),
            Some(("witness.example/w1".to_string(), wpk))
        );
        assert_eq!(parse_vkey(&v, TYPE_ED25519), None);
    }

    #[test]
    fn the_c2sp_key_id_is_computed_as_specified() {
        // SHA-256("a\n" || 0x04 || 32 zero bytes)[:4], computed independently.
        let mut h = Sha256::new();
        h.update(b"a\n\x04");
        h.update([0u8; 32]);
        assert_eq!(key_id("a", 4, &[0u8; 32]), h.finalize()[..4]);
    }
}
