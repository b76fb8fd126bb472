//! The command line (spec §11): clap commands, dispatch, and the one place that writes to
//! stdout. Exit codes: 0 done with no error finding, 1 done with an error finding, 2 could not
//! run.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::bundle::manifest::MANIFEST_FILE;
use crate::bundle::source::{BundleSource, ReadLimits};
use crate::bundle::time::{now_utc, parse_utc};
use crate::bundle::{integrity, manifest, pack, signature};
use crate::check::{self, CheckOptions, Progress, rollout};
use crate::fsutil::write_atomic;
use crate::report;

#[cfg(feature = "gpu")]
pub mod commands;

/// Preview gift effects and sign off the asset bundles that carry them.
#[derive(Debug, Parser)]
#[command(name = "giftqa", version, about, long_about = None)]
pub struct Cli {
    /// The command; none opens the desktop app on the demo bundle.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for a terminal.
    #[default]
    Text,
    /// One JSON object on stdout (spec §11).
    Json,
    /// `JUnit` XML: a test case per asset (× tier × scenario for smoke), failing on errors.
    Junit,
    /// SARIF 2.1.0, each finding at its line and column of manifest.json.
    Sarif,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a bundle: layout, manifest, hashes, signatures, history, graph, compatibility
    /// matrix, rollout, and decode every asset on the CPU.
    ///
    /// Exit 0: no error finding. Exit 1: at least one error. Exit 2: could not run.
    Check {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// Keyring (trusted-keys.json); without it signatures are skipped (sig-skipped).
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Fleet file; without it the compatibility matrix is skipped (fleet-skipped).
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// Release history (history.json): version rollback and reuse, kill sequence.
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        /// Kill document (kill.json, with kill.sig beside it).
        #[arg(long, value_name = "FILE")]
        kill: Option<PathBuf>,
        /// The clock reading for expiry, YYYY-MM-DDTHH:MM:SSZ (default: now).
        #[arg(long, value_name = "YYYY-MM-DDTHH:MM:SSZ")]
        now: Option<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Decode cache directory (default: `$XDG_CACHE_HOME/giftqa` or `~/.cache/giftqa`):
        /// assets decoded before, by the same content and giftqa version, are not decoded
        /// again. The cache only makes check faster; a broken entry is decoded afresh.
        #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
        cache: Option<PathBuf>,
        /// Decode every asset; use no cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// Fill files[].size and files[].blake3 of DIR/manifest.json from disk, keeping every
    /// other byte of the manifest.
    Pack {
        /// Bundle directory.
        dir: PathBuf,
    },
    /// Make an Ed25519 key pair: NAME.key (secret, mode 0600) and NAME.pub (a keyring entry).
    Keygen {
        /// Output path without extension.
        #[arg(long, value_name = "NAME")]
        out: PathBuf,
        /// Display name recorded in the public key file.
        #[arg(long, default_value = "")]
        name: String,
        /// Roles suggested in the public key file (publisher, approver).
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// Sign BUNDLE/manifest.json: writes or extends BUNDLE/manifest.sig.
    Sign {
        /// Bundle directory.
        bundle: PathBuf,
        /// Secret key file made by `giftqa keygen`.
        #[arg(long, value_name = "NAME.key")]
        key: PathBuf,
    },
    /// Render frames of one asset to PNG files on the GPU: DIR/<asset>_<frame:04>.png, RGBA,
    /// at the animation's own canvas size without --tier, in the tier's viewport with it.
    ///
    /// The bundle is verified first; a bundle with errors is not rendered (fail closed).
    #[cfg(feature = "gpu")]
    Render {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// Asset id.
        #[arg(long)]
        asset: String,
        /// Device tier (low, mid, high, or one from --tiers): its viewport and texture limits.
        #[arg(long)]
        tier: Option<String>,
        /// Tiers file replacing the built-in tiers.
        #[arg(long, value_name = "FILE")]
        tiers: Option<PathBuf>,
        /// Frames: a comma-separated list of indices, or all.
        #[arg(long, default_value = "0")]
        frames: crate::cli::commands::FrameSelection,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Composite over a colour (#RRGGBB, grey, black, white) instead of transparency.
        #[arg(long)]
        background: Option<String>,
        /// Keyring: verify signatures before rendering.
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Fill a dynamic slot: KEY=FILE for an image slot (the sender's avatar), KEY=TEXT for a
        /// text slot (the sender's name). Keys: an SVGA image key, a VAP fusion tag, a Lottie
        /// text layer's name or slot id, a Lottie image asset's id, a Lottie colour, number or
        /// vector slot id (KEY=#RRGGBB[AA], KEY=12.5, KEY=x,y); `check` lists them. Repeat for
        /// several.
        #[arg(long = "slot", value_name = "KEY=VALUE", value_parser = parse_slot)]
        slots: Vec<(String, String)>,
        /// Slot text too wide for its slot: cut with an ellipsis, or shrink (to 60 %) then cut.
        #[arg(long, default_value = "ellipsis", value_name = "ellipsis|shrink")]
        text_overflow: crate::model::text::Overflow,
        /// Apply one of a dotLottie asset's v2 themes (its manifest's `themes`, which `check`
        /// lists): the theme's rules restyle the animation's slots, as a player's setTheme.
        #[arg(long, value_name = "ID")]
        theme: Option<String>,
        /// The clock the bundle's verification uses (YYYY-MM-DDTHH:MM:SSZ; default now).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
    },
    /// Play the bundle's effects under device tiers and burst scenarios on the simulated
    /// device clock (spec §9) and judge them: decode latency, first-frame latency, frame
    /// times, jank, device memory, overdraw, uploads and queueing. The same bundle, tiers and
    /// scenarios give the same findings on any machine; with a GPU the frames are also drawn,
    /// and what the host measured is reported apart, under `host`. Prints a table; with --out
    /// writes report.json and report.html.
    ///
    /// Built-in scenarios: single, combo-x10, storm, spam-100, n-up-10, n-up-50.
    Smoke {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// Tier: low, mid, high, all, or one from --tiers.
        #[arg(long, default_value = "all")]
        tier: String,
        /// Tiers file replacing the built-in tiers (budgets and device constants; see
        /// docs/device-model.md).
        #[arg(long, value_name = "FILE")]
        tiers: Option<PathBuf>,
        /// Scenario name or file; repeat for several (default: single).
        #[arg(long = "scenario", value_name = "NAME|FILE")]
        scenarios: Vec<String>,
        /// Directory for report.json and report.html.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Keyring: verify signatures before playing.
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Fleet file: each tier plays what its newest client is delivered (a fallback where
        /// the effect is not delivered to it).
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// Kill document (its `.sig` beside it): killed effects play their fallback.
        #[arg(long, value_name = "FILE")]
        kill: Option<PathBuf>,
        /// The clock manifest expiry is judged by (YYYY-MM-DDTHH:MM:SSZ; default now).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// Simulate only: draw nothing, need no GPU adapter (same findings, no host figures).
        #[arg(long)]
        no_gpu: bool,
    },
    /// Sign the bundle off (spec §8): runs the full check, refuses while an error stands or a
    /// warning has no waiver, then writes signoff.json and signoff.sig (in the bundle
    /// directory, or beside a zip) and appends the history, each atomically.
    Approve {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// Approver secret key; repeat when the approver threshold is above 1.
        #[arg(long = "key", value_name = "NAME.key", required = true)]
        key: Vec<PathBuf>,
        /// The keyring.
        #[arg(long, value_name = "FILE")]
        keys: PathBuf,
        /// Release history to check against and append to (created when missing).
        #[arg(long, value_name = "FILE")]
        history: PathBuf,
        /// A waiver for a warning: CODE:ASSET:REASON (ASSET empty for bundle-wide findings).
        #[arg(long = "waive", value_name = "CODE:ASSET:REASON")]
        waive: Vec<crate::bundle::signoff::Waiver>,
        /// Fleet file, for the compatibility matrix.
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// The smoke report (`smoke --format json` or its report.json) of this very manifest
        /// that the sign-off rests on; without it, approve runs smoke itself (single and storm
        /// on every built-in tier, simulated) and writes signoff-smoke.json beside the
        /// sign-off. Playback warnings need waivers as check's do.
        #[arg(long, value_name = "REPORT.json")]
        smoke: Option<PathBuf>,
        /// The approval time, YYYY-MM-DDTHH:MM:SSZ (default: now).
        #[arg(long, value_name = "YYYY-MM-DDTHH:MM:SSZ")]
        now: Option<String>,
    },
    /// What changed from OLD (the version users have) to NEW (the one to approve): assets
    /// added, removed and changed by hash with size deltas, manifest changes per asset and for
    /// the bundle (the version must rise), who gains or loses each effect over the fleet, new
    /// and fixed findings, and each changed effect's frames side by side with their PSNR (on
    /// the GPU). With --out writes diff.json and diff.html.
    Diff {
        /// The bundle users have (directory or .zip).
        old: PathBuf,
        /// The bundle to approve.
        new: PathBuf,
        /// Keyring, for both.
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Fleet file: the matrix delta in users.
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// Directory for diff.json and diff.html.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Report format on stdout.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// The clock both checks use (YYYY-MM-DDTHH:MM:SSZ; default now).
        #[arg(long, value_name = "TIME")]
        now: Option<String>,
        /// Do not draw frames (no GPU needed).
        #[arg(long)]
        no_gpu: bool,
    },
    /// Kill an effect now (spec §6): write or extend a signed kill document beside the bundle
    /// (`<bundle>.kill.json` and `.kill.sig`), its seq above every recorded kill, and append
    /// it to the history. `check --kill FILE` and `smoke --kill FILE` then resolve the killed
    /// effect through its fallback chain.
    Kill {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// The effect to kill, or '*' for every effect.
        #[arg(long, value_name = "ID|*")]
        asset: String,
        /// A publisher or approver secret key.
        #[arg(long, value_name = "NAME.key")]
        key: PathBuf,
        /// The keyring.
        #[arg(long, value_name = "FILE")]
        keys: PathBuf,
        /// Release history: the next seq comes from its kills; the kill is appended (created
        /// when missing).
        #[arg(long, value_name = "FILE")]
        history: PathBuf,
        /// Where to write the kill document (default: <bundle>.kill.json beside the bundle).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// How long the kill stays in force, hours (1 to 720).
        #[arg(long, default_value_t = 168)]
        hours: u64,
        /// The issue time, YYYY-MM-DDTHH:MM:SSZ (default: now).
        #[arg(long, value_name = "YYYY-MM-DDTHH:MM:SSZ")]
        now: Option<String>,
    },
    /// Verify a sign-off against the bundle as it is now: signoff-stale when anything changed,
    /// signoff-unauthorized when it is not signed by approvers to the threshold.
    VerifySignoff {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// The keyring.
        #[arg(long, value_name = "FILE")]
        keys: PathBuf,
        /// Directory holding signoff.json and signoff.sig (default: the bundle directory, or
        /// the zip's directory).
        #[arg(long, value_name = "DIR")]
        signoff: Option<PathBuf>,
        /// The smoke report the sign-off rests on (default: signoff-smoke.json beside the
        /// sign-off, when approve ran smoke itself): it must be the one signed, and of the
        /// bundle's manifest as it is now.
        #[arg(long, value_name = "REPORT.json")]
        smoke: Option<PathBuf>,
    },
    /// The desktop app: preview effects under tiers, run bursts, read the compatibility
    /// matrix and findings, and sign the bundle off. Opens the demo bundle without BUNDLE.
    #[cfg(feature = "gui")]
    View {
        /// Bundle directory or .zip.
        bundle: Option<PathBuf>,
        /// Keyring.
        #[arg(long, value_name = "FILE")]
        keys: Option<PathBuf>,
        /// Fleet file.
        #[arg(long, value_name = "FILE")]
        fleet: Option<PathBuf>,
        /// Release history.
        #[arg(long, value_name = "FILE")]
        history: Option<PathBuf>,
        /// Kill document in force (its .sig beside it): the matrix shows its kills as signed
        /// kills, beside the app's what-if kill switches.
        #[arg(long, value_name = "FILE")]
        kill: Option<PathBuf>,
        /// The clock reading for expiry, sign-off and smoke, YYYY-MM-DDTHH:MM:SSZ (default:
        /// now).
        #[arg(long, value_name = "YYYY-MM-DDTHH:MM:SSZ")]
        now: Option<String>,
    },
    /// Staged rollout (spec §7): gate decisions and user buckets.
    Rollout {
        /// What to do.
        #[command(subcommand)]
        action: RolloutAction,
    },
    /// Measure this host's own device constants (decode per codec, flattening,
    /// tessellation; upload, fill, draw calls and layers on the GPU when there is one) into a
    /// tiers file, so that `smoke --tiers FILE` predicts this machine (docs/device-model.md).
    Calibrate {
        /// Where to write the tiers file (one tier, `host`); without it, print it.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Measure the CPU only.
        #[arg(long)]
        no_gpu: bool,
        /// Then compare, for this bundle, what the measured constants predict with what this
        /// host measures (decode per codec, evaluation and tessellation, drawing).
        #[arg(long, value_name = "BUNDLE")]
        validate: Option<PathBuf>,
    },
    /// Work on reports: `report merge` joins the reports of a CI run split over runners.
    Report {
        /// What to do.
        #[command(subcommand)]
        what: ReportWhat,
    },
    /// Benchmarks of the verification core (see docs/performance.md).
    Bench {
        /// What to measure.
        #[command(subcommand)]
        what: BenchWhat,
    },
}

/// `giftqa rollout …`
#[derive(Debug, Subcommand)]
pub enum RolloutAction {
    /// Judge each stage on a telemetry export: promote, hold (too few sessions) or rollback
    /// (a gate breached). Exit 1 when any stage must roll back.
    Gate {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// Telemetry export: JSON rows or CSV with a header.
        #[arg(long, value_name = "FILE")]
        telemetry: PathBuf,
        /// Report format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Print a user's bucket (0–9999) and the first stage that includes them.
    Bucket {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// User id.
        #[arg(long)]
        user: String,
        /// The user's region (ISO 3166-1 alpha-2).
        #[arg(long, default_value = "*")]
        region: String,
    },
}

/// `giftqa report …`
#[derive(Debug, Subcommand)]
pub enum ReportWhat {
    /// Join the JSON reports of a split run (a `check`, and `smoke` per tier or bundle job)
    /// into one report.json, report.html and report.junit.xml with one verdict: exit 1 when
    /// any report has an error finding. The reports must be of one bundle.
    Merge {
        /// Reports (`--format json` output or report.json), in the order to keep.
        #[arg(required = true, value_name = "REPORT.json")]
        reports: Vec<PathBuf>,
        /// Directory for the merged report.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// `giftqa bench …`
#[derive(Debug, Subcommand)]
pub enum BenchWhat {
    /// Hash every file of a directory as `check` does (parallel, streaming BLAKE3) and print
    /// the throughput.
    Hash {
        /// Directory.
        dir: PathBuf,
        /// Runs; the best is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Decode throughput per format (megapixels per second): the playback engine's decode
    /// workers against a plain single-thread `image` decode of the same files.
    Decode {
        /// Bundle directory or .zip.
        bundle: PathBuf,
        /// Decode workers.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Runs; the best is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// H.264 decode throughput of VAP files: every frame decoded by OpenH264 on one thread
    /// (planes copied out, no colour conversion), in frames and megapixels per second.
    H264 {
        /// VAP .mp4 files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Runs; the best is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Frames per second of an SVGA file with and without the vector tessellation cache:
    /// display lists built and placed (CPU), and drawn on the GPU.
    Tessellation {
        /// An .svga file.
        file: PathBuf,
        /// Plays of the whole file timed per mode.
        #[arg(long, default_value_t = 3)]
        passes: u32,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Parses `KEY=VALUE` (`--slot`).
#[cfg(feature = "gpu")]
fn parse_slot(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!(
            "{s:?}: expected KEY=VALUE, e.g. avatar=me.png or sender=Ann"
        )),
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the one place that writes command output"
)]
fn out(text: &str) {
    print!("{text}");
    let _ = std::io::stdout().flush();
}

fn exit_for(errors: bool) -> ExitCode {
    if errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Anything that stops the command from running (exit code 2).
pub fn run(cli: Cli) -> Result<ExitCode> {
    let Some(command) = cli.command else {
        #[cfg(feature = "gui")]
        {
            crate::app::run(None)?;
            return Ok(ExitCode::SUCCESS);
        }
        #[cfg(not(feature = "gui"))]
        bail!("no command given; see giftqa --help");
    };
    match command {
        #[cfg(feature = "gui")]
        Command::View {
            bundle,
            keys,
            fleet,
            history,
            kill,
            now,
        } => {
            let now = now.as_deref().map(|n| clock(Some(n))).transpose()?;
            let opts = bundle.map(|b| crate::app::load::ViewOptions {
                bundle: b,
                keys,
                fleet,
                history,
                kill,
                now,
            });
            crate::app::run(opts)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check {
            bundle,
            keys,
            fleet,
            history,
            kill,
            now,
            format,
            cache,
            no_cache,
        } => {
            let now = clock(now.as_deref())?;
            let opts = CheckOptions {
                keys,
                fleet,
                history,
                kill,
                cache: if no_cache {
                    None
                } else {
                    cache.or_else(check::cache::DecodeCache::default_dir)
                },
                ..CheckOptions::new(now)
            };
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} hashing {bytes}/{total_bytes} {wide_bar} {binary_bytes_per_sec} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = |p: Progress| match p {
                Progress::HashStart(total) => bar.set_length(total),
                Progress::Hashed(n) => bar.inc(n),
                Progress::HashDone => bar.finish_and_clear(),
            };
            let report = check::run_check(&bundle, &opts, &progress)?;
            let manifest = report
                .verified_bytes
                .as_ref()
                .map(|v| v.manifest.as_slice());
            match format {
                Format::Json => out(&report::json::check_json(&report)?),
                Format::Text => out(&report::text::check_text(
                    &report,
                    &bundle.display().to_string(),
                )),
                Format::Junit => {
                    let assets: Vec<String> = report
                        .manifest
                        .as_ref()
                        .map(|m| m.assets.iter().map(|a| a.id.clone()).collect())
                        .unwrap_or_default();
                    out(&report::ci::junit(
                        "giftqa check",
                        &report::ci::check_cases(&assets, &report.findings, "check"),
                    ));
                }
                Format::Sarif => out(&report::ci::sarif(&report.findings, manifest)),
            }
            Ok(exit_for(report.has_errors()))
        }
        Command::Pack { dir } => {
            let packed = pack::pack(&dir)?;
            let changed = packed.iter().filter(|p| p.changed).count();
            let mut s = String::new();
            for p in &packed {
                let _ = writeln!(
                    s,
                    "{} {:>10}  {}{}",
                    &p.blake3[..16],
                    p.size,
                    p.path,
                    if p.changed { "  (updated)" } else { "" }
                );
            }
            let _ = writeln!(
                s,
                "packed {} file(s), {changed} updated in {}",
                packed.len(),
                dir.join(MANIFEST_FILE).display()
            );
            out(&s);
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen {
            out: name,
            name: display,
            roles,
        } => {
            let key_path = name.with_extension("key");
            let pub_path = name.with_extension("pub");
            for p in [&key_path, &pub_path] {
                if p.exists() {
                    bail!("{p:?} already exists; refusing to overwrite a key");
                }
            }
            let (secret, public) = signature::generate(&display, &roles)
                .map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
            let mut sk = serde_json::to_vec_pretty(&secret)?;
            sk.push(b'\n');
            write_atomic(&key_path, &sk, Some(0o600))
                .with_context(|| format!("writing {key_path:?}"))?;
            let mut pk = serde_json::to_vec_pretty(&public)?;
            pk.push(b'\n');
            write_atomic(&pub_path, &pk, Some(0o644))
                .with_context(|| format!("writing {pub_path:?}"))?;
            out(&format!(
                "keyid {}\nsecret key: {} (keep it secret)\npublic key: {} (add it to the keyring)\n",
                public.keyid,
                key_path.display(),
                pub_path.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign { bundle, key } => {
            let keyid = pack::sign(&bundle, &key)?;
            out(&format!(
                "signed {} with key {keyid}\n",
                bundle.join(MANIFEST_FILE).display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Rollout { action } => run_rollout(action),
        Command::Diff {
            old,
            new,
            keys,
            fleet,
            out: out_dir,
            format,
            now,
            no_gpu,
        } => {
            let now = clock(now.as_deref())?;
            let req = report::diff::DiffRequest {
                old,
                new,
                keys,
                fleet,
                now,
            };
            let r = diff_drawn(&req, no_gpu)?;
            let mut json = serde_json::to_string_pretty(&r)?;
            json.push('\n');
            if let Some(dir) = &out_dir {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {dir:?}"))?;
                for (name, bytes) in [
                    ("diff.json", json.clone().into_bytes()),
                    ("diff.html", report::diff::diff_html(&r).into_bytes()),
                ] {
                    write_atomic(&dir.join(name), &bytes, None)
                        .with_context(|| format!("writing {:?}", dir.join(name)))?;
                }
            }
            match format {
                Format::Json => out(&json),
                Format::Text => out(&report::diff::diff_text(&r)),
                Format::Junit => {
                    let mut all: Vec<check::finding::Finding> = r.findings.clone();
                    all.extend(r.new_findings.iter().cloned());
                    all.dedup();
                    let touched: Vec<String> = r
                        .added
                        .iter()
                        .map(|a| a.id.clone())
                        .chain(r.changed.iter().map(|c| c.id.clone()))
                        .collect();
                    out(&report::ci::junit(
                        "giftqa diff",
                        &report::ci::check_cases(&touched, &all, "diff"),
                    ));
                }
                Format::Sarif => {
                    let mut all: Vec<check::finding::Finding> = r.findings.clone();
                    all.extend(r.new_findings.iter().cloned());
                    all.dedup();
                    out(&report::ci::sarif(&all, r.new_manifest_json.as_deref()));
                }
            }
            Ok(exit_for(r.summary.errors > 0))
        }
        Command::Kill {
            bundle,
            asset,
            key,
            keys,
            history,
            out: kill_out,
            hours,
            now,
        } => {
            let now = clock(now.as_deref())?;
            let req = check::kill::KillRequest {
                bundle,
                asset,
                key,
                keyring: keys,
                history,
                out: kill_out,
                hours,
                now,
            };
            let outcome = check::kill::issue_kill(&req)?;
            let mut s = String::new();
            let Some(doc) = outcome.doc else {
                let _ = writeln!(
                    s,
                    "the bundle does not verify; no kill is issued for it (fail closed):"
                );
                for f in &outcome.findings {
                    let _ = writeln!(s, "{}", report::text::finding_line(f));
                }
                out(&s);
                return Ok(ExitCode::from(1));
            };
            let _ = writeln!(
                s,
                "killed {} of {} (seq {}), in force {} to {}",
                doc.killed.join(", "),
                doc.bundle_id,
                doc.seq,
                doc.issued,
                doc.expires
            );
            for p in &outcome.written {
                let _ = writeln!(s, "wrote {}", p.display());
            }
            out(&s);
            Ok(ExitCode::SUCCESS)
        }
        Command::Approve {
            bundle,
            key,
            keys,
            history,
            waive,
            fleet,
            smoke,
            now,
        } => {
            let now = clock(now.as_deref())?;
            let req = check::signoff::ApproveRequest {
                bundle,
                keys: key,
                keyring: keys,
                history,
                fleet,
                waivers: waive,
                smoke,
                now,
            };
            let outcome = check::signoff::approve(&req)?;
            let mut s = String::new();
            if outcome.signoff.is_none() {
                let _ = writeln!(s, "sign-off refused:");
                for f in &outcome.findings {
                    let _ = writeln!(s, "{}", report::text::finding_line(f));
                }
                let _ = writeln!(s, "\nthe check found:");
                for f in outcome
                    .report
                    .findings
                    .iter()
                    .filter(|f| f.severity != check::finding::Severity::Info)
                {
                    let _ = writeln!(s, "{}", report::text::finding_line(f));
                }
                out(&s);
                return Ok(ExitCode::from(1));
            }
            if let Some(d) = &outcome.signoff {
                let warnings = if d.warnings == 0 {
                    "no warnings".to_owned()
                } else {
                    format!("{} warning(s), each waived", d.warnings)
                };
                let _ = writeln!(
                    s,
                    "signed off {} {} at {}: {warnings}",
                    d.bundle_id, d.version, d.approved_at
                );
                for w in &d.waivers {
                    let _ = writeln!(s, "  waived {} {}: {}", w.code, w.asset, w.reason);
                }
            }
            for p in &outcome.written {
                let _ = writeln!(s, "wrote {}", p.display());
            }
            out(&s);
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifySignoff {
            bundle,
            keys,
            signoff,
            smoke,
        } => {
            let (findings, doc) = check::signoff::verify_signoff(
                &bundle,
                &keys,
                signoff.as_deref(),
                smoke.as_deref(),
                now_utc(),
            )?;
            let mut s = String::new();
            for f in &findings {
                let _ = writeln!(s, "{}", report::text::finding_line(f));
            }
            let errors = findings
                .iter()
                .any(|f| f.severity == check::finding::Severity::Error);
            match (&doc, errors) {
                (Some(d), false) => {
                    let _ = writeln!(
                        s,
                        "sign-off valid: {} {} approved at {} by {} approver(s)",
                        d.bundle_id,
                        d.version,
                        d.approved_at,
                        d.approver_keyids.len()
                    );
                }
                _ => {
                    let _ = writeln!(s, "sign-off NOT valid");
                }
            }
            out(&s);
            Ok(exit_for(errors))
        }
        Command::Smoke {
            bundle,
            tier,
            tiers,
            scenarios,
            out: out_dir,
            format,
            keys,
            fleet,
            kill,
            now,
            no_gpu,
        } => {
            let req = report::smoke::SmokeRequest {
                bundle,
                tiers: pick_tiers(tiers.as_deref(), Some(&tier))?,
                scenarios: if scenarios.is_empty() {
                    vec!["single".to_owned()]
                } else {
                    scenarios
                },
                keys,
                fleet,
                kill,
                kills: std::collections::BTreeSet::new(),
                now: clock(now.as_deref())?,
            };
            run_smoke_cmd(&req, no_gpu, out_dir.as_deref(), format)
        }
        #[cfg(feature = "gpu")]
        Command::Render {
            bundle,
            asset,
            tier,
            tiers,
            frames,
            out: out_dir,
            background,
            keys,
            slots,
            text_overflow,
            theme,
            now,
        } => {
            let now = clock(now.as_deref())?;
            let tier = match tier {
                Some(name) => Some(pick_tiers(tiers.as_deref(), Some(&name))?.remove(0)),
                None => None,
            };
            let background = background
                .map(|b| crate::cli::commands::parse_background(&b))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let req = crate::cli::commands::RenderRequest {
                bundle,
                asset,
                tier,
                frames,
                out: out_dir,
                background,
                keys,
                slots,
                theme,
                now,
                text_style: crate::model::text::TextStyle {
                    overflow: text_overflow,
                    ..crate::model::text::TextStyle::default()
                },
            };
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            let outcome = crate::cli::commands::run_render(&req, &|done, total| {
                bar.set_length(total);
                bar.set_position(done);
            })?;
            bar.finish_and_clear();
            let mut s = String::new();
            for f in &outcome.findings {
                let _ = writeln!(s, "{}", report::text::finding_line(f));
            }
            if let Some((w, h, n, fps)) = outcome.animation {
                let _ = writeln!(s, "{}: {w}×{h} px, {n} frames at {fps:.1} fps", req.asset);
            }
            for slot in &outcome.slots {
                match &slot.shown {
                    Some(shown) if slot.kind != "text" => {
                        let _ = writeln!(
                            s,
                            "slot {} ({}, {} propert(ies)): {shown}",
                            slot.key, slot.kind, slot.sprites
                        );
                    }
                    Some(shown) => {
                        let _ = writeln!(
                            s,
                            "slot {} (text, {} sprite(s)): {shown:?} at {:.0} px in {}{}{}",
                            slot.key,
                            slot.sprites,
                            slot.font_px.unwrap_or(0.0),
                            slot.fonts.join(", "),
                            if slot.ellipsized { ", cut to fit" } else { "" },
                            if slot.missing_glyphs > 0 {
                                format!(", {} character(s) without a glyph", slot.missing_glyphs)
                            } else {
                                String::new()
                            }
                        );
                    }
                    None => {
                        let _ = writeln!(
                            s,
                            "slot {} (image, {} sprite(s)): {}×{} px",
                            slot.key, slot.sprites, slot.size_px[0], slot.size_px[1]
                        );
                    }
                }
            }
            for line in outcome.unsupported.describe() {
                let _ = writeln!(s, "not drawn yet: {line}");
            }
            let _ = writeln!(
                s,
                "wrote {} frame(s) to {}",
                outcome.written.len(),
                req.out.display()
            );
            out(&s);
            Ok(exit_for(
                outcome
                    .findings
                    .iter()
                    .any(|f| f.severity == check::finding::Severity::Error),
            ))
        }
        Command::Report {
            what: ReportWhat::Merge { reports, out: dir },
        } => {
            let mut inputs = Vec::new();
            for p in reports {
                let len = std::fs::metadata(&p)
                    .with_context(|| format!("reading {p:?}"))?
                    .len();
                if len > report::merge::MAX_REPORT_BYTES {
                    bail!(
                        "{p:?} is {len} bytes; at most {}",
                        report::merge::MAX_REPORT_BYTES
                    );
                }
                let bytes = std::fs::read(&p).with_context(|| format!("reading {p:?}"))?;
                inputs.push((p, bytes));
            }
            let merged = report::merge::merge(&inputs)?;
            let mut json = serde_json::to_string_pretty(&merged)?;
            json.push('\n');
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {dir:?}"))?;
            let cases = report::ci::smoke_cases(&merged);
            let bundle_level: Vec<&check::finding::Finding> = merged
                .findings
                .iter()
                .filter(|f| !merged.runs.iter().any(|r| r.findings.contains(f)))
                .collect();
            let mut cases = cases;
            cases.push(report::ci::Case {
                classname: "check".into(),
                name: "bundle".into(),
                findings: bundle_level,
            });
            for (name, bytes) in [
                ("report.json", json.into_bytes()),
                (
                    "report.html",
                    report::html::smoke_html(&merged).into_bytes(),
                ),
                (
                    "report.junit.xml",
                    report::ci::junit("giftqa", &cases).into_bytes(),
                ),
            ] {
                write_atomic(&dir.join(name), &bytes, None)
                    .with_context(|| format!("writing {:?}", dir.join(name)))?;
            }
            let mut s = String::new();
            for f in &merged.findings {
                let _ = writeln!(s, "{}", report::text::finding_line(f));
            }
            let verdict = if merged.summary.errors > 0 {
                "FAIL"
            } else {
                "PASS"
            };
            let _ = writeln!(
                s,
                "merged {} run(s) of {} report(s): {} errors, {} warnings, {} infos — {verdict}\nwrote {}",
                merged.runs.len(),
                inputs.len(),
                merged.summary.errors,
                merged.summary.warnings,
                merged.summary.infos,
                dir.display()
            );
            out(&s);
            Ok(exit_for(merged.summary.errors > 0))
        }
        Command::Calibrate {
            out: path,
            no_gpu,
            validate,
        } => calibrate(path.as_deref(), no_gpu, validate.as_deref()),
        Command::Bench {
            what: BenchWhat::Hash { dir, runs },
        } => bench_hash(&dir, runs),
        Command::Bench {
            what:
                BenchWhat::Decode {
                    bundle,
                    threads,
                    runs,
                },
        } => {
            let m = load_manifest(&bundle)?;
            let mut rep = check::finding::Reporter::new();
            let src = BundleSource::open(&bundle, ReadLimits::default(), &mut rep)?;
            let rows = crate::playback::bench::decode_throughput(&m, &src, threads, runs)
                .map_err(anyhow::Error::msg)?;
            let mut s = format!(
                "{:<13} {:>6} {:>9} {:>22} {:>22}\n",
                "format",
                "assets",
                "MP",
                "image 1 thread MP/s",
                format!("engine {threads} thr MP/s")
            );
            for r in rows {
                let _ = writeln!(
                    s,
                    "{:<13} {:>6} {:>9.2} {:>22.1} {:>22.1}",
                    r.format.as_str(),
                    r.assets,
                    r.megapixels,
                    r.baseline_mp_per_s,
                    r.engine_mp_per_s
                );
            }
            out(&s);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what: BenchWhat::Tessellation { file, passes, json },
        } => bench_tessellation(&file, passes, json),
        Command::Bench {
            what: BenchWhat::H264 { files, runs },
        } => {
            for f in &files {
                let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
                let r = crate::playback::bench::h264_throughput(&bytes, runs)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                out(&format!(
                    "{}: {} frames of {}×{} px in {:.3} s (best of {runs}): {:.1} frames/s, {:.1} MP/s\n",
                    f.display(),
                    r.frames,
                    r.size_px[0],
                    r.size_px[1],
                    r.best_s,
                    r.fps(),
                    r.mp_per_s()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(feature = "gpu")]
fn bench_tessellation(file: &Path, passes: u32, json: bool) -> Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {file:?}"))?;
    let anim = crate::model::load::svga_animation(&bytes, &crate::format::DecodeLimits::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let ctx = crate::render::RenderContext::headless()?;
    let b = crate::cli::commands::tessellation_bench(&ctx, &anim, passes.max(1))?;
    if json {
        out(&format!("{}\n", serde_json::to_string_pretty(&b)?));
    } else {
        out(&format!(
            "{}: {} frames, {} distinct shapes, {} shapes and {} triangles per play; target {}x{} on {} ({})\n\
             display list + place:  cached {:>8.1} fps   re-tessellated {:>8.1} fps   ({:.1}x)\n\
             with GPU draw:         cached {:>8.1} fps   re-tessellated {:>8.1} fps   ({:.1}x)\n",
            file.display(),
            b.frames,
            b.distinct_shapes,
            b.shapes_per_play,
            b.triangles_per_play,
            b.target_px[0],
            b.target_px[1],
            ctx.adapter.name,
            ctx.adapter.backend,
            b.cached_list_fps,
            b.uncached_list_fps,
            b.cached_list_fps / b.uncached_list_fps.max(1e-9),
            b.cached_render_fps,
            b.uncached_render_fps,
            b.cached_render_fps / b.uncached_render_fps.max(1e-9),
        ));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "gpu")]
fn diff_drawn(req: &report::diff::DiffRequest, no_gpu: bool) -> Result<report::diff::DiffReport> {
    if no_gpu {
        return Ok(report::diff::run_diff(req, None)?);
    }
    let mut frames = crate::render::sink::GpuFrames {
        ctx: crate::render::RenderContext::headless()
            .context("no GPU adapter to draw frames; `--no-gpu` compares without them")?,
    };
    Ok(report::diff::run_diff(req, Some(&mut frames))?)
}

#[cfg(not(feature = "gpu"))]
fn diff_drawn(req: &report::diff::DiffRequest, _no_gpu: bool) -> Result<report::diff::DiffReport> {
    Ok(report::diff::run_diff(req, None)?)
}

#[cfg(feature = "gpu")]
fn smoke_drawn(
    req: &report::smoke::SmokeRequest,
    progress: &dyn Fn(&str, f64),
) -> Result<Result<report::smoke::SmokeReport, Vec<check::finding::Finding>>> {
    let mut drawer = crate::render::sink::GpuDrawer {
        ctx: crate::render::RenderContext::headless()
            .context("no GPU adapter; `--no-gpu` simulates without one")?,
        live: None,
    };
    Ok(report::smoke::run_smoke(req, &mut drawer, progress)?)
}

#[cfg(not(feature = "gpu"))]
fn smoke_drawn(
    req: &report::smoke::SmokeRequest,
    progress: &dyn Fn(&str, f64),
) -> Result<Result<report::smoke::SmokeReport, Vec<check::finding::Finding>>> {
    Ok(report::smoke::run_smoke(
        req,
        &mut report::smoke::Simulate,
        progress,
    )?)
}

#[cfg(not(feature = "gpu"))]
fn bench_tessellation(_file: &Path, _passes: u32, _json: bool) -> Result<ExitCode> {
    bail!("this build has no GPU renderer (feature `gpu`)")
}

/// Runs `smoke`: simulated always, drawn on the GPU unless `no_gpu` (or the build has no
/// renderer).
fn run_smoke_cmd(
    req: &report::smoke::SmokeRequest,
    no_gpu: bool,
    out_dir: Option<&Path>,
    format: Format,
) -> Result<ExitCode> {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(1000),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg:>16} {wide_bar} {percent}%")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |label: &str, f: f64| {
        bar.set_message(label.to_owned());
        bar.set_position((f * 1000.0) as u64);
    };
    let outcome = if no_gpu {
        report::smoke::run_smoke(req, &mut report::smoke::Simulate, &progress)?
    } else {
        smoke_drawn(req, &progress)?
    };
    bar.finish_and_clear();
    let report = match outcome {
        Ok(r) => r,
        Err(blocking) => {
            let mut s = String::from(
                "the bundle does not verify; nothing of it is played (fail closed):\n",
            );
            for f in &blocking {
                let _ = writeln!(s, "{}", report::text::finding_line(f));
            }
            out(&s);
            return Ok(ExitCode::from(1));
        }
    };
    let mut json = serde_json::to_string_pretty(&report)?;
    json.push('\n');
    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {dir:?}"))?;
        write_atomic(&dir.join("report.json"), json.as_bytes(), None)
            .with_context(|| format!("writing {:?}", dir.join("report.json")))?;
        write_atomic(
            &dir.join("report.html"),
            report::html::smoke_html(&report).as_bytes(),
            None,
        )
        .with_context(|| format!("writing {:?}", dir.join("report.html")))?;
    }
    match format {
        Format::Json => out(&json),
        Format::Junit => out(&report::ci::junit(
            "giftqa smoke",
            &report::ci::smoke_cases(&report),
        )),
        Format::Sarif => out(&report::ci::sarif(
            &report.findings,
            Some(&report.manifest_json),
        )),
        Format::Text => {
            let mut s = report::smoke::smoke_text(&report);
            if let Some(dir) = &out_dir {
                let _ = writeln!(
                    s,
                    "wrote {} and {}",
                    dir.join("report.json").display(),
                    dir.join("report.html").display()
                );
            }
            out(&s);
        }
    }
    Ok(exit_for(report.summary.errors > 0))
}

/// `giftqa calibrate`: measures this host into a one-tier tiers file named `host`, viewport
/// and budgets of `mid`.
fn calibrate(path: Option<&Path>, no_gpu: bool, validate: Option<&Path>) -> Result<ExitCode> {
    use crate::playback::tiers::Tier;
    let base = crate::playback::device::mid_constants();
    eprintln!("measuring the CPU…");
    let (mut c, mut measured) = crate::playback::calibrate::measure_cpu(&base);
    let mut adapter = "none (GPU constants are mid's)".to_owned();
    if !no_gpu {
        match gpu_constants(&mut c, &mut measured) {
            Ok(a) => adapter = a,
            Err(e) => eprintln!("no GPU measured ({e:#}); GPU constants are mid's"),
        }
    }
    // A constant measured on the GPU replaces its CPU-side estimate.
    let mut seen = std::collections::BTreeSet::new();
    measured.reverse();
    measured.retain(|m| seen.insert(m.name));
    measured.reverse();
    let mut tier: Tier = crate::playback::tiers::builtin_tiers()
        .into_iter()
        .nth(1)
        .context("built-in tiers")?;
    tier.name = "host".into();
    tier.device = Some(c);
    c.validate()
        .map_err(|e| anyhow::anyhow!("a measured constant is out of range: {e}"))?;
    let json = format!(
        "{}\n",
        serde_json::to_string_pretty(&serde_json::json!({ "tiers": [tier] }))?
    );
    let mut s = format!("giftqa calibrate: adapter {adapter}\n");
    for m in &measured {
        let _ = writeln!(s, "  {:<30} {:>14.3}  {}", m.name, m.value, m.how);
    }
    if let Some(bundle) = validate {
        validate_cmd(bundle, &tier, &mut s)?;
    }
    if let Some(p) = path {
        write_atomic(p, json.as_bytes(), None).with_context(|| format!("writing {p:?}"))?;
        let _ = writeln!(s, "wrote {}", p.display());
        out(&s);
    } else {
        eprint!("{s}");
        out(&json);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "gpu")]
fn validate_cmd(bundle: &Path, tier: &crate::playback::tiers::Tier, s: &mut String) -> Result<()> {
    let ctx = crate::render::RenderContext::headless()?;
    eprintln!("validating on {}…", bundle.display());
    let rows = crate::cli::commands::validate_device_model(&ctx, bundle, tier)?;
    let _ = writeln!(
        s,
        "\nvalidation on {}:\n  {:<62} {:>12} {:>12} {:>8}",
        bundle.display(),
        "metric",
        "simulated ms",
        "measured ms",
        "error"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<62} {:>12.1} {:>12.1} {:>+7.0}%",
            r.metric,
            r.simulated_ms,
            r.measured_ms,
            r.error * 100.0
        );
    }
    Ok(())
}

#[cfg(not(feature = "gpu"))]
fn validate_cmd(
    _bundle: &Path,
    _tier: &crate::playback::tiers::Tier,
    _s: &mut String,
) -> Result<()> {
    bail!("validation draws frames: this build has no GPU renderer (feature `gpu`)")
}

#[cfg(feature = "gpu")]
fn gpu_constants(
    c: &mut crate::playback::device::DeviceConstants,
    measured: &mut Vec<crate::playback::calibrate::Measured>,
) -> Result<String> {
    let ctx = crate::render::RenderContext::headless()?;
    eprintln!("measuring the GPU ({})…", ctx.adapter.name);
    measured.extend(crate::render::calibrate::measure_gpu(&ctx, c, 4)?);
    Ok(format!("{} ({})", ctx.adapter.name, ctx.adapter.backend))
}

#[cfg(not(feature = "gpu"))]
fn gpu_constants(
    _c: &mut crate::playback::device::DeviceConstants,
    _measured: &mut Vec<crate::playback::calibrate::Measured>,
) -> Result<String> {
    bail!("this build has no GPU renderer (feature `gpu`)")
}

/// The one clock reading of a command: `--now`, or the wall clock.
fn clock(now: Option<&str>) -> Result<jiff::Timestamp> {
    match now {
        Some(n) => parse_utc(n).with_context(|| format!("--now {n:?} is not YYYY-MM-DDTHH:MM:SSZ")),
        None => Ok(now_utc()),
    }
}

/// The tiers to use: a tiers file or the built-ins, filtered by name (`all` or none: every
/// tier).
fn pick_tiers(
    file: Option<&Path>,
    name: Option<&str>,
) -> Result<Vec<crate::playback::tiers::Tier>> {
    let tiers = match file {
        Some(f) => crate::playback::tiers::load_tiers(f)?,
        None => crate::playback::tiers::builtin_tiers(),
    };
    match name {
        None | Some("all") => Ok(tiers),
        Some(n) => {
            let names: Vec<String> = tiers.iter().map(|t| t.name.clone()).collect();
            let picked: Vec<_> = tiers.into_iter().filter(|t| t.name == n).collect();
            if picked.is_empty() {
                bail!("no tier {n:?}; known tiers: {}", names.join(", "));
            }
            Ok(picked)
        }
    }
}

fn load_manifest(bundle: &Path) -> Result<manifest::Manifest> {
    let mut rep = check::finding::Reporter::new();
    let src = BundleSource::open(bundle, ReadLimits::default(), &mut rep)?;
    let bytes = src
        .read(MANIFEST_FILE, manifest::MANIFEST_MAX_BYTES)
        .with_context(|| format!("{}: manifest.json", bundle.display()))?;
    let read = manifest::read_manifest(&bytes, &mut rep);
    if let Some(m) = read.manifest {
        Ok(m)
    } else {
        let first = rep
            .finish()
            .into_iter()
            .next()
            .map(|f| report::text::finding_line(&f))
            .unwrap_or_default();
        bail!(
            "{}: manifest.json has errors; run `giftqa check` ({first})",
            bundle.display()
        )
    }
}

fn rollout_of<'m>(
    m: &'m crate::bundle::manifest::Manifest,
    bundle: &Path,
) -> Result<&'m crate::bundle::manifest::Rollout> {
    m.rollout
        .as_ref()
        .with_context(|| format!("{}: the manifest has no rollout", bundle.display()))
}

fn run_rollout(action: RolloutAction) -> Result<ExitCode> {
    match action {
        RolloutAction::Gate {
            bundle,
            telemetry,
            format,
        } => {
            if matches!(format, Format::Junit | Format::Sarif) {
                bail!("rollout gate prints text or json");
            }
            let m = load_manifest(&bundle)?;
            let r = rollout_of(&m, &bundle)?;
            let rows = rollout::load_telemetry(&telemetry)?;
            let gates = rollout::judge(r, &rows);
            let rollback = gates
                .iter()
                .any(|g| g.decision == rollout::Decision::Rollback);
            match format {
                Format::Junit | Format::Sarif => {}
                Format::Json => {
                    #[derive(serde::Serialize)]
                    struct GateJson<'a> {
                        tool: report::json::Tool,
                        bundle_id: &'a str,
                        version: String,
                        stages: &'a [rollout::StageGate],
                    }
                    let mut s = serde_json::to_string_pretty(&GateJson {
                        tool: report::json::TOOL,
                        bundle_id: &m.bundle_id,
                        version: m.version.to_string(),
                        stages: &gates,
                    })?;
                    s.push('\n');
                    out(&s);
                }
                Format::Text => {
                    let mut s = format!("rollout gates for {} {}\n", m.bundle_id, m.version);
                    let _ = writeln!(
                        s,
                        "  {:<14} {:>8} {:>10}  reasons",
                        "stage", "decision", "sessions"
                    );
                    for g in &gates {
                        let d = match g.decision {
                            rollout::Decision::Promote => "promote",
                            rollout::Decision::Hold => "hold",
                            rollout::Decision::Rollback => "ROLLBACK",
                        };
                        let _ = writeln!(
                            s,
                            "  {:<14} {:>8} {:>10}  {}",
                            g.stage,
                            d,
                            g.sessions,
                            g.reasons.join("; ")
                        );
                    }
                    out(&s);
                }
            }
            Ok(exit_for(rollback))
        }
        RolloutAction::Bucket {
            bundle,
            user,
            region,
        } => {
            let m = load_manifest(&bundle)?;
            let r = rollout_of(&m, &bundle)?;
            let b = rollout::bucket(&r.salt, &m.bundle_id, &user);
            let stage = r
                .stages
                .iter()
                .find(|s| rollout::in_stage(s, &region, b))
                .map_or("none", |s| s.name.as_str());
            out(&format!(
                "user {user:?} region {region}: bucket {b}, first stage {stage}\n"
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn bench_hash(dir: &Path, runs: u32) -> Result<ExitCode> {
    let mut rep = check::finding::Reporter::new();
    let limits = ReadLimits {
        max_total_bytes: u64::MAX,
        max_entry_bytes: u64::MAX,
        max_files: usize::MAX,
    };
    let src = BundleSource::open(dir, limits, &mut rep)?;
    let listed: Vec<manifest::ListedFile> = src
        .files()
        .keys()
        .map(|p| manifest::ListedFile {
            asset: None,
            path: p.clone(),
            size: None,
            blake3: None,
            path_safe: true,
        })
        .collect();
    let mut best = f64::INFINITY;
    let mut bytes = 0;
    for _ in 0..runs.max(1) {
        let mut r = check::finding::Reporter::new();
        let t = Instant::now();
        bytes = integrity::verify_files(&src, &listed, &|_| {}, &mut r);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let mib = bytes as f64 / (1024.0 * 1024.0);
    out(&format!(
        "hashed {} files, {mib:.1} MiB in {best:.3} s (best of {runs}): {:.1} MiB/s\n",
        listed.len(),
        mib / best
    ));
    Ok(ExitCode::SUCCESS)
}
