//! Reading MNIST's IDX files, gzipped or not, with an error for every way a file can be wrong.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use vae::IMAGE_PIXELS;
use vae::idx::{self, IdxError};
pub use vae::split::Split;

/// The largest file (inflated) read: MNIST's largest is 47 MB.
pub const MAX_FILE_BYTES: usize = 128 << 20;

/// One of MNIST's four files, with the MD5 of the gzipped original.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MnistFile {
    /// File name as distributed (gzipped).
    pub name: &'static str,
    /// MD5 of the gzipped file.
    pub md5: &'static str,
}

/// The training images.
pub const TRAIN_IMAGES: MnistFile = MnistFile {
    name: "train-images-idx3-ubyte.gz",
    md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
};
/// The training labels.
pub const TRAIN_LABELS: MnistFile = MnistFile {
    name: "train-labels-idx1-ubyte.gz",
    md5: "d53e105ee54ea40749a09fcbcd1e9432",
};
/// The test images.
pub const TEST_IMAGES: MnistFile = MnistFile {
    name: "t10k-images-idx3-ubyte.gz",
    md5: "9fb629c4189551a2d022fa330f9573f3",
};
/// The test labels.
pub const TEST_LABELS: MnistFile = MnistFile {
    name: "t10k-labels-idx1-ubyte.gz",
    md5: "ec29112dd5afa0611ce80d1b7f02629c",
};
/// All four files.
pub const ALL_FILES: [MnistFile; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// What is wrong with an IDX file; [`DataError`] adds the path.
#[derive(Debug, PartialEq, Eq)]
pub enum Problem {
    /// Neither `NAME` nor `NAME` without `.gz` exists.
    Missing,
    /// The file could not be read (permissions, I/O).
    Io(String),
    /// The gzip stream is corrupt.
    Gzip(String),
    /// The file (inflated) is larger than any MNIST file could be.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The bytes are not a valid IDX file of their kind.
    Idx(IdxError),
    /// The image file and the label file hold different counts.
    CountMismatch {
        /// Images in the image file.
        images: usize,
        /// Labels in the label file.
        labels: usize,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => write!(f, "file not found (also looked for it without .gz)"),
            Problem::Io(e) => write!(f, "cannot read: {e}"),
            Problem::Gzip(e) => write!(f, "corrupt gzip stream: {e}"),
            Problem::TooLarge { limit } => {
                write!(f, "larger than {} MiB: not an MNIST file", limit >> 20)
            }
            Problem::Idx(e) => e.fmt(f),
            Problem::CountMismatch { images, labels } => write!(
                f,
                "{images} images but {labels} labels in the matching label file"
            ),
        }
    }
}

/// An IDX file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct DataError {
    /// The file (as asked for).
    pub path: PathBuf,
    /// What is wrong.
    pub problem: Problem,
}

fn err(path: &Path, problem: Problem) -> DataError {
    DataError {
        path: path.to_path_buf(),
        problem,
    }
}

/// Reads a whole file, inflating it if it is gzipped (by its magic bytes, not its name).
/// `path` may name the `.gz` file; if it does not exist, the same name without `.gz` is tried.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let actual = if path.exists() {
        path.to_path_buf()
    } else {
        let plain = path.with_extension("");
        if path.extension().is_some_and(|e| e == "gz") && plain.exists() {
            plain
        } else {
            return Err(err(path, Problem::Missing));
        }
    };
    let too_large = || {
        err(
            &actual,
            Problem::TooLarge {
                limit: MAX_FILE_BYTES,
            },
        )
    };
    let size = std::fs::metadata(&actual)
        .map_err(|e| err(&actual, Problem::Io(e.to_string())))?
        .len();
    if size > MAX_FILE_BYTES as u64 {
        return Err(too_large());
    }
    let raw = std::fs::read(&actual).map_err(|e| err(&actual, Problem::Io(e.to_string())))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        // Inflated with a limit: a gzip bomb is an error, not an exhausted memory.
        let mut out = Vec::with_capacity(raw.len() * 4);
        GzDecoder::new(raw.as_slice())
            .take(MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| err(&actual, Problem::Gzip(e.to_string())))?;
        if out.len() > MAX_FILE_BYTES {
            return Err(too_large());
        }
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses an IDX image file: returns the pixels, `count × 784` bytes, 0 = background.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    idx::parse_images(bytes).map_err(|e| err(path, Problem::Idx(e)))
}

/// Parses an IDX label file: one digit 0–9 per image.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    idx::parse_labels(bytes).map_err(|e| err(path, Problem::Idx(e)))
}

/// Reads an image file and its label file (each gzipped or not) and checks that they agree.
pub fn read_split(images: &Path, labels: &Path) -> Result<Split, DataError> {
    let pixels = parse_images(images, &read_maybe_gz(images)?)?;
    let labels_v = parse_labels(labels, &read_maybe_gz(labels)?)?;
    let n_images = pixels.len() / IMAGE_PIXELS;
    if n_images != labels_v.len() {
        return Err(err(
            labels,
            Problem::CountMismatch {
                images: n_images,
                labels: labels_v.len(),
            },
        ));
    }
    Ok(Split {
        pixels,
        labels: labels_v,
    })
}

/// MNIST's training and test splits.
#[derive(Clone, Debug)]
pub struct Mnist {
    /// 60,000 training images.
    pub train: Split,
    /// 10,000 test images.
    pub test: Split,
}

impl Mnist {
    /// Reads the four files from `dir` (each gzipped, or not, under its usual name).
    pub fn read(dir: &Path) -> Result<Self, DataError> {
        Ok(Self {
            train: read_split(&dir.join(TRAIN_IMAGES.name), &dir.join(TRAIN_LABELS.name))?,
            test: read_split(&dir.join(TEST_IMAGES.name), &dir.join(TEST_LABELS.name))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use vae::idx::{IMAGES_MAGIC, LABELS_MAGIC};

    fn images_idx(count: u32, rows: u32, cols: u32, pixels: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [IMAGES_MAGIC, count, rows, cols] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        b.extend((0..pixels).map(|i| (i % 256) as u8));
        b
    }

    fn labels_idx(labels: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
        b.extend_from_slice(&(labels.len() as u32).to_be_bytes());
        b.extend_from_slice(labels);
        b
    }

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).expect("gzip");
        e.finish().expect("gzip")
    }

    /// Writes a pair of files and reads them back as a split.
    fn read_pair(images: &[u8], labels: &[u8]) -> Result<Split, DataError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let (i, l) = (dir.path().join("img.gz"), dir.path().join("lbl.gz"));
        std::fs::write(&i, images).expect("write");
        std::fs::write(&l, labels).expect("write");
        read_split(&i, &l)
    }

    #[test]
    fn reads_gzipped_files() {
        let split = read_pair(
            &gz(&images_idx(3, 28, 28, 3 * 784)),
            &gz(&labels_idx(&[0, 5, 9])),
        )
        .expect("valid");
        assert_eq!(split.len(), 3);
        assert_eq!(split.labels, vec![0, 5, 9]);
        assert_eq!(split.pixels[785], (785 % 256) as u8);
        let first: Vec<f32> = split.image(0).take(2).collect();
        assert_eq!(first, vec![0.0, 1.0 / 255.0]);
    }

    #[test]
    fn reads_uncompressed_files() {
        let split =
            read_pair(&images_idx(2, 28, 28, 2 * 784), &labels_idx(&[1, 2])).expect("valid");
        assert_eq!(split.len(), 2);
    }

    #[test]
    fn falls_back_to_the_name_without_gz() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("x-idx1-ubyte"), labels_idx(&[4])).expect("write");
        let bytes = read_maybe_gz(&dir.path().join("x-idx1-ubyte.gz")).expect("found");
        assert_eq!(
            parse_labels(Path::new("x"), &bytes).expect("labels"),
            vec![4]
        );
    }

    #[test]
    fn missing_file_names_the_file() {
        let e = read_maybe_gz(Path::new("/nonexistent/train-images-idx3-ubyte.gz"))
            .expect_err("must fail");
        assert_eq!(e.problem, Problem::Missing);
        assert!(e.to_string().contains("train-images-idx3-ubyte.gz"), "{e}");
    }

    #[test]
    fn truncated_images_are_an_error() {
        let mut bytes = images_idx(3, 28, 28, 3 * 784);
        bytes.truncate(bytes.len() - 10);
        let e = read_pair(&gz(&bytes), &gz(&labels_idx(&[0, 1, 2]))).expect_err("must fail");
        assert_eq!(
            e.problem,
            Problem::Idx(IdxError::Truncated {
                expected: 16 + 3 * 784,
                found: 16 + 3 * 784 - 10
            })
        );
        assert!(e.to_string().contains("img.gz: truncated"), "{e}");
    }

    #[test]
    fn truncated_header_is_an_error() {
        let e = parse_images(Path::new("f"), &[0, 0, 8]).expect_err("must fail");
        assert!(matches!(
            e.problem,
            Problem::Idx(IdxError::Truncated {
                expected: 16,
                found: 3
            })
        ));
    }

    #[test]
    fn trailing_bytes_are_an_error() {
        let mut bytes = labels_idx(&[1, 2]);
        bytes.push(3);
        let e = parse_labels(Path::new("f"), &bytes).expect_err("must fail");
        assert!(
            matches!(e.problem, Problem::Idx(IdxError::TrailingBytes { .. })),
            "{e}"
        );
    }

    #[test]
    fn wrong_magic_is_an_error() {
        // A label file where an image file is expected.
        let e = read_pair(&labels_idx(&[1, 2]), &labels_idx(&[1, 2])).expect_err("must fail");
        assert_eq!(
            e.problem,
            Problem::Idx(IdxError::Magic {
                expected: IMAGES_MAGIC,
                found: LABELS_MAGIC
            })
        );
        assert!(
            e.to_string().contains("wrong magic number 0x00000801"),
            "{e}"
        );
    }

    #[test]
    fn image_and_label_counts_must_agree() {
        let e = read_pair(&images_idx(3, 28, 28, 3 * 784), &labels_idx(&[0, 1]))
            .expect_err("must fail");
        assert_eq!(
            e.problem,
            Problem::CountMismatch {
                images: 3,
                labels: 2
            }
        );
        assert!(e.to_string().contains("3 images but 2 labels"), "{e}");
    }

    #[test]
    fn images_must_be_28_by_28() {
        let e = read_pair(&images_idx(2, 32, 32, 2 * 1024), &labels_idx(&[0, 1]))
            .expect_err("must fail");
        assert_eq!(
            e.problem,
            Problem::Idx(IdxError::ImageSize { rows: 32, cols: 32 })
        );
        assert!(
            e.to_string().contains("images are 32x32, expected 28x28"),
            "{e}"
        );
    }

    #[test]
    fn labels_must_be_digits() {
        let e = parse_labels(Path::new("f"), &labels_idx(&[3, 12])).expect_err("must fail");
        assert_eq!(
            e.problem,
            Problem::Idx(IdxError::Label {
                index: 1,
                value: 12
            })
        );
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut bytes = gz(&labels_idx(&[1, 2, 3, 4, 5, 6, 7, 8]));
        let n = bytes.len();
        bytes[n / 2] ^= 0xff;
        bytes[n / 2 + 1] ^= 0xff;
        let e = read_pair(&gz(&images_idx(8, 28, 28, 8 * 784)), &bytes).expect_err("must fail");
        assert!(matches!(e.problem, Problem::Gzip(_)), "{e}");
        assert!(e.to_string().contains("lbl.gz: corrupt gzip stream"), "{e}");
    }
}
