//! One split of MNIST in memory (images and labels), as the trainer and the page's training
//! both read it: batches are gathered from it as the model sees images, scaled to [0, 1].

use std::fmt;

use crate::IMAGE_PIXELS;
use crate::idx::{self, IdxError};

/// Why an image file and a label file do not make a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// The image file is not a valid IDX image file.
    Images(IdxError),
    /// The label file is not a valid IDX label file.
    Labels(IdxError),
    /// The two files hold different numbers of items.
    CountMismatch {
        /// Images in the image file.
        images: usize,
        /// Labels in the label file.
        labels: usize,
    },
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::Images(e) => write!(f, "the image file: {e}"),
            SplitError::Labels(e) => write!(f, "the label file: {e}"),
            SplitError::CountMismatch { images, labels } => write!(
                f,
                "the image file has {images} images but the label file has {labels} labels"
            ),
        }
    }
}

impl std::error::Error for SplitError {}

/// Images and their labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// `len × 784` pixels, 0–255, 0 = background.
    pub pixels: Vec<u8>,
    /// One digit per image.
    pub labels: Vec<u8>,
}

impl Split {
    /// A split from the bytes of an IDX image file and its IDX label file (not gzipped).
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self, SplitError> {
        let pixels = idx::parse_images(images).map_err(SplitError::Images)?;
        let labels = idx::parse_labels(labels).map_err(SplitError::Labels)?;
        Self::new(pixels, labels)
    }

    /// A split from pixels (`n × 784`) and `n` labels.
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>) -> Result<Self, SplitError> {
        let images = pixels.len() / IMAGE_PIXELS;
        if !pixels.len().is_multiple_of(IMAGE_PIXELS) || images != labels.len() {
            return Err(SplitError::CountMismatch {
                images,
                labels: labels.len(),
            });
        }
        Ok(Self { pixels, labels })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Image `i` scaled to [0, 1], as the model sees it.
    pub fn image(&self, i: usize) -> impl Iterator<Item = f32> + '_ {
        self.pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
            .iter()
            .map(|&p| f32::from(p) / 255.0)
    }

    /// Images at `indices`, scaled to [0, 1], flattened row-major into one buffer.
    pub fn gather(&self, indices: impl IntoIterator<Item = usize>) -> Vec<f32> {
        // One image at a time (a slice's map, which the compiler vectorises) rather than one
        // flattened iterator (which it does not: a twentieth of a training step).
        let indices = indices.into_iter();
        let mut pixels = Vec::with_capacity(indices.size_hint().0.saturating_mul(IMAGE_PIXELS));
        for i in indices {
            pixels.extend(self.image(i));
        }
        pixels
    }

    /// The first `n` images (all of them if the split is smaller).
    pub fn first(&self, n: usize) -> Split {
        let n = n.min(self.len());
        Split {
            pixels: self.pixels[..n * IMAGE_PIXELS].to_vec(),
            labels: self.labels[..n].to_vec(),
        }
    }

    /// Splits off the last `n` images (fewer if the split is smaller): `(first, last)`. The
    /// trainer holds the last images of the training set out as its validation split.
    pub fn split_last(&self, n: usize) -> (Split, Split) {
        let keep = self.len() - n.min(self.len());
        let (a, b) = self.pixels.split_at(keep * IMAGE_PIXELS);
        let (la, lb) = self.labels.split_at(keep);
        (
            Split {
                pixels: a.to_vec(),
                labels: la.to_vec(),
            },
            Split {
                pixels: b.to_vec(),
                labels: lb.to_vec(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idx::{IMAGES_MAGIC, LABELS_MAGIC};

    fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut b = magic.to_be_bytes().to_vec();
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn reads_a_split_and_gathers_scaled_images() {
        let pixels: Vec<u8> = (0..2 * IMAGE_PIXELS).map(|i| (i % 256) as u8).collect();
        let split = Split::from_idx(
            &idx(IMAGES_MAGIC, &[2, 28, 28], &pixels),
            &idx(LABELS_MAGIC, &[2], &[7, 1]),
        )
        .expect("a valid split");
        assert_eq!(split.len(), 2);
        let second = split.gather([1]);
        assert_eq!(second.len(), IMAGE_PIXELS);
        assert_eq!(second[0], f32::from(pixels[IMAGE_PIXELS]) / 255.0);
        let (a, b) = split.split_last(1);
        assert_eq!((a.labels, b.labels), (vec![7], vec![1]));
        assert_eq!(split.first(5).len(), 2);
    }

    #[test]
    fn files_that_disagree_or_are_bad_name_what_failed() {
        let images = idx(IMAGES_MAGIC, &[1, 28, 28], &[0; IMAGE_PIXELS]);
        let err = Split::from_idx(&images, &idx(LABELS_MAGIC, &[2], &[1, 2])).expect_err("2 vs 1");
        assert_eq!(
            err.to_string(),
            "the image file has 1 images but the label file has 2 labels"
        );
        let err = Split::from_idx(&images[..20], &idx(LABELS_MAGIC, &[1], &[1])).expect_err("cut");
        assert!(
            err.to_string().starts_with("the image file: truncated"),
            "{err}"
        );
        let err = Split::from_idx(&images, &idx(LABELS_MAGIC, &[1], &[12])).expect_err("label");
        assert!(
            err.to_string().starts_with("the label file: label 0 is 12"),
            "{err}"
        );
    }
}
