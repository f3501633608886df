#![no_main]
//! Fuzz target `idx_labels`: see [`vae_fuzz::idx_labels`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| vae_fuzz::idx_labels(data));
