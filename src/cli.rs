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

/// Preview gift effects and sign off the asset bundles that carry them.
#[derive(Debug, Parser)]
#[command(name = "giftqa", version, about, long_about = None, arg_required_else_help = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for a terminal.
    #[default]
    Text,
    /// One JSON object on stdout (spec §11).
    Json,
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
    /// Staged rollout (spec §7): gate decisions and user buckets.
    Rollout {
        /// What to do.
        #[command(subcommand)]
        action: RolloutAction,
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
    match cli.command {
        Command::Check {
            bundle,
            keys,
            fleet,
            history,
            kill,
            now,
            format,
        } => {
            let now = match now {
                Some(n) => parse_utc(&n)
                    .with_context(|| format!("--now {n:?} is not YYYY-MM-DDTHH:MM:SSZ"))?,
                None => now_utc(),
            };
            let opts = CheckOptions {
                keys,
                fleet,
                history,
                kill,
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
            match format {
                Format::Json => out(&report::json::check_json(&report)?),
                Format::Text => out(&report::text::check_text(
                    &report,
                    &bundle.display().to_string(),
                )),
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
        Command::Bench {
            what: BenchWhat::Hash { dir, runs },
        } => bench_hash(&dir, runs),
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

fn run_rollout(action: RolloutAction) -> Result<ExitCode> {
    match action {
        RolloutAction::Gate {
            bundle,
            telemetry,
            format,
        } => {
            let m = load_manifest(&bundle)?;
            let r = m
                .rollout
                .as_ref()
                .with_context(|| format!("{}: the manifest has no rollout", bundle.display()))?;
            let rows = rollout::load_telemetry(&telemetry)?;
            let gates = rollout::judge(r, &rows);
            let rollback = gates
                .iter()
                .any(|g| g.decision == rollout::Decision::Rollback);
            match format {
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
            let r = m
                .rollout
                .as_ref()
                .with_context(|| format!("{}: the manifest has no rollout", bundle.display()))?;
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
