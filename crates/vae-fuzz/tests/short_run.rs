//! The fuzz targets' short run, on stable: every input in `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` (crashes the fuzzer found, kept as regression tests), then
//! seeded mutations of valid inputs (bit flips, truncations, insertions, header fields set to
//! extremes such as a count of 2³² − 1) and random bytes. The long runs are cargo-fuzz's
//! (`scripts/fuzz.sh`); the seeds are written into the corpus with `WRITE_FUZZ_SEEDS=1`.

use std::path::PathBuf;

use burn::prelude::Device;
use vae::latents::Latents;
use vae::weights::Storage;
use vae::{IMAGE_PIXELS, Vae};
use vae_fuzz::{TARGETS, run, small_architecture};

/// Mutated inputs per target and seed.
const MUTANTS: usize = 1500;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// Valid inputs of each target: what the mutations start from.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let shipped = |name: &str| {
        std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../www/model")
                .join(name),
        )
        .expect("the shipped model")
    };
    match target {
        "idx_images" => vec![
            idx(0x803, &[2, 28, 28], &[7u8; 2 * IMAGE_PIXELS]),
            idx(0x803, &[0, 28, 28], &[]),
        ],
        "idx_labels" => vec![idx(0x801, &[3], &[0, 9, 4]), idx(0x801, &[0], &[])],
        "card" => vec![shipped("card.json")],
        "weights" => {
            let model = Vae::new(&small_architecture(), &Device::flex());
            [Storage::F32, Storage::F16, Storage::Q8]
                .map(|s| vae::weights::to_bytes(&model, s).expect("weights"))
                .to_vec()
        }
        "latents" => vec![
            shipped("test-latents.bin"),
            Latents {
                dims: 2,
                points: vec![0.5, -1.0, 2.0, 0.0],
                labels: vec![3, 8],
            }
            .to_bytes(),
        ],
        "preprocess" => {
            let (w, h) = (40u16, 30u16);
            let mut d = [w.to_le_bytes(), h.to_le_bytes()].concat();
            for i in 0..usize::from(w) * usize::from(h) {
                let ink = if i % 40 == 20 { 255 } else { 0 };
                d.extend_from_slice(&[ink, ink, ink, 255]);
            }
            vec![d]
        }
        other => panic!("no seeds for {other}"),
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 => d.truncate(rng.below(d.len() + 1)),
            2 => {
                let at = rng.below(d.len() + 1);
                let extra: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                d.splice(at..at, extra);
            }
            3 if d.len() >= 4 => {
                // A header field set to an extreme: 0, 1, 2³¹, 2³² − 1.
                let at = rng.below(d.len().min(32) - 3);
                let v = [0u32, 1, 1 << 31, u32::MAX][rng.below(4)];
                let bytes = if rng.below(2) == 0 {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                d[at..at + 4].copy_from_slice(&bytes);
            }
            4 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            _ => d.extend((0..rng.below(16)).map(|_| rng.next() as u8)),
        }
    }
    d
}

fn files_in(dir: PathBuf) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| std::fs::read(e.path()).expect("readable"))
        .collect()
}

#[test]
fn every_target_survives_its_corpus_its_regressions_and_seeded_mutations() {
    let write_seeds = std::env::var_os("WRITE_FUZZ_SEEDS").is_some();
    for (t, target) in TARGETS.iter().enumerate() {
        let mut inputs = files_in(fuzz_dir().join("corpus").join(target));
        let regressions = files_in(fuzz_dir().join("regressions").join(target));
        inputs.extend(regressions);
        let seeds = seeds(target);
        if write_seeds {
            let dir = fuzz_dir().join("corpus").join(target);
            std::fs::create_dir_all(&dir).expect("corpus dir");
            for (i, s) in seeds.iter().enumerate() {
                std::fs::write(dir.join(format!("seed-{i}")), s).expect("seed");
            }
        }
        let mut rng = Rng(0x5EED + t as u64);
        for seed in &seeds {
            for _ in 0..MUTANTS {
                inputs.push(mutate(&mut rng, seed));
            }
        }
        for _ in 0..MUTANTS {
            inputs.push((0..rng.below(256)).map(|_| rng.next() as u8).collect());
        }
        inputs.extend(seeds);
        for input in &inputs {
            run(target, input);
        }
    }
}

/// The bounds the fuzzers look for, asserted directly: headers that claim more than the file
/// holds are errors, whatever the count.
#[test]
fn headers_claiming_huge_counts_are_errors_not_allocations() {
    assert!(vae::idx::parse_images(&idx(0x803, &[u32::MAX, 28, 28], &[0; 784])).is_err());
    assert!(vae::idx::parse_labels(&idx(0x801, &[u32::MAX], &[1, 2])).is_err());
    let mut latents = Latents {
        dims: 2,
        points: vec![0.5, 0.5],
        labels: vec![1],
    }
    .to_bytes();
    latents[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Latents::from_bytes(&latents).is_err());
    latents[6..8].copy_from_slice(&u16::MAX.to_le_bytes());
    assert!(Latents::from_bytes(&latents).is_err());
}
