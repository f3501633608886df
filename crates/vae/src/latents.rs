//! The compact file of latent means and labels that the page draws as the test-set scatter.
//!
//! Layout (little-endian): the magic `LCLT`, format version `u16` (1), latent dimension `u16`,
//! point count `u32`, scale `f32`; then `count × dims` coordinates as `i16` (value = q · scale);
//! then `count` labels as `u8`. 10,000 two-dimensional points take 50 kB.

/// Magic bytes at the start of the file.
pub const MAGIC: &[u8; 4] = b"LCLT";
/// Format version written by this crate.
pub const VERSION: u16 = 1;
const HEADER: usize = 16;

/// Latent points and their digit labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Latents {
    /// Latent dimension.
    pub dims: usize,
    /// `count × dims` coordinates, point-major.
    pub points: Vec<f32>,
    /// One label per point.
    pub labels: Vec<u8>,
}

/// Why a latents file could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LatentsError {
    /// Shorter than its header or than the sizes its header gives.
    #[error("latents file is truncated: {0}")]
    Truncated(String),
    /// Not a latents file, or a version this crate does not read.
    #[error("not a latents file: {0}")]
    Format(String),
}

/// The largest scale a file may give: every `i16` times it is a finite `f32` (fuzzing found a
/// scale of 2.1e34 whose points overflowed to infinity). `f32::MAX / 2^15`, exact.
const MAX_SCALE: f32 = f32::MAX / 32768.0;

impl Latents {
    /// Number of points.
    pub fn count(&self) -> usize {
        self.labels.len()
    }

    /// Encodes the points as 16-bit fixed point, the scale chosen so the largest |value| fits.
    pub fn to_bytes(&self) -> Vec<u8> {
        let max = self.points.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        // Never 0 nor subnormal (fuzzing found tiny points whose scale underflowed to 0, a file
        // `from_bytes` then refused): points below f32's normal range quantise to 0. Never above
        // MAX_SCALE either: points within 0.003 % of f32::MAX are clipped to it.
        let scale = if max.is_normal() {
            (max / i16::MAX as f32).clamp(f32::MIN_POSITIVE, MAX_SCALE)
        } else {
            1.0
        };
        let mut out = Vec::with_capacity(HEADER + self.points.len() * 2 + self.labels.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.dims as u16).to_le_bytes());
        out.extend_from_slice(&(self.count() as u32).to_le_bytes());
        out.extend_from_slice(&scale.to_le_bytes());
        for v in &self.points {
            out.extend_from_slice(&((v / scale).round() as i16).to_le_bytes());
        }
        out.extend_from_slice(&self.labels);
        out
    }

    /// Decodes a latents file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LatentsError> {
        if bytes.len() < HEADER {
            return Err(LatentsError::Truncated(format!(
                "{} bytes, the header alone is {HEADER}",
                bytes.len()
            )));
        }
        if &bytes[0..4] != MAGIC {
            return Err(LatentsError::Format("magic bytes are not LCLT".into()));
        }
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let version = u16_at(4);
        if version != VERSION {
            return Err(LatentsError::Format(format!(
                "version {version}, expected {VERSION}"
            )));
        }
        let dims = u16_at(6) as usize;
        let count = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        let scale = f32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
        if !(scale > 0.0 && scale <= MAX_SCALE) {
            return Err(LatentsError::Format(format!(
                "the scale is {scale}, expected a positive number at most {MAX_SCALE:e}"
            )));
        }
        // Checked: on wasm32 a header's count × dims can overflow usize.
        let expected = count
            .checked_mul(dims * 2 + 1)
            .and_then(|n| n.checked_add(HEADER))
            .unwrap_or(usize::MAX);
        if bytes.len() != expected {
            return Err(LatentsError::Truncated(format!(
                "{} bytes, the header announces {count} points of {dims} dims = {expected} bytes",
                bytes.len()
            )));
        }
        let coords = &bytes[HEADER..HEADER + count * dims * 2];
        let points = coords
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 * scale)
            .collect();
        let labels = bytes[HEADER + count * dims * 2..].to_vec();
        if let Some((i, l)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
            return Err(LatentsError::Format(format!(
                "label {i} is {l}, expected a digit 0-9"
            )));
        }
        Ok(Self {
            dims,
            points,
            labels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_points_within_quantisation_step() {
        let latents = Latents {
            dims: 2,
            points: vec![0.0, -3.5, 2.25, 1.0e-3, -0.75, 3.0],
            labels: vec![0, 7, 9],
        };
        let back = Latents::from_bytes(&latents.to_bytes()).expect("round trip");
        assert_eq!(back.labels, latents.labels);
        let step = 3.5 / i16::MAX as f32;
        for (a, b) in latents.points.iter().zip(&back.points) {
            assert!((a - b).abs() <= step, "{a} vs {b}");
        }
    }

    #[test]
    fn truncated_file_is_an_error() {
        let bytes = Latents {
            dims: 2,
            points: vec![1.0, 2.0],
            labels: vec![3],
        }
        .to_bytes();
        let err = Latents::from_bytes(&bytes[..bytes.len() - 1]).expect_err("must fail");
        assert!(matches!(err, LatentsError::Truncated(_)), "{err}");
        assert!(matches!(
            Latents::from_bytes(b"nope").expect_err("must fail"),
            LatentsError::Truncated(_)
        ));
    }

    #[test]
    fn wrong_magic_is_an_error() {
        let mut bytes = Latents {
            dims: 2,
            points: vec![1.0, 2.0],
            labels: vec![3],
        }
        .to_bytes();
        bytes[0] = b'X';
        assert!(matches!(
            Latents::from_bytes(&bytes).expect_err("must fail"),
            LatentsError::Format(_)
        ));
    }

    #[test]
    fn points_below_the_normal_range_still_round_trip() {
        // Found by fuzzing: a subnormal point made the scale underflow to 0.
        let tiny = Latents {
            dims: 2,
            points: vec![1.0e-44, 0.0],
            labels: vec![1],
        };
        let back = Latents::from_bytes(&tiny.to_bytes()).expect("round trip");
        assert_eq!(back.points, vec![0.0, 0.0]);
    }

    #[test]
    fn a_scale_whose_points_overflow_is_an_error_and_huge_points_round_trip() {
        // Found by fuzzing: a scale of 2.1e34 gave points of ±infinity.
        let mut bytes = Latents {
            dims: 2,
            points: vec![1.0, -1.0],
            labels: vec![3],
        }
        .to_bytes();
        bytes[12..16].copy_from_slice(&2.1e34f32.to_le_bytes());
        let err = Latents::from_bytes(&bytes).expect_err("must fail");
        assert!(err.to_string().contains("scale"), "{err}");
        bytes[12..16].copy_from_slice(&MAX_SCALE.to_le_bytes());
        let huge = Latents::from_bytes(&bytes).expect("the largest scale reads");
        assert!(huge.points.iter().all(|v| v.is_finite()));
        let again = Latents::from_bytes(&huge.to_bytes()).expect("and writes again");
        assert!(again.points.iter().all(|v| v.is_finite()));
        let extreme = Latents {
            dims: 2,
            points: vec![f32::MAX, -f32::MAX],
            labels: vec![0],
        };
        let back = Latents::from_bytes(&extreme.to_bytes()).expect("f32::MAX round trips");
        assert!(
            back.points
                .iter()
                .all(|v| v.is_finite() && v.abs() > 3.0e38)
        );
    }

    #[test]
    fn a_bad_scale_or_label_is_an_error() {
        let mut bytes = Latents {
            dims: 2,
            points: vec![1.0, 2.0],
            labels: vec![3],
        }
        .to_bytes();
        bytes[12..16].copy_from_slice(&f32::NAN.to_le_bytes());
        assert!(Latents::from_bytes(&bytes).is_err());
        bytes[12..16].copy_from_slice(&1.0f32.to_le_bytes());
        *bytes.last_mut().expect("a label") = 10;
        assert!(Latents::from_bytes(&bytes).is_err());
    }
}
