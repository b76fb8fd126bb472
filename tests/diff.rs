//! `giftqa diff` (spec §11): the demo bundle against a copy with one asset changed, one
//! added, one removed and one tier narrowed lists exactly those changes, and the matrix delta
//! in users.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use common::{Fixture, giftqa};
use serde_json::{Value, json};

/// The demo bundle with: ball-sequence's first two frames swapped (changed), ball-apng-2 added,
/// star-rating removed, spinner-webp narrowed to mid and high, version 1.1.0.
fn next_version() -> Fixture {
    let mut f = Fixture::demo();
    common::swap_ball_frames(&f);
    std::fs::copy(f.path("effects/ball.png"), f.path("effects/ball2.png")).unwrap();
    let star = f.asset("star-rating")["files"][0]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::remove_file(f.path(&star)).unwrap();
    let assets = f.manifest["assets"].as_array_mut().unwrap();
    assets.retain(|a| a["id"] != "star-rating");
    assets.push(
        json!({"id": "ball-apng-2", "kind": "effect", "format": "apng",
        "files": [{"path": "effects/ball2.png", "size": 0, "blake3": "0".repeat(64)}],
        "fallback": "builtin:ball"}),
    );
    f.asset("spinner-webp")["tiers"] = json!(["mid", "high"]);
    f.manifest["version"] = json!("1.1.0");
    f.seal();
    f
}

fn diff(old: &str, new: &str, extra: &[&str]) -> (i32, Value, String) {
    let keys = common::keys();
    let fleet = common::fleet();
    let mut args = vec![
        "diff",
        old,
        new,
        "--keys",
        keys.to_str().unwrap(),
        "--fleet",
        fleet.to_str().unwrap(),
        "--now",
        "2026-12-01T00:00:00Z",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = giftqa(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, serde_json::from_str(&out).unwrap(), err)
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect()
}

fn reach<'a>(r: &'a Value, asset: &str) -> &'a Value {
    r["reach"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["asset"] == asset)
        .unwrap_or_else(|| panic!("no reach row for {asset}: {:#}", r["reach"]))
}

#[test]
fn each_kind_of_change_is_listed_with_the_matrix_delta() {
    let old = Fixture::demo();
    let new = next_version();
    let out = tempfile::tempdir().unwrap();
    let gpu = common::gpu().is_some();
    let mut extra = vec!["--out", out.path().to_str().unwrap()];
    if !gpu {
        extra.push("--no-gpu");
    }
    let (code, r, err) = diff(
        old.dir().to_str().unwrap(),
        new.dir().to_str().unwrap(),
        &extra,
    );
    assert_eq!(code, 0, "{r:#}{err}");
    // Assets.
    assert_eq!(ids(&r["added"]), ["ball-apng-2"]);
    assert_eq!(ids(&r["removed"]), ["star-rating"]);
    assert_eq!(ids(&r["changed"]), ["ball-sequence"]);
    let files = r["changed"][0]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "the two swapped frames");
    let size_delta = r["changed"][0]["size_delta"].as_i64().unwrap();
    assert_eq!(size_delta, 0, "swapped frames keep the total size");
    assert_eq!(
        r["added"][0]["size_bytes"].as_u64().unwrap(),
        std::fs::metadata(new.path("effects/ball2.png"))
            .unwrap()
            .len()
    );
    // Manifest: the narrowed tier, and the version.
    assert_eq!(
        r["asset_changes"],
        json!([{"asset": "spinner-webp", "field": "tiers", "old": null, "new": ["mid", "high"]}])
    );
    assert_eq!(r["bundle_changes"][0]["field"], "version");
    assert_eq!(r["bundle_changes"][0]["new"], "1.1.0");
    assert_eq!(r["summary"]["errors"], 0, "the version rises");
    // Reach over the fleet: the low tier's delivered cells (5.0.3, 5.4.1, 5.6.0: 20 % of
    // users) lose spinner-webp to its builtin fallback.
    let spinner = reach(&r, "spinner-webp");
    assert!(
        (spinner["lost"].as_f64().unwrap() - 0.20).abs() < 1e-9,
        "{spinner}"
    );
    assert!(
        (spinner["fallback_new"].as_f64().unwrap()
            - spinner["fallback_old"].as_f64().unwrap()
            - 0.20)
            .abs()
            < 1e-9,
        "{spinner}"
    );
    assert!(reach(&r, "ball-apng-2")["gained"].as_f64().unwrap() > 0.5);
    assert!(reach(&r, "star-rating")["lost"].as_f64().unwrap() > 0.0);
    assert!(
        r["reach"].as_array().unwrap().iter().all(|c| [
            "spinner-webp",
            "ball-apng-2",
            "star-rating"
        ]
        .contains(&c["asset"].as_str().unwrap())),
        "no other effect's reach changes: {:#}",
        r["reach"]
    );
    // Side by side frames of the changed effect, in the HTML.
    let html = std::fs::read_to_string(out.path().join("diff.html")).unwrap();
    assert!(html.contains("ball-sequence"), "{html}");
    if gpu {
        let frames = r["frames"][0]["frames"].as_array().unwrap();
        assert_eq!(r["frames"][0]["asset"], "ball-sequence");
        assert!(frames.len() >= 3, "{frames:?}");
        assert!(
            frames[0]["psnr_db"].as_f64().is_some(),
            "frame 0 shows a different ball position: {frames:?}"
        );
        assert!(html.matches("alt=\"old frame").count() >= 3);
        assert!(html.matches("alt=\"new frame").count() >= 3);
    }
}

#[test]
fn a_version_that_does_not_rise_is_an_error() {
    let old = Fixture::demo();
    let mut same = Fixture::demo();
    same.asset("spinner-webp")["tiers"] = json!(["high"]);
    same.seal();
    let (code, r, _) = diff(
        old.dir().to_str().unwrap(),
        same.dir().to_str().unwrap(),
        &["--no-gpu"],
    );
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["code"], "version-reused");
    // Backwards: NEW older than OLD.
    let mut newer = Fixture::demo();
    newer.manifest["version"] = json!("2.0.0");
    newer.seal();
    let (code, r, _) = diff(
        newer.dir().to_str().unwrap(),
        old.dir().to_str().unwrap(),
        &["--no-gpu"],
    );
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["code"], "version-rollback");
}
