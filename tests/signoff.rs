//! Sign-off (spec §8) through the binary: approve then verify-signoff on the demo bundle,
//! stale after one changed byte, refused with an error or an unwaived warning, unauthorized
//! for a key without the approver role; the history is appended, never lost.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use common::giftqa;

use common::Fixture;
use serde_json::{Value, json};

fn approve(dir: &str, key: &str, history: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "approve",
        dir,
        "--key",
        key,
        "--keys",
        "assets/demo-keys.json",
        "--history",
        history,
        "--fleet",
        "assets/demo-fleet.json",
    ];
    if !extra.contains(&"--now") {
        args.extend(["--now", "2026-12-01T00:00:00Z"]);
    }
    args.extend_from_slice(extra);
    let (code, out, err) = giftqa(&args);
    (code, format!("{out}{err}"))
}

const APPROVER: &str = "assets/demo-keys/approver.key";

#[test]
fn approve_then_verify_then_stale_after_one_byte() {
    let f = Fixture::demo();
    let dir = f.dir().to_str().unwrap().to_owned();
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("history.json");
    let h = history.to_str().unwrap();
    let (code, out) = approve(&dir, APPROVER, h, &[]);
    assert_eq!(code, 0, "{out}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(f.path("signoff.json")).unwrap()).unwrap();
    assert_eq!(doc["format"], "giftbundle-signoff/1");
    assert_eq!(doc["errors"], 0);
    assert_eq!(
        doc["manifest_blake3"].as_str().unwrap(),
        blake3::hash(&std::fs::read(f.path("manifest.json")).unwrap())
            .to_hex()
            .as_str()
    );
    let hist: Value = serde_json::from_slice(&std::fs::read(&history).unwrap()).unwrap();
    assert_eq!(hist["approvals"].as_array().unwrap().len(), 1);
    // The sign-off files do not make the bundle fail its own check.
    let (code, out, _) = giftqa(&["check", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = giftqa(&["verify-signoff", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("sign-off valid"), "{out}");
    // One changed byte of an asset: stale.
    let mut b = std::fs::read(f.path("effects/spinner.webp")).unwrap();
    b[100] ^= 1;
    std::fs::write(f.path("effects/spinner.webp"), &b).unwrap();
    let (code, out, _) = giftqa(&["verify-signoff", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error[signoff-stale]"), "{out}");
    b[100] ^= 1;
    std::fs::write(f.path("effects/spinner.webp"), &b).unwrap();
    // One changed byte of the manifest (re-signed by the publisher): stale too.
    let text = std::fs::read_to_string(f.path("manifest.json")).unwrap();
    std::fs::write(
        f.path("manifest.json"),
        text.replacen("\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"", 1),
    )
    .unwrap();
    std::fs::remove_file(f.path("manifest.sig")).unwrap();
    giftqa::bundle::pack::sign(f.dir(), &common::publisher_key()).unwrap();
    let (code, out, _) = giftqa(&["verify-signoff", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("signoff-stale") && out.contains("manifest.json"),
        "{out}"
    );
    // Approving the new version appends; the first approval is kept.
    let (code, out) = approve(&dir, APPROVER, h, &[]);
    assert_eq!(code, 0, "{out}");
    let hist: Value = serde_json::from_slice(&std::fs::read(&history).unwrap()).unwrap();
    let versions: Vec<&str> = hist["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0.0", "1.0.1"]);
    // Rolling back to an older version is now refused.
    std::fs::write(f.path("manifest.json"), &text).unwrap();
    std::fs::remove_file(f.path("manifest.sig")).unwrap();
    giftqa::bundle::pack::sign(f.dir(), &common::publisher_key()).unwrap();
    let (code, out) = approve(&dir, APPROVER, h, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("signoff-blocked") && out.contains("version-rollback"),
        "{out}"
    );
}

#[test]
fn refused_while_an_error_stands_and_nothing_is_written() {
    let f = Fixture::demo();
    std::fs::write(f.path("effects/stray.txt"), "x").unwrap();
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("history.json");
    let (code, out) = approve(
        f.dir().to_str().unwrap(),
        APPROVER,
        history.to_str().unwrap(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("error[signoff-blocked]") && out.contains("asset-unlisted"),
        "{out}"
    );
    assert!(
        !f.path("signoff.json").exists() && !history.exists(),
        "a refused sign-off writes nothing"
    );
}

#[test]
fn every_warning_needs_a_waiver_with_a_reason() {
    let Some(shared) = common::shared_assets() else {
        return;
    };
    let mut f = Fixture::shared(&shared);
    f.asset("ball")["clients"] = json!({"min": "4.0.0"});
    f.seal();
    let dir = f.dir().to_str().unwrap().to_owned();
    let t = tempfile::tempdir().unwrap();
    let h = t.path().join("history.json");
    let h = h.to_str().unwrap();
    let (code, out) = approve(&dir, APPROVER, h, &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "warning compat-below-min needs a waiver: --waive compat-below-min:ball:REASON"
        ),
        "{out}"
    );
    let (code, out) = approve(&dir, APPROVER, h, &["--waive", "compat-below-min:ball:"]);
    assert_eq!(
        code, 2,
        "a waiver without a reason is a bad argument: {out}"
    );
    let (code, out) = approve(
        &dir,
        APPROVER,
        h,
        &[
            "--waive",
            "compat-below-min:ball:clients below 5.0.0 never get this bundle anyway",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(f.path("signoff.json")).unwrap()).unwrap();
    assert_eq!(doc["warnings"], 1);
    assert_eq!(doc["waivers"][0]["asset"], "ball");
}

#[test]
fn a_key_without_the_approver_role_is_unauthorized() {
    let f = Fixture::demo();
    let dir = f.dir().to_str().unwrap().to_owned();
    let t = tempfile::tempdir().unwrap();
    let h = t.path().join("history.json");
    let (code, out) = approve(
        &dir,
        "assets/demo-keys/publisher.key",
        h.to_str().unwrap(),
        &[],
    );
    assert_eq!(code, 1);
    assert!(out.contains("error[signoff-unauthorized]"), "{out}");
    // A sign-off forged with the publisher key is refused by verify-signoff.
    let (code, out) = approve(&dir, APPROVER, h.to_str().unwrap(), &[]);
    assert_eq!(code, 0, "{out}");
    let json = std::fs::read(f.path("signoff.json")).unwrap();
    let key = giftqa::bundle::signature::load_secret(&common::publisher_key()).unwrap();
    let mut env = giftqa::bundle::signature::Envelope::default();
    giftqa::bundle::signature::add_signature(
        &mut env,
        &key,
        giftqa::bundle::signature::SIGNOFF_PREFIX,
        &json,
    );
    std::fs::write(f.path("signoff.sig"), serde_json::to_vec(&env).unwrap()).unwrap();
    let (code, out, _) = giftqa(&["verify-signoff", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 1);
    assert!(out.contains("error[signoff-unauthorized]"), "{out}");
}

/// `smoke --format json` of `dir` on a tier whose overdraw budget every effect exceeds:
/// playback warnings (`overdraw-over-budget`), written to `out`. Returns the warned assets.
fn tight_smoke(dir: &str, side: &std::path::Path, out: &std::path::Path) -> Vec<String> {
    let tiers = side.join("tight.json");
    std::fs::write(
        &tiers,
        json!({"tiers": [{"name": "tight", "viewport_px": [540, 960], "max_texture_px": 2048,
            "texture_budget_bytes": 100_663_296_u64, "target_fps": 30, "decode_threads": 1,
            "first_frame_budget_ms": 5000, "overdraw_budget": 0.05}]})
        .to_string(),
    )
    .unwrap();
    let (code, json_out, err) = giftqa(&[
        "smoke",
        dir,
        "--keys",
        "assets/demo-keys.json",
        "--tiers",
        tiers.to_str().unwrap(),
        "--scenario",
        "single",
        "--no-gpu",
        "--format",
        "json",
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    assert_eq!(code, 0, "warnings only: {err}");
    std::fs::write(out, &json_out).unwrap();
    let r: Value = serde_json::from_str(&json_out).unwrap();
    let warned: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "overdraw-over-budget")
        .map(|f| f["asset"].as_str().unwrap().to_owned())
        .collect();
    assert!(!warned.is_empty(), "{json_out}");
    warned
}

#[test]
fn signoff_covers_playback() {
    let f = Fixture::demo();
    let dir = f.dir().to_str().unwrap().to_owned();
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("history.json");
    let h = history.to_str().unwrap();
    let report = t.path().join("report.json");
    let warned = tight_smoke(&dir, t.path(), &report);
    let smoke = report.to_str().unwrap();
    let now = ["--now", "2026-12-01T00:00:00Z"];
    // A playback warning without a waiver refuses the sign-off.
    let (code, out) = approve(&dir, APPROVER, h, &[&["--smoke", smoke][..], &now].concat());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("warning overdraw-over-budget needs a waiver"),
        "{out}"
    );
    assert!(!f.path("signoff.json").exists());
    // Waived, it is signed off, naming the smoke run it rests on.
    let waivers: Vec<String> = warned
        .iter()
        .map(|a| format!("overdraw-over-budget:{a}:a dense effect, accepted for the campaign"))
        .collect();
    let mut args: Vec<&str> = vec!["--smoke", smoke, "--now", "2026-12-01T00:00:00Z"];
    for w in &waivers {
        args.extend(["--waive", w]);
    }
    let (code, out) = approve(&dir, APPROVER, h, &args);
    assert_eq!(code, 0, "{out}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(f.path("signoff.json")).unwrap()).unwrap();
    assert_eq!(doc["smoke"]["tiers"], json!(["tight"]));
    assert_eq!(doc["smoke"]["scenarios"], json!(["single"]));
    assert_eq!(
        doc["smoke"]["report_blake3"].as_str().unwrap(),
        blake3::hash(&std::fs::read(&report).unwrap())
            .to_hex()
            .as_str()
    );
    assert_eq!(doc["warnings"].as_u64().unwrap() as usize, warned.len());
    let verify = |smoke: &str| {
        giftqa(&[
            "verify-signoff",
            &dir,
            "--keys",
            "assets/demo-keys.json",
            "--smoke",
            smoke,
        ])
    };
    let (code, out, err) = verify(smoke);
    assert_eq!(code, 0, "{out}{err}");
    // A smoke report of another manifest (the bundle with its version bumped).
    let mut other = Fixture::demo();
    other.manifest["version"] = json!("1.0.1");
    other.seal();
    let other_report = t.path().join("other.json");
    tight_smoke(other.dir().to_str().unwrap(), t.path(), &other_report);
    let (code, out, _) = verify(other_report.to_str().unwrap());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("signoff-stale") && out.contains("another manifest"),
        "{out}"
    );
}

#[test]
fn approve_runs_smoke_itself_and_keeps_the_report() {
    let f = Fixture::demo();
    let dir = f.dir().to_str().unwrap().to_owned();
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("history.json");
    let (code, out) = approve(
        &dir,
        APPROVER,
        history.to_str().unwrap(),
        &["--now", "2026-12-01T00:00:00Z"],
    );
    assert_eq!(code, 0, "{out}");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(f.path("signoff.json")).unwrap()).unwrap();
    assert_eq!(doc["smoke"]["tiers"], json!(["low", "mid", "high"]));
    assert_eq!(doc["smoke"]["scenarios"], json!(["single", "storm"]));
    let kept = std::fs::read(f.path("signoff-smoke.json")).unwrap();
    assert_eq!(
        doc["smoke"]["report_blake3"].as_str().unwrap(),
        blake3::hash(&kept).to_hex().as_str()
    );
    // It is a sign-off file: the bundle still checks clean, and verify-signoff reads it.
    let (code, out, _) = giftqa(&["check", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = giftqa(&["verify-signoff", &dir, "--keys", "assets/demo-keys.json"]);
    assert_eq!(code, 0, "{out}");
}
