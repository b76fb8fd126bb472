//! Rebuilds the embedded demo bundle `assets/demo-bundle/` from redistributable files of
//! `../shared/assets` (see `assets/THIRD_PARTY.md`), then packs and signs it with the demo keys.
//!
//! Run from the project root: `cargo run --example make_demo`. The png-sequence and the
//! sprite-atlas are cut from the frames of `ball.png` (image-rs, MIT/Apache-2.0). Existing demo
//! keys are reused so the keyring stays stable.

use std::path::Path;

use image::codecs::png::PngDecoder;
use image::{AnimationDecoder, RgbaImage};

fn main() -> anyhow::Result<()> {
    let shared = Path::new("../shared/assets");
    let out = Path::new("assets/demo-bundle");
    let keys = Path::new("assets/demo-keys");
    anyhow::ensure!(shared.is_dir(), "../shared/assets is missing");
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    for d in ["effects/ball-seq", "resources"] {
        std::fs::create_dir_all(out.join(d))?;
    }
    let copies = [
        (
            "svga/SVGAPlayer-Web/heartbeat.svga",
            "effects/heartbeat.svga",
        ),
        ("svga/SVGAPlayer-Android/alarm.svga", "effects/alarm.svga"),
        (
            "lottie/dotlottie-rs/assets/animations/lottie/bouncy_ball.json",
            "effects/bouncy-ball.json",
        ),
        (
            "lottie/dotlottie-rs/assets/animations/dotlottie/v1/star_rating.lottie",
            "effects/star-rating.lottie",
        ),
        (
            "animated-image/image-rs-image/tests/images/png/apng/ball.png",
            "effects/ball.png",
        ),
        (
            "animated-image/image-rs-image/tests/images/webp/extended_images/anim.webp",
            "effects/spinner.webp",
        ),
        (
            "animated-image/image-rs-image/tests/images/gif/anim/large-gif-anim-combine.gif",
            "effects/confetti.gif",
        ),
    ];
    for (from, to) in copies {
        std::fs::copy(shared.join(from), out.join(to))?;
    }
    // The chime: one mp3 of dotlottie-rs's happy_birthday_audio.lottie (MIT), unchanged.
    let lottie = std::fs::File::open(
        shared
            .join("lottie/dotlottie-rs/assets/animations/dotlottie/v2/happy_birthday_audio.lottie"),
    )?;
    let mut zip = zip::ZipArchive::new(lottie)?;
    let mut mp3 = Vec::new();
    std::io::Read::read_to_end(
        &mut zip.by_name("u/audio_plugin_1773744781684_uzx6h.mp3")?,
        &mut mp3,
    )?;
    std::fs::write(out.join("resources/chime.mp3"), mp3)?;
    // Frames of ball.png, composited by the image crate.
    let bytes =
        std::fs::read(shared.join("animated-image/image-rs-image/tests/images/png/apng/ball.png"))?;
    let frames: Vec<RgbaImage> = PngDecoder::new(std::io::Cursor::new(bytes))?
        .apng()?
        .into_frames()
        .map(|f| f.map(image::Frame::into_buffer))
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(
        frames.len() == 20,
        "ball.png has {} frames, expected 20",
        frames.len()
    );
    let mut seq = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let name = format!("effects/ball-seq/ball_{i:02}.png");
        f.save(out.join(&name))?;
        seq.push(format!("{{\"path\": \"{name}\"}}"));
    }
    let (w, h) = frames[0].dimensions();
    let mut sheet = RgbaImage::new(w * 5, h * 4);
    for (i, f) in frames.iter().enumerate() {
        image::imageops::overlay(
            &mut sheet,
            f,
            i64::from((i as u32 % 5) * w),
            i64::from((i as u32 / 5) * h),
        );
    }
    sheet.save(out.join("effects/ball-atlas.png"))?;
    let manifest = MANIFEST.replace("@SEQ@", &seq.join(",\n        "));
    std::fs::write(out.join("manifest.json"), manifest)?;
    giftqa::bundle::pack::pack(out)?;
    // Keys: reuse, or make them once.
    std::fs::create_dir_all(keys)?;
    let mut ring = Vec::new();
    for (file, name, role) in [
        ("publisher", "Demo release CI (DEMO ONLY)", "publisher"),
        ("approver", "Demo release manager (DEMO ONLY)", "approver"),
    ] {
        let key_path = keys.join(format!("{file}.key"));
        let pub_path = keys.join(format!("{file}.pub"));
        if !key_path.exists() {
            let (sk, pk) = giftqa::bundle::signature::generate(name, &[role.to_owned()])
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            giftqa::fsutil::write_atomic(&key_path, &serde_json::to_vec_pretty(&sk)?, Some(0o600))?;
            giftqa::fsutil::write_atomic(&pub_path, &serde_json::to_vec_pretty(&pk)?, None)?;
        }
        ring.push(serde_json::from_slice::<serde_json::Value>(
            &std::fs::read(&pub_path)?,
        )?);
    }
    let keyring = serde_json::json!({"keys": ring, "thresholds": {"publisher": 1, "approver": 1}});
    std::fs::write(
        "assets/demo-keys.json",
        serde_json::to_string_pretty(&keyring)? + "\n",
    )?;
    giftqa::bundle::pack::sign(out, &keys.join("publisher.key"))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

const MANIFEST: &str = r#"{
  "format": "giftbundle/1",
  "bundle_id": "demo.winter-2026",
  "version": "1.0.0",
  "created": "2026-11-20T10:00:00Z",
  "expires": "2036-01-01T00:00:00Z",
  "min_client": "5.0.0",
  "assets": [
    {
      "id": "heartbeat",
      "kind": "effect",
      "format": "svga",
      "files": [{"path": "effects/heartbeat.svga"}],
      "tiers": ["mid", "high"],
      "fallback": "ball-apng"
    },
    {
      "id": "alarm-bell",
      "kind": "effect",
      "format": "svga",
      "files": [{"path": "effects/alarm.svga"}],
      "depends_on": ["chime"],
      "fallback": "builtin:bell"
    },
    {
      "id": "bouncy-ball",
      "kind": "effect",
      "format": "lottie",
      "files": [{"path": "effects/bouncy-ball.json"}],
      "clients": {"min": "5.4.0"},
      "fallback": "ball-sequence"
    },
    {
      "id": "star-rating",
      "kind": "effect",
      "format": "dotlottie",
      "files": [{"path": "effects/star-rating.lottie"}],
      "fallback": "builtin:star"
    },
    {
      "id": "ball-apng",
      "kind": "effect",
      "format": "apng",
      "files": [{"path": "effects/ball.png"}],
      "fallback": "ball-atlas"
    },
    {
      "id": "ball-sequence",
      "kind": "effect",
      "format": "png-sequence",
      "files": [
        @SEQ@
      ],
      "params": {"fps": 20},
      "fallback": "builtin:ball"
    },
    {
      "id": "ball-atlas",
      "kind": "effect",
      "format": "sprite-atlas",
      "files": [{"path": "effects/ball-atlas.png"}],
      "params": {"columns": 5, "rows": 4, "frame_count": 20, "fps": 20},
      "fallback": "builtin:ball"
    },
    {
      "id": "spinner-webp",
      "kind": "effect",
      "format": "webp",
      "files": [{"path": "effects/spinner.webp"}],
      "fallback": "builtin:sparkle"
    },
    {
      "id": "confetti-gif",
      "kind": "effect",
      "format": "gif",
      "files": [{"path": "effects/confetti.gif"}],
      "tiers": ["mid", "high"],
      "fallback": "builtin:confetti"
    },
    {
      "id": "chime",
      "kind": "resource",
      "format": "audio",
      "files": [{"path": "resources/chime.mp3"}]
    }
  ],
  "rollout": {
    "salt": "demo-w26",
    "stages": [
      {"name": "canary", "percent_bp": 100, "regions": ["*"]},
      {"name": "regional", "percent_bp": 2000, "regions": ["SG", "ID"]},
      {"name": "global", "percent_bp": 10000, "regions": ["*"]}
    ],
    "gates": {
      "download_success_rate_min": 0.995,
      "integrity_failure_rate_max": 0.001,
      "fallback_activation_ratio_max": 0.02,
      "crash_rate_delta_max": 0.0005,
      "frame_drop_delta_max": 0.01,
      "min_sessions": 5000
    }
  }
}
"#;
