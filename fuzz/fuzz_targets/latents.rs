#![no_main]
//! Fuzz target `latents`: see [`vae_fuzz::latents`].

libfuzzer_sys::fuzz_target!(|data: &[u8]| vae_fuzz::latents(data));
