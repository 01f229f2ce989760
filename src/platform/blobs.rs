//! The platform's object store: originals and transcription results in an S3-compatible bucket
//! (`--blobs s3://BUCKET?endpoint=URL`), through the `object_store` crate. Keys are
//! content-addressed (`originals/<sha256>`, `results/<task key>.json`), so writing one twice
//! writes the same bytes. Invariant: a download lands in a temporary file renamed into place,
//! and an original's bytes are checked against their hash before anyone uses them.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{ObjectStore, PutPayload};
use sha2::Digest;

use super::PlatformError;

/// An S3 bucket, used from synchronous code (each call runs on the store's own runtime).
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
    url: String,
}

/// What `--blobs` says: the bucket and where its S3 endpoint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobsUrl {
    /// Bucket name.
    pub bucket: String,
    /// S3 endpoint (`http://127.0.0.1:8333`); `None`: AWS itself.
    pub endpoint: Option<String>,
    /// Region, `us-east-1` unless given.
    pub region: String,
}

impl BlobsUrl {
    /// Parses `s3://BUCKET[?endpoint=URL][&region=R]`.
    pub fn parse(url: &str) -> Result<Self, PlatformError> {
        let bad = |why: &str| {
            PlatformError::Config(format!(
                "--blobs {url:?}: {why}; expected s3://BUCKET?endpoint=http://HOST:PORT"
            ))
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not an s3:// URL"))?;
        let (bucket, query) = rest.split_once('?').unwrap_or((rest, ""));
        let bucket = bucket.trim_end_matches('/');
        if bucket.is_empty() || bucket.contains('/') {
            return Err(bad("give the bucket name alone"));
        }
        let mut out = Self {
            bucket: bucket.into(),
            endpoint: None,
            region: "us-east-1".into(),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("endpoint", v)) if v.starts_with("http://") || v.starts_with("https://") => {
                    out.endpoint = Some(v.into())
                }
                Some(("region", v)) if !v.is_empty() => out.region = v.into(),
                _ => return Err(bad(&format!("unknown parameter {pair:?}"))),
            }
        }
        Ok(out)
    }
}

/// The key of an archived original.
pub fn original_key(sha256: &str) -> String {
    format!("originals/{sha256}")
}

/// The key of a finished task's result.
pub fn result_key(task_key: &str) -> String {
    format!("results/{task_key}.json")
}

impl Blobs {
    /// Connects to the bucket `url` names; `credentials` (key id, secret) or anonymous.
    pub fn open(url: &str, credentials: Option<(String, String)>) -> Result<Self, PlatformError> {
        let parsed = BlobsUrl::parse(url)?;
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&parsed.bucket)
            .with_region(&parsed.region);
        if let Some(e) = &parsed.endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        b = match credentials {
            Some((id, secret)) => b.with_access_key_id(id).with_secret_access_key(secret),
            None => b.with_skip_signature(true),
        };
        let store = b
            .build()
            .map_err(|e| PlatformError::Config(format!("--blobs {url:?}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PlatformError::Blobs(format!("cannot start the S3 client: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            runtime,
            url: url.into(),
        })
    }

    fn err(&self, what: &str, key: &str, e: impl std::fmt::Display) -> PlatformError {
        PlatformError::Blobs(format!("{what} {key} in {}: {e}", self.url))
    }

    async fn fetch(&self, key: &str) -> Result<object_store::GetResult, PlatformError> {
        self.store
            .get(&Key::from(key))
            .await
            .map_err(|e| self.err("cannot read", key, e))
    }

    /// Whether `key` exists.
    pub fn exists(&self, key: &str) -> Result<bool, PlatformError> {
        match self.runtime.block_on(self.store.head(&Key::from(key))) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.err("cannot look up", key, e)),
        }
    }

    /// Stores `bytes` under `key`.
    pub fn put_bytes(&self, key: &str, bytes: Vec<u8>) -> Result<(), PlatformError> {
        self.runtime
            .block_on(self.store.put(&Key::from(key), PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(|e| self.err("cannot write", key, e))
    }

    /// Removes `key` (nothing when it is not there).
    pub fn delete(&self, key: &str) -> Result<(), PlatformError> {
        match self.runtime.block_on(self.store.delete(&Key::from(key))) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.err("cannot remove", key, e)),
        }
    }

    /// Removes every key under `prefix` (a folder: `sessions/<id>`).
    pub fn delete_prefix(&self, prefix: &str) -> Result<(), PlatformError> {
        let keys: Vec<Key> = self.runtime.block_on(async {
            let mut listed = self.store.list(Some(&Key::from(prefix)));
            let mut keys = Vec::new();
            while let Some(m) = listed.next().await {
                keys.push(m.map_err(|e| self.err("cannot list", prefix, e))?.location);
            }
            Ok::<_, PlatformError>(keys)
        })?;
        for k in keys {
            self.delete(k.as_ref())?;
        }
        Ok(())
    }

    /// Reads `key` whole (results: small).
    pub fn get_bytes(&self, key: &str, limit: u64) -> Result<Vec<u8>, PlatformError> {
        self.runtime.block_on(async {
            let got = self.fetch(key).await?;
            if got.meta.size > limit {
                return Err(self.err(
                    "refusing",
                    key,
                    format!("{} bytes, more than {limit}", got.meta.size),
                ));
            }
            got.bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| self.err("cannot read", key, e))
        })
    }

    /// Uploads the file at `path` under `key`, in parts (recordings run to gigabytes).
    pub fn put_file(&self, key: &str, path: &Path) -> Result<(), PlatformError> {
        let mut file =
            std::fs::File::open(path).map_err(|e| self.err("cannot read the file for", key, e))?;
        self.runtime.block_on(async {
            let mut w = object_store::buffered::BufWriter::new(self.store.clone(), Key::from(key));
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file
                    .read(&mut buf)
                    .map_err(|e| self.err("cannot read the file for", key, e))?;
                if n == 0 {
                    break;
                }
                tokio::io::AsyncWriteExt::write_all(&mut w, &buf[..n])
                    .await
                    .map_err(|e| self.err("cannot write", key, e))?;
            }
            tokio::io::AsyncWriteExt::shutdown(&mut w)
                .await
                .map_err(|e| self.err("cannot write", key, e))
        })
    }

    /// Downloads `key` into `dest` (via a temporary file beside it); returns its SHA-256.
    pub fn get_file(&self, key: &str, dest: &Path) -> Result<String, PlatformError> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| self.err("no room to download", key, e))?;
        let mut hasher = sha2::Sha256::new();
        self.runtime.block_on(async {
            let got = self.fetch(key).await?;
            let mut stream = got.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.err("cannot read", key, e))?;
                hasher.update(&chunk);
                tmp.write_all(&chunk)
                    .map_err(|e| self.err("cannot save", key, e))?;
            }
            Ok::<_, PlatformError>(())
        })?;
        tmp.persist(dest)
            .map_err(|e| self.err("cannot save", key, e.error))?;
        Ok(hex::encode(hasher.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_urls_name_a_bucket_and_an_endpoint() {
        let u = BlobsUrl::parse("s3://lp?endpoint=http://127.0.0.1:8333").unwrap();
        assert_eq!(u.bucket, "lp");
        assert_eq!(u.endpoint.as_deref(), Some("http://127.0.0.1:8333"));
        assert_eq!(u.region, "us-east-1");
        assert!(BlobsUrl::parse("s3://lp/sub").is_err());
        assert!(BlobsUrl::parse("http://lp").is_err());
        assert!(BlobsUrl::parse("s3://lp?endpoint=ftp://x").is_err());
        assert!(BlobsUrl::parse("s3://lp?bogus=1").is_err());
        assert_eq!(
            BlobsUrl::parse("s3://lp?region=eu-west-1").unwrap().region,
            "eu-west-1"
        );
    }
}
