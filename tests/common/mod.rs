//! Builders for test bundles made of real files from `../shared/assets`, and helpers to
//! break them in one specific way each.
//!
//! Without `../shared/assets` these tests skip with a message, unless `CI` is set, when the
//! missing folder is a failure.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::path::{Path, PathBuf};

use giftqa::check::{CheckOptions, CheckReport, run_check};
use jiff::Timestamp;
use serde_json::{Value, json};

/// `../shared/assets`, or `None` (with a message) when absent outside CI.
pub fn shared_assets() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/assets");
    if p.is_dir() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "../shared/assets is missing, and CI is set: real-file tests cannot be skipped"
    );
    eprintln!("skipping: ../shared/assets is missing");
    None
}

/// Skips the test (returns) when the shared assets are absent outside CI.
#[macro_export]
macro_rules! shared_or_skip {
    () => {
        match common::shared_assets() {
            Some(p) => p,
            None => return,
        }
    };
}

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo keyring.
pub fn keys() -> PathBuf {
    root().join("assets/demo-keys.json")
}

/// The demo fleet.
pub fn fleet() -> PathBuf {
    root().join("assets/demo-fleet.json")
}

/// The demo publisher's secret key.
pub fn publisher_key() -> PathBuf {
    root().join("assets/demo-keys/publisher.key")
}

/// The demo approver's secret key.
pub fn approver_key() -> PathBuf {
    root().join("assets/demo-keys/approver.key")
}

/// A fixed clock reading for deterministic checks.
pub fn now() -> Timestamp {
    giftqa::bundle::time::parse_utc("2026-11-22T00:00:00Z").expect("valid")
}

/// Real files used by [`Fixture::shared`]: (shared path, bundle path, id, format).
const FILES: [(&str, &str, &str, &str); 6] = [
    (
        "svga/SVGAPlayer-Web/heartbeat.svga",
        "effects/heartbeat.svga",
        "heartbeat",
        "svga",
    ),
    (
        "svga/SVGAPlayer-Android/alarm.svga",
        "effects/alarm.svga",
        "alarm",
        "svga",
    ),
    (
        "lottie/dotlottie-rs/assets/animations/lottie/bouncy_ball.json",
        "effects/bouncy.json",
        "bouncy",
        "lottie",
    ),
    (
        "animated-image/image-rs-image/tests/images/png/apng/ball.png",
        "effects/ball.png",
        "ball",
        "apng",
    ),
    (
        "animated-image/image-rs-image/tests/images/gif/anim/large-gif-anim-combine.gif",
        "effects/confetti.gif",
        "confetti",
        "gif",
    ),
    (
        "animated-image/image-rs-image/tests/images/webp/extended_images/anim.webp",
        "effects/spinner.webp",
        "spinner",
        "webp",
    ),
];

/// A bundle directory in a temporary folder, with its manifest as a JSON value to edit.
pub struct Fixture {
    /// Keeps the folder alive.
    pub tmp: tempfile::TempDir,
    /// The manifest to write with [`Fixture::seal`].
    pub manifest: Value,
}

impl Fixture {
    /// A valid bundle of six effects (SVGA 1.x and 2.x, Lottie, APNG, GIF, WebP) copied from
    /// `../shared/assets`, each falling back to a built-in effect, with a full rollout.
    pub fn shared(shared: &Path) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut assets = Vec::new();
        for (from, to, id, format) in FILES {
            let dst = tmp.path().join(to);
            std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
            std::fs::copy(shared.join(from), &dst).expect("copy shared asset");
            assets.push(json!({"id": id, "kind": "effect", "format": format, "files": [{"path": to}], "fallback": format!("builtin:{id}")}));
        }
        let manifest = json!({
            "format": "giftbundle/1",
            "bundle_id": "test.bundle",
            "version": "1.2.0",
            "created": "2026-11-20T10:00:00Z",
            "expires": "2027-01-31T00:00:00Z",
            "min_client": "5.0.0",
            "assets": assets,
            "rollout": {
                "salt": "t1",
                "stages": [
                    {"name": "canary", "percent_bp": 100, "regions": ["*"]},
                    {"name": "regional", "percent_bp": 2000, "regions": ["SG", "ID"]},
                    {"name": "global", "percent_bp": 10000, "regions": ["*"]}
                ],
                "gates": {"download_success_rate_min": 0.995, "integrity_failure_rate_max": 0.001,
                          "fallback_activation_ratio_max": 0.02, "crash_rate_delta_max": 0.0005,
                          "frame_drop_delta_max": 0.01, "min_sessions": 5000}
            }
        });
        let mut f = Self { tmp, manifest };
        f.seal();
        f
    }

    /// [`Fixture::shared`] with one more effect, `themes`: dotlottie-rs's
    /// `multi_anim_theme.lottie` playing its `circle` (an ellipse centred at (256, 125) at
    /// frame 0, filled by its colour slot `color`, grey (0.698, 0.714, 0.718) in the file;
    /// themes `red` and `yellow`).
    pub fn themed(shared: &Path) -> Self {
        let mut f = Self::shared(shared);
        std::fs::copy(
            shared
                .join("lottie/dotlottie-rs/assets/animations/dotlottie/v2/multi_anim_theme.lottie"),
            f.path("effects/themes.lottie"),
        )
        .expect("copy the themed dotLottie");
        f.manifest["assets"]
            .as_array_mut()
            .expect("assets")
            .push(json!({
                "id": "themes", "kind": "effect", "format": "dotlottie",
                "files": [{"path": "effects/themes.lottie"}], "fallback": "builtin:themes",
                "params": {"animation": "circle"}
            }));
        f.seal();
        f
    }

    /// A bundle of VAP effects from `../shared/assets/vap` (`(path under vap/, asset id)`),
    /// with the rollout and keys of [`Fixture::shared`]; `vapx` declares its fusion slots
    /// `sImg1` (image) and `sTxt1` (text).
    pub fn vap(shared: &Path, files: &[(&str, &str)]) -> Self {
        let mut f = Self::shared(shared);
        for old in f.manifest["assets"].as_array().expect("assets") {
            let path = old["files"][0]["path"].as_str().expect("path").to_owned();
            std::fs::remove_file(f.path(&path)).expect("remove");
        }
        let mut assets = Vec::new();
        for (rel, id) in files {
            let to = format!("effects/{id}.mp4");
            std::fs::copy(shared.join("vap").join(rel), f.path(&to)).expect("copy");
            let mut a = json!({
                "id": id, "kind": "effect", "format": "vap",
                "files": [{"path": to}], "fallback": format!("builtin:{id}")
            });
            if *id == "vapx" {
                a["slots"] = json!([
                    {"key": "sImg1", "type": "image"}, {"key": "sTxt1", "type": "text"}
                ]);
            }
            assets.push(a);
        }
        f.manifest["assets"] = Value::Array(assets);
        // The app reads the wall clock (or GIFTQA_NOW); this bundle stays valid past any
        // date a test run may see.
        f.manifest["expires"] = json!("2099-12-31T00:00:00Z");
        f.seal();
        f
    }

    /// A copy of the embedded demo bundle.
    pub fn demo() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        copy_dir(&root().join("assets/demo-bundle"), tmp.path());
        let manifest =
            serde_json::from_slice(&std::fs::read(tmp.path().join("manifest.json")).expect("read"))
                .expect("json");
        Self { tmp, manifest }
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// The path of a file inside the bundle.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// The asset with this id, to edit.
    pub fn asset(&mut self, id: &str) -> &mut Value {
        self.manifest["assets"]
            .as_array_mut()
            .expect("assets")
            .iter_mut()
            .find(|a| a["id"] == id)
            .expect("asset id")
    }

    /// Writes the manifest, fills sizes and hashes with `pack`, and signs it with the demo
    /// publisher key.
    pub fn seal(&mut self) {
        let text = serde_json::to_string_pretty(&self.manifest).expect("serialise");
        std::fs::write(self.path("manifest.json"), text).expect("write manifest");
        giftqa::bundle::pack::pack(self.dir()).expect("pack");
        let _ = std::fs::remove_file(self.path("manifest.sig"));
        giftqa::bundle::pack::sign(self.dir(), &publisher_key()).expect("sign");
        self.manifest =
            serde_json::from_slice(&std::fs::read(self.path("manifest.json")).expect("read"))
                .expect("json");
    }

    /// Options with the demo keyring and fleet and the fixed clock.
    #[expect(clippy::unused_self, reason = "reads as f.opts() beside f.check()")]
    pub fn opts(&self) -> CheckOptions {
        CheckOptions {
            keys: Some(keys()),
            fleet: Some(fleet()),
            ..CheckOptions::new(now())
        }
    }

    /// Runs `check` with the demo keyring and fleet.
    pub fn check(&self) -> CheckReport {
        self.check_with(&self.opts())
    }

    /// Runs `check` on the directory with these options.
    pub fn check_with(&self, opts: &CheckOptions) -> CheckReport {
        run_check(self.dir(), opts, &|_| {}).expect("check runs")
    }

    /// Zips the bundle directory into `name` inside a new temporary folder.
    pub fn zip(&self, name: &str) -> (tempfile::TempDir, PathBuf) {
        let out = tempfile::tempdir().expect("tempdir");
        let zpath = out.path().join(name);
        let mut w = zip::ZipWriter::new(std::fs::File::create(&zpath).expect("create"));
        let opts = zip::write::SimpleFileOptions::default();
        let mut files = Vec::new();
        walk(self.dir(), self.dir(), &mut files);
        files.sort();
        for rel in files {
            w.start_file(rel.as_str(), opts).expect("entry");
            std::io::Write::write_all(&mut w, &std::fs::read(self.dir().join(&rel)).expect("read"))
                .expect("write");
        }
        w.finish().expect("finish");
        (out, zpath)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(
                p.strip_prefix(root)
                    .expect("prefix")
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dst = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).expect("copy");
        }
    }
}

/// The codes of a report's findings.
pub fn codes(r: &CheckReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

/// Asserts a report holds a finding with this code and returns it.
#[track_caller]
pub fn expect_code<'a>(r: &'a CheckReport, code: &str) -> &'a giftqa::check::finding::Finding {
    r.findings
        .iter()
        .find(|f| f.code.as_str() == code)
        .unwrap_or_else(|| panic!("expected {code}, got {:#?}", r.findings))
}

/// Error codes of a report.
pub fn errors(r: &CheckReport) -> Vec<&'static str> {
    r.findings
        .iter()
        .filter(|f| f.severity == giftqa::check::finding::Severity::Error)
        .map(|f| f.code.as_str())
        .collect()
}

/// A headless render context, or `None` (with a message) when this machine has no adapter.
/// With `CI` set a missing adapter is a failure: GPU tests must run there.
#[cfg(feature = "gpu")]
/// `giftqa render BUNDLE --asset ASSET --frames FRAMES --keys (demo) --out OUT --now (fixed)`
/// with extra arguments: exit code, stdout, stderr.
pub fn render(
    bundle: &Path,
    asset: &str,
    frames: &str,
    out: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let keys = keys();
    let mut args = vec![
        "render",
        bundle.to_str().expect("utf-8 path"),
        "--asset",
        asset,
        "--frames",
        frames,
        "--keys",
        keys.to_str().expect("utf-8 path"),
        "--out",
        out.to_str().expect("utf-8 path"),
        "--now",
        "2026-12-01T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    giftqa(&args)
}

/// A straight-alpha pixel over a room's dark grey background (40, 40, 48), opaque.
#[must_use]
pub fn on_room(p: image::Rgba<u8>) -> image::Rgba<u8> {
    let a = f32::from(p[3]) / 255.0;
    let mix = |c: u8, bg: f32| (f32::from(c) * a + bg * (1.0 - a)).round() as u8;
    image::Rgba([mix(p[0], 40.0), mix(p[1], 40.0), mix(p[2], 48.0), 255])
}

pub fn gpu() -> Option<giftqa::render::RenderContext> {
    match giftqa::render::RenderContext::headless() {
        Ok(ctx) => Some(ctx),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "no GPU adapter, and CI is set: {e}"
            );
            eprintln!("skipping: no GPU adapter ({e})");
            None
        }
    }
}

/// The address-space limit hostile input is run under: 2 GiB, as a low-end phone's process.
pub const PROBE_ADDRESS_SPACE_KIB: u64 = 2 << 20;

/// Runs the giftqa binary as [`giftqa`] does, but under a 2 GiB address-space limit
/// (`ulimit -v`) and a 60 s timeout (`timeout`), and asserts it ended as a hostile input must:
/// exit 0, 1 or 2, within the time, and no panic on stderr.
///
/// # Panics
/// When the run timed out, was killed, crashed or panicked.
pub fn giftqa_bounded(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v {PROBE_ADDRESS_SPACE_KIB} && exec timeout -k 5 60 \"$@\""
        ))
        .arg("bounded")
        .arg(env!("CARGO_BIN_EXE_giftqa"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run giftqa under bash, ulimit and timeout");
    let code = out.status.code().unwrap_or(-1);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        matches!(code, 0..=2),
        "{args:?} ended with {:?} (124: over 60 s; 134/-1: aborted or killed): {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    (code, stdout, stderr)
}

/// `giftqa check BUNDLE --format json --no-cache` with the demo keyring and fleet and the
/// fixed clock, bounded as [`giftqa_bounded`]: the exit code and the finding codes.
pub fn check_bounded(bundle: &Path) -> (i32, Vec<String>) {
    let b = bundle.to_str().expect("UTF-8 path");
    let keys = keys();
    let fleet = fleet();
    let (code, out, err) = giftqa_bounded(&[
        "check",
        b,
        "--keys",
        keys.to_str().expect("UTF-8"),
        "--fleet",
        fleet.to_str().expect("UTF-8"),
        "--now",
        "2026-11-22T00:00:00Z",
        "--format",
        "json",
        "--no-cache",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let codes = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_owned())
        .collect();
    (code, codes)
}

/// Runs the `giftqa` binary in the project root: (exit code, stdout, stderr).
pub fn giftqa(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_giftqa"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run giftqa");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    )
}

/// Writes `kill.json` in `dir` killing `killed` of `bundle_id` from `issued` to `expires`,
/// and its envelope `kill.sig` signed by the demo publisher; returns the document's path.
pub fn signed_kill(
    dir: &Path,
    bundle_id: &str,
    killed: &[&str],
    issued: &str,
    expires: &str,
) -> PathBuf {
    let kill = dir.join("kill.json");
    let doc = json!({"format": "giftbundle-kill/1", "bundle_id": bundle_id, "seq": 1,
        "issued": issued, "expires": expires, "killed": killed});
    let bytes = serde_json::to_vec(&doc).expect("serialise");
    std::fs::write(&kill, &bytes).expect("write kill.json");
    let key = giftqa::bundle::signature::load_secret(&publisher_key()).expect("publisher key");
    let mut env = giftqa::bundle::signature::Envelope::default();
    giftqa::bundle::signature::add_signature(
        &mut env,
        &key,
        giftqa::bundle::signature::KILL_PREFIX,
        &bytes,
    );
    std::fs::write(
        dir.join("kill.sig"),
        serde_json::to_vec(&env).expect("serialise"),
    )
    .expect("write kill.sig");
    kill
}

/// Swaps the first two frames of the demo's `ball-sequence` (both files change, the total
/// size does not); the caller seals the manifest.
pub fn swap_ball_frames(f: &Fixture) {
    let (a, b) = (
        f.path("effects/ball-seq/ball_00.png"),
        f.path("effects/ball-seq/ball_01.png"),
    );
    let (ba, bb) = (
        std::fs::read(&a).expect("read"),
        std::fs::read(&b).expect("read"),
    );
    std::fs::write(&a, bb).expect("write");
    std::fs::write(&b, ba).expect("write");
}

/// Appends one PNG chunk (length, type, data, CRC-32) to `out`.
pub fn png_chunk(out: &mut Vec<u8>, ty: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("chunk size").to_be_bytes());
    out.extend_from_slice(&ty);
    out.extend_from_slice(data);
    let mut c = crc32fast::Hasher::new();
    c.update(&ty);
    c.update(data);
    out.extend_from_slice(&c.finalize().to_be_bytes());
}

/// A 1 × 1 palette PNG whose PLTE chunk is 4 bytes long (not a multiple of 3), 87 bytes in
/// all: the `png` crate panics on it; giftqa must turn that into `decode-failed`.
pub fn png_bad_palette() -> Vec<u8> {
    use std::io::Write as _;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, *b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 3, 0, 0, 0]);
    png_chunk(&mut out, *b"PLTE", &[255, 0, 0, 7]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&[0, 0]).expect("in memory");
    png_chunk(&mut out, *b"IDAT", &z.finish().expect("in memory"));
    png_chunk(&mut out, *b"IEND", &[]);
    out
}
