#![no_main]
//! Fuzz target `weights`: see [`vae_fuzz::weights`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| vae_fuzz::weights(data));
