#![no_main]
//! Fuzz target `card`: see [`vae_fuzz::card`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| vae_fuzz::card(data));
