//! The hostile-input probe: files and flags that once crashed, hung or exhausted giftqa, each
//! run through the CLI as a user would, within 60 s and under a 2 GiB address space
//! (`common::giftqa_bounded`). Each must end in a finding or a clear error (exit 0, 1 or 2).
//!
//! Cases that belong to one area are asserted the same way in that area's tests: zip tampering
//! in `tamper.rs`; case folding, a directory's size caps and the dependency diamond in
//! `findings.rs`; tiers-file ranges in `device_model.rs`; VAP in `vap.rs`.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use std::io::Write as _;

use common::{Fixture, giftqa_bounded};
use giftqa::format::svga::proto;
use prost::Message as _;
use serde_json::{Value, json};

const NOW: &str = "2026-12-01T00:00:00Z";

/// A Lottie of 200 × 200 px, 30 frames, one shape layer holding `shapes`.
fn lottie_with(shapes: &Value) -> Vec<u8> {
    let still = |v: Value| json!({"a": 0, "k": v});
    json!({
        "v": "5.7.0", "fr": 30, "ip": 0, "op": 30, "w": 200, "h": 200, "nm": "probe",
        "layers": [{
            "ty": 4, "ind": 1, "ip": 0, "op": 30, "st": 0, "nm": "shape",
            "ks": {"o": still(json!(100)), "r": still(json!(0)), "p": still(json!([100, 100, 0])),
                   "a": still(json!([0, 0, 0])), "s": still(json!([100, 100, 100]))},
            "shapes": shapes
        }]
    })
    .to_string()
    .into_bytes()
}

/// A 2.x SVGA (zlib-compressed `MovieEntity`).
fn svga(movie: &proto::MovieEntity) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&movie.encode_to_vec()).unwrap();
    z.finish().unwrap()
}

fn movie(w: f32, h: f32, frames: i32) -> proto::MovieEntity {
    proto::MovieEntity {
        version: "2.0.0".into(),
        params: Some(proto::MovieParams {
            view_box_width: w,
            view_box_height: h,
            fps: 20,
            frames,
        }),
        ..proto::MovieEntity::default()
    }
}

fn identity() -> proto::Transform {
    proto::Transform {
        a: 1.0,
        d: 1.0,
        ..proto::Transform::default()
    }
}

/// A sprite showing `image_key` (or only `shapes` when the key names no image) on every frame.
fn sprite(image_key: &str, frames: i32, shapes: &[proto::ShapeEntity]) -> proto::SpriteEntity {
    proto::SpriteEntity {
        image_key: image_key.into(),
        frames: (0..frames)
            .map(|_| proto::FrameEntity {
                alpha: 1.0,
                layout: Some(proto::Layout {
                    x: 0.0,
                    y: 0.0,
                    width: 64.0,
                    height: 64.0,
                }),
                transform: Some(identity()),
                shapes: shapes.to_vec(),
                ..proto::FrameEntity::default()
            })
            .collect(),
        matte_key: String::new(),
    }
}

fn rect_shape() -> proto::ShapeEntity {
    proto::ShapeEntity {
        r#type: 1,
        args: Some(proto::ShapeArgsKind::Rect(proto::RectArgs {
            x: 0.0,
            y: 0.0,
            width: 8.0,
            height: 8.0,
            corner_radius: 0.0,
        })),
        styles: Some(proto::ShapeStyle {
            fill: Some(proto::RgbaColor {
                r: 1.0,
                g: 0.0,
                b: 0.0,
                a: 1.0,
            }),
            ..proto::ShapeStyle::default()
        }),
        transform: Some(identity()),
    }
}

/// A solid PNG of `side` × `side` px (compresses to a few KB).
fn solid_png(side: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(side, side, image::Rgba([200, 40, 40, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The demo-like shared fixture plus one effect `id` of `format` made of `bytes`.
fn with_effect(id: &str, format: &str, ext: &str, bytes: &[u8]) -> Option<Fixture> {
    let shared = common::shared_assets()?;
    let mut f = Fixture::shared(&shared);
    let path = format!("effects/{id}.{ext}");
    std::fs::write(f.path(&path), bytes).unwrap();
    f.manifest["assets"].as_array_mut().unwrap().push(json!({
        "id": id, "kind": "effect", "format": format, "files": [{"path": path}],
        "fallback": "builtin:x"
    }));
    f.seal();
    Some(f)
}

/// `render --asset ID --frames 0` into a temporary folder, bounded: (exit, stdout, stderr).
fn render(f: &Fixture, id: &str, extra: &[&str]) -> (i32, String, String) {
    let out = tempfile::tempdir().unwrap();
    let mut args = vec![
        "render",
        f.dir().to_str().unwrap(),
        "--asset",
        id,
        "--frames",
        "0",
        "--out",
        out.path().to_str().unwrap(),
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    giftqa_bounded(&args)
}

/// `smoke --tier low --format json` bounded: (exit, the report).
fn smoke(f: &Fixture, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "smoke",
        f.dir().to_str().unwrap(),
        "--tier",
        "low",
        "--format",
        "json",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = giftqa_bounded(&args);
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
    )
}

/// The findings of a JSON report as (code, asset, message).
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
            (s("code"), s("asset"), s("message"))
        })
        .collect()
}

fn has(report: &Value, code: &str, asset: &str, text: &str) -> bool {
    findings(report)
        .iter()
        .any(|(c, a, m)| c == code && a == asset && m.contains(text))
}

#[test]
fn a_background_with_multibyte_characters_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = giftqa_bounded(&[
        "render",
        "assets/demo-bundle",
        "--asset",
        "heartbeat",
        "--background",
        "#aééb",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("#aééb"), "names the value: {err}");
}

/// An ellipse of 1e38 px would flatten into more segments than memory holds: the frame is a
/// finding in `render` and `smoke`, and nothing is allocated for it.
#[test]
fn a_lottie_ellipse_of_1e38_is_a_finding_in_render_and_smoke() {
    let shapes = json!([{"ty": "gr", "nm": "g", "it": [
        {"ty": "el", "nm": "huge", "p": {"a": 0, "k": [0, 0]}, "s": {"a": 0, "k": [1e38, 1e38]}},
        {"ty": "fl", "nm": "fill", "c": {"a": 0, "k": [1, 0, 0, 1]}, "o": {"a": 0, "k": 100}, "r": 1},
        {"ty": "tr", "p": {"a": 0, "k": [0, 0]}, "a": {"a": 0, "k": [0, 0]},
         "s": {"a": 0, "k": [100, 100]}, "r": {"a": 0, "k": 0}, "o": {"a": 0, "k": 100}}
    ]}]);
    let Some(f) = with_effect("huge-ellipse", "lottie", "json", &lottie_with(&shapes)) else {
        return;
    };
    let (code, out, err) = render(&f, "huge-ellipse", &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[decode-failed]: huge-ellipse: frame 0: a path reaching 5.0e37 units, beyond the ±1e6 coordinate limit"),
        "{out}"
    );
    let (code, report) = smoke(&f, &["--no-gpu"]);
    assert_eq!(code, 1);
    assert!(
        has(&report, "decode-failed", "huge-ellipse", "frame 0"),
        "{:#?}",
        findings(&report)
    );
}

/// An SVGA of 20 000 sprites (176 KB once compressed) is past the per-frame draw-call cap:
/// a finding naming the frame, within the time, where one frame once took 14.7 s and 742 MB.
#[test]
fn twenty_thousand_sprites_are_past_the_per_frame_cap() {
    let mut m = movie(400.0, 400.0, 2);
    m.sprites = (0..20_000)
        .map(|i| sprite(&format!("s{i}"), 2, &[rect_shape()]))
        .collect();
    let bytes = svga(&m);
    let Some(f) = with_effect("swarm", "svga", "svga", &bytes) else {
        return;
    };
    let (code, out, err) = render(&f, "swarm", &[]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error[decode-failed]: swarm: frame 0: 20000 draw calls, over the per-frame limit of 10000"),
        "{out}"
    );
    let (code, report) = smoke(&f, &["--no-gpu"]);
    assert_eq!(code, 1);
    assert!(
        has(&report, "decode-failed", "swarm", "per-frame limit"),
        "{:#?}",
        findings(&report)
    );
}

/// A canvas of 8192 × 2048 px is within the side limit: it renders at its size, or is
/// reported; it never panics in wgpu.
#[test]
fn an_8192_by_2048_svga_canvas_renders_within_2_gib() {
    let mut m = movie(8192.0, 2048.0, 2);
    m.sprites = vec![sprite("dot", 2, &[rect_shape()])];
    let Some(f) = with_effect("wide", "svga", "svga", &svga(&m)) else {
        return;
    };
    let (code, out, err) = render(&f, "wide", &[]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = render(&f, "wide", &["--tier", "low"]);
    assert_eq!(code, 0, "fitted to the low tier's viewport: {err}");
}

/// Forty embedded 2048² bitmaps shown at once: 640 MiB of textures. `smoke` on the low tier
/// reports the memory; `render` draws the frame or reports the GPU's refusal.
#[test]
fn forty_embedded_2048_px_bitmaps_within_2_gib() {
    let mut m = movie(750.0, 750.0, 2);
    let png = solid_png(2048);
    for i in 0..40 {
        let key = format!("img{i}");
        m.images.insert(key.clone(), png.clone());
        m.sprites.push(sprite(&key, 2, &[]));
    }
    let Some(f) = with_effect("forty", "svga", "svga", &svga(&m)) else {
        return;
    };
    let (code, report) = smoke(&f, &["--no-gpu"]);
    assert_eq!(code, 1);
    assert!(
        has(&report, "memory-over-budget", "", "with forty playing"),
        "{:#?}",
        findings(&report)
    );
    // Drawn where the device holds 640 MiB of textures; under 2 GiB on lavapipe the GPU's
    // out-of-memory error is a finding for the effect, not a panic.
    let (code, out, err) = render(&f, "forty", &[]);
    assert!(
        code == 0
            || (code == 1
                && out.contains("error[decode-failed]: forty: frame 0: the GPU refused the work")),
        "{out}{err}"
    );
}

/// An SVGA 1.x whose bitmap has a PLTE chunk of 4 bytes (the `png` crate panicked on it).
#[test]
fn a_bad_palette_inside_an_svga_1x_is_decode_failed() {
    let Some(shared) = common::shared_assets() else {
        return;
    };
    let src = shared.join("svga/SVGAPlayer-Web/matteBitmap_1.x.svga");
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut replaced = 0;
    for i in 0..zin.len() {
        let mut e = zin.by_index(i).unwrap();
        let name = e.name().to_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        if data.starts_with(b"\x89PNG") {
            data = common::png_bad_palette();
            replaced += 1;
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    assert!(replaced > 0, "the file holds PNGs");
    let bytes = out.finish().unwrap().into_inner();
    let Some(f) = with_effect("badpal", "svga", "svga", &bytes) else {
        return;
    };
    decode_failed_in_check_and_smoke(&f, "badpal");
}

/// An 87-byte PNG-sequence frame with that palette: `check` and `smoke` (pixels drawn on the
/// GPU) report it.
#[test]
fn an_87_byte_png_sequence_frame_is_decode_failed() {
    let mut f = Fixture::demo();
    let png = common::png_bad_palette();
    assert!(png.len() <= 87, "{} bytes", png.len());
    std::fs::write(f.path("effects/ball-seq/ball_05.png"), png).unwrap();
    f.seal();
    let (code, codes) = common::check_bounded(f.dir());
    assert_eq!(code, 1);
    assert!(codes.iter().any(|c| c == "decode-failed"), "{codes:?}");
    let (code, report) = smoke(&f, &[]);
    assert_eq!(code, 1);
    assert!(has(&report, "decode-failed", "ball-sequence", ""));
}

/// A sprite scaled by 1e38 and one scaled by NaN: drawn, never a crash, in `render` and
/// `smoke`.
#[test]
fn sprites_scaled_by_1e38_and_nan_are_drawn_or_reported() {
    let mut m = movie(400.0, 400.0, 2);
    for (i, scale) in [1e38_f32, f32::NAN].into_iter().enumerate() {
        let mut s = sprite(&format!("s{i}"), 2, &[rect_shape()]);
        for f in &mut s.frames {
            f.transform = Some(proto::Transform {
                a: scale,
                d: scale,
                ..proto::Transform::default()
            });
        }
        m.sprites.push(s);
    }
    let Some(f) = with_effect("scaled", "svga", "svga", &svga(&m)) else {
        return;
    };
    // As the players do, the huge sprite covers the canvas and the NaN one shows nothing.
    let (code, out, err) = render(&f, "scaled", &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("wrote 1 frame(s)"), "{out}");
    let (code, report) = smoke(&f, &["--no-gpu"]);
    assert_eq!(code, 0, "{:#?}", findings(&report));
}

/// A motion-path tangent of 1e38 in a real Lottie (`lottie-web/demo/gatin`): its arc length
/// once took kurbo minutes at a thousandth of a pixel; the motion is straight past ±1e6 px and
/// `check` ends at once.
#[test]
fn a_motion_tangent_of_1e38_is_checked_within_the_bounds() {
    let Some(shared) = common::shared_assets() else {
        return;
    };
    let mut doc: Value = serde_json::from_slice(
        &std::fs::read(shared.join("lottie/lottie-web/demo/gatin/data.json")).unwrap(),
    )
    .unwrap();
    let kf = &mut doc["layers"][0]["ks"]["p"]["k"][0];
    assert!(kf["to"].is_array(), "a spatial keyframe");
    kf["to"] = json!([1e38, -1e38, 0]);
    let Some(f) = with_effect("tangent", "lottie", "json", doc.to_string().as_bytes()) else {
        return;
    };
    let (code, codes) = common::check_bounded(f.dir());
    assert_eq!(code, 0, "{codes:?}");
    let (code, report) = smoke(&f, &["--no-gpu"]);
    assert!(code <= 1, "{:#?}", findings(&report));
    assert!(!has(&report, "decode-failed", "tangent", ""));
}

/// An animated WebP the `animated` fuzz target found (minimised, `tests/data/`): `image-webp`
/// 0.2.4, the newest, indexes past a buffer while upsampling its chroma
/// (`fill_rgb_buffer_fancy`). The decoder call returns an error, and `check` and `smoke` give
/// `decode-failed`, under 2 GiB and 60 s.
#[test]
fn an_animated_webp_that_panics_image_webp_is_decode_failed() {
    use giftqa::bundle::manifest::AssetFormat;
    use giftqa::format::{DecodeLimits, animated};
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/webp_chroma_upsampling_panic.webp"),
    )
    .unwrap();
    giftqa::format::quiet_contained_panics();
    let decoded = animated::decode_animated(AssetFormat::Webp, &bytes, &DecodeLimits::default());
    assert!(
        matches!(decoded, Err(giftqa::format::DecodeError::Panicked(_))),
        "{decoded:?}"
    );
    let Some(f) = with_effect("badwebp", "webp", "webp", &bytes) else {
        return;
    };
    decode_failed_in_check_and_smoke(&f, "badwebp");
}

/// `check` (bounded) and `smoke --no-gpu` both end with exit 1 and `decode-failed` on `asset`.
#[track_caller]
fn decode_failed_in_check_and_smoke(f: &Fixture, asset: &str) {
    let (code, codes) = common::check_bounded(f.dir());
    assert_eq!(code, 1);
    assert!(codes.iter().any(|c| c == "decode-failed"), "{codes:?}");
    let (code, report) = smoke(f, &["--no-gpu"]);
    assert_eq!(code, 1);
    assert!(has(&report, "decode-failed", asset, ""));
}
