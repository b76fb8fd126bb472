//! Reports for CI systems (spec §11 `--format junit|sarif`): `JUnit` XML with a test case per
//! asset (× tier × scenario for `smoke`), failing on error findings, and SARIF 2.1.0 whose
//! results point at the line and column of `manifest.json` where each finding's asset (or
//! JSON pointer) is declared, so code hosts annotate the manifest.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::bundle::json_scan;
use crate::check::finding::{Finding, Severity};

/// Where a finding is: a file of the bundle, with a 1-based line and column when it is in
/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Bundle-relative path (`manifest.json`, or an asset file).
    pub uri: String,
    /// 1-based line and column (in characters) in `manifest.json`.
    pub region: Option<(usize, usize)>,
}

/// 1-based line and column (characters) of a byte offset in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Locates findings in one `manifest.json` text.
#[derive(Debug)]
pub struct Locator {
    text: String,
    spans: Option<json_scan::JsonSpans>,
    value: Value,
}

impl Locator {
    /// A locator over the manifest's bytes (nothing is located without them).
    #[must_use]
    pub fn new(manifest: Option<&[u8]>) -> Self {
        let text = manifest
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
            .to_owned();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let spans = if value.is_null() {
            None
        } else {
            json_scan::scan(&text)
        };
        Self { text, spans, value }
    }

    fn at(&self, pointer: &str) -> Option<(usize, usize)> {
        let spans = self.spans.as_ref()?;
        let (start, _) = spans.values.get(pointer)?;
        Some(line_col(&self.text, *start))
    }

    /// Where `f` is: its JSON pointer, the asset's entry, the manifest entry of its file, the
    /// file itself (not in the manifest), or the top of the manifest.
    #[must_use]
    pub fn locate(&self, f: &Finding) -> Location {
        let manifest = |region| Location {
            uri: "manifest.json".into(),
            region,
        };
        if let Some(p) = &f.path {
            if p.starts_with('/')
                && let Some(r) = self.at(p)
            {
                return manifest(Some(r));
            }
            for (i, a) in self.value["assets"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                for (j, file) in a["files"].as_array().into_iter().flatten().enumerate() {
                    if file["path"].as_str() == Some(p.as_str())
                        && let Some(r) = self.at(&format!("/assets/{i}/files/{j}/path"))
                    {
                        return manifest(Some(r));
                    }
                }
            }
            if p != "manifest.json" && !p.starts_with('/') && f.asset.is_none() {
                return Location {
                    uri: p.clone(),
                    region: None,
                };
            }
        }
        if let Some(id) = &f.asset {
            for (i, a) in self.value["assets"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if a["id"].as_str() == Some(id.as_str())
                    && let Some(r) = self.at(&format!("/assets/{i}/id"))
                {
                    return manifest(Some(r));
                }
            }
        }
        manifest(Some((1, 1)))
    }
}

/// SARIF 2.1.0 (OASIS) of `findings`: one run of giftqa, a rule per code, a result per
/// finding located by [`Locator::locate`]. Errors are `error`, warnings `warning`, infos
/// `note`.
#[must_use]
pub fn sarif(findings: &[Finding], manifest: Option<&[u8]>) -> String {
    let loc = Locator::new(manifest);
    let mut codes: Vec<&'static str> = findings.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<Value> = codes
        .iter()
        .map(|c| {
            json!({"id": c, "shortDescription": {"text": c.replace('-', " ")},
                   "helpUri": "https://example.invalid/giftqa/bundle-format#10-findings-and-exit-codes"})
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let l = loc.locate(f);
            let mut physical = json!({"artifactLocation": {"uri": l.uri, "uriBaseId": "BUNDLE"}});
            if let Some((line, col)) = l.region {
                physical["region"] = json!({"startLine": line, "startColumn": col});
            }
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "note",
            };
            let mut r = json!({
                "ruleId": f.code.as_str(),
                "ruleIndex": codes.iter().position(|c| *c == f.code.as_str()).unwrap_or(0),
                "level": level,
                "message": {"text": f.message},
                "locations": [{"physicalLocation": physical}],
            });
            if let Some(a) = &f.asset {
                r["properties"] = json!({"asset": a});
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "giftqa",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// One `JUnit` test case: a name, its class, and the findings that belong to it.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    /// Class name (`check`, `smoke.low.storm`, `diff`).
    pub classname: String,
    /// Test name (an asset id, or `bundle`).
    pub name: String,
    /// Its findings; it fails when one is an error.
    pub findings: Vec<&'a Finding>,
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// `JUnit` XML of `cases` in one test suite: a case with an error finding fails (`<failure>`
/// listing every error of it); warnings and infos go to the case's `<system-out>`.
#[must_use]
pub fn junit(suite: &str, cases: &[Case<'_>]) -> String {
    let failing = |c: &Case<'_>| c.findings.iter().any(|f| f.severity == Severity::Error);
    let failures = cases.iter().filter(|c| failing(c)).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"giftqa\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        cases.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        xml(suite),
        cases.len()
    );
    for c in cases {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml(&c.classname),
            xml(&c.name)
        );
        if c.findings.is_empty() {
            s.push_str("/>\n");
            continue;
        }
        s.push_str(">\n");
        let errors: Vec<&&Finding> = c
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        if let Some(first) = errors.first() {
            let body: Vec<String> = errors
                .iter()
                .map(|f| super::text::finding_line(f))
                .collect();
            let _ = writeln!(
                s,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                xml(first.code.as_str()),
                xml(&format!("{} error finding(s)", errors.len())),
                xml(&body.join("\n"))
            );
        }
        let rest: Vec<String> = c
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Error)
            .map(|f| super::text::finding_line(f))
            .collect();
        if !rest.is_empty() {
            let _ = writeln!(
                s,
                "      <system-out>{}</system-out>",
                xml(&rest.join("\n"))
            );
        }
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// The cases of a check: one per asset of the manifest (in order), and `bundle` for the
/// findings of no asset. Every finding is in exactly one case.
#[must_use]
pub fn check_cases<'a>(assets: &[String], findings: &'a [Finding], class: &str) -> Vec<Case<'a>> {
    let mut cases: Vec<Case<'a>> = vec![Case {
        classname: class.to_owned(),
        name: "bundle".into(),
        findings: Vec::new(),
    }];
    for a in assets {
        cases.push(Case {
            classname: class.to_owned(),
            name: a.clone(),
            findings: Vec::new(),
        });
    }
    for f in findings {
        let idx = f.asset.as_ref().and_then(|a| {
            cases
                .iter()
                .position(|c| c.name == *a && c.name != "bundle")
        });
        match idx {
            Some(i) => cases[i].findings.push(f),
            None => {
                if let Some(a) = &f.asset {
                    cases.push(Case {
                        classname: class.to_owned(),
                        name: a.clone(),
                        findings: vec![f],
                    });
                } else {
                    cases[0].findings.push(f);
                }
            }
        }
    }
    cases
}

/// The cases of a smoke report: per run (`smoke.<tier>.<scenario>`), one per effect sent,
/// holding that run's findings; the run's findings of no asset go to a `run` case.
#[must_use]
pub fn smoke_cases(r: &super::smoke::SmokeReport) -> Vec<Case<'_>> {
    let mut out = Vec::new();
    for run in &r.runs {
        let class = format!("smoke.{}.{}", run.tier, run.scenario);
        let mut effects: Vec<String> = Vec::new();
        for s in &run.sends {
            if !effects.contains(&s.asset) {
                effects.push(s.asset.clone());
            }
        }
        let mut cases = check_cases(&effects, &run.findings, &class);
        cases[0].name = "run".into();
        out.extend(cases);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::finding::Code;

    #[test]
    fn findings_are_located_in_the_manifest() {
        let m = br#"{
  "format": "giftbundle/1",
  "assets": [
    {"id": "a", "files": [{"path": "x.svga"}]},
    {"id": "b", "tiers": ["ultra"]}
  ]
}"#;
        let loc = Locator::new(Some(m));
        let by_asset = loc.locate(&Finding::new(Code::DecodeFailed, "m").asset("b"));
        assert_eq!(by_asset.region, Some((5, 12)));
        let by_pointer = loc.locate(&Finding::new(Code::TierUnknown, "m").path("/assets/1/tiers"));
        assert_eq!(by_pointer.region, Some((5, 26)));
        let by_file = loc.locate(&Finding::new(Code::AssetMissing, "m").path("x.svga"));
        assert_eq!(
            (by_file.uri.as_str(), by_file.region),
            ("manifest.json", Some((4, 36)))
        );
        let unlisted = loc.locate(&Finding::new(Code::AssetUnlisted, "m").path("y.gif"));
        assert_eq!((unlisted.uri.as_str(), unlisted.region), ("y.gif", None));
    }

    #[test]
    fn junit_fails_cases_with_errors_and_escapes() {
        let f = [
            Finding::new(Code::DecodeFailed, "a <bad> & \"x\"").asset("a"),
            Finding::new(Code::BurstDropped, "w"),
        ];
        let cases = check_cases(&["a".to_owned(), "b".to_owned()], &f, "check");
        let x = junit("check", &cases);
        assert!(x.contains("tests=\"3\" failures=\"1\""), "{x}");
        assert!(x.contains("&lt;bad&gt; &amp; &quot;x&quot;"), "{x}");
        assert!(
            x.contains("<testcase classname=\"check\" name=\"b\"/>"),
            "{x}"
        );
    }
}
