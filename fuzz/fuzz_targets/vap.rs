//! VAP: the box walk, `re_mp4`'s sample table, the `vapc` config, every H.264 sample through
//! OpenH264, and one merged, fused frame.
#![no_main]

use std::sync::Arc;

use giftqa::format::{DecodeLimits, vap};
use giftqa::model::load::FrameDecoder;
use giftqa::model::vap::vap_animation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let limits = DecodeLimits {
        max_frames: 512,
        ..DecodeLimits::default()
    };
    let _ = vap::decode(data, None, &limits);
    if let Ok(movie) = vap::open(Arc::from(data), None, &limits) {
        let anim = vap_animation(Arc::new(movie));
        let mut dec = FrameDecoder::new();
        if let Some(img) = anim.images.first() {
            let _ = dec.decode(img, &limits);
        }
    }
});
