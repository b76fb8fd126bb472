//! SVGA 1.x (zip with `movie.spec`/`movie.binary`) and 2.x (zlib protobuf): the decoder, the
//! animation model, `frame_at` over its frames and the decode of its images.
#![no_main]

use giftqa::format::{DecodeLimits, svga};
use giftqa::model::frame_at;
use giftqa::model::load::{FrameDecoder, svga_animation};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let limits = DecodeLimits::default();
    let _ = svga::decode(data, &limits);
    if let Ok(anim) = svga_animation(data, &limits) {
        for f in 0..anim.frame_count.min(32) {
            let _ = frame_at(&anim, f);
        }
        let mut dec = FrameDecoder::new();
        for img in anim.images.iter().take(8) {
            let _ = dec.decode(img, &limits);
        }
    }
});
