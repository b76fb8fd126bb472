//! Every real sample of `../shared/assets` goes through its decoder: the well-formed ones
//! decode with the sizes `INVENTORY.md` measured, the known-bad ones fail with a reason.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::path::Path;

use giftqa::bundle::manifest::AssetFormat;
use giftqa::format::{self, DecodeLimits, animated, lottie, svga, vap};

fn files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn every_svga_sample_decodes_with_inventory_sizes() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    let mut n = 0;
    for dir in ["svga/SVGAPlayer-Web", "svga/SVGAPlayer-Android"] {
        for p in files(&shared.join(dir), "svga") {
            let bytes = std::fs::read(&p).unwrap();
            let m =
                svga::decode(&bytes, &limits).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(
                m.info.frame_count > 0 && m.info.width_px > 0,
                "{}",
                p.display()
            );
            n += 1;
        }
    }
    assert_eq!(n, 28);
    let rose = svga::decode(
        &std::fs::read(shared.join("svga/SVGAPlayer-Android/rose_2.0.0.svga")).unwrap(),
        &limits,
    )
    .unwrap();
    assert_eq!(
        rose.major, 2,
        "decided by magic bytes although its version string says 1.0.1"
    );
    assert_eq!(
        (
            rose.info.width_px,
            rose.info.frame_count,
            rose.info.image_count
        ),
        (750, 60, 26)
    );
    let jojo = svga::decode(
        &std::fs::read(shared.join("svga/SVGAPlayer-Android/jojo_audio.svga")).unwrap(),
        &limits,
    )
    .unwrap();
    assert_eq!(
        (
            jojo.info.width_px,
            jojo.info.frame_count,
            jojo.info.image_count,
            jojo.movie.audios.len()
        ),
        (768, 90, 40, 1)
    );
    let track = &jojo.info.audio[0];
    assert_eq!(
        (
            track.key.as_str(),
            track.start_frame,
            track.end_frame,
            track.total_ms,
            track.bytes
        ),
        ("audio_event_fail_1", 0, 90, 3024, 45_168),
        "the audio track, its frames and its sound in the file"
    );
    let empty = svga::decode(
        &std::fs::read(shared.join("svga/SVGAPlayer-Android/EmptyState.svga")).unwrap(),
        &limits,
    )
    .unwrap();
    assert_eq!(
        (empty.major, empty.info.frame_count),
        (1, 563),
        "1.x zip with movie.binary"
    );
}

#[test]
fn truncated_svga_fails_with_a_reason() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    for f in [
        "svga/SVGAPlayer-Web/heartbeat.svga",
        "svga/SVGAPlayer-Android/alarm.svga",
        "svga/SVGAPlayer-Web/EmptyState.svga",
    ] {
        let bytes = std::fs::read(shared.join(f)).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 7, 40] {
            let err = svga::decode(&bytes[..cut], &limits).expect_err(f);
            assert!(!err.to_string().is_empty());
        }
    }
}

#[test]
fn lottie_samples_decode_or_name_their_fault() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    let root = shared.join("lottie");
    let mut ok = 0;
    let mut failed = Vec::new();
    for dir in [
        "dotlottie-rs/assets/animations/lottie",
        "lottie-web/test/animations",
        "lottie-web/demo/gatin",
        "lottie-web/demo/happy2016",
        "rlottie/example/resource",
        "velato/examples/assets",
        "velato/examples/assets/google_fonts",
    ] {
        for p in files(&root.join(dir), "json") {
            match lottie::decode_lottie(&std::fs::read(&p).unwrap(), &limits) {
                Ok(info) => {
                    assert!(info.frame_count > 0, "{}", p.display());
                    ok += 1;
                }
                Err(e) => failed.push(format!("{}: {e}", p.file_name().unwrap().to_string_lossy())),
            }
        }
    }
    // image_test.json points at an image that is not embedded.
    assert!(
        failed
            .iter()
            .any(|f| f.starts_with("image_test.json") && f.contains("not embedded")),
        "{failed:#?}"
    );
    assert!(ok >= 20, "{ok} decoded; failed: {failed:#?}");
    // rlottie's fuzzer reproducers: four are refused with their reason; the fifth crashes only
    // rlottie's C++ parser and reads here as a well-formed 800 × 800 animation.
    let test_dir = root.join("rlottie/example/resource/test");
    let decode =
        |name: &str| lottie::decode_lottie(&std::fs::read(test_dir.join(name)).unwrap(), &limits);
    assert!(
        decode("repro_sbof.json")
            .unwrap_err()
            .to_string()
            .contains("29140721 frames")
    );
    assert!(
        decode("repro_infinite_loop.json")
            .unwrap_err()
            .to_string()
            .contains("geometry grows by"),
        "a repeater compounding 900% scale over 18 copies"
    );
    // A keyframe list mixed with plain numbers (`"k": [{"t": 24}, 239, 239, 239]`).
    assert!(
        decode("repro_propertyhelper_type_confusion2.json")
            .unwrap_err()
            .to_string()
            .contains("Error parsing lottie"),
    );
    // The other two are well-formed for the Lottie model; their crashes live in rlottie's
    // parser. The first has a polystar with path direction 2, read as 1 as lottie-web does.
    for name in [
        "repro_propertyhelper_type_confusion1.json",
        "repro_shapeproperty_type_confusion1.json",
    ] {
        let ok = decode(name).unwrap();
        assert!(ok.width_px > 0 && ok.frame_count > 0, "{name}");
    }
    let ok = decode("repro_shapeproperty_type_confusion1.json").unwrap();
    assert_eq!((ok.width_px, ok.height_px), (800, 800));
}

#[test]
fn dotlottie_samples_decode() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    let base = shared.join("lottie/dotlottie-rs/assets/animations/dotlottie");
    for (f, frames) in [
        ("v1/star_rating.lottie", 90),
        ("v2/pigeon.lottie", 111),
        ("v2/test.lottie", 42),
        ("v2/happy_birthday_audio.lottie", 360),
    ] {
        let info = lottie::decode_dotlottie(&std::fs::read(base.join(f)).unwrap(), None, &limits)
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(info.frame_count, frames, "{f}");
    }
    let multi = std::fs::read(base.join("v2/multi_anim_theme.lottie")).unwrap();
    assert!(lottie::decode_dotlottie(&multi, Some("circle"), &limits).is_ok());
    let err = lottie::decode_dotlottie(&multi, Some("triangle"), &limits).unwrap_err();
    assert!(err.to_string().contains("triangle"), "{err}");
}

/// dotLottie v2 themes (`t/<id>.json`): `check` reads every listed theme and names rules that
/// restyle nothing; a chosen theme is applied over the animation's slots; a theme the archive
/// does not list is refused, naming the ones it does.
#[test]
fn dotlottie_themes_are_read_applied_and_refused_by_name() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    let base = shared.join("lottie/dotlottie-rs/assets/animations/dotlottie/v2");
    let test = std::fs::read(base.join("test.lottie")).unwrap();
    let plain = lottie::dotlottie_composition(&test, None, &limits).unwrap();
    // Its one slot, `c0`, has no value in the file: the themes give it one.
    assert_eq!(plain.slot_uses.get("c0"), Some(&1));
    // The decoder's info lists them for the app's theme picker.
    assert_eq!(plain.info.themes, ["test_theme", "global_theme"]);
    assert_eq!(lottie::dotlottie_themes(&test).unwrap(), plain.info.themes);
    assert!(
        plain
            .info
            .notes
            .iter()
            .any(|n| n.contains("2 theme(s) (test_theme, global_theme), which restyle its slots")),
        "{:?}",
        plain.info.notes
    );
    assert!(
        !plain
            .info
            .notes
            .iter()
            .any(|n| n.contains("restyle nothing")),
        "both themes name c0: {:?}",
        plain.info.notes
    );
    let themed =
        lottie::dotlottie_themed(&test, None, Some("global_theme"), None, &limits).unwrap();
    assert!(
        themed
            .info
            .notes
            .iter()
            .any(|n| n
                == "theme \"global_theme\": 1 rule(s) for \"animation\" restyle 1 propert(ies)"),
        "{:?}",
        themed.info.notes
    );
    let err = lottie::dotlottie_themed(&test, None, Some("dark"), None, &limits).unwrap_err();
    assert!(
        err.to_string()
            .contains("it lists test_theme, global_theme"),
        "{err}"
    );
    // `themed.lottie`'s three themes each restyle its six colour slots.
    let water = std::fs::read(base.join("themed.lottie")).unwrap();
    let themed = lottie::dotlottie_themed(&water, None, Some("earth"), None, &limits).unwrap();
    assert!(
        themed.info.notes.iter().any(|n| n.contains("6 rule(s)")),
        "{:?}",
        themed.info.notes
    );
    // A theme whose rule names a slot the animation lacks is named in the report.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&test)).unwrap();
    for i in 0..archive.len() {
        let mut e = archive.by_index(i).unwrap();
        let name = e.name().to_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
        if name == "t/global_theme.json" {
            bytes = br#"{"rules":[{"id":"c9","type":"Color","value":[0,0,1]}]}"#.to_vec();
        }
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, &bytes).unwrap();
    }
    let broken = zip.finish().unwrap().into_inner();
    let info = lottie::decode_dotlottie(&broken, None, &limits).unwrap();
    assert!(
        info.notes.iter().any(|n| n
            == "theme \"global_theme\": slot(s) \"c9\" name no property of \"animation\", so those rules restyle nothing"),
        "{:?}",
        info.notes
    );
}

#[test]
fn animated_images_decode_every_frame() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    let base = shared.join("animated-image");
    let ball = animated::decode_animated(
        AssetFormat::Apng,
        &std::fs::read(base.join("image-rs-image/tests/images/png/apng/ball.png")).unwrap(),
        &limits,
    )
    .unwrap();
    assert_eq!(
        (ball.width_px, ball.frame_count),
        (100, 20),
        "20 reference frames upstream"
    );
    let webp = animated::decode_animated(
        AssetFormat::Webp,
        &std::fs::read(base.join("image-rs-image-webp/tests/images/animated/random_lossless.webp"))
            .unwrap(),
        &limits,
    )
    .unwrap();
    assert!(webp.frame_count >= 3);
    // image-rs's GIF test files (disposal modes, interlacing, frames outside the canvas,
    // undersized frames): each decodes, at the logical screen size its header states, with
    // every frame the `image` crate's own decoder yields.
    let gifs = files(&base.join("image-rs-image/tests/images/gif/anim"), "gif");
    assert!(gifs.len() >= 8, "{gifs:?}");
    for f in gifs {
        let bytes = std::fs::read(&f).unwrap();
        let info = animated::decode_animated(AssetFormat::Gif, &bytes, &limits)
            .unwrap_or_else(|e| panic!("{f:?}: {e}"));
        let header = (
            u32::from(u16::from_le_bytes([bytes[6], bytes[7]])),
            u32::from(u16::from_le_bytes([bytes[8], bytes[9]])),
        );
        assert_eq!((info.width_px, info.height_px), header, "{f:?}");
        let frames = image::AnimationDecoder::into_frames(
            image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&bytes)).unwrap(),
        )
        .count() as u64;
        assert_eq!(info.frame_count, frames, "{f:?}");
        assert!(info.frame_count >= 1 && info.duration_ms > 0, "{f:?}");
    }
    let gif = animated::decode_animated(
        AssetFormat::Gif,
        &std::fs::read(base.join("APNG4Android/app/src/main/assets/1.gif")).unwrap(),
        &limits,
    )
    .unwrap();
    assert!(gif.frame_count > 1 && gif.duration_ms > 0);
}

#[test]
fn vap_samples_have_their_config() {
    let shared = shared_or_skip!();
    let limits = DecodeLimits::default();
    let demo = vap::decode(
        &std::fs::read(shared.join("vap/Android/demo.mp4")).unwrap(),
        None,
        &limits,
    )
    .unwrap();
    assert_eq!(
        (
            demo.width_px,
            demo.height_px,
            demo.frame_count,
            demo.fps as u32
        ),
        (736, 576, 80, 25),
        "per _extracted_vapc/Android_demo.mp4.vapc.json"
    );
    let vapx = vap::decode(
        &std::fs::read(shared.join("vap/Android/vapx.mp4")).unwrap(),
        None,
        &limits,
    )
    .unwrap();
    assert!(!vapx.slot_keys.is_empty(), "vapx declares src tags");
    let old = vap::decode(
        &std::fs::read(shared.join("vap/Android/special_size_750.mp4")).unwrap(),
        None,
        &limits,
    )
    .unwrap();
    assert!(
        old.notes.iter().any(|n| n.contains("no vapc")),
        "{:?}",
        old.notes
    );
    let web = std::fs::read(shared.join("vap/web/demo.mp4")).unwrap();
    assert!(vap::decode(&web, None, &limits).is_ok());
    assert!(
        vap::decode(&web[..web.len() / 3], None, &limits).is_err(),
        "a truncated MP4 fails"
    );
    assert!(matches!(
        format::check_magic(AssetFormat::Vap, &web[..64]),
        Ok(format::Magic::Mp4)
    ));
}
