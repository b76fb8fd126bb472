//! `giftqa kill` (spec §6): the round trip from issuing a kill to `check` resolving the effect
//! through its fallback, the history holding it, and a tampered kill never applied.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use common::{Fixture, giftqa};
use serde_json::Value;

const NOW: &str = "2026-12-01T00:00:00Z";

/// `check --format json` of `bundle` with the demo keyring and fleet, the history (when it
/// exists) and a kill.
fn check(bundle: &str, history: &str, kill: Option<&str>) -> (i32, Value) {
    let keys = common::keys();
    let fleet = common::fleet();
    let mut args = vec![
        "check",
        bundle,
        "--keys",
        keys.to_str().unwrap(),
        "--fleet",
        fleet.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ];
    if std::path::Path::new(history).exists() {
        args.extend(["--history", history]);
    }
    if let Some(k) = kill {
        args.extend(["--kill", k]);
    }
    let (code, out, err) = giftqa(&args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    (code, serde_json::from_str(&out).unwrap())
}

/// The matrix shares of `asset`: (primary, fallback).
fn shares(r: &Value, asset: &str) -> (f64, f64) {
    let row = r["matrix"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["asset"] == asset)
        .unwrap();
    (
        row["shares"]["primary"].as_f64().unwrap(),
        row["shares"]["fallback"].as_f64().unwrap(),
    )
}

fn kill(bundle: &str, asset: &str, history: &str, out: &str) -> (i32, String, String) {
    let keys = common::keys();
    let key = common::publisher_key();
    giftqa(&[
        "kill",
        bundle,
        "--asset",
        asset,
        "--key",
        key.to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
        "--history",
        history,
        "--out",
        out,
        "--now",
        NOW,
    ])
}

#[test]
fn kill_round_trip_and_tampering() {
    let f = Fixture::demo();
    let bundle = f.dir().to_str().unwrap().to_owned();
    let side = tempfile::tempdir().unwrap();
    let history = side.path().join("history.json");
    let history = history.to_str().unwrap();
    let doc = side.path().join("demo.kill.json");
    let doc = doc.to_str().unwrap();
    let before = std::fs::read(f.dir().join("manifest.json")).unwrap();
    let (_, untouched) = check(&bundle, history, None);
    let (p0, f0) = shares(&untouched, "heartbeat");
    assert!(p0 > 0.5, "heartbeat plays for most users: {p0}");

    let (code, out, err) = kill(&bundle, "heartbeat", history, doc);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("killed heartbeat of demo.winter-2026 (seq 1)"),
        "{out}"
    );
    let (code, killed) = check(&bundle, history, Some(doc));
    assert_eq!(code, 0, "{killed:#}");
    let (p1, f1) = shares(&killed, "heartbeat");
    assert!(p1.abs() < 1e-12, "nobody plays the killed effect: {p1}");
    assert!(f1 > f0, "its users see the fallback: {f0} -> {f1}");
    assert_eq!(killed["kill"]["seq"], 1);
    assert_eq!(killed["kill"]["in_force"], true);
    let h: Value = serde_json::from_slice(&std::fs::read(history).unwrap()).unwrap();
    assert_eq!(h["kills"][0]["bundle_id"], "demo.winter-2026");
    assert_eq!(h["kills"][0]["seq"], 1);
    assert_eq!(
        h["kills"][0]["kill_blake3"].as_str().map(str::len),
        Some(64),
        "the history records which document it was"
    );
    assert_eq!(
        std::fs::read(f.dir().join("manifest.json")).unwrap(),
        before,
        "the bundle is not modified"
    );

    // A second kill extends the first, with the next seq.
    let (code, out, err) = kill(&bundle, "spinner-webp", history, doc);
    assert_eq!(code, 0, "{out}{err}");
    let d: Value = serde_json::from_slice(&std::fs::read(doc).unwrap()).unwrap();
    assert_eq!(d["seq"], 2);
    assert_eq!(
        d["killed"],
        serde_json::json!(["heartbeat", "spinner-webp"])
    );

    // Tampered: the matrix is as if no kill were given.
    let text = std::fs::read_to_string(doc)
        .unwrap()
        .replace("\"spinner-webp\"", "\"star-rating\"");
    std::fs::write(doc, text).unwrap();
    let (code, tampered) = check(&bundle, history, Some(doc));
    assert_eq!(code, 1);
    let codes: Vec<&str> = tampered["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"kill-invalid"), "{codes:?}");
    assert_eq!(shares(&tampered, "heartbeat"), (p0, f0));
    assert_eq!(tampered["matrix"], untouched["matrix"]);
}

#[test]
fn kill_refuses_unknown_effects_and_keys_without_the_role() {
    let f = Fixture::demo();
    let bundle = f.dir().to_str().unwrap().to_owned();
    let side = tempfile::tempdir().unwrap();
    let history = side.path().join("history.json");
    let doc = side.path().join("k.json");
    let (code, _, err) = kill(
        &bundle,
        "no-such-gift",
        history.to_str().unwrap(),
        doc.to_str().unwrap(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("not an effect"), "{err}");
    // A key the keyring does not hold.
    let keygen = side.path().join("stranger");
    let (code, _, err) = giftqa(&["keygen", "--out", keygen.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let keys = common::keys();
    let (code, _, err) = giftqa(&[
        "kill",
        &bundle,
        "--asset",
        "heartbeat",
        "--key",
        side.path().join("stranger.key").to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
        "--history",
        history.to_str().unwrap(),
        "--out",
        doc.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not a publisher or approver"), "{err}");
    assert!(!doc.exists() && !history.exists(), "nothing written");
}
