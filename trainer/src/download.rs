//! Fetching MNIST into a cache directory when no `--data` is given: each file is downloaded
//! from the first mirror that serves it intact, checked against its MD5, and only then moved
//! into the cache. A bad or partial file is never kept.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};

use crate::mnist::{ALL_FILES, MnistFile};

/// Public mirrors of the original files, tried in order.
pub const MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Largest file accepted from a mirror (the largest MNIST file is 9.9 MB).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The default cache: `$XDG_CACHE_HOME/latent-canvas/mnist`, else `~/.cache/latent-canvas/mnist`.
pub fn default_cache() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(
            std::env::var_os("HOME").context("neither XDG_CACHE_HOME nor HOME is set")?,
        )
        .join(".cache"),
    };
    Ok(base.join("latent-canvas").join("mnist"))
}

/// Hex MD5 of a byte stream.
pub fn md5_hex(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Hex MD5 of a file.
pub fn md5_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    md5_hex(std::io::BufReader::new(file)).with_context(|| format!("reading {}", path.display()))
}

/// Makes sure `cache` holds the four files with the right checksums, downloading what is
/// missing or damaged from `mirrors` (base URLs ending in `/`), and returns `cache`.
pub fn ensure(cache: &Path, mirrors: &[String]) -> Result<PathBuf> {
    ensure_files(cache, mirrors, &ALL_FILES)
}

/// [`ensure`] for any list of files.
pub fn ensure_files(cache: &Path, mirrors: &[String], files: &[MnistFile]) -> Result<PathBuf> {
    std::fs::create_dir_all(cache)
        .with_context(|| format!("creating the cache directory {}", cache.display()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    for file in files {
        let path = cache.join(file.name);
        if path.exists() {
            if md5_file(&path)? == file.md5 {
                continue;
            }
            eprintln!(
                "{}: checksum mismatch, downloading it again",
                path.display()
            );
            std::fs::remove_file(&path)
                .with_context(|| format!("removing the damaged {}", path.display()))?;
        }
        fetch(&agent, file, &path, mirrors)?;
    }
    Ok(cache.to_path_buf())
}

/// Downloads one file from the first mirror that serves it with the right MD5.
fn fetch(agent: &ureq::Agent, file: &MnistFile, dest: &Path, mirrors: &[String]) -> Result<()> {
    let part = dest.with_extension("gz.part");
    let mut failures = Vec::new();
    for mirror in mirrors {
        let url = format!("{mirror}{}", file.name);
        eprintln!("downloading {url}");
        match download_to(agent, &url, &part) {
            Ok(md5) if md5 == file.md5 => {
                std::fs::rename(&part, dest)
                    .with_context(|| format!("moving {} into place", dest.display()))?;
                return Ok(());
            }
            Ok(md5) => failures.push(format!("{url}: MD5 {md5}, expected {}", file.md5)),
            Err(e) => failures.push(format!("{url}: {e:#}")),
        }
        let _ = std::fs::remove_file(&part);
    }
    bail!(
        "could not download {} from any mirror:\n  {}",
        file.name,
        failures.join("\n  ")
    )
}

/// Streams `url` into `dest`, returning the MD5 of what was written.
fn download_to(agent: &ureq::Agent, url: &str, dest: &Path) -> Result<String> {
    let mut response = agent.get(url).call().context("request failed")?;
    let mut reader = response.body_mut().with_config().limit(MAX_BYTES).reader();
    let mut out =
        std::fs::File::create(dest).with_context(|| format!("creating {}", dest.display()))?;
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).context("reading the response")?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .with_context(|| format!("writing {}", dest.display()))?;
    }
    out.sync_all()
        .with_context(|| format!("flushing {}", dest.display()))?;
    Ok(format!("{:x}", hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::sync::Arc;

    /// A one-thread HTTP/1.1 server on 127.0.0.1 serving `files` by path; 404 otherwise.
    /// Returns its base URL. It serves `max_requests` requests, then stops.
    fn serve(files: HashMap<String, Vec<u8>>, max_requests: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let files = Arc::new(files);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(max_requests) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
                        break;
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let name = path.trim_start_matches('/');
                let (status, body) = match files.get(name) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/")
    }

    fn file_for(content: &[u8]) -> (MnistFile, Vec<u8>) {
        let md5 = md5_hex(content).expect("md5");
        let file = MnistFile {
            name: "sample-idx1-ubyte.gz",
            md5: Box::leak(md5.into_boxed_str()),
        };
        (file, content.to_vec())
    }

    #[test]
    fn downloads_and_verifies_from_a_local_mirror() {
        let (file, body) = file_for(b"\x00\x00\x08\x01 pretend labels");
        let base = serve(HashMap::from([(file.name.to_string(), body.clone())]), 4);
        let cache = tempfile::tempdir().expect("tempdir");
        ensure_files(cache.path(), &[base], &[file]).expect("download");
        assert_eq!(
            std::fs::read(cache.path().join(file.name)).expect("read"),
            body
        );
        assert!(!cache.path().join("sample-idx1-ubyte.gz.part").exists());
    }

    #[test]
    fn corrupted_download_is_an_error_and_is_not_kept() {
        let (file, _) = file_for(b"the real content");
        let base = serve(
            HashMap::from([(file.name.to_string(), b"corrupted content".to_vec())]),
            4,
        );
        let cache = tempfile::tempdir().expect("tempdir");
        let err = ensure_files(cache.path(), &[base], &[file]).expect_err("must fail");
        assert!(format!("{err:#}").contains("MD5"), "{err:#}");
        assert_eq!(std::fs::read_dir(cache.path()).expect("ls").count(), 0);
    }

    #[test]
    fn falls_back_to_the_next_mirror() {
        let (file, body) = file_for(b"good bytes");
        let bad = serve(HashMap::from([(file.name.to_string(), b"bad".to_vec())]), 4);
        let empty = serve(HashMap::new(), 4);
        let good = serve(HashMap::from([(file.name.to_string(), body.clone())]), 4);
        let cache = tempfile::tempdir().expect("tempdir");
        ensure_files(cache.path(), &[bad, empty, good], &[file]).expect("download");
        assert_eq!(
            std::fs::read(cache.path().join(file.name)).expect("read"),
            body
        );
    }

    #[test]
    fn damaged_cached_file_is_replaced() {
        let (file, body) = file_for(b"fresh");
        let base = serve(HashMap::from([(file.name.to_string(), body.clone())]), 4);
        let cache = tempfile::tempdir().expect("tempdir");
        std::fs::write(cache.path().join(file.name), b"stale").expect("write");
        ensure_files(cache.path(), &[base], &[file]).expect("download");
        assert_eq!(
            std::fs::read(cache.path().join(file.name)).expect("read"),
            body
        );
    }

    #[test]
    fn intact_cached_file_is_not_downloaded_again() {
        let (file, body) = file_for(b"cached");
        let cache = tempfile::tempdir().expect("tempdir");
        std::fs::write(cache.path().join(file.name), &body).expect("write");
        // No mirror at all: a download attempt would fail.
        ensure_files(cache.path(), &[], &[file]).expect("cache hit");
    }

    #[test]
    fn real_mnist_checksums_are_the_published_ones() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist");
        if !dir.exists() {
            return; // Only where the shared data sits beside the checkout.
        }
        for f in ALL_FILES {
            assert_eq!(
                md5_file(&dir.join(f.name)).expect("md5"),
                f.md5,
                "{}",
                f.name
            );
        }
    }
}
