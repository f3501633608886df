#![no_main]
//! Fuzz target `preprocess`: see [`vae_fuzz::preprocess`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| vae_fuzz::preprocess(data));
