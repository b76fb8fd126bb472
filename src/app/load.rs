//! Opening a bundle off the UI thread: check (hash, signatures, matrix), then load the
//! effects' animations, reporting progress through an atomic the UI reads.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};

use crate::bundle::manifest::{AssetKind, Manifest};
use crate::check::compat::Fleet;
use crate::check::{CheckOptions, CheckReport, Progress, check_and_open};
use crate::format::DecodeLimits;
use crate::model::Animation;
use crate::model::load::load_animation;

/// What the app opens: a bundle and the side files the team keeps beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Bundle directory or zip.
    pub bundle: PathBuf,
    /// Keyring.
    pub keys: Option<PathBuf>,
    /// Fleet file.
    pub fleet: Option<PathBuf>,
    /// Release history.
    pub history: Option<PathBuf>,
    /// Kill document (`kill.json`, its envelope beside it): its kills, when it verifies and is
    /// in force, are the signed kills the matrix shows.
    pub kill: Option<PathBuf>,
    /// The clock the app checks, smokes, signs off and diffs against (`view --now`); the wall
    /// clock (or `GIFTQA_NOW`) when `None`.
    pub now: Option<jiff::Timestamp>,
}

impl ViewOptions {
    /// The clock reading to use now: [`ViewOptions::now`], or the wall clock.
    #[must_use]
    pub fn clock(&self) -> jiff::Timestamp {
        self.now.unwrap_or_else(crate::bundle::time::now_utc)
    }

    /// The embedded demo bundle with its keyring and fleet, found beside the working directory
    /// or the crate.
    #[must_use]
    pub fn demo() -> Self {
        let base = [
            PathBuf::from("."),
            PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        ]
        .into_iter()
        .find(|b| b.join("assets/demo-bundle/manifest.json").exists())
        .unwrap_or_else(|| PathBuf::from("."));
        Self {
            bundle: base.join("assets/demo-bundle"),
            keys: Some(base.join("assets/demo-keys.json")),
            fleet: Some(base.join("assets/demo-fleet.json")),
            history: None,
            kill: None,
            now: None,
        }
    }
}

/// A bundle opened by the app.
#[derive(Debug)]
pub struct Loaded {
    /// What was opened.
    pub opts: ViewOptions,
    /// The full check report.
    pub report: CheckReport,
    /// The fleet, when given.
    pub fleet: Option<Fleet>,
    /// Effects' animations (empty when the bundle is read-only).
    pub anims: BTreeMap<String, Arc<Animation>>,
    /// Why an effect's animation could not be loaded, by asset id.
    pub anim_errors: BTreeMap<String, String>,
    /// Why nothing of the bundle plays, when it does not verify (fail closed).
    pub read_only: Option<String>,
    /// The bundle as its check verified it (pinned to the verified digests), to load an
    /// effect again with a dotLottie theme; `None` when read-only.
    pub source: Option<crate::bundle::source::BundleSource>,
    /// The v2 themes of each dotLottie effect that has some, by asset id.
    pub themes: BTreeMap<String, Vec<String>>,
    /// The colour, number and vector slots of each Lottie effect that has some, by asset id.
    pub style_slots: BTreeMap<String, Vec<crate::format::StyleSlot>>,
}

impl Loaded {
    /// The typed manifest, when it was clean.
    #[must_use]
    pub fn manifest(&self) -> Option<&Manifest> {
        self.report.manifest.as_ref()
    }

    /// The effects a verified kill document in force kills (spec §6), with its `seq`; empty
    /// without one (a `kill-invalid` document kills nothing).
    #[must_use]
    pub fn signed_kills(&self) -> (std::collections::BTreeSet<String>, Option<u64>) {
        match &self.report.kill {
            Some(k) if k.in_force => (k.killed.iter().cloned().collect(), Some(k.seq)),
            _ => (std::collections::BTreeSet::new(), None),
        }
    }
}

/// A load in progress.
pub struct Loading {
    /// Per-mille of hashing done (0–1000).
    pub progress: Arc<AtomicU64>,
    /// The result, once ready.
    pub result: Receiver<Result<Loaded, LoadError>>,
}

/// Starts loading on a background thread.
#[must_use]
pub fn start(opts: ViewOptions) -> Loading {
    let progress = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let p = Arc::clone(&progress);
    std::thread::spawn(move || {
        let _ = tx.send(load(opts, &p));
    });
    Loading {
        progress,
        result: rx,
    }
}

/// Why a bundle cannot be opened in the app at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The check could not run (the bundle or a side file is unreadable).
    #[error(transparent)]
    Check(#[from] crate::check::CheckError),
    /// The fleet file does not load.
    #[error(transparent)]
    Fleet(#[from] crate::check::compat::FleetError),
    /// The bundle cannot be opened for playback.
    #[error(transparent)]
    Source(#[from] crate::bundle::source::SourceError),
}

/// Loads a bundle (blocking): check, then animations.
///
/// # Errors
/// [`LoadError`] when the bundle or a side file cannot be read at all.
pub fn load(opts: ViewOptions, progress: &AtomicU64) -> Result<Loaded, LoadError> {
    let check_opts = CheckOptions {
        keys: opts.keys.clone(),
        fleet: opts.fleet.clone(),
        history: opts.history.clone(),
        kill: opts.kill.clone(),
        ..CheckOptions::new(opts.clock())
    };
    let total = AtomicU64::new(1);
    let done = AtomicU64::new(0);
    let (report, src) = check_and_open(&opts.bundle, &check_opts, &|p| match p {
        Progress::HashStart(t) => total.store(t.max(1), Ordering::Relaxed),
        Progress::Hashed(n) => {
            let d = done.fetch_add(n, Ordering::Relaxed) + n;
            progress.store(
                d * 900 / total.load(Ordering::Relaxed).max(1),
                Ordering::Relaxed,
            );
        }
        Progress::HashDone => progress.store(900, Ordering::Relaxed),
    })?;
    let fleet = opts.fleet.as_deref().map(Fleet::load).transpose()?;
    let blocking = report.blocking_findings().count();
    let mut anims = BTreeMap::new();
    let mut anim_errors = BTreeMap::new();
    let mut themes = BTreeMap::new();
    let mut style_slots = BTreeMap::new();
    let read_only = if blocking > 0 {
        Some(format!(
            "{blocking} error(s) in the manifest, archive, integrity or trust areas: nothing of this bundle is played (fail closed)"
        ))
    } else if let Some(m) = &report.manifest {
        for a in m.assets.iter().filter(|a| a.kind == AssetKind::Effect) {
            match load_animation(a, &src, &DecodeLimits::default()) {
                Ok(anim) => {
                    anims.insert(a.id.clone(), Arc::new(anim));
                }
                Err(e) => {
                    anim_errors.insert(a.id.clone(), e.to_string());
                }
            }
            // The check read the archive's themes and slots already.
            if let Some(info) = report
                .assets
                .iter()
                .find(|r| r.id == a.id)
                .and_then(|r| r.info.as_ref())
            {
                if !info.themes.is_empty() {
                    themes.insert(a.id.clone(), info.themes.clone());
                }
                if !info.style_slots.is_empty() {
                    style_slots.insert(a.id.clone(), info.style_slots.clone());
                }
            }
        }
        None
    } else {
        Some("the manifest could not be read".to_owned())
    };
    progress.store(1000, Ordering::Relaxed);
    Ok(Loaded {
        opts,
        report,
        fleet,
        anims,
        anim_errors,
        source: read_only.is_none().then_some(src),
        read_only,
        themes,
        style_slots,
    })
}
