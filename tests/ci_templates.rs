//! The CI templates in `ci/` (GitHub Actions and GitLab CI): each job's giftqa commands run
//! against the demo bundle as the CI system would run them (check once, smoke per tier in the
//! matrix, merge), and the merged report gives the verdict of a single run.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is the test failing"
)]

mod common;

use std::collections::BTreeMap;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

/// A work folder with `giftqa` on its PATH and the template's variables made absolute.
struct Runner {
    dir: tempfile::TempDir,
    path: String,
    vars: BTreeMap<String, String>,
}

impl Runner {
    fn new(vars: &Yaml) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_giftqa"), bin.join("giftqa")).unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let vars = vars
            .as_hash()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let abs = common::root().join(v.as_str().unwrap());
                (k.as_str().unwrap().to_owned(), abs.display().to_string())
            })
            .collect();
        Self { dir, path, vars }
    }

    /// Runs a job's script as the CI system does (`bash -e`), with extra variables.
    fn run(&self, what: &str, script: &str, extra: &[(&str, &str)]) {
        let out = std::process::Command::new("bash")
            .arg("-e")
            .arg("-c")
            .arg(script)
            .current_dir(self.dir.path())
            .env("PATH", &self.path)
            .envs(&self.vars)
            .envs(extra.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what} failed: {script}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn merged(&self) -> Value {
        let p = self.dir.path().join("giftqa-report/report.json");
        assert!(
            self.dir
                .path()
                .join("giftqa-report/report.junit.xml")
                .exists()
        );
        assert!(self.dir.path().join("giftqa-report/report.html").exists());
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    }
}

fn template(name: &str) -> Yaml {
    let text = std::fs::read_to_string(common::root().join("ci").join(name)).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// The findings and verdict of one unsplit run: check, then smoke on every tier.
fn single_run() -> (Vec<Value>, Value) {
    let keys = common::keys();
    let fleet = common::fleet();
    let (k, f) = (keys.to_str().unwrap(), fleet.to_str().unwrap());
    let (_, check, _) = common::giftqa(&[
        "check",
        "assets/demo-bundle",
        "--keys",
        k,
        "--fleet",
        f,
        "--format",
        "json",
    ]);
    let (_, smoke, _) = common::giftqa(&[
        "smoke",
        "assets/demo-bundle",
        "--keys",
        k,
        "--fleet",
        f,
        "--tier",
        "all",
        "--scenario",
        "single",
        "--scenario",
        "storm",
        "--no-gpu",
        "--format",
        "json",
    ]);
    let check: Value = serde_json::from_str(&check).unwrap();
    let smoke: Value = serde_json::from_str(&smoke).unwrap();
    let mut all: Vec<Value> = check["findings"].as_array().unwrap().clone();
    all.extend(smoke["findings"].as_array().unwrap().iter().cloned());
    all.sort_by_key(ToString::to_string);
    all.dedup();
    let verdict = serde_json::json!({
        "errors": check["summary"]["errors"].as_u64().unwrap() + smoke["summary"]["errors"].as_u64().unwrap(),
    });
    (all, verdict)
}

fn same_as_single(merged: &Value) {
    let (single, verdict) = single_run();
    let mut got: Vec<Value> = merged["findings"].as_array().unwrap().clone();
    got.sort_by_key(ToString::to_string);
    assert_eq!(got, single, "the merged findings are those of one run");
    assert_eq!(merged["summary"]["errors"], verdict["errors"]);
    let tiers: Vec<&str> = merged["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tier"].as_str().unwrap())
        .collect();
    assert_eq!(tiers, ["low", "low", "mid", "mid", "high", "high"]);
}

#[test]
fn github_actions_template_runs_and_merges() {
    let t = template("github-actions.yml");
    let runner = Runner::new(&t["env"]);
    let jobs = &t["jobs"];
    for job in ["check", "smoke", "verdict"] {
        let j = &jobs[job];
        let tiers: Vec<String> = match j["strategy"]["matrix"]["tier"].as_vec() {
            Some(v) => v.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
            None => vec![String::new()],
        };
        let steps = j["steps"].as_vec().unwrap();
        let scripts: Vec<&str> = steps
            .iter()
            .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("giftqa")))
            .map(|s| s["run"].as_str().unwrap())
            .collect();
        assert!(!scripts.is_empty(), "job {job} runs giftqa");
        for tier in &tiers {
            for script in &scripts {
                let script = script.replace("${{ matrix.tier }}", tier);
                runner.run(job, &script, &[]);
            }
        }
    }
    same_as_single(&runner.merged());
}

#[test]
fn gitlab_ci_template_runs_and_merges() {
    let t = template("gitlab-ci.yml");
    let runner = Runner::new(&t["variables"]);
    let stages: Vec<&str> = t["stages"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(stages, ["check", "smoke", "verdict"]);
    for stage in stages {
        for (name, job) in t.as_hash().unwrap() {
            let name = name.as_str().unwrap();
            if !name.starts_with("giftqa-") || job["stage"].as_str() != Some(stage) {
                continue;
            }
            let script: Vec<&str> = job["script"]
                .as_vec()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect();
            let script = script.join("\n");
            match job["parallel"]["matrix"].as_vec() {
                Some(m) => {
                    for tier in m[0]["TIER"].as_vec().unwrap() {
                        runner.run(name, &script, &[("TIER", tier.as_str().unwrap())]);
                    }
                }
                None => runner.run(name, &script, &[]),
            }
        }
    }
    same_as_single(&runner.merged());
}
