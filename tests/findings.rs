//! One test per finding code of the manifest, archive, integrity, trust, history, graph,
//! compatibility and rollout areas (spec §10), each on a bundle made of real files from
//! `../shared/assets`, broken in one way.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers outside #[test] functions panic on a broken test setup"
)]

mod common;

use common::{Fixture, codes, errors, expect_code};
use giftqa::check::finding::Severity;
use serde_json::json;

fn fixture() -> Option<Fixture> {
    common::shared_assets().map(|s| Fixture::shared(&s))
}

macro_rules! fixture_or_skip {
    () => {
        match fixture() {
            Some(f) => f,
            None => return,
        }
    };
}

#[test]
fn valid_bundle_has_no_error_and_decodes_every_asset() {
    let f = fixture_or_skip!();
    let r = f.check();
    assert_eq!(errors(&r), Vec::<&str>::new(), "{:#?}", r.findings);
    assert_eq!(r.summary.warnings, 0, "{:#?}", r.findings);
    assert_eq!(r.assets.len(), 6);
    assert!(
        r.assets.iter().all(|a| a.info.is_some()),
        "every asset decoded"
    );
    let heart = r
        .assets
        .iter()
        .find(|a| a.id == "heartbeat")
        .and_then(|a| a.info.as_ref())
        .unwrap();
    assert_eq!(
        (heart.width_px, heart.height_px, heart.frame_count),
        (500, 500, 240),
        "heartbeat.svga per INVENTORY.md"
    );
    let alarm = r
        .assets
        .iter()
        .find(|a| a.id == "alarm")
        .and_then(|a| a.info.as_ref())
        .unwrap();
    assert_eq!(
        (alarm.width_px, alarm.frame_count, alarm.fps as u32),
        (112, 161, 20),
        "alarm.svga (1.x) per INVENTORY.md"
    );
    assert!(r.matrix.is_some());
}

#[test]
fn valid_bundle_as_zip_has_no_error() {
    let f = fixture_or_skip!();
    let (_tmp, zip) = f.zip("bundle.zip");
    let r = giftqa::check::run_check(&zip, &f.opts(), &|_| {}).unwrap();
    assert_eq!(errors(&r), Vec::<&str>::new(), "{:#?}", r.findings);
    assert!(r.assets.iter().all(|a| a.info.is_some()));
}

// ---- manifest area ----

#[test]
fn manifest_missing() {
    let f = fixture_or_skip!();
    std::fs::remove_file(f.path("manifest.json")).unwrap();
    let r = f.check();
    expect_code(&r, "manifest-missing");
    assert!(r.bundle.is_none());
}

#[test]
fn manifest_too_large() {
    let f = fixture_or_skip!();
    let mut text = std::fs::read_to_string(f.path("manifest.json")).unwrap();
    text.push_str(&" ".repeat(1024 * 1024));
    std::fs::write(f.path("manifest.json"), text).unwrap();
    expect_code(&f.check(), "manifest-too-large");
}

#[test]
fn json_invalid() {
    let f = fixture_or_skip!();
    let text = std::fs::read_to_string(f.path("manifest.json")).unwrap();
    std::fs::write(f.path("manifest.json"), &text[..text.len() / 2]).unwrap();
    expect_code(&f.check(), "json-invalid");
}

#[test]
fn json_duplicate_key() {
    let f = fixture_or_skip!();
    let text = std::fs::read_to_string(f.path("manifest.json")).unwrap();
    let text = text.replacen(
        "\"bundle_id\": \"test.bundle\",",
        "\"bundle_id\": \"test.bundle\",\n  \"bundle_id\": \"other.bundle\",",
        1,
    );
    std::fs::write(f.path("manifest.json"), text).unwrap();
    let r = f.check();
    let d = expect_code(&r, "json-duplicate-key");
    assert!(d.message.contains("/bundle_id"), "{}", d.message);
}

#[test]
fn schema_invalid_names_the_json_pointer() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["colour"] = json!("red");
    f.seal();
    let r = f.check();
    let s = expect_code(&r, "schema-invalid");
    assert!(s.message.contains("/assets/3/colour"), "{}", s.message);
    assert!(
        r.assets.is_empty(),
        "nothing is decoded from an invalid manifest"
    );
}

#[test]
fn schema_invalid_for_floats_outside_params() {
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["stages"][0]["percent_bp"] = json!(100.5);
    f.seal();
    let s = expect_code(&f.check(), "schema-invalid").clone();
    assert!(
        s.message.contains("/rollout/stages/0/percent_bp"),
        "{}",
        s.message
    );
}

#[test]
fn schema_version() {
    let mut f = fixture_or_skip!();
    f.manifest["format"] = json!("giftbundle/2");
    f.seal();
    expect_code(&f.check(), "schema-version");
}

#[test]
fn version_invalid() {
    for bad in ["v1.2.0", "1.2", "01.2.3"] {
        let mut f = fixture_or_skip!();
        f.manifest["version"] = json!(bad);
        f.seal();
        expect_code(&f.check(), "version-invalid");
    }
}

#[test]
fn version_build_metadata_is_a_warning() {
    let mut f = fixture_or_skip!();
    f.manifest["version"] = json!("1.2.0+build.7");
    f.seal();
    let r = f.check();
    let w = expect_code(&r, "version-build-metadata");
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(errors(&r), Vec::<&str>::new());
}

#[test]
fn expires_format() {
    let mut f = fixture_or_skip!();
    f.manifest["expires"] = json!("2027-01-31 00:00:00");
    f.seal();
    expect_code(&f.check(), "expires-format");
}

#[test]
fn manifest_expired_uses_now() {
    let f = fixture_or_skip!();
    let mut opts = f.opts();
    opts.now = giftqa::bundle::time::parse_utc("2027-01-31T00:00:00Z").unwrap();
    expect_code(&f.check_with(&opts), "manifest-expired");
    let mut opts = f.opts();
    opts.now = giftqa::bundle::time::parse_utc("2027-01-30T23:59:59Z").unwrap();
    assert!(!codes(&f.check_with(&opts)).contains(&"manifest-expired"));
}

// ---- archive area ----

#[test]
fn archive_invalid() {
    let f = fixture_or_skip!();
    let (_tmp, zip) = f.zip("bundle.zip");
    let bytes = std::fs::read(&zip).unwrap();
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    let r = giftqa::check::run_check(&zip, &f.opts(), &|_| {}).unwrap();
    expect_code(&r, "archive-invalid");
}

#[test]
fn archive_bomb_per_entry_and_total() {
    let f = fixture_or_skip!();
    let (_tmp, zip) = f.zip("bundle.zip");
    let mut opts = f.opts();
    opts.read_limits.max_entry_bytes = 64 * 1024;
    let r = giftqa::check::run_check(&zip, &opts, &|_| {}).unwrap();
    let b = expect_code(&r, "archive-bomb");
    assert!(b.path.is_some());
    let mut opts = f.opts();
    opts.read_limits.max_total_bytes = 100 * 1024;
    let r = giftqa::check::run_check(&zip, &opts, &|_| {}).unwrap();
    expect_code(&r, "archive-bomb");
}

/// A directory has the zip's caps: per entry and in all, with the defaults (a 1.25 GiB file,
/// sparse so it costs no disk) and with small ones.
#[test]
fn archive_bomb_in_a_directory_too() {
    let f = fixture_or_skip!();
    let big = std::fs::File::create(f.path("effects/huge.bin")).unwrap();
    big.set_len(1_342_177_280).unwrap();
    let r = f.check();
    let bombs: Vec<_> = r
        .findings
        .iter()
        .filter(|x| x.code.as_str() == "archive-bomb")
        .collect();
    assert!(
        bombs
            .iter()
            .any(|b| b.path.as_deref() == Some("effects/huge.bin")),
        "{bombs:?}"
    );
    assert!(
        bombs.iter().any(|b| b.message.contains("in all")),
        "the total is over 1 GiB too: {bombs:?}"
    );
    let (code, codes) = common::check_bounded(f.dir());
    assert_eq!(code, 1);
    assert!(codes.iter().any(|c| c == "archive-bomb"), "{codes:?}");
    std::fs::remove_file(f.path("effects/huge.bin")).unwrap();
    let mut opts = f.opts();
    opts.read_limits.max_total_bytes = 100 * 1024;
    expect_code(&f.check_with(&opts), "archive-bomb");
}

#[test]
fn path_unsafe_in_manifest_and_symlink() {
    let mut f = fixture_or_skip!();
    std::os::unix::fs::symlink(f.path("effects/ball.png"), f.path("effects/link.png")).unwrap();
    let r = f.check();
    let p = expect_code(&r, "path-unsafe");
    assert_eq!(p.path.as_deref(), Some("effects/link.png"));
    std::fs::remove_file(f.path("effects/link.png")).unwrap();
    f.asset("ball")["files"][0]["path"] = json!("effects/../effects/ball.png");
    std::fs::write(
        f.path("manifest.json"),
        serde_json::to_string(&f.manifest).unwrap(),
    )
    .unwrap();
    expect_code(&f.check(), "path-unsafe");
}

#[test]
fn path_collision_after_case_folding() {
    let mut f = fixture_or_skip!();
    std::fs::copy(f.path("effects/ball.png"), f.path("effects/Ball.png")).unwrap();
    f.manifest["assets"].as_array_mut().unwrap().push(json!({"id": "ball2", "kind": "effect", "format": "apng", "files": [{"path": "effects/Ball.png"}], "fallback": "builtin:x"}));
    f.seal();
    let r = f.check();
    let c = expect_code(&r, "path-collision");
    assert!(
        c.message.contains("Ball.png") || c.path.as_deref() == Some("effects/ball.png"),
        "{c:?}"
    );
}

/// Full Unicode case folding, as §1 says, not lower-casing: `ſ` folds to `s` and `ß` to
/// `ss`, in a directory and in a zip alike.
#[test]
fn path_collision_after_full_case_folding_in_dirs_and_zips() {
    for (a, b) in [
        ("effects/ſ.png", "effects/s.png"),
        ("effects/ß.png", "effects/ss.png"),
    ] {
        let mut f = fixture_or_skip!();
        for (id, path) in [("x1", a), ("x2", b)] {
            std::fs::copy(f.path("effects/ball.png"), f.path(path)).unwrap();
            f.manifest["assets"].as_array_mut().unwrap().push(json!({"id": id, "kind": "effect", "format": "apng", "files": [{"path": path}], "fallback": "builtin:x"}));
        }
        f.seal();
        expect_code(&f.check(), "path-collision");
        let (_keep, zip) = f.zip("bundle.zip");
        let r = giftqa::check::run_check(&zip, &f.opts(), &|_| {}).unwrap();
        expect_code(&r, "path-collision");
        for bundle in [f.dir(), zip.as_path()] {
            let (code, codes) = common::check_bounded(bundle);
            assert_eq!(code, 1);
            assert!(codes.iter().any(|c| c == "path-collision"), "{codes:?}");
        }
    }
}

// ---- integrity area ----

#[test]
fn asset_missing() {
    let f = fixture_or_skip!();
    std::fs::remove_file(f.path("effects/spinner.webp")).unwrap();
    let r = f.check();
    let m = expect_code(&r, "asset-missing");
    assert_eq!(
        (m.asset.as_deref(), m.path.as_deref()),
        (Some("spinner"), Some("effects/spinner.webp"))
    );
}

#[test]
fn asset_unlisted() {
    let f = fixture_or_skip!();
    std::fs::write(f.path("effects/notes.txt"), "draft").unwrap();
    assert_eq!(
        expect_code(&f.check(), "asset-unlisted").path.as_deref(),
        Some("effects/notes.txt")
    );
}

#[test]
fn asset_size_mismatch() {
    let f = fixture_or_skip!();
    let mut b = std::fs::read(f.path("effects/ball.png")).unwrap();
    b.push(0);
    std::fs::write(f.path("effects/ball.png"), b).unwrap();
    let r = f.check();
    let m = expect_code(&r, "asset-size-mismatch");
    assert_eq!(m.actual.as_deref(), Some("63436"));
}

#[test]
fn asset_hash_mismatch_names_file_and_digests() {
    let f = fixture_or_skip!();
    let mut b = std::fs::read(f.path("effects/heartbeat.svga")).unwrap();
    b[1000] ^= 0x55;
    std::fs::write(f.path("effects/heartbeat.svga"), &b).unwrap();
    let r = f.check();
    let m = expect_code(&r, "asset-hash-mismatch");
    assert_eq!(m.path.as_deref(), Some("effects/heartbeat.svga"));
    assert_eq!(
        m.actual.as_deref(),
        Some(blake3::hash(&b).to_hex().as_str())
    );
    assert!(
        r.assets.iter().all(|a| a.info.is_none()),
        "fail closed: nothing decoded"
    );
}

#[test]
fn hash_format() {
    let mut f = fixture_or_skip!();
    let h = f.asset("ball")["files"][0]["blake3"]
        .as_str()
        .unwrap()
        .to_uppercase();
    f.asset("ball")["files"][0]["blake3"] = json!(h);
    std::fs::write(
        f.path("manifest.json"),
        serde_json::to_string(&f.manifest).unwrap(),
    )
    .unwrap();
    expect_code(&f.check(), "hash-format");
}

#[test]
fn format_mismatch_by_magic_bytes() {
    let mut f = fixture_or_skip!();
    f.asset("spinner")["format"] = json!("gif");
    f.seal();
    let r = f.check();
    let m = expect_code(&r, "format-mismatch");
    assert!(m.message.contains("WebP"), "{}", m.message);
}

// ---- trust area ----

#[test]
fn sig_skipped_without_keyring() {
    let f = fixture_or_skip!();
    let mut opts = f.opts();
    opts.keys = None;
    let r = f.check_with(&opts);
    assert_eq!(expect_code(&r, "sig-skipped").severity, Severity::Info);
    assert_eq!(errors(&r), Vec::<&str>::new());
}

#[test]
fn sig_missing() {
    let f = fixture_or_skip!();
    std::fs::remove_file(f.path("manifest.sig")).unwrap();
    expect_code(&f.check(), "sig-missing");
}

#[test]
fn sig_invalid_after_manifest_edit() {
    let f = fixture_or_skip!();
    let text = std::fs::read_to_string(f.path("manifest.json")).unwrap();
    std::fs::write(f.path("manifest.json"), format!("{text}\n")).unwrap();
    let r = f.check();
    expect_code(&r, "sig-invalid");
    expect_code(&r, "sig-threshold");
}

#[test]
fn sig_unknown_key() {
    let f = fixture_or_skip!();
    let keydir = tempfile::tempdir().unwrap();
    let (sk, _) = giftqa::bundle::signature::generate("stranger", &[]).unwrap();
    let kp = keydir.path().join("stranger.key");
    std::fs::write(&kp, serde_json::to_vec(&sk).unwrap()).unwrap();
    std::fs::remove_file(f.path("manifest.sig")).unwrap();
    giftqa::bundle::pack::sign(f.dir(), &kp).unwrap();
    let r = f.check();
    expect_code(&r, "sig-unknown-key");
    expect_code(&r, "sig-threshold");
}

#[test]
fn sig_duplicate_keyid_counts_once() {
    let f = fixture_or_skip!();
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.path("manifest.sig")).unwrap()).unwrap();
    let first = env["signatures"][0].clone();
    env["signatures"].as_array_mut().unwrap().push(first);
    std::fs::write(f.path("manifest.sig"), serde_json::to_vec(&env).unwrap()).unwrap();
    let r = f.check();
    assert_eq!(
        expect_code(&r, "sig-duplicate-keyid").severity,
        Severity::Warning
    );
    assert!(!codes(&r).contains(&"sig-threshold"));
    // With a threshold of 2 the duplicate does not count twice.
    let ring_dir = tempfile::tempdir().unwrap();
    let mut ring: serde_json::Value =
        serde_json::from_slice(&std::fs::read(common::keys()).unwrap()).unwrap();
    ring["thresholds"]["publisher"] = json!(2);
    let rp = ring_dir.path().join("keys.json");
    std::fs::write(&rp, serde_json::to_vec(&ring).unwrap()).unwrap();
    let mut opts = f.opts();
    opts.keys = Some(rp);
    expect_code(&f.check_with(&opts), "sig-threshold");
}

#[test]
fn sig_threshold_when_only_an_approver_signs() {
    let f = fixture_or_skip!();
    std::fs::remove_file(f.path("manifest.sig")).unwrap();
    giftqa::bundle::pack::sign(f.dir(), &common::approver_key()).unwrap();
    let r = f.check();
    let t = expect_code(&r, "sig-threshold");
    assert_eq!(
        (t.expected.as_deref(), t.actual.as_deref()),
        (Some("1"), Some("0"))
    );
}

#[test]
fn keyid_mismatch_in_keyring() {
    let f = fixture_or_skip!();
    let ring_dir = tempfile::tempdir().unwrap();
    let mut ring: serde_json::Value =
        serde_json::from_slice(&std::fs::read(common::keys()).unwrap()).unwrap();
    ring["keys"][0]["keyid"] = json!("0".repeat(64));
    let rp = ring_dir.path().join("keys.json");
    std::fs::write(&rp, serde_json::to_vec(&ring).unwrap()).unwrap();
    let mut opts = f.opts();
    opts.keys = Some(rp);
    let r = f.check_with(&opts);
    expect_code(&r, "keyid-mismatch");
    expect_code(&r, "sig-unknown-key");
}

// ---- history area ----

fn history(f: &Fixture, v: &serde_json::Value) -> (tempfile::TempDir, std::path::PathBuf) {
    let _ = f;
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("history.json");
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    (d, p)
}

#[test]
fn version_rollback() {
    let f = fixture_or_skip!();
    let (_d, h) = history(
        &f,
        &json!({"approvals": [{"bundle_id": "test.bundle", "version": "1.10.0", "manifest_blake3": "a".repeat(64), "approved_at": "2026-11-01T10:00:00Z", "approver_keyid": "b".repeat(64)}]}),
    );
    let mut opts = f.opts();
    opts.history = Some(h);
    let r = f.check_with(&opts);
    let v = expect_code(&r, "version-rollback");
    assert_eq!(
        v.expected.as_deref(),
        Some("≥ 1.10.0"),
        "SemVer precedence, not string order"
    );
}

#[test]
fn version_reused() {
    let f = fixture_or_skip!();
    let (_d, h) = history(
        &f,
        &json!({"approvals": [{"bundle_id": "test.bundle", "version": "1.2.0", "manifest_blake3": "a".repeat(64), "approved_at": "2026-11-01T10:00:00Z", "approver_keyid": "b".repeat(64)}]}),
    );
    let mut opts = f.opts();
    opts.history = Some(h);
    expect_code(&f.check_with(&opts), "version-reused");
    // The same digest is a re-check of the approved bundle, not a reuse.
    let digest = f.check().bundle.unwrap().manifest_blake3;
    let (_d, h) = history(
        &f,
        &json!({"approvals": [{"bundle_id": "test.bundle", "version": "1.2.0", "manifest_blake3": digest, "approved_at": "2026-11-01T10:00:00Z", "approver_keyid": "b".repeat(64)}]}),
    );
    let mut opts = f.opts();
    opts.history = Some(h);
    assert_eq!(errors(&f.check_with(&opts)), Vec::<&str>::new());
}

#[test]
fn kill_seq_rollback() {
    let f = fixture_or_skip!();
    let (d, h) = history(
        &f,
        &json!({"kills": [{"bundle_id": "test.bundle", "seq": 12}]}),
    );
    let kill = d.path().join("kill.json");
    let doc = json!({"format": "giftbundle-kill/1", "bundle_id": "test.bundle", "seq": 12, "issued": "2026-11-21T08:00:00Z", "expires": "2026-11-28T08:00:00Z", "killed": ["ball"]});
    std::fs::write(&kill, serde_json::to_vec(&doc).unwrap()).unwrap();
    let mut opts = f.opts();
    opts.history = Some(h);
    opts.kill = Some(kill);
    let r = f.check_with(&opts);
    expect_code(&r, "kill-seq-rollback");
    expect_code(&r, "sig-missing");
}

// ---- graph area ----

#[test]
fn dep_unknown() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["depends_on"] = json!(["sparkle-pack"]);
    f.seal();
    assert_eq!(
        expect_code(&f.check(), "dep-unknown").asset.as_deref(),
        Some("ball")
    );
}

#[test]
fn dep_cycle() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["depends_on"] = json!(["confetti"]);
    f.asset("confetti")["depends_on"] = json!(["spinner"]);
    f.asset("spinner")["depends_on"] = json!(["ball"]);
    f.seal();
    let r = f.check();
    let c = expect_code(&r, "dep-cycle");
    assert_eq!(
        c.message,
        "dependency cycle: ball → confetti → spinner → ball"
    );
    assert_eq!(
        codes(&r).iter().filter(|c| **c == "dep-cycle").count(),
        1,
        "one cycle, one finding"
    );
}

#[test]
fn fallback_unknown() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["fallback"] = json!("rose-static");
    f.seal();
    expect_code(&f.check(), "fallback-unknown");
}

#[test]
fn fallback_cycle() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["fallback"] = json!("confetti");
    f.asset("confetti")["fallback"] = json!("ball");
    f.seal();
    expect_code(&f.check(), "fallback-cycle");
}

#[test]
fn fallback_chain_too_long() {
    let mut f = fixture_or_skip!();
    f.asset("heartbeat")["fallback"] = json!("alarm");
    f.asset("alarm")["fallback"] = json!("bouncy");
    f.asset("bouncy")["fallback"] = json!("ball");
    f.asset("ball")["fallback"] = json!("confetti");
    f.seal();
    let r = f.check();
    let long: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.code.as_str() == "fallback-chain-too-long")
        .filter_map(|f| f.asset.as_deref())
        .collect();
    // heartbeat → alarm → bouncy → ball → confetti → builtin is 5 links, alarm's chain 4,
    // bouncy's 3 (allowed).
    assert_eq!(long, vec!["alarm", "heartbeat"]);
    // Three links are allowed: heartbeat → alarm → bouncy → builtin:bouncy.
    let mut f = fixture_or_skip!();
    f.asset("heartbeat")["fallback"] = json!("alarm");
    f.asset("alarm")["fallback"] = json!("bouncy");
    f.seal();
    assert!(!codes(&f.check()).contains(&"fallback-chain-too-long"));
}

// ---- compatibility area ----

#[test]
fn fleet_skipped_without_fleet() {
    let f = fixture_or_skip!();
    let mut opts = f.opts();
    opts.fleet = None;
    let r = f.check_with(&opts);
    assert_eq!(expect_code(&r, "fleet-skipped").severity, Severity::Info);
    assert!(r.matrix.is_none());
}

#[test]
fn compat_empty_range() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["clients"] = json!({"min": "6.0.0", "below": "5.5.0"});
    f.seal();
    expect_code(&f.check(), "compat-empty-range");
}

#[test]
fn compat_below_min_is_a_warning() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["clients"] = json!({"min": "4.0.0"});
    f.seal();
    assert_eq!(
        expect_code(&f.check(), "compat-below-min").severity,
        Severity::Warning
    );
}

#[test]
fn compat_hole_with_cells_and_share() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["tiers"] = json!(["high"]);
    f.asset("ball").as_object_mut().unwrap().remove("fallback");
    f.seal();
    let r = f.check();
    let h = expect_code(&r, "compat-hole");
    assert_eq!(h.asset.as_deref(), Some("ball"));
    // Demo fleet: low and mid cells at or above 5.0.0 (apng since 4.8.0).
    let cells = h.cells.as_ref().unwrap();
    assert_eq!(cells.len(), 7);
    assert!((h.share.unwrap() - 0.63).abs() < 1e-9, "{:?}", h.share);
}

#[test]
fn fallback_used_is_info_with_share() {
    let mut f = fixture_or_skip!();
    f.asset("bouncy")["clients"] = json!({"min": "5.6.0"});
    f.seal();
    let r = f.check();
    let u = expect_code(&r, "fallback-used");
    assert_eq!(u.severity, Severity::Info);
    assert_eq!(u.asset.as_deref(), Some("bouncy"));
    // Cells 5.0.3 low/mid and 5.4.1 low/mid/high: 0.08+0.06+0.07+0.12+0.05.
    assert!((u.share.unwrap() - 0.38).abs() < 1e-9, "{:?}", u.share);
}

#[test]
fn kill_not_ready_without_fallback() {
    let mut f = fixture_or_skip!();
    f.asset("spinner")
        .as_object_mut()
        .unwrap()
        .remove("fallback");
    f.seal();
    let r = f.check();
    let k = expect_code(&r, "kill-not-ready");
    assert_eq!(k.asset.as_deref(), Some("spinner"));
    assert!((k.share.unwrap() - 0.96).abs() < 1e-9, "{:?}", k.share);
}

/// A signed kill of `killed` for `bundle_id`, in force at [`common::now`].
fn signed_kill(bundle_id: &str, killed: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let kill = common::signed_kill(
        d.path(),
        bundle_id,
        killed,
        "2026-11-21T08:00:00Z",
        "2026-11-28T08:00:00Z",
    );
    (d, kill)
}

/// The matrix shares of `asset`: (primary, fallback).
fn shares(r: &giftqa::check::CheckReport, asset: &str) -> (f64, f64) {
    let row = r
        .matrix
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .find(|r| r.asset == asset)
        .unwrap();
    (row.shares.primary, row.shares.fallback)
}

#[test]
fn kill_document_sends_users_to_the_fallback() {
    let f = fixture_or_skip!();
    let (_d, kill) = signed_kill("test.bundle", &["ball"]);
    let mut opts = f.opts();
    opts.kill = Some(kill);
    let r = f.check_with(&opts);
    assert_eq!(errors(&r), Vec::<&str>::new(), "{:#?}", r.findings);
    let (primary, fallback) = shares(&r, "ball");
    assert!(
        (fallback - 0.96).abs() < 1e-9 && primary == 0.0,
        "{primary} {fallback}"
    );
    assert!(r.kill.as_ref().unwrap().in_force);
}

#[test]
fn kill_invalid_is_never_applied() {
    let f = fixture_or_skip!();
    let untouched = shares(&f.check(), "ball");
    // Tampered after signing: another effect added to the killed list.
    let (_d, kill) = signed_kill("test.bundle", &["ball"]);
    let text = std::fs::read_to_string(&kill)
        .unwrap()
        .replace("[\"ball\"]", "[\"ball\",\"*\"]");
    std::fs::write(&kill, text).unwrap();
    let mut opts = f.opts();
    opts.kill = Some(kill.clone());
    let r = f.check_with(&opts);
    let k = expect_code(&r, "kill-invalid");
    assert!(k.message.contains("does not verify"), "{}", k.message);
    assert_eq!(
        shares(&r, "ball"),
        untouched,
        "the matrix is as if no kill were given"
    );
    assert!(!r.kill.as_ref().unwrap().in_force);
    // Without a keyring it cannot be verified, so it is not applied either.
    let (_d2, kill) = signed_kill("test.bundle", &["ball"]);
    let mut opts = f.opts();
    opts.keys = None;
    opts.kill = Some(kill);
    let r = f.check_with(&opts);
    assert!(
        expect_code(&r, "kill-invalid")
            .message
            .contains("no keyring")
    );
    assert_eq!(shares(&r, "ball"), untouched);
    // Another bundle's kill, and an expired one.
    let (_d3, other) = signed_kill("other.bundle", &["ball"]);
    let mut opts = f.opts();
    opts.kill = Some(other);
    let r = f.check_with(&opts);
    assert!(
        expect_code(&r, "kill-invalid")
            .message
            .contains("other.bundle")
    );
    assert_eq!(shares(&r, "ball"), untouched);
    let (_d4, kill) = signed_kill("test.bundle", &["ball"]);
    let mut opts = f.opts();
    opts.kill = Some(kill);
    opts.now = "2026-12-15T00:00:00Z".parse().unwrap();
    let r = f.check_with(&opts);
    assert!(expect_code(&r, "kill-invalid").message.contains("expired"));
}

#[test]
fn tier_unknown() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["tiers"] = json!(["mid", "ultra"]);
    f.seal();
    expect_code(&f.check(), "tier-unknown");
}

#[test]
fn fleet_capability_missing() {
    let f = fixture_or_skip!();
    let d = tempfile::tempdir().unwrap();
    let mut fleet: serde_json::Value =
        serde_json::from_slice(&std::fs::read(common::fleet()).unwrap()).unwrap();
    fleet["capabilities"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["format"] != "webp");
    let p = d.path().join("fleet.json");
    std::fs::write(&p, serde_json::to_vec(&fleet).unwrap()).unwrap();
    let mut opts = f.opts();
    opts.fleet = Some(p);
    let r = f.check_with(&opts);
    expect_code(&r, "fleet-capability-missing");
    let used = r
        .findings
        .iter()
        .find(|f| f.code.as_str() == "fallback-used" && f.asset.as_deref() == Some("spinner"));
    assert!(
        used.is_some_and(|u| (u.share.unwrap() - 0.96).abs() < 1e-9),
        "webp never plays: users see the builtin: {:#?}",
        r.findings
    );
}

// ---- rollout area ----

#[test]
fn rollout_range() {
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["stages"][2]["percent_bp"] = json!(5000);
    f.seal();
    expect_code(&f.check(), "rollout-range");
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["stages"][1]["percent_bp"] = json!(20000);
    f.seal();
    expect_code(&f.check(), "rollout-range");
}

#[test]
fn rollout_order() {
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["stages"][0]["percent_bp"] = json!(3000);
    f.seal();
    expect_code(&f.check(), "rollout-order");
}

#[test]
fn rollout_gate_missing() {
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["gates"]
        .as_object_mut()
        .unwrap()
        .remove("crash_rate_delta_max");
    f.seal();
    let g = expect_code(&f.check(), "rollout-gate-missing").clone();
    assert!(g.message.contains("crash_rate_delta_max"));
}

#[test]
fn region_unknown_is_a_warning() {
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["stages"][1]["regions"] = json!(["SG", "XX"]);
    f.seal();
    assert_eq!(
        expect_code(&f.check(), "region-unknown").severity,
        Severity::Warning
    );
}

#[test]
fn rollout_salt_empty() {
    let mut f = fixture_or_skip!();
    f.manifest["rollout"]["salt"] = json!("");
    f.seal();
    expect_code(&f.check(), "rollout-salt-empty");
}

#[test]
fn findings_are_sorted_and_deterministic() {
    let mut f = fixture_or_skip!();
    f.asset("ball")["tiers"] = json!(["ultra"]);
    f.asset("spinner")
        .as_object_mut()
        .unwrap()
        .remove("fallback");
    f.manifest["rollout"]["stages"][1]["regions"] = json!(["XX"]);
    f.seal();
    let a = giftqa::report::json::check_json(&f.check()).unwrap();
    let b = giftqa::report::json::check_json(&f.check()).unwrap();
    assert_eq!(a, b);
    let r = f.check();
    let keys: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.severity, f.code.as_str(), f.asset.clone(), f.path.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

/// A dependency diamond 24 levels deep (each level's two assets depend on both of the next):
/// 2^24 paths, resolved once per asset per cell, so the matrix is built at once.
#[test]
fn a_deep_dependency_diamond_resolves_in_linear_work() {
    let mut f = Fixture::demo();
    let levels = 24;
    let mut added = Vec::new();
    for l in 0..levels {
        for side in ["a", "b"] {
            let id = format!("dep-{l:02}-{side}");
            let path = format!("deps/{id}.png");
            std::fs::create_dir_all(f.path("deps")).unwrap();
            std::fs::copy(f.path("effects/ball.png"), f.path(&path)).unwrap();
            let depends_on: Vec<String> = if l + 1 < levels {
                vec![format!("dep-{:02}-a", l + 1), format!("dep-{:02}-b", l + 1)]
            } else {
                Vec::new()
            };
            added.push(json!({"id": id, "kind": "resource", "format": "apng",
                "files": [{"path": path, "size": 0, "blake3": "0".repeat(64)}],
                "depends_on": depends_on}));
        }
    }
    f.asset("heartbeat")["depends_on"] = json!(["dep-00-a", "dep-00-b"]);
    f.manifest["assets"].as_array_mut().unwrap().extend(added);
    f.seal();
    let r = f.check();
    assert_eq!(errors(&r), Vec::<&str>::new(), "{:#?}", r.findings);
    let row = r
        .matrix
        .as_ref()
        .unwrap()
        .rows
        .iter()
        .find(|r| r.asset == "heartbeat")
        .unwrap();
    assert!(row.shares.primary > 0.5, "{row:?}");
    // The CLI, check --fleet and approve, within 60 s and 2 GiB.
    let (code, codes) = common::check_bounded(f.dir());
    assert_eq!(
        (code, codes.contains(&"dep-unknown".to_owned())),
        (0, false)
    );
    let t = tempfile::tempdir().unwrap();
    let history = t.path().join("history.json");
    let (code, out, err) = common::giftqa_bounded(&[
        "approve",
        f.dir().to_str().unwrap(),
        "--key",
        "assets/demo-keys/approver.key",
        "--keys",
        "assets/demo-keys.json",
        "--history",
        history.to_str().unwrap(),
        "--fleet",
        "assets/demo-fleet.json",
        "--now",
        "2026-12-01T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(f.path("signoff.json").exists(), "{out}");
}

/// A Lottie image asset named by path (`u` + `p`) is read from the bundle beside the
/// animation and decoded: listed with the asset, the effect passes; gone, `decode-failed`
/// names the path; a path reaching outside the bundle is never read.
#[test]
fn lottie_images_beside_the_animation_are_read_from_the_bundle() {
    use base64::Engine as _;
    let shared = shared_or_skip!();
    let mut f = Fixture::shared(&shared);
    let resource = shared.join("lottie/rlottie/example/resource");
    std::fs::copy(
        resource.join("image_test.json"),
        f.path("effects/photo.json"),
    )
    .unwrap();
    // image_test.json's own picture is not in the repository; image_embedded.json carries
    // the same 200 × 300 asset as a data: URI.
    let embedded = std::fs::read_to_string(resource.join("image_embedded.json")).unwrap();
    let b64 = embedded
        .split("\"p\":\"data:image/png;base64,")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .replace("\\/", "/");
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    std::fs::create_dir_all(f.path("effects/images")).unwrap();
    std::fs::write(f.path("effects/images/img_0.png"), &png).unwrap();
    *f.asset("bouncy") = json!({
        "id": "bouncy", "kind": "effect", "format": "lottie",
        "files": [{"path": "effects/photo.json"}, {"path": "effects/images/img_0.png"}],
        "fallback": "builtin:bouncy"
    });
    std::fs::remove_file(f.path("effects/bouncy.json")).unwrap();
    f.seal();
    let r = f.check();
    assert!(
        !r.findings
            .iter()
            .any(|x| x.asset.as_deref() == Some("bouncy") && x.severity == Severity::Error),
        "{:#?}",
        r.findings
    );

    // The picture gone from the bundle: the asset names it.
    std::fs::remove_file(f.path("effects/images/img_0.png")).unwrap();
    f.asset("bouncy")["files"] = json!([{"path": "effects/photo.json"}]);
    f.seal();
    let r = f.check();
    let failed = expect_code(&r, "decode-failed");
    assert_eq!(failed.asset.as_deref(), Some("bouncy"));
    assert!(
        failed.message.contains("images/img_0.png"),
        "{}",
        failed.message
    );

    // A path out of the bundle is not read, even where the file exists.
    let name = format!("giftqa-outside-{}.png", std::process::id());
    let outside = f.tmp.path().parent().unwrap().join(&name);
    std::fs::write(&outside, &png).unwrap();
    let json = std::fs::read_to_string(f.path("effects/photo.json"))
        .unwrap()
        .replace("\"u\":\"images/\"", "\"u\":\"../../\"")
        .replace("\"p\":\"img_0.png\"", &format!("\"p\":\"{name}\""));
    std::fs::write(f.path("effects/photo.json"), json).unwrap();
    f.seal();
    let r = f.check();
    std::fs::remove_file(&outside).unwrap();
    let failed = expect_code(&r, "decode-failed");
    assert!(
        failed.message.contains(&format!("../../{name}")),
        "{}",
        failed.message
    );
}
