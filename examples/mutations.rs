//! `check` on seeded random mutations of real files: no mutation may panic, and the worst
//! time and peak memory of one check are reported (`bench/mutations.sh`, `docs/reliability.md`).
//!
//! ```text
//! cargo run --release --example mutations -- [DIR] [MUTATIONS] [SEED] [FIRST] [COUNT]
//! ```
//!
//! FIRST (default 0) skips the files before that index in sorted order, and COUNT (default
//! all) stops after that many, to resume or split a run: each file's mutations depend only on
//! the seed and its index.
//!
//! Every file under DIR (default `../shared/assets`) becomes the one asset of a bundle, with the
//! format its extension names (anything else is declared `png-sequence`, so it meets the
//! format sniffing). Each of MUTATIONS (default 1 000) copies of it is changed by 1 to 4 of:
//! flipping bits, overwriting a run with random bytes or with `0x00`/`0xFF`, a 32-bit field set
//! to 0, 2³¹ − 1 or 2³² − 1, truncation, a duplicated run, random bytes inserted, and in text
//! files a number replaced by `1e38`, `-1` or `1e300`. The manifest is resealed (size and
//! BLAKE3 of the mutated bytes), so every mutation reaches the decoders, and `check` runs
//! in-process, one at a time. Per check it measures the wall time and the peak resident memory
//! (`VmHWM`, reset through `/proc/self/clear_refs` before each check).
//!
//! A check slower than `MUTATIONS_SLOW_MS` (default 5 000) keeps its input in the temporary
//! folder and names it on stderr, as a panicking one does. `MUTATIONS_ONLY=I` checks only
//! mutation I of each file (to reproduce one).
//!
//! Prints one line per file (mutations, panics, worst time, worst peak RSS, the findings' codes
//! seen) and a total; exits 1 when any mutation panicked.

#![expect(clippy::print_stdout, reason = "the example prints its figures")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// splitmix64: a seeded generator with no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `data` in place.
fn mutate(data: &mut Vec<u8>, rng: &mut Rng, text: bool) {
    let len = data.len();
    if len == 0 {
        data.push(rng.next() as u8);
        return;
    }
    match rng.below(if text { 9 } else { 8 }) {
        0 => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let at = rng.below(len);
            let n = (1 + rng.below(64)).min(len - at);
            for b in &mut data[at..at + n] {
                *b = rng.next() as u8;
            }
        }
        2 => {
            let at = rng.below(len);
            let n = (1 + rng.below(64)).min(len - at);
            let v = if rng.below(2) == 0 { 0 } else { 0xFF };
            data[at..at + n].fill(v);
        }
        3 if len >= 4 => {
            let at = rng.below(len - 3);
            let v: u32 = [0, 0x7FFF_FFFF, 0xFFFF_FFFF][rng.below(3)];
            let bytes = if rng.below(2) == 0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            };
            data[at..at + 4].copy_from_slice(&bytes);
        }
        4 => data.truncate(rng.below(len)),
        5 => {
            let at = rng.below(len);
            let n = (1 + rng.below(4096)).min(len - at);
            let run = data[at..at + n].to_vec();
            let to = rng.below(len);
            data.splice(to..to, run);
        }
        6 => {
            let to = rng.below(len);
            let n = 1 + rng.below(32);
            let run: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(to..to, run);
        }
        7 if text => {
            // A number in the text, replaced by an extreme one.
            let digits: Vec<usize> = data
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            if let Some(&i) = digits.get(rng.below(digits.len())) {
                let end = data[i..]
                    .iter()
                    .position(|b| !(b.is_ascii_digit() || *b == b'.'))
                    .map_or(len, |n| i + n);
                let v: &[u8] = [&b"1e38"[..], b"-1", b"1e300"][rng.below(3)];
                data.splice(i..end, v.iter().copied());
            }
        }
        _ => {
            let i = rng.below(len);
            data[i] = data[i].wrapping_add(1);
        }
    }
}

/// The manifest `format` and file name for a file of the shared assets.
fn format_of(path: &Path) -> (&'static str, &'static str) {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svga") => ("svga", "effect.svga"),
        Some("json") => ("lottie", "effect.json"),
        Some("lottie") => ("dotlottie", "effect.lottie"),
        Some("gif") => ("gif", "effect.gif"),
        Some("webp") => ("webp", "effect.webp"),
        Some("mp4") => ("vap", "effect.mp4"),
        Some("png") => ("apng", "effect.png"),
        _ => ("png-sequence", "frame.png"),
    }
}

/// The peak resident set since the last reset, KiB (`VmHWM`).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resets `VmHWM` to the current resident set.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Keeps mutation `i` of file `n` in the temporary folder and says why on stderr.
fn keep_input(why: &str, file: &Path, n: usize, i: u64, data: &[u8]) {
    let name = file
        .file_name()
        .map(|f| f.to_string_lossy())
        .unwrap_or_default();
    let keep = std::env::temp_dir().join(format!("giftqa-mutation-{n}-{i}-{name}"));
    if let Err(e) = std::fs::write(&keep, data) {
        eprintln!(
            "{}: mutation {i} {why}; keeping it failed: {e}",
            file.display()
        );
        return;
    }
    eprintln!(
        "{}: mutation {i} {why}; input kept as {}",
        file.display(),
        keep.display()
    );
}

#[derive(Default)]
struct Worst {
    ms: f64,
    ms_at: String,
    rss_kib: u64,
    rss_at: String,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(args.first().map_or("../shared/assets", String::as_str));
    let per_file: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2026);
    let first: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(0);
    let only: Option<u64> = std::env::var("MUTATIONS_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    let slow_ms: f64 = std::env::var("MUTATIONS_SLOW_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000.0);
    let count: usize = args
        .get(4)
        .and_then(|a| a.parse().ok())
        .unwrap_or(usize::MAX);
    // Panics giftqa contains at a decoder boundary are findings (decode-failed), kept quiet;
    // any other panic is printed by the hook and counted below.
    giftqa::format::quiet_contained_panics();
    let now = giftqa::bundle::time::parse_utc("2026-12-01T00:00:00Z").expect("valid");
    let mut opts = giftqa::check::CheckOptions::new(now);
    opts.cache = None;
    let all = files(&dir);
    println!(
        "{} files under {}, {per_file} mutations each, seed {seed}",
        all.len(),
        dir.display()
    );
    let (mut total, mut panics) = (0u64, 0u64);
    let mut worst = Worst::default();
    let started = Instant::now();
    for (n, file) in all.iter().enumerate().skip(first).take(count) {
        let Ok(original) = std::fs::read(file) else {
            continue;
        };
        let (format, name) = format_of(file);
        let text = matches!(format, "lottie") || original.starts_with(b"{");
        let tmp = tempfile::tempdir().expect("tempdir");
        let bundle = tmp.path();
        let mut rng = Rng(seed ^ (n as u64).wrapping_mul(0xA24B_AED4_963E_E407));
        let (mut file_panics, mut file_ms, mut file_rss) = (0u64, 0f64, 0u64);
        let mut codes = BTreeSet::new();
        for i in 0..per_file {
            let mut data = original.clone();
            for _ in 0..=rng.below(4) {
                mutate(&mut data, &mut rng, text);
            }
            if only.is_some_and(|o| o != i) {
                continue;
            }
            std::fs::write(bundle.join(name), &data).expect("write");
            let manifest = serde_json::json!({
                "format": "giftbundle/1", "bundle_id": "mutation", "version": "1.0.0",
                "created": "2026-11-01T00:00:00Z", "expires": "2027-12-01T00:00:00Z",
                "min_client": "1.0.0",
                "assets": [{"id": "effect", "kind": "effect", "format": format,
                    "params": if format == "png-sequence" { serde_json::json!({"fps": 20}) } else { serde_json::json!({}) },
                    "files": [{"path": name, "size": data.len(),
                               "blake3": blake3::hash(&data).to_hex().to_string()}],
                    "fallback": "builtin:x"}]
            });
            std::fs::write(bundle.join("manifest.json"), manifest.to_string()).expect("write");
            reset_peak();
            let t = Instant::now();
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                giftqa::check::run_check(bundle, &opts, &|_| {}).map(|r| {
                    r.findings
                        .iter()
                        .map(|f| f.code.as_str())
                        .collect::<Vec<_>>()
                })
            }));
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let rss = peak_rss_kib();
            total += 1;
            match run {
                Ok(Ok(c)) => codes.extend(c),
                Ok(Err(e)) => {
                    codes.insert("could-not-run");
                    eprintln!("{}: mutation {i}: {e}", file.display());
                }
                Err(_) => {
                    file_panics += 1;
                    keep_input("panicked", file, n, i, &data);
                }
            }
            if ms > slow_ms {
                keep_input(&format!("took {ms:.0} ms"), file, n, i, &data);
            }
            file_ms = file_ms.max(ms);
            file_rss = file_rss.max(rss);
            if ms > worst.ms {
                worst.ms = ms;
                worst.ms_at = format!("{} #{i}", file.display());
            }
            if rss > worst.rss_kib {
                worst.rss_kib = rss;
                worst.rss_at = format!("{} #{i}", file.display());
            }
        }
        panics += file_panics;
        let rel = file.strip_prefix(&dir).unwrap_or(file);
        println!(
            "{:<70} {format:<12} {per_file:>5} mutations {file_panics:>2} panics  worst {file_ms:>8.1} ms {:>7.1} MiB  {}",
            rel.display(),
            file_rss as f64 / 1024.0,
            codes.into_iter().collect::<Vec<_>>().join(",")
        );
    }
    println!(
        "total: {total} checks in {:.0} s, {panics} panics; worst time {:.1} ms ({}), worst peak RSS {:.1} MiB ({})",
        started.elapsed().as_secs_f64(),
        worst.ms,
        worst.ms_at,
        worst.rss_kib as f64 / 1024.0,
        worst.rss_at
    );
    if panics > 0 {
        std::process::exit(1);
    }
}
