//! The binary: exit codes (spec §10), `--format json` shape (§11), determinism, `pack`,
//! `keygen`, `sign`, and `rollout gate` on the demo bundle.

mod common;

use common::giftqa;

use common::Fixture;

#[test]
fn demo_bundle_passes_with_exit_0() {
    let (code, out, _) = giftqa(&[
        "check",
        "assets/demo-bundle",
        "--keys",
        "assets/demo-keys.json",
        "--fleet",
        "assets/demo-fleet.json",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("summary: 0 errors"), "{out}");
    assert!(out.contains("compatibility matrix"), "{out}");
}

#[test]
fn json_report_has_the_contract_shape_and_is_deterministic() {
    let args = [
        "check",
        "assets/demo-bundle",
        "--keys",
        "assets/demo-keys.json",
        "--fleet",
        "assets/demo-fleet.json",
        "--now",
        "2026-11-22T00:00:00Z",
        "--format",
        "json",
    ];
    let (code, a, _) = giftqa(&args);
    let (_, b, _) = giftqa(&args);
    assert_eq!(code, 0);
    assert_eq!(a, b, "byte-for-byte deterministic");
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["tool"]["name"], "giftqa");
    assert_eq!(v["bundle"]["bundle_id"], "demo.winter-2026");
    assert_eq!(v["bundle"]["manifest_blake3"].as_str().unwrap().len(), 64);
    for k in ["errors", "warnings", "infos"] {
        assert!(v["summary"][k].is_u64());
    }
    let f = &v["findings"][0];
    assert!(f["code"].is_string() && f["severity"].is_string() && f["message"].is_string());
}

#[test]
fn exit_1_on_an_error_finding_and_2_when_it_cannot_run() {
    let f = Fixture::demo();
    std::fs::write(f.path("effects/stray.txt"), "x").unwrap();
    let dir = f.dir().to_str().unwrap();
    let (code, out, _) = giftqa(&["check", dir]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("error[asset-unlisted]: effects/stray.txt"),
        "{out}"
    );
    let (code, _, err) = giftqa(&["check", "/nonexistent/bundle"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/bundle"), "{err}");
    let (code, _, err) = giftqa(&["check", "assets/demo-bundle", "--now", "tomorrow"]);
    assert_eq!(code, 2);
    assert!(err.contains("--now"), "{err}");
    let (code, _, err) = giftqa(&[
        "check",
        "assets/demo-bundle",
        "--keys",
        "/nonexistent/keys.json",
    ]);
    assert_eq!((code, err.contains("keys.json")), (2, true));
    let (code, _, _) = giftqa(&["check"]);
    assert_eq!(code, 2, "bad arguments");
}

#[test]
fn keygen_pack_sign_check_round_trip() {
    let f = Fixture::demo();
    let dir = f.dir().to_str().unwrap().to_owned();
    let keys = tempfile::tempdir().unwrap();
    let name = keys.path().join("ci");
    let (code, out, err) = giftqa(&[
        "keygen",
        "--out",
        name.to_str().unwrap(),
        "--name",
        "CI",
        "--role",
        "publisher",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("keyid"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(name.with_extension("key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let (code, _, err) = giftqa(&["keygen", "--out", name.to_str().unwrap()]);
    assert_eq!(code, 2, "refuses to overwrite a key");
    assert!(err.contains("already exists"));
    // A keyring holding only the new key.
    let public: serde_json::Value =
        serde_json::from_slice(&std::fs::read(name.with_extension("pub")).unwrap()).unwrap();
    let ring = keys.path().join("ring.json");
    std::fs::write(
        &ring,
        serde_json::to_vec(&serde_json::json!({"keys": [public], "thresholds": {"publisher": 1}}))
            .unwrap(),
    )
    .unwrap();
    // Change an asset, pack, and the old signature no longer verifies.
    std::fs::copy(f.path("effects/ball.png"), f.path("effects/spinner.webp")).unwrap();
    let (code, out, _) = giftqa(&["pack", &dir]);
    assert_eq!(code, 0);
    assert!(out.contains("effects/spinner.webp  (updated)"), "{out}");
    let (code, out, _) = giftqa(&["check", &dir, "--keys", ring.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("sig-"), "{out}");
    std::fs::remove_file(f.path("manifest.sig")).unwrap();
    let (code, _, _) = giftqa(&[
        "sign",
        &dir,
        "--key",
        name.with_extension("key").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    let (code, out, _) = giftqa(&["check", &dir, "--keys", ring.to_str().unwrap()]);
    assert_eq!(code, 1, "the webp asset now holds a PNG: {out}");
    assert!(out.contains("error[format-mismatch]: effects/spinner.webp (spinner-webp): declared webp, but the file is an animated PNG"), "{out}");
}

#[test]
fn rollout_gate_decides_per_stage() {
    let t = tempfile::tempdir().unwrap();
    let csv = t.path().join("telemetry.csv");
    std::fs::write(
        &csv,
        "stage,region,sessions,download_success_rate,integrity_failure_rate,fallback_activation_ratio,crash_rate_delta,frame_drop_delta\n\
         canary,SG,6000,0.999,0.0001,0.01,0.0001,0.002\n\
         regional,SG,9000,0.999,0.0001,0.01,0.0001,0.002\n\
         regional,ID,6000,0.990,0.0001,0.01,0.0001,0.002\n\
         global,US,12,0.999,0.0,0.0,0.0,0.0\n",
    )
    .unwrap();
    let (code, out, _) = giftqa(&[
        "rollout",
        "gate",
        "assets/demo-bundle",
        "--telemetry",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "regional rolls back: {out}");
    assert!(out.contains("canary") && out.contains("promote"), "{out}");
    assert!(
        out.contains("ROLLBACK") && out.contains("region ID: download_success_rate"),
        "aggregate 0.9954 passes, ID alone fails: {out}"
    );
    assert!(out.contains("hold"), "{out}");
    let (code, out, _) = giftqa(&[
        "rollout",
        "bucket",
        "assets/demo-bundle",
        "--user",
        "42",
        "--region",
        "SG",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("bucket 9048") && out.contains("global"),
        "{out}"
    );
}
