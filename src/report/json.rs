//! The `--format json` object of spec §11:
//! `{"tool": {"name", "version"}, "bundle": {...} | null, "summary": {...}, "findings": [...]}`
//! plus what the command measured. Deterministic for the same input and `--now`.

use serde::Serialize;

use crate::check::CheckReport;

/// The tool's name and version.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// Always `giftqa`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        TOOL
    }
}

/// This build's [`Tool`].
pub const TOOL: Tool = Tool {
    name: "giftqa",
    version: env!("CARGO_PKG_VERSION"),
};

#[derive(Serialize)]
struct CheckJson<'a> {
    tool: Tool,
    #[serde(flatten)]
    report: &'a CheckReport,
}

/// Renders a check report as pretty JSON with a trailing newline.
///
/// # Errors
/// Only if serialisation fails, which plain data does not.
pub fn check_json(report: &CheckReport) -> serde_json::Result<String> {
    let mut s = serde_json::to_string_pretty(&CheckJson { tool: TOOL, report })?;
    s.push('\n');
    Ok(s)
}
