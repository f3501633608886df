#![no_main]
//! Fuzz target `idx_images`: see [`vae_fuzz::idx_images`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| vae_fuzz::idx_images(data));
