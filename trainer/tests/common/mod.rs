//! What the trainer's command-line tests share: a small MNIST look-alike on disk.

use std::io::Write;
use std::path::Path;

/// Writes the four IDX files (gzipped) of a small MNIST look-alike: each digit is a bar at its
/// own height, with a little deterministic noise.
pub fn write_dataset(dir: &Path, train: usize, test: usize) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut seed = 12345u32;
    let mut split = |n: usize, images: &str, labels: &str| {
        let mut img = Vec::new();
        for v in [0x803u32, n as u32, 28, 28] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        let mut lbl = Vec::new();
        for v in [0x801u32, n as u32] {
            lbl.extend_from_slice(&v.to_be_bytes());
        }
        for i in 0..n {
            let digit = (i % 10) as u8;
            lbl.push(digit);
            for p in 0..784 {
                let (r, c) = (p / 28, p % 28);
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let noise = (seed >> 24) as u8 / 8;
                let on = r / 2 == usize::from(digit) + 3 && (4..24).contains(&c);
                img.push(if on { 255 - noise } else { noise / 2 });
            }
        }
        write_gz(&dir.join(images), &img);
        write_gz(&dir.join(labels), &lbl);
    };
    split(
        train,
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
    );
    split(
        test,
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    );
}

pub fn write_gz(path: &Path, bytes: &[u8]) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    std::fs::write(path, e.finish().expect("gzip")).expect("write");
}
