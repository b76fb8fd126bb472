//! APNG, GIF and WebP (the first byte picks the container), stills, and every frame
//! composited through the model's streaming decoder.
#![no_main]

use std::sync::Arc;

use giftqa::bundle::manifest::AssetFormat;
use giftqa::format::{DecodeLimits, animated};
use giftqa::model::load::FrameDecoder;
use giftqa::model::{ImageAsset, ImageSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Panics that giftqa contains at a decoder boundary (and reports as decode-failed) are
    // not crashes; any other panic still aborts through libFuzzer's hook.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(giftqa::format::quiet_contained_panics);
    let Some((&pick, bytes)) = data.split_first() else { return };
    let format = match pick % 3 {
        0 => AssetFormat::Apng,
        1 => AssetFormat::Gif,
        _ => AssetFormat::Webp,
    };
    let limits = DecodeLimits {
        max_alloc_bytes: 64 << 20,
        ..DecodeLimits::default()
    };
    let _ = animated::decode_still(bytes, &limits);
    let Ok(info) = animated::decode_animated(format, bytes, &limits) else {
        return;
    };
    let file: Arc<[u8]> = Arc::from(bytes);
    let mut dec = FrameDecoder::new();
    for index in 0..(info.frame_count.min(16) as u32) {
        let img = ImageAsset {
            key: format!("frame_{index}"),
            width_px: info.width_px,
            height_px: info.height_px,
            source: ImageSource::AnimatedFrame {
                file: Arc::clone(&file),
                format,
                index,
            },
        };
        if dec.decode(&img, &limits).is_err() {
            break;
        }
    }
});
