//! MNIST's IDX format (unsigned bytes): image files (3-D, 28×28) and label files (1-D), with an
//! error for every way the bytes can be wrong. Sizes are checked before anything is allocated:
//! a header that claims 2³² images is an error, not a 3 GB allocation.

use std::fmt;

use crate::{IMAGE_PIXELS, IMAGE_SIDE};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// What is wrong with the bytes of an IDX file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdxError {
    /// Fewer bytes than the header or than the header's sizes say.
    Truncated {
        /// Bytes the header announces (header included; `usize::MAX` if more than memory).
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// More bytes than the header's sizes say.
    TrailingBytes {
        /// Bytes the header announces.
        expected: usize,
        /// Bytes present.
        found: usize,
    },
    /// The magic number is not the expected one.
    Magic {
        /// Expected magic.
        expected: u32,
        /// Magic found.
        found: u32,
    },
    /// Images are not 28×28.
    ImageSize {
        /// Rows found.
        rows: u32,
        /// Columns found.
        cols: u32,
    },
    /// A label outside 0–9.
    Label {
        /// Index of the first bad label.
        index: usize,
        /// Its value.
        value: u8,
    },
}

impl fmt::Display for IdxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdxError::Truncated { expected, found } => write!(
                f,
                "truncated: header announces {expected} bytes, file has {found}"
            ),
            IdxError::TrailingBytes { expected, found } => write!(
                f,
                "unexpected trailing data: header announces {expected} bytes, file has {found}"
            ),
            IdxError::Magic { expected, found } => write!(
                f,
                "wrong magic number 0x{found:08x}, expected 0x{expected:08x}"
            ),
            IdxError::ImageSize { rows, cols } => write!(
                f,
                "images are {rows}x{cols}, expected {IMAGE_SIDE}x{IMAGE_SIDE}"
            ),
            IdxError::Label { index, value } => {
                write!(f, "label {index} is {value}, expected a digit 0-9")
            }
        }
    }
}

impl std::error::Error for IdxError {}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The header's size of the whole file: `header + count × item` bytes, saturating (a count
/// that does not fit in memory can only be truncated).
fn announced(header: usize, count: u32, item: usize) -> usize {
    (count as usize)
        .checked_mul(item)
        .and_then(|n| n.checked_add(header))
        .unwrap_or(usize::MAX)
}

fn check_len(bytes: &[u8], expected: usize) -> Result<(), IdxError> {
    match bytes.len() {
        n if n < expected => Err(IdxError::Truncated { expected, found: n }),
        n if n > expected => Err(IdxError::TrailingBytes { expected, found: n }),
        _ => Ok(()),
    }
}

fn check_header(bytes: &[u8], magic: u32, header: usize) -> Result<(), IdxError> {
    let truncated = |found| IdxError::Truncated {
        expected: header,
        found,
    };
    if bytes.len() < 4 {
        return Err(truncated(bytes.len()));
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(IdxError::Magic {
            expected: magic,
            found,
        });
    }
    if bytes.len() < header {
        return Err(truncated(bytes.len()));
    }
    Ok(())
}

/// Parses an IDX image file: returns the pixels, `count × 784` bytes, 0 = background.
pub fn parse_images(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    check_header(bytes, IMAGES_MAGIC, 16)?;
    let count = be_u32(bytes, 4);
    let (rows, cols) = (be_u32(bytes, 8), be_u32(bytes, 12));
    if rows as usize != IMAGE_SIDE || cols as usize != IMAGE_SIDE {
        return Err(IdxError::ImageSize { rows, cols });
    }
    check_len(bytes, announced(16, count, IMAGE_PIXELS))?;
    Ok(bytes[16..].to_vec())
}

/// Parses an IDX label file: one digit 0–9 per image.
pub fn parse_labels(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    check_header(bytes, LABELS_MAGIC, 8)?;
    check_len(bytes, announced(8, be_u32(bytes, 4), 1))?;
    let labels = bytes[8..].to_vec();
    if let Some((index, &value)) = labels.iter().enumerate().find(|(_, v)| **v > 9) {
        return Err(IdxError::Label { index, value });
    }
    Ok(labels)
}
