//! `--format junit` and `--format sarif` (spec §11) for `check`, `smoke` and `diff`: SARIF
//! validates against the official 2.1.0 schema (vendored in tests/schemas), `JUnit` XML parses
//! and its counts match the findings of the same run's JSON.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use common::{Fixture, giftqa};
use serde_json::{Value, json};

const NOW: &str = "2026-12-01T00:00:00Z";

fn run(args: &[&str]) -> String {
    let (code, out, err) = giftqa(args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    out
}

/// The official schema's `language` pattern (`…]?$`, on `run` and `toolComponent`) is
/// ECMA-262 but not a Rust regex; it is left out of the in-memory copy. giftqa writes no
/// `language` anywhere, which [`valid_sarif`] holds, so nothing it writes escapes the check.
const LANGUAGE: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

fn strip(v: &mut Value) -> usize {
    match v {
        Value::Object(m) => {
            let mut n = 0;
            if m.get("pattern").and_then(Value::as_str) == Some(LANGUAGE) {
                m.remove("pattern");
                n += 1;
            }
            n + m.values_mut().map(strip).sum::<usize>()
        }
        Value::Array(a) => a.iter_mut().map(strip).sum(),
        _ => 0,
    }
}

fn has_language(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("language") || m.values().any(has_language),
        Value::Array(a) => a.iter().any(has_language),
        _ => false,
    }
}

/// Validates SARIF text against the vendored schema; returns the document.
fn valid_sarif(text: &str) -> Value {
    let mut schema: Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/schemas/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(text).unwrap();
    // See `LANGUAGE`.
    assert_eq!(strip(&mut schema), 2);
    assert!(!has_language(&doc));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    doc
}

/// (tests, failures, findings listed) of a `JUnit` document, checked against its own totals.
fn junit_counts(text: &str) -> (usize, usize, usize) {
    let doc = roxmltree::Document::parse(text).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failing = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .count();
    let attr = |n: &str| suite.attribute(n).unwrap().parse::<usize>().unwrap();
    assert_eq!(attr("tests"), cases.len());
    assert_eq!(attr("failures"), failing);
    let listed = cases
        .iter()
        .flat_map(roxmltree::Node::children)
        .filter(|n| n.has_tag_name("failure") || n.has_tag_name("system-out"))
        .flat_map(|n| {
            n.text()
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.starts_with("error[") || l.starts_with("warning[") || l.starts_with("info["))
        .count();
    (cases.len(), failing, listed)
}

fn findings(json_text: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(json_text).unwrap();
    v["findings"].as_array().unwrap().clone()
}

fn broken_demo() -> Fixture {
    // An unknown tier (error, located at its JSON pointer) and a fallback loop-free warning.
    let mut f = Fixture::demo();
    f.asset("spinner-webp")["tiers"] = json!(["mid", "ultra"]);
    f.seal();
    f
}

#[test]
fn check_sarif_and_junit_match_the_findings() {
    let f = broken_demo();
    let dir = f.dir().to_str().unwrap();
    let keys = common::keys();
    let fleet = common::fleet();
    let base = [
        "check",
        dir,
        "--keys",
        keys.to_str().unwrap(),
        "--fleet",
        fleet.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
    ];
    let json_out = run(&[&base[..], &["json"]].concat());
    let all = findings(&json_out);
    let errors = all.iter().filter(|f| f["severity"] == "error").count();
    assert!(errors > 0);
    let sarif = valid_sarif(&run(&[&base[..], &["sarif"]].concat()));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), all.len());
    let tier = results
        .iter()
        .find(|r| r["ruleId"] == "tier-unknown")
        .unwrap();
    let loc = &tier["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "manifest.json");
    // The line of spinner-webp's "tiers" in the re-sealed manifest.
    let text = std::fs::read_to_string(f.path("manifest.json")).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"ultra\"") || l.contains("\"tiers\""))
        .unwrap();
    assert!(
        loc["region"]["startLine"].as_u64().unwrap() as usize >= line,
        "{loc}"
    );
    let (tests, failing, listed) = junit_counts(&run(&[&base[..], &["junit"]].concat()));
    assert_eq!(listed, all.len(), "every finding in exactly one case");
    assert!(failing >= 1 && tests > failing);
}

#[test]
fn smoke_and_diff_sarif_and_junit() {
    let keys = common::keys();
    let tiers = tempfile::tempdir().unwrap();
    let tight = tiers.path().join("tight.json");
    std::fs::write(
        &tight,
        json!({"tiers": [{"name": "tight", "viewport_px": [540, 960], "max_texture_px": 2048,
            "texture_budget_bytes": 100_663_296_u64, "target_fps": 30, "decode_threads": 1,
            "first_frame_budget_ms": 5000, "overdraw_budget": 0.05}]})
        .to_string(),
    )
    .unwrap();
    let base = [
        "smoke",
        "assets/demo-bundle",
        "--keys",
        keys.to_str().unwrap(),
        "--tiers",
        tight.to_str().unwrap(),
        "--scenario",
        "single",
        "--scenario",
        "spam-100",
        "--no-gpu",
        "--now",
        NOW,
        "--format",
    ];
    let json_out = run(&[&base[..], &["json"]].concat());
    let report: Value = serde_json::from_str(&json_out).unwrap();
    let per_run: usize = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["findings"].as_array().unwrap().len())
        .sum();
    assert!(per_run > 0);
    let sarif = valid_sarif(&run(&[&base[..], &["sarif"]].concat()));
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings(&json_out).len()
    );
    let (tests, _, listed) = junit_counts(&run(&[&base[..], &["junit"]].concat()));
    assert_eq!(listed, per_run, "each run's findings in that run's cases");
    // A case per effect × tier × scenario, and one per run for findings of no effect.
    let sent: usize = report["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            // Effects sent, and what played in their place when a finding names it.
            let mut ids: Vec<&str> = r["sends"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["asset"].as_str().unwrap())
                .chain(
                    r["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|f| f["asset"].as_str()),
                )
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids.len() + 1
        })
        .sum();
    assert_eq!(tests, sent);
    // diff: the version does not rise.
    let mut same = Fixture::demo();
    same.asset("spinner-webp")["tiers"] = json!(["high"]);
    same.seal();
    let d = [
        "diff",
        "assets/demo-bundle",
        same.dir().to_str().unwrap(),
        "--no-gpu",
        "--now",
        NOW,
        "--format",
    ];
    let sarif = valid_sarif(&run(&[&d[..], &["sarif"]].concat()));
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "version-reused")
    );
    let (_, failing, _) = junit_counts(&run(&[&d[..], &["junit"]].concat()));
    assert_eq!(failing, 1, "the bundle case fails on version-reused");
}
