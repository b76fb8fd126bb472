//! dotLottie archives: the manifest, animation ids, the Lottie inside, `frame_at`.
#![no_main]

use giftqa::format::{DecodeLimits, lottie};
use giftqa::model::frame_at;
use giftqa::model::load::lottie_animation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let limits = DecodeLimits::default();
    let _ = lottie::decode_dotlottie(data, None, &limits);
    let _ = lottie::dotlottie_ids(data);
    if let Ok(model) = lottie::dotlottie_composition(data, None, &limits) {
        let anim = lottie_animation(model);
        for f in 0..anim.frame_count.min(8) {
            let _ = frame_at(&anim, f);
        }
    }
});
