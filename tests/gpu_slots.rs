//! Dynamic slots on a real SVGA: SVGAPlayer's own demo file `kingset.svga` with its avatar key
//! `99` replaced by a picture and its `banner` key given a long Chinese sender name. The frame
//! is rendered on wgpu (lavapipe in CI) and guarded by an image snapshot
//! (`tests/snapshots/slot_kingset_avatar_cjk.png`); the text stack's choices are asserted.

#![cfg(feature = "gpu")]

mod common;

use giftqa::format::DecodeLimits;
use giftqa::model::load::svga_animation;
use giftqa::model::slots::{SlotValue, fill_slots};
use giftqa::model::text::{Overflow, TextStyle, draw_slot_text};
use giftqa::model::{Affine, Content};
use giftqa::render::paint::{over_background, render_frame};

const NAME: &str = "来自远方的超级土豪大哥送出了一个超级火箭礼物";

#[test]
fn avatar_and_long_cjk_name_fill_kingset() {
    let shared = shared_or_skip!();
    let Some(ctx) = common::gpu() else { return };
    let bytes = std::fs::read(shared.join("svga/SVGAPlayer-Web/kingset.svga")).unwrap();
    let anim = svga_animation(&bytes, &DecodeLimits::default()).unwrap();
    let avatar = image::open(shared.join("png-sequence/APNG4Android/app/src/main/assets/c_10.png"))
        .unwrap()
        .into_rgba8();
    let (filled, report) = fill_slots(
        &anim,
        &[
            ("99".into(), SlotValue::Image(avatar)),
            ("banner".into(), SlotValue::Text(NAME.into())),
        ],
        &TextStyle::default(),
    )
    .unwrap();
    assert_eq!(report.len(), 2);
    let text = &report[1];
    assert_eq!((text.key.as_str(), text.kind), ("banner", "text"));
    assert!(text.ellipsized, "a name this long is cut: {:?}", text.shown);
    assert!(text.shown.as_deref().unwrap().ends_with('…'));
    assert_eq!(text.missing_glyphs, 0, "every character has a glyph");
    assert!(
        text.fonts.iter().any(|f| f.contains("WenQuanYi")),
        "a CJK fallback font draws the name: {:?}",
        text.fonts
    );
    // A frame where both the avatar and the banner show.
    let Content::Sprites(sprites) = &anim.content else {
        panic!("sprites")
    };
    let visible = |key: &str, f: usize| {
        sprites
            .iter()
            .any(|s| s.image_key == key && s.frames.get(f).is_some_and(|fr| fr.alpha > 0.5))
    };
    let both: Vec<usize> = (0..anim.frame_count as usize)
        .filter(|&f| visible("99", f) && visible("banner", f))
        .collect();
    let frame = both[both.len() / 2] as u32;
    let size = [anim.width_px, anim.height_px];
    let plain = render_frame(&ctx, &anim, frame, size, Affine::IDENTITY, 8192).unwrap();
    let ours = render_frame(&ctx, &filled, frame, size, Affine::IDENTITY, 8192).unwrap();
    let changed = plain
        .pixels()
        .zip(ours.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > 2_000,
        "the slots change the frame ({changed} px differ)"
    );
    let shown = over_background(&ours, [40, 40, 48]);
    egui_kittest::image_snapshot_options(
        &shown,
        "slot_kingset_avatar_cjk",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(500),
    );
}

#[test]
fn arabic_names_are_shaped_and_long_names_shrink_when_asked() {
    if common::shared_assets().is_none() {
        return;
    }
    let arabic = draw_slot_text("محمد عبد الله", [400, 60], &TextStyle::default()).unwrap();
    assert_eq!(arabic.missing_glyphs, 0, "fonts: {:?}", arabic.fonts);
    assert!(!arabic.ellipsized);
    let ink = arabic.image.pixels().filter(|p| p[3] > 0).count();
    assert!(ink > 500, "the name is drawn inside the slot ({ink} px)");
    let style = TextStyle {
        overflow: Overflow::Shrink,
        ..TextStyle::default()
    };
    let normal = draw_slot_text("王小明", [400, 60], &style).unwrap();
    let shrunk = draw_slot_text("王小明王小明王小明王小明王小明", [400, 60], &style).unwrap();
    assert!(
        shrunk.font_px < normal.font_px,
        "{} < {}",
        shrunk.font_px,
        normal.font_px
    );
}

#[test]
fn render_fills_declared_slots_from_the_command_line() {
    let shared = shared_or_skip!();
    if common::gpu().is_none() {
        return;
    }
    let mut f = common::Fixture::shared(&shared);
    std::fs::copy(
        shared.join("svga/SVGAPlayer-Web/kingset.svga"),
        f.path("effects/kingset.svga"),
    )
    .unwrap();
    f.manifest["assets"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "kingset", "kind": "effect", "format": "svga",
            "files": [{"path": "effects/kingset.svga"}], "fallback": "builtin:kingset",
            "slots": [{"key": "99", "type": "image"}, {"key": "banner", "type": "text"}]
        }));
    f.seal();
    let avatar = shared.join("png-sequence/APNG4Android/app/src/main/assets/c_10.png");
    let t = tempfile::tempdir().unwrap();
    let bundle = f.dir().to_str().unwrap();
    let keys = common::keys();
    let out = t.path().to_str().unwrap();
    // `giftqa render` of the kingset effect with these extra arguments.
    let render = |extra: &[&str]| {
        let mut args = vec![
            "render",
            bundle,
            "--asset",
            "kingset",
            "--keys",
            keys.to_str().unwrap(),
            "--out",
            out,
            "--now",
            "2026-12-01T00:00:00Z",
        ];
        args.extend_from_slice(extra);
        common::giftqa(&args)
    };
    let (code, stdout, stderr) = render(&[
        "--frames",
        "30",
        "--slot",
        &format!("99={}", avatar.display()),
        "--slot",
        &format!("banner={NAME}"),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("slot 99 (image, 1 sprite(s))"), "{stdout}");
    assert!(
        stdout.contains("slot banner (text") && stdout.contains("cut to fit"),
        "{stdout}"
    );
    assert!(t.path().join("kingset_0030.png").is_file());
    // A key the file does not have is an error naming it.
    let (code, _, stderr) = render(&["--slot", "avatar=Ann"]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("no sprite has the image key \"avatar\""),
        "{stderr}"
    );
}

/// A 20-character Chinese sender name.
const NAME_20: &str = "来自远方的超级土豪大哥送出了超级火箭礼物";

/// A Lottie gift whose text layer is named for the sender (dotlottie-rs's `text.json`, its
/// one text layer named `sender` and set at 24 px; its document's slot id is `my_text`) renders a 20-character
/// CJK name through `giftqa render --slot`: the name replaces the text in the layer's size,
/// colour and place, drawn with an installed CJK font (the file names Arial and embeds no
/// glyphs). `check` lists both keys. An image snapshot guards the frame.
#[test]
fn lottie_text_layer_renders_a_cjk_sender_name_through_render_slot() {
    let shared = shared_or_skip!();
    if common::gpu().is_none() {
        return;
    }
    assert_eq!(NAME_20.chars().count(), 20);
    let mut f = common::Fixture::shared(&shared);
    let mut gift: serde_json::Value = serde_json::from_slice(
        &std::fs::read(shared.join("lottie/dotlottie-rs/assets/animations/lottie/text.json"))
            .unwrap(),
    )
    .unwrap();
    gift["layers"][0]["nm"] = serde_json::json!("sender");
    // A name bar's size: the file's 200 px "Test1" already fills its 512 px canvas.
    gift["layers"][0]["t"]["d"]["k"][0]["s"]["s"] = serde_json::json!(24);
    std::fs::write(
        f.path("effects/name.json"),
        serde_json::to_vec(&gift).unwrap(),
    )
    .unwrap();
    f.manifest["assets"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": "name", "kind": "effect", "format": "lottie",
            "files": [{"path": "effects/name.json"}], "fallback": "builtin:name",
            "slots": [{"key": "sender", "type": "text"}]
        }));
    f.seal();
    let report = f.check();
    let info = report
        .assets
        .iter()
        .find(|a| a.id == "name")
        .and_then(|a| a.info.as_ref())
        .expect("the Lottie gift decodes");
    assert_eq!(info.slot_keys, ["sender", "my_text"]);
    let t = tempfile::tempdir().unwrap();
    let plain = tempfile::tempdir().unwrap();
    let render =
        |out: &std::path::Path, extra: &[&str]| common::render(f.dir(), "name", "60", out, extra);
    let (code, stdout, stderr) = render(t.path(), &["--slot", &format!("sender={NAME_20}")]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "slot sender (text, 1 sprite(s)): {NAME_20:?} at 24 px"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("WenQuanYi"),
        "a CJK font draws it: {stdout}"
    );
    assert!(!stdout.contains("without a glyph"), "{stdout}");
    let (code, stdout, stderr) = render(plain.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let named = image::open(t.path().join("name_0060.png"))
        .unwrap()
        .into_rgba8();
    let bare = image::open(plain.path().join("name_0060.png"))
        .unwrap()
        .into_rgba8();
    // The file's own text ("Test1", five letters) and the name are both red, from the layer's
    // baseline at (30, 200); the name runs far wider, within the canvas.
    let ink = |img: &image::RgbaImage| {
        let (mut n, mut right) = (0usize, 0u32);
        for (x, y, p) in img.enumerate_pixels() {
            if p[3] > 128 {
                assert!(p[0] > 200 && p[1] < 60, "red ink at ({x}, {y}): {p:?}");
                // One 24 px line on the baseline at y = 200.
                assert!(
                    (176..=206).contains(&y) && x >= 30,
                    "ink off the line: ({x}, {y})"
                );
                n += 1;
                right = right.max(x);
            }
        }
        (n, right)
    };
    let (named_ink, named_right) = ink(&named);
    let (bare_ink, bare_right) = ink(&bare);
    assert!(bare_ink > 200, "the file's text is drawn ({bare_ink} px)");
    assert!(
        named_ink > 4 * bare_ink
            && named_right > 3 * bare_right.saturating_sub(30)
            && named_right < 511,
        "the name is drawn wider: {named_ink} px to x {named_right}, against {bare_ink} px to x {bare_right}"
    );
    // The straight-alpha PNG over a dark grey, as a room's background shows it.
    let shown = image::RgbaImage::from_fn(named.width(), named.height(), |x, y| {
        common::on_room(*named.get_pixel(x, y))
    });
    egui_kittest::image_snapshot_options(
        &shown,
        "lottie_text_slot_cjk",
        &egui_kittest::SnapshotOptions::new().max_failed_pixels(500),
    );
}

/// `render --theme` applies one of a dotLottie's v2 themes: `multi_anim_theme.lottie`'s
/// circle is grey by its own slot value (0.698, 0.714, 0.718) and red (1, 0, 0) under its
/// `red` theme. A theme the archive does not list stops the render (exit 2), naming those it
/// does, and leaves no frame behind.
#[test]
fn render_applies_a_dotlottie_theme() {
    let shared = shared_or_skip!();
    if common::gpu().is_none() {
        return;
    }
    let f = common::Fixture::themed(&shared);
    let plain = tempfile::tempdir().unwrap();
    let red = tempfile::tempdir().unwrap();
    let wrong = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = common::render(f.dir(), "themes", "0", plain.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) =
        common::render(f.dir(), "themes", "0", red.path(), &["--theme", "red"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // The ellipse's centre at frame 0 is (256, 125).
    let centre = |dir: &std::path::Path| {
        *image::open(dir.join("themes_0000.png"))
            .unwrap()
            .into_rgba8()
            .get_pixel(256, 125)
    };
    let grey = centre(plain.path());
    let reddened = centre(red.path());
    for (c, want) in grey.0.iter().zip([178u8, 182, 183, 255]) {
        assert!(c.abs_diff(want) <= 1, "the file's grey: {grey:?}");
    }
    assert_eq!(reddened.0, [255, 0, 0, 255], "the red theme's colour");
    let (code, _, stderr) =
        common::render(f.dir(), "themes", "0", wrong.path(), &["--theme", "blue"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("theme \"blue\" is not in manifest.json (it lists red, yellow)"),
        "{stderr}"
    );
    assert!(!wrong.path().join("themes_0000.png").exists());
}

/// `render --slot` fills a Lottie colour slot by its id: `multi_anim_theme.lottie`'s circle
/// takes the colour given (`check` lists the slot), a slot value over a theme's wins, and a
/// value that is not a colour stops the render (exit 2) saying what was expected.
#[test]
fn render_fills_a_lottie_colour_slot() {
    let shared = shared_or_skip!();
    if common::gpu().is_none() {
        return;
    }
    let f = common::Fixture::themed(&shared);
    let report = f.check();
    let info = report
        .assets
        .iter()
        .find(|a| a.id == "themes")
        .and_then(|a| a.info.as_ref())
        .expect("the dotLottie decodes");
    assert!(
        info.slot_keys.iter().any(|k| k == "color"),
        "{:?}",
        info.slot_keys
    );
    let centre = |extra: &[&str]| {
        let out = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = common::render(f.dir(), "themes", "0", out.path(), extra);
        assert_eq!(code, 0, "{stdout}{stderr}");
        let px = *image::open(out.path().join("themes_0000.png"))
            .unwrap()
            .into_rgba8()
            .get_pixel(256, 125);
        (px.0, stdout)
    };
    let (green, stdout) = centre(&["--slot", "color=#00ff00"]);
    assert_eq!(green, [0, 255, 0, 255]);
    assert!(
        stdout.contains("slot color (colour, 1 propert(ies)): #00ff00"),
        "{stdout}"
    );
    let (blue, _) = centre(&["--theme", "red", "--slot", "color=#0000ff"]);
    assert_eq!(
        blue,
        [0, 0, 255, 255],
        "the slot value wins over the theme's"
    );
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = common::render(
        f.dir(),
        "themes",
        "0",
        out.path(),
        &["--slot", "color=green"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--slot color: \"green\" is not a colour (#RRGGBB or #RRGGBBAA)"),
        "{stderr}"
    );
    // A key the effect does not have is named, with the keys it has, the colour slot among
    // them.
    let (code, _, stderr) = common::render(
        f.dir(),
        "themes",
        "0",
        out.path(),
        &["--slot", "colour=#00ff00"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "no text layer, image asset or slot of the Lottie effect has the key \"colour\"; the keys are: color"
        ),
        "{stderr}"
    );
}
