//! The desktop app (`giftqa view`), egui only: opening bundles off the UI thread, the asset
//! browser, the preview under a tier, the performance panel, bursts, the compatibility matrix
//! with kill switches, findings, and sign-off. Panels are `*_ui` functions; state changes go
//! through [`Command`]s applied in one place ([`GiftqaApp::apply`]).

pub mod load;
pub mod preview;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver};
use std::time::Instant;

use eframe::egui;
use egui::{Color32, RichText};

use crate::bundle::signoff::Waiver;
use crate::check::compat::{KillSet as _, Outcome, build_matrix};
use crate::check::finding::{Area, Finding, Severity};
use crate::playback::tiers::{Tier, builtin_tiers};
use crate::render::RenderContext;
use crate::render::sink::{LiveFrame, LiveView};
use crate::report::smoke::SmokeReport;
use load::{Loaded, Loading, ViewOptions};
use preview::Preview;

/// Colours of the app (one place).
pub mod theme {
    use eframe::egui::Color32;

    /// Primary effect plays.
    pub const PRIMARY: Color32 = Color32::from_rgb(46, 125, 50);
    /// A fallback plays.
    pub const FALLBACK: Color32 = Color32::from_rgb(245, 160, 0);
    /// Nothing plays.
    pub const HOLE: Color32 = Color32::from_rgb(198, 40, 40);
    /// Not delivered.
    pub const NOT_DELIVERED: Color32 = Color32::from_rgb(120, 120, 120);
    /// Error text.
    pub const ERROR: Color32 = Color32::from_rgb(211, 47, 47);
    /// Warning text.
    pub const WARNING: Color32 = Color32::from_rgb(230, 140, 0);
    /// Info text.
    pub const INFO: Color32 = Color32::from_rgb(120, 144, 156);
    /// The tier's frame budget line.
    pub const BUDGET: Color32 = Color32::from_rgb(229, 57, 53);
}

/// The main tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Preview and performance.
    Preview,
    /// Burst scenarios.
    Bursts,
    /// Compatibility matrix.
    Matrix,
    /// Findings.
    Findings,
    /// Sign-off.
    Signoff,
    /// What changed against another version of the bundle.
    Diff,
}

/// Preview background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    /// Dark grey.
    Dark,
    /// Light grey.
    Light,
    /// Checkerboard.
    Checker,
}

/// State changes, applied in one place.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open a bundle.
    Open(ViewOptions),
    /// Select an asset for the preview.
    Select(String),
    /// Switch the tier.
    Tier(usize),
    /// Kill or revive an effect.
    Kill(String, bool),
    /// Run a burst scenario.
    RunBurst(String),
    /// Set a dynamic slot's value (picture path or text; empty clears it) and replay.
    Slot(String, String),
    /// Preview a dotLottie effect (by asset id) with one of its v2 themes, or with the file's
    /// own slot values (`None`), and replay.
    Theme(String, Option<String>),
    /// Set a Lottie effect's colour, number or vector slot (asset id, slot id, value as
    /// `render --slot` takes it; empty gives it back its own value) and replay.
    Style(String, String, String),
    /// Sign the bundle off.
    SignOff,
    /// Compare the bundle open (NEW) with another version of it (OLD, the one users have).
    Diff(PathBuf),
}

/// A comparison with another version of the bundle.
enum DiffState {
    Idle,
    Running(Receiver<Result<crate::report::diff::DiffReport, crate::report::diff::DiffError>>),
    Done(Box<crate::report::diff::DiffReport>, Vec<DiffFrame>),
    Failed(String),
}

/// One frame of a changed effect, old and new, ready to show.
struct DiffFrame {
    label: String,
    old: egui::TextureHandle,
    new: egui::TextureHandle,
}

/// The latest look at a running burst, written by the burst's thread.
type LiveSlot = Arc<std::sync::Mutex<Option<LiveFrame>>>;

/// Why a burst run in the app did not produce a report.
#[derive(Debug, thiserror::Error)]
enum BurstError {
    /// The bundle has errors that stop playback (fail closed).
    #[error("the bundle does not verify ({0} errors)")]
    NotVerified(usize),
    /// The smoke run could not run.
    #[error(transparent)]
    Smoke(#[from] crate::report::smoke::SmokeError),
}

enum Burst {
    Idle,
    Running(Receiver<Result<SmokeReport, BurstError>>, String, LiveSlot),
    Done(Box<SmokeReport>),
    Failed(String),
}

enum SignoffState {
    Idle,
    Running(
        Receiver<
            Result<crate::check::signoff::ApproveOutcome, crate::check::signoff::SignoffError>,
        >,
    ),
    Done(String, bool),
}

/// The app's state.
pub struct GiftqaApp {
    /// Whether the system's CJK and Arabic fonts were added to egui's (first frame).
    fonts_installed: bool,
    loading: Option<Loading>,
    loaded: Option<Loaded>,
    load_error: Option<String>,
    recent: Vec<PathBuf>,
    /// The open tab.
    pub tab: Tab,
    selected: Option<String>,
    tiers: Vec<Tier>,
    tier: usize,
    render: Option<RenderContext>,
    render_error: Option<String>,
    preview: Option<Preview>,
    texture: Option<egui::TextureHandle>,
    /// The window's renderer, when it shares the preview's device: the preview's frame is
    /// registered with it as a native texture instead of being read back.
    egui_renderer: Option<EguiRenderer>,
    /// The preview's frame as a native texture, and whether a frame has been drawn into it.
    preview_native: Option<(egui::TextureId, bool)>,
    background: Background,
    kills: BTreeSet<String>,
    severity_filter: Option<Severity>,
    area_filter: Option<Area>,
    asset_filter: String,
    scenario: String,
    burst: Burst,
    burst_texture: Option<egui::TextureHandle>,
    /// The last look at a running burst, its pixels moved into `burst_texture`.
    burst_live: Option<LiveFrame>,
    /// Slot key → value typed in the preview (a picture path or a text).
    slot_inputs: BTreeMap<String, String>,
    /// The theme previewed for a dotLottie effect, by asset id.
    themes: BTreeMap<String, String>,
    /// Colour, number and vector slot values typed for a Lottie effect: asset id → slot id →
    /// value.
    styles: BTreeMap<String, BTreeMap<String, String>>,
    signoff_key: String,
    signoff_history: String,
    reasons: BTreeMap<(String, String), String>,
    signoff: SignoffState,
    /// The other version's path, as typed in the Diff tab.
    diff_other: String,
    diff: DiffState,
    status: String,
    queue: Vec<Command>,
    ui_frame_ms: std::collections::VecDeque<f64>,
    last_ui: Option<Instant>,
}

impl GiftqaApp {
    /// An app that opens `opts` in the background; `render` is the renderer to share (the
    /// window's wgpu device), created headless on first use when `None`.
    #[must_use]
    pub fn new(opts: ViewOptions, render: Option<RenderContext>) -> Self {
        let demo = ViewOptions::demo();
        let demo_key = demo
            .bundle
            .parent()
            .map(|p| p.join("demo-keys/approver.key").display().to_string())
            .unwrap_or_default();
        let mut app = Self {
            loading: None,
            loaded: None,
            load_error: None,
            recent: Vec::new(),
            tab: Tab::Preview,
            selected: None,
            tiers: builtin_tiers(),
            tier: 1,
            render,
            render_error: None,
            preview: None,
            texture: None,
            fonts_installed: false,
            egui_renderer: None,
            preview_native: None,
            background: Background::Checker,
            kills: BTreeSet::new(),
            severity_filter: None,
            area_filter: None,
            asset_filter: String::new(),
            scenario: "storm".to_owned(),
            burst: Burst::Idle,
            burst_texture: None,
            burst_live: None,
            slot_inputs: BTreeMap::new(),
            themes: BTreeMap::new(),
            styles: BTreeMap::new(),
            signoff_key: demo_key,
            signoff_history: "giftqa-history.json".to_owned(),
            reasons: BTreeMap::new(),
            signoff: SignoffState::Idle,
            diff_other: String::new(),
            diff: DiffState::Idle,
            status: String::new(),
            queue: Vec::new(),
            ui_frame_ms: std::collections::VecDeque::with_capacity(240),
            last_ui: None,
        };
        app.apply(Command::Open(opts));
        app
    }

    /// The app's what-if kills and the signed kills of the kill document in force.
    fn all_kills(&self) -> BTreeSet<String> {
        let signed = self
            .loaded
            .as_ref()
            .map(|l| l.signed_kills().0)
            .unwrap_or_default();
        self.kills.union(&signed).cloned().collect()
    }

    /// Options for opening another bundle with the keyring, fleet and history now in use.
    fn with_current_sides(&self, bundle: PathBuf) -> ViewOptions {
        let sides = self
            .loaded
            .as_ref()
            .map(|l| l.opts.clone())
            .unwrap_or_default();
        ViewOptions { bundle, ..sides }
    }

    /// Sets the approver key and history file the sign-off tab uses.
    pub fn set_signoff_paths(&mut self, key: &std::path::Path, history: &std::path::Path) {
        self.signoff_key = key.display().to_string();
        self.signoff_history = history.display().to_string();
    }

    /// Queues a command for the end of this UI pass.
    pub fn command(&mut self, c: Command) {
        self.queue.push(c);
    }

    /// The loaded bundle, once ready.
    #[must_use]
    pub fn loaded(&self) -> Option<&Loaded> {
        self.loaded.as_ref()
    }

    /// The preview, when an effect plays.
    #[must_use]
    pub fn preview(&self) -> Option<&Preview> {
        self.preview.as_ref()
    }

    /// UI frame times so far, ms.
    #[must_use]
    pub fn ui_frame_ms(&self) -> Vec<f64> {
        self.ui_frame_ms.iter().copied().collect()
    }

    /// Whether a load is still running.
    #[must_use]
    pub fn is_loading(&self) -> bool {
        self.loading.is_some()
    }

    fn renderer(&mut self) -> Option<RenderContext> {
        if self.render.is_none() && self.render_error.is_none() {
            match RenderContext::headless() {
                Ok(r) => self.render = Some(r),
                Err(e) => self.render_error = Some(e.to_string()),
            }
        }
        self.render.clone()
    }

    /// Applies one command.
    pub fn apply(&mut self, c: Command) {
        match c {
            Command::Open(opts) => {
                self.recent.retain(|p| *p != opts.bundle);
                self.recent.insert(0, opts.bundle.clone());
                self.recent.truncate(8);
                self.loaded = None;
                self.preview = None;
                self.selected = None;
                self.kills.clear();
                self.burst = Burst::Idle;
                self.signoff = SignoffState::Idle;
                self.load_error = None;
                self.status = format!("opening {}", opts.bundle.display());
                self.loading = Some(load::start(opts));
            }
            Command::Select(id) => {
                self.selected = Some(id);
                self.restart_preview();
            }
            Command::Tier(i) => {
                self.tier = i.min(self.tiers.len().saturating_sub(1));
                self.restart_preview();
            }
            Command::Kill(id, on) => {
                if on {
                    self.kills.insert(id);
                } else {
                    self.kills.remove(&id);
                }
                self.restart_preview();
            }
            Command::Slot(key, value) => {
                if value.is_empty() {
                    self.slot_inputs.remove(&key);
                } else {
                    self.slot_inputs.insert(key, value);
                }
                self.restart_preview();
            }
            Command::Theme(id, theme) => {
                match theme {
                    Some(t) => self.themes.insert(id, t),
                    None => self.themes.remove(&id),
                };
                self.restart_preview();
            }
            Command::Style(id, key, value) => {
                let values = self.styles.entry(id).or_default();
                if value.trim().is_empty() {
                    values.remove(&key);
                } else {
                    values.insert(key, value);
                }
                self.restart_preview();
            }
            Command::RunBurst(name) => self.start_burst(name),
            Command::SignOff => self.start_signoff(),
            Command::Diff(old) => self.start_diff(old),
        }
    }

    /// What users of the selected tier see for an effect, with kills applied: the effect
    /// itself, a fallback asset, a builtin, or nothing.
    fn resolve_for_tier(&self, id: &str) -> Option<String> {
        let loaded = self.loaded.as_ref()?;
        let kills = self.all_kills();
        if !kills.is_killed(id) {
            return Some(id.to_owned());
        }
        let (m, fleet) = (loaded.manifest()?, loaded.fleet.as_ref()?);
        let matrix = build_matrix(m, fleet, &kills);
        let row = matrix.rows.iter().find(|r| r.asset == id)?;
        let tier = &self.tiers[self.tier].name;
        // The newest client on this tier stands for it.
        let (_, outcome) = matrix
            .cells
            .iter()
            .zip(&row.outcomes)
            .rfind(|(c, _)| &c.tier == tier)?;
        match outcome {
            Outcome::Fallback(f) => Some(f.clone()),
            _ => None,
        }
    }

    fn restart_preview(&mut self) {
        self.preview = None;
        self.texture = None;
        if let (Some((id, _)), Some(r)) = (self.preview_native.take(), &self.egui_renderer) {
            r.write().free_texture(&id);
        }
        let Some(id) = self.selected.clone() else {
            return;
        };
        let Some(shown) = self.resolve_for_tier(&id) else {
            self.status = format!(
                "{id} is killed and nothing plays in its place on tier {}",
                self.tiers[self.tier].name
            );
            return;
        };
        let Some(anim) = self
            .loaded
            .as_ref()
            .and_then(|l| l.anims.get(&shown))
            .cloned()
        else {
            let why = self
                .loaded
                .as_ref()
                .and_then(|l| l.anim_errors.get(&shown))
                .map_or(String::new(), |e| format!(": {e}"));
            self.status = if shown.starts_with("builtin:") {
                format!("{id} is killed: users see {shown}, compiled into the app")
            } else {
                format!("{shown} cannot be played{why}")
            };
            return;
        };
        let theme = self.themes.get(&shown).cloned();
        let styles = self.styles.get(&shown).filter(|s| !s.is_empty());
        let anim = if theme.is_none() && styles.is_none() {
            anim
        } else {
            match self.restyled(&shown, theme.as_deref(), styles) {
                Ok(a) => a,
                Err(e) => {
                    self.status = match &theme {
                        Some(t) => format!("theme {t} not applied to {shown}: {e}"),
                        None => format!("style slots not applied to {shown}: {e}"),
                    };
                    return;
                }
            }
        };
        let anim = match self.filled(&shown, anim) {
            Ok(a) => a,
            Err(e) => {
                self.status = format!("slots not filled: {e}");
                return;
            }
        };
        let Some(render) = self.renderer() else {
            return;
        };
        let tier = self.tiers[self.tier].clone();
        self.status = if shown == id {
            format!(
                "playing {id} on tier {}{}",
                tier.name,
                theme.map_or(String::new(), |t| format!(" with theme {t}"))
            )
        } else {
            format!(
                "{id} is killed: users on tier {} see its fallback {shown}",
                tier.name
            )
        };
        let mut preview = Preview::new(&render, &shown, anim, &tier);
        if let Some(r) = &self.egui_renderer {
            let id = r.write().register_native_texture(
                &render.device,
                preview.target_view(),
                eframe::egui_wgpu::wgpu::FilterMode::Linear,
            );
            self.preview_native = Some((id, false));
            preview.present = preview::Present::Native;
        }
        self.preview = Some(preview);
    }

    /// Shows the preview through the window's renderer: each frame is drawn into a texture
    /// that `renderer` samples, with no readback. `renderer` must share the device of the
    /// [`RenderContext`] the app was made with.
    #[must_use]
    pub fn with_egui_renderer(mut self, renderer: EguiRenderer) -> Self {
        self.egui_renderer = Some(renderer);
        self
    }

    /// Whether the preview's frames reach the window as a native texture (no readback).
    #[must_use]
    pub fn preview_is_native(&self) -> bool {
        self.preview_native.is_some()
            && self
                .preview
                .as_ref()
                .is_some_and(|p| p.present == preview::Present::Native)
    }

    /// The effect `id` loaded again with its dotLottie theme `theme` and the colour, number
    /// and vector slot values `styles` (slot id → value as `render --slot` takes it), from the
    /// bundle as its check verified it.
    fn restyled(
        &self,
        id: &str,
        theme: Option<&str>,
        styles: Option<&BTreeMap<String, String>>,
    ) -> Result<SharedAnimation, String> {
        let loaded = self.loaded.as_ref().ok_or("no bundle is open")?;
        let src = loaded.source.as_ref().ok_or("the bundle is read-only")?;
        let asset = loaded
            .manifest()
            .and_then(|m| m.asset(id))
            .ok_or_else(|| format!("no asset {id}"))?;
        let kinds = loaded.style_slots.get(id);
        let mut values = serde_json::Map::new();
        for (key, text) in styles.into_iter().flatten() {
            let kind = kinds
                .and_then(|k| k.iter().find(|s| &s.id == key))
                .map(|s| s.kind)
                .ok_or_else(|| format!("{id} has no colour, number or vector slot {key:?}"))?;
            let p = kind.parse(text).map_err(|e| format!("slot {key}: {e}"))?;
            values.insert(key.clone(), serde_json::json!({ "p": p }));
        }
        crate::model::load::load_animation_styled(
            asset,
            src,
            &crate::format::DecodeLimits::default(),
            theme,
            &values,
        )
        .map(Arc::new)
        .map_err(|e| e.to_string())
    }

    /// The animation with the slot values typed in the preview put in (unchanged when none
    /// is set).
    fn filled(
        &self,
        id: &str,
        anim: SharedAnimation,
    ) -> Result<SharedAnimation, crate::model::slots::SlotError> {
        let Some(asset) = self.loaded.as_ref().and_then(|l| l.manifest()?.asset(id)) else {
            return Ok(anim);
        };
        let wanted: Vec<(String, String)> = self
            .slot_inputs
            .iter()
            // An empty field leaves its slot as the file has it.
            .filter(|(k, v)| !v.is_empty() && asset.slots.iter().any(|s| &s.key == *k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if wanted.is_empty() {
            return Ok(anim);
        }
        let values = crate::model::slots::slot_values(asset, &wanted)?;
        let (filled, _) = crate::model::slots::fill_slots(
            &anim,
            &values,
            &crate::model::text::TextStyle::default(),
        )?;
        Ok(Arc::new(filled))
    }

    fn start_burst(&mut self, name: String) {
        let Some(loaded) = &self.loaded else { return };
        if loaded.read_only.is_some() {
            return;
        }
        let live: LiveSlot = Arc::default();
        let slot = Arc::clone(&live);
        let req = crate::report::smoke::SmokeRequest {
            bundle: loaded.opts.bundle.clone(),
            tiers: vec![self.tiers[self.tier].clone()],
            scenarios: vec![name.clone()],
            keys: loaded.opts.keys.clone(),
            fleet: loaded.opts.fleet.clone(),
            kill: loaded.opts.kill.clone(),
            kills: self.kills.iter().cloned().collect(),
            now: loaded.opts.clock(),
        };
        let view = LiveView {
            every: std::time::Duration::from_millis(100),
            sink: Arc::new(move |f| {
                if let Ok(mut s) = slot.lock() {
                    *s = Some(f);
                }
            }),
        };
        let render = self.render.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let outcome = match render {
                Some(ctx) => {
                    let mut drawer = crate::render::sink::GpuDrawer {
                        ctx,
                        live: Some(view),
                    };
                    crate::report::smoke::run_smoke(&req, &mut drawer, &|_, _| {})
                }
                None => crate::report::smoke::run_smoke(
                    &req,
                    &mut crate::report::smoke::Simulate,
                    &|_, _| {},
                ),
            };
            let r = match outcome {
                Ok(Ok(report)) => Ok(report),
                Ok(Err(findings)) => Err(BurstError::NotVerified(findings.len())),
                Err(e) => Err(BurstError::Smoke(e)),
            };
            // The app may have closed the burst view; nobody to tell then.
            tx.send(r).ok();
        });
        self.burst = Burst::Running(rx, name, live);
        self.burst_texture = None;
        self.burst_live = None;
    }

    fn start_signoff(&mut self) {
        let Some(loaded) = &self.loaded else { return };
        let waivers: Vec<Waiver> = self
            .reasons
            .iter()
            .filter(|(_, r)| !r.trim().is_empty())
            .map(|((code, asset), reason)| Waiver {
                code: code.clone(),
                asset: asset.clone(),
                reason: reason.trim().to_owned(),
            })
            .collect();
        let Some(keys) = loaded.opts.keys.clone() else {
            self.signoff = SignoffState::Done(
                "sign-off needs a keyring (open the bundle with --keys)".into(),
                false,
            );
            return;
        };
        let req = crate::check::signoff::ApproveRequest {
            bundle: loaded.opts.bundle.clone(),
            keys: vec![PathBuf::from(&self.signoff_key)],
            keyring: keys,
            history: PathBuf::from(&self.signoff_history),
            fleet: loaded.opts.fleet.clone(),
            waivers,
            now: loaded.opts.clock(),
            smoke: None,
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // The app may have closed the sign-off view; nobody to tell then.
            tx.send(crate::check::signoff::approve(&req)).ok();
        });
        self.signoff = SignoffState::Running(rx);
    }

    fn poll(&mut self, ui_ctx: &egui::Context) {
        if let Some(l) = &self.loading
            && let Ok(r) = l.result.try_recv()
        {
            self.loading = None;
            match r {
                Ok(loaded) => {
                    self.status = match &loaded.read_only {
                        Some(why) => format!("read-only: {why}"),
                        None => format!(
                            "{} assets, {} errors, {} warnings",
                            loaded.report.assets.len(),
                            loaded.report.summary.errors,
                            loaded.report.summary.warnings
                        ),
                    };
                    let first = loaded
                        .report
                        .assets
                        .iter()
                        .map(|a| a.id.clone())
                        .find(|id| loaded.anims.contains_key(id));
                    self.loaded = Some(loaded);
                    if let Some(id) = first {
                        self.apply(Command::Select(id));
                    }
                }
                Err(e) => {
                    self.status = format!("could not open: {e}");
                    self.load_error = Some(e.to_string());
                }
            }
        }
        if let Burst::Running(rx, _, _) = &self.burst
            && let Ok(r) = rx.try_recv()
        {
            self.burst = match r {
                Ok(report) => Burst::Done(Box::new(report)),
                Err(e) => Burst::Failed(e.to_string()),
            };
        }
        if let DiffState::Running(rx) = &self.diff
            && let Ok(r) = rx.try_recv()
        {
            self.diff = match r {
                Ok(report) => {
                    let frames = diff_frames(ui_ctx, &report);
                    DiffState::Done(Box::new(report), frames)
                }
                Err(e) => DiffState::Failed(e.to_string()),
            };
        }
        if let SignoffState::Running(rx) = &self.signoff
            && let Ok(r) = rx.try_recv()
        {
            self.signoff = match r {
                Ok(o) if o.signoff.is_some() => SignoffState::Done(
                    format!(
                        "Signed off: wrote {}",
                        o.written
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    true,
                ),
                Ok(o) => SignoffState::Done(
                    format!(
                        "Sign-off refused: {}",
                        o.findings
                            .iter()
                            .map(|f| format!("{} {}", f.code, f.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    false,
                ),
                Err(e) => SignoffState::Done(format!("Sign-off failed: {e}"), false),
            };
        }
    }

    /// Draws the whole app into `ui` (the window's root, or a test harness's).
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if !self.fonts_installed {
            // Whatever hosts the app (the window, a test harness), names typed into slot
            // fields need the system's CJK and Arabic glyphs.
            install_fallback_fonts(ui.ctx());
            self.fonts_installed = true;
        }
        let now = Instant::now();
        if let Some(last) = self.last_ui {
            if self.ui_frame_ms.len() == 240 {
                self.ui_frame_ms.pop_front();
            }
            self.ui_frame_ms
                .push_back(now.duration_since(last).as_secs_f64() * 1000.0);
        }
        self.last_ui = Some(now);
        self.poll(&ui.ctx().clone());
        if let Some(p) = &mut self.preview
            && p.tick()
        {
            if let Some((_, drawn)) = &mut self.preview_native {
                *drawn = true;
            } else if let Some((size, px)) = &p.pixels {
                show_pixels(ui.ctx(), &mut self.texture, "preview", *size, px);
            }
        }
        let busy = self.loading.is_some()
            || self.preview.as_ref().is_some_and(Preview::busy)
            || matches!(self.burst, Burst::Running(..))
            || matches!(self.signoff, SignoffState::Running(_))
            || matches!(self.diff, DiffState::Running(_));
        if busy {
            ui.ctx().request_repaint();
        }
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar_ui(ui));
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.label(RichText::new(&self.status).small());
        });
        egui::Panel::left("assets")
            .default_size(330.0)
            .show(ui, |ui| self.assets_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            Tab::Preview => self.preview_ui(ui),
            Tab::Bursts => self.bursts_ui(ui),
            Tab::Matrix => self.matrix_ui(ui),
            Tab::Findings => self.findings_ui(ui),
            Tab::Signoff => self.signoff_ui(ui),
            Tab::Diff => self.diff_ui(ui),
        });
        for c in std::mem::take(&mut self.queue) {
            self.apply(c);
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("giftqa");
            if ui.button("Open folder…").clicked()
                && let Some(dir) = rfd::FileDialog::new().pick_folder()
            {
                self.command(Command::Open(self.with_current_sides(dir)));
            }
            if ui.button("Open zip…").clicked()
                && let Some(f) = rfd::FileDialog::new()
                    .add_filter("bundle", &["zip"])
                    .pick_file()
            {
                self.command(Command::Open(self.with_current_sides(f)));
            }
            ui.menu_button("Recent", |ui| {
                for p in self.recent.clone() {
                    if ui.button(p.display().to_string()).clicked() {
                        self.command(Command::Open(self.with_current_sides(p)));
                    }
                }
            });
            if ui.button("Demo bundle").clicked() {
                self.command(Command::Open(ViewOptions::demo()));
            }
            ui.separator();
            for (tab, name) in [
                (Tab::Preview, "Preview"),
                (Tab::Bursts, "Bursts"),
                (Tab::Matrix, "Matrix"),
                (Tab::Findings, "Findings"),
                (Tab::Signoff, "Sign-off"),
                (Tab::Diff, "Diff"),
            ] {
                ui.selectable_value(&mut self.tab, tab, name);
            }
            ui.separator();
            let mut tier = self.tier;
            egui::ComboBox::from_label("Tier")
                .selected_text(self.tiers[self.tier].name.clone())
                .show_ui(ui, |ui| {
                    for (i, t) in self.tiers.iter().enumerate() {
                        ui.selectable_value(&mut tier, i, t.name.clone());
                    }
                });
            if tier != self.tier {
                self.command(Command::Tier(tier));
            }
        });
        // Drag and drop a bundle.
        let dropped: Vec<PathBuf> = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.command(Command::Open(self.with_current_sides(p)));
        }
    }

    fn assets_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(l) = &self.loading {
            let p = l.progress.load(Ordering::Relaxed) as f32 / 1000.0;
            ui.label("Opening the bundle…");
            ui.add(egui::ProgressBar::new(p).show_percentage());
            return;
        }
        if let Some(e) = &self.load_error {
            ui.colored_label(theme::ERROR, e);
            return;
        }
        let Some(loaded) = &self.loaded else { return };
        let r = &loaded.report;
        if let Some(b) = &r.bundle {
            ui.label(RichText::new(format!("{} {}", b.bundle_id, b.version)).strong());
        }
        ui.label(format!(
            "{} errors · {} warnings · {} infos",
            r.summary.errors, r.summary.warnings, r.summary.infos
        ));
        if let Some(why) = &loaded.read_only {
            ui.colored_label(theme::ERROR, format!("Read-only: {why}"));
        }
        ui.separator();
        let mut select = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for a in &r.assets {
                let badges: Vec<&Finding> = r
                    .findings
                    .iter()
                    .filter(|f| {
                        f.asset.as_deref() == Some(a.id.as_str()) && f.severity != Severity::Info
                    })
                    .collect();
                let selected = self.selected.as_deref() == Some(a.id.as_str());
                ui.horizontal(|ui| {
                    if ui.selectable_label(selected, &a.id).clicked() {
                        select = Some(a.id.clone());
                    }
                    for f in badges.iter().take(3) {
                        let colour = if f.severity == Severity::Error {
                            theme::ERROR
                        } else {
                            theme::WARNING
                        };
                        ui.colored_label(colour, "●")
                            .on_hover_text(format!("{}: {}", f.code, f.message));
                    }
                });
                let info = a.info.as_ref().map_or_else(
                    || "not decoded".to_owned(),
                    |i| {
                        format!(
                            "{}×{} px · {} frames · {:.0} fps · {:.1} MiB decoded",
                            i.width_px,
                            i.height_px,
                            i.frame_count,
                            i.fps,
                            i.decoded_bytes as f64 / 1_048_576.0
                        )
                    },
                );
                ui.label(
                    RichText::new(format!(
                        "{} · {:.1} KiB · {info}",
                        a.format.as_str(),
                        a.size_bytes as f64 / 1024.0
                    ))
                    .small()
                    .weak(),
                );
            }
        });
        if let Some(id) = select {
            self.command(Command::Select(id));
        }
    }

    fn preview_ui(&mut self, ui: &mut egui::Ui) {
        if let Some(e) = &self.render_error {
            ui.colored_label(theme::ERROR, e);
            return;
        }
        let slots: Vec<(String, bool)> = self
            .selected
            .as_ref()
            .and_then(|id| {
                self.loaded.as_ref()?.manifest()?.asset(id).map(|a| {
                    a.slots
                        .iter()
                        .map(|s| {
                            (
                                s.key.clone(),
                                s.slot_type == crate::bundle::manifest::SlotType::Image,
                            )
                        })
                        .collect()
                })
            })
            .unwrap_or_default();
        let Some(p) = &mut self.preview else {
            ui.label("Select an effect to preview it.");
            return;
        };
        ui.horizontal(|ui| {
            if ui
                .button(if p.playing { "Pause" } else { "Play" })
                .clicked()
            {
                p.playing = !p.playing;
            }
            if ui.button("Step").clicked() {
                p.step();
            }
            ui.checkbox(&mut p.looping, "Loop");
            ui.add(egui::Slider::new(&mut p.speed, 0.25..=2.0).text("speed"));
            ui.separator();
            ui.selectable_value(&mut self.background, Background::Dark, "Dark");
            ui.selectable_value(&mut self.background, Background::Light, "Light");
            ui.selectable_value(&mut self.background, Background::Checker, "Checker");
        });
        let last = p.anim.frame_count.saturating_sub(1);
        // Keyboard, as in the reference players' previewers: Space plays or pauses, arrows
        // step, Home and End jump to the first and last frame (not while typing).
        if ui.ctx().memory(|m| m.focused().is_none()) {
            let keys = ui.input(|i| {
                [
                    egui::Key::Space,
                    egui::Key::ArrowRight,
                    egui::Key::ArrowLeft,
                    egui::Key::Home,
                    egui::Key::End,
                ]
                .map(|k| i.key_pressed(k))
            });
            if keys[0] {
                p.playing = !p.playing;
            }
            if keys[1] {
                p.step();
            }
            let seek = if keys[2] {
                Some(p.frame().saturating_sub(1))
            } else if keys[3] {
                Some(0)
            } else if keys[4] {
                Some(last)
            } else {
                None
            };
            if let Some(f) = seek {
                p.playing = false;
                p.seek_frame(f);
            }
        }
        let mut frame = p.frame();
        ui.horizontal(|ui| {
            if ui
                .add(egui::Slider::new(&mut frame, 0..=last).text("frame"))
                .changed()
            {
                p.playing = false;
                p.seek_frame(frame);
            }
            ui.label(format!(
                "Frame {} / {} · {:.0} ms / {:.0} ms",
                p.frame(),
                last,
                p.t_ms,
                p.anim.duration_ms()
            ));
        });
        ui.label(format!(
            "{} on tier {} ({}×{})",
            p.asset, p.tier.name, p.tier.viewport_px[0], p.tier.viewport_px[1]
        ));
        if let Some(info) = self
            .loaded
            .as_ref()
            .and_then(|l| l.report.assets.iter().find(|a| a.id == p.asset))
            .and_then(|a| a.info.as_ref())
        {
            for t in &info.audio {
                let now = (t.start_frame..=t.end_frame).contains(&p.frame());
                let line = format!(
                    "{}{}",
                    crate::report::text::audio_line(t, info.fps),
                    if now { " (sounding now)" } else { "" }
                );
                if now {
                    ui.label(RichText::new(line).strong());
                } else {
                    ui.label(line);
                }
            }
        }
        for gap in p.anim.unsupported().describe() {
            ui.colored_label(theme::WARNING, format!("not drawn yet: {gap}"));
        }
        // A dotLottie effect's themes, as a player's setTheme applies them.
        if let Some(ids) = self
            .loaded
            .as_ref()
            .and_then(|l| l.themes.get(&p.asset))
            .filter(|ids| !ids.is_empty())
        {
            let current = self.themes.get(&p.asset).cloned();
            let mut picked = current.clone();
            ui.horizontal(|ui| {
                ui.label("Theme:");
                egui::ComboBox::from_id_salt("theme")
                    .selected_text(current.as_deref().unwrap_or("the file's own"))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut picked, None, "the file's own");
                        for t in ids {
                            ui.selectable_value(&mut picked, Some(t.clone()), t.as_str());
                        }
                    });
            });
            if picked != current {
                self.queue.push(Command::Theme(p.asset.clone(), picked));
            }
        }
        // A Lottie effect's colour, number and vector slots, as `render --slot` fills them.
        if let Some(slots) = self
            .loaded
            .as_ref()
            .and_then(|l| l.style_slots.get(&p.asset))
            .filter(|s| !s.is_empty())
        {
            let mut set = None;
            let typed = self.styles.entry(p.asset.clone()).or_default();
            ui.horizontal_wrapped(|ui| {
                ui.label("Style slots:");
                for slot in slots {
                    let mut value = typed.get(&slot.id).cloned().unwrap_or_default();
                    let label = ui.label(format!("{} ({})", slot.id, slot.kind.name()));
                    let edit = ui
                        .add(
                            egui::TextEdit::singleline(&mut value)
                                .desired_width(90.0)
                                .hint_text(match slot.kind {
                                    crate::format::lottie::PropertyKind::Color => "#RRGGBB",
                                    crate::format::lottie::PropertyKind::Scalar => "number",
                                    crate::format::lottie::PropertyKind::Vector => "x,y",
                                }),
                        )
                        .labelled_by(label.id);
                    if edit.changed() {
                        if value.trim().is_empty() {
                            typed.remove(&slot.id);
                        } else {
                            typed.insert(slot.id.clone(), value.clone());
                        }
                    }
                    if edit.lost_focus() {
                        set = Some((slot.id.clone(), value));
                    }
                }
            });
            if let Some((key, value)) = set {
                self.queue.push(Command::Style(p.asset.clone(), key, value));
            }
        }
        if !slots.is_empty() {
            let mut set = None;
            ui.horizontal_wrapped(|ui| {
                ui.label("Dynamic slots:");
                for (key, is_image) in &slots {
                    let value = self.slot_inputs.entry(key.clone()).or_default();
                    let label = ui.label(format!(
                        "{key} ({})",
                        if *is_image { "image" } else { "text" }
                    ));
                    let edit = ui
                        .add(
                            egui::TextEdit::singleline(value)
                                .desired_width(160.0)
                                .hint_text(if *is_image {
                                    "picture file"
                                } else {
                                    "sender name"
                                }),
                        )
                        .labelled_by(label.id);
                    if edit.lost_focus() {
                        set = Some((key.clone(), value.clone()));
                    }
                    if *is_image
                        && ui.button(format!("Choose {key}…")).clicked()
                        && let Some(f) = rfd::FileDialog::new()
                            .add_filter("image", &["png", "jpg", "jpeg", "webp", "gif"])
                            .pick_file()
                    {
                        set = Some((key.clone(), f.display().to_string()));
                    }
                }
            });
            if let Some((k, v)) = set {
                self.queue.push(Command::Slot(k, v));
            }
        }
        ui.columns(2, |cols| {
            let avail = cols[0].available_size();
            let vp = [p.tier.viewport_px[0] as f32, p.tier.viewport_px[1] as f32];
            let scale = (avail.x / vp[0]).min((avail.y - 10.0).max(100.0) / vp[1]);
            let size = egui::vec2(vp[0] * scale, vp[1] * scale);
            let (rect, _) = cols[0].allocate_exact_size(size, egui::Sense::hover());
            paint_background(cols[0].painter(), rect, self.background);
            let shown = match self.preview_native {
                Some((id, true)) => Some(id),
                Some((_, false)) => None,
                None => self.texture.as_ref().map(egui::TextureHandle::id),
            };
            if let Some(t) = shown {
                cols[0].painter().image(
                    t,
                    rect,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            }
            performance_ui(&mut cols[1], p);
        });
    }

    fn bursts_ui(&mut self, ui: &mut egui::Ui) {
        let read_only = self.loaded.as_ref().is_none_or(|l| l.read_only.is_some());
        ui.horizontal(|ui| {
            egui::ComboBox::from_label("Scenario")
                .selected_text(self.scenario.clone())
                .show_ui(ui, |ui| {
                    for s in crate::playback::scenario::BUILTIN_NAMES {
                        ui.selectable_value(&mut self.scenario, s.to_owned(), s);
                    }
                });
            let running = matches!(self.burst, Burst::Running(..));
            if ui
                .add_enabled(!read_only && !running, egui::Button::new("Run burst"))
                .clicked()
            {
                self.command(Command::RunBurst(self.scenario.clone()));
            }
        });
        match &self.burst {
            Burst::Idle => {
                ui.label("Pick a scenario and run it under the selected tier.");
            }
            Burst::Running(_, name, live) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!(
                        "Running {name} on tier {}…",
                        self.tiers[self.tier].name
                    ));
                });
                let look = live.lock().ok().and_then(|mut s| s.take());
                if let Some(mut f) = look {
                    let rgba = std::mem::take(&mut f.rgba);
                    show_pixels(ui.ctx(), &mut self.burst_texture, "burst", f.size, &rgba);
                    self.burst_live = Some(f);
                }
                if let Some(l) = &self.burst_live {
                    burst_live_ui(ui, l, self.burst_texture.as_ref(), self.background);
                }
            }
            Burst::Failed(e) => {
                ui.colored_label(theme::ERROR, e);
            }
            Burst::Done(report) => {
                for run in &report.runs {
                    let s = &run.stats;
                    ui.label(
                        RichText::new(format!("Burst {} on tier {}", run.scenario, run.tier))
                            .strong(),
                    );
                    ui.label(format!(
                        "{} frames at {:.1} fps (simulated) · main thread p50 {:.1} ms p95 {:.1} ms · GPU p95 {:.1} ms · jank {} · late {} · first frame p95 {:.0} ms · queue delay p95 {:.0} ms · device memory {:.1} MiB · sends {} completed {} dropped {}",
                        s.frames,
                        s.fps,
                        s.frame_main_ms.p50,
                        s.frame_main_ms.p95,
                        s.frame_gpu_ms.p95,
                        s.jank.over_budget,
                        s.late_frames,
                        s.first_frame_ms.p95,
                        s.queue_delay_ms.p95,
                        s.peak_memory.total() as f64 / 1_048_576.0,
                        s.sends,
                        s.completed,
                        s.dropped
                    ));
                    let points: Vec<[f64; 2]> = run
                        .frame_main_series_ms
                        .iter()
                        .zip(&run.frame_gpu_series_ms)
                        .enumerate()
                        .map(|(i, (m, g))| [i as f64, m.max(*g)])
                        .collect();
                    egui_plot::Plot::new(format!("burst-{}-{}", run.tier, run.scenario))
                        .height(160.0)
                        .show(ui, |plot| {
                            plot.line(egui_plot::Line::new(
                                "device frame cost, simulated (ms)",
                                points,
                            ));
                            plot.hline(
                                egui_plot::HLine::new("frame budget", s.frame_budget_ms)
                                    .color(theme::BUDGET),
                            );
                        });
                }
                for f in &report.findings {
                    ui.label(crate::report::text::finding_line(f));
                }
                if ui.button("Save report…").clicked()
                    && let Some(dir) = rfd::FileDialog::new().pick_folder()
                {
                    self.status = save_report(report, &dir);
                }
            }
        }
    }

    fn matrix_ui(&mut self, ui: &mut egui::Ui) {
        let Some(loaded) = &self.loaded else { return };
        let (Some(m), Some(fleet)) = (loaded.manifest(), loaded.fleet.as_ref()) else {
            ui.label("The matrix needs a readable manifest and a fleet file (--fleet).");
            return;
        };
        let (signed, seq) = loaded.signed_kills();
        let all: BTreeSet<String> = self.kills.union(&signed).cloned().collect();
        let matrix = build_matrix(m, fleet, &all);
        let mut kills = Vec::new();
        egui::ScrollArea::both().show(ui, |ui| {
            egui::Grid::new("matrix").striped(true).show(ui, |ui| {
                ui.label("effect");
                ui.label("kill switch");
                for c in &matrix.cells {
                    ui.label(RichText::new(format!("{}\n{}", c.client, c.tier)).small());
                }
                ui.end_row();
                for row in &matrix.rows {
                    ui.label(&row.asset);
                    if signed.is_killed(&row.asset) {
                        ui.horizontal(|ui| {
                            let mut on = true;
                            ui.add_enabled(false, egui::Checkbox::new(&mut on, format!("kill {}", row.asset)));
                            ui.label(RichText::new(format!("signed kill · seq {}", seq.unwrap_or(0))).small().color(theme::ERROR));
                        });
                    } else {
                        ui.horizontal(|ui| {
                            let mut killed = self.kills.contains(&row.asset);
                            if ui.checkbox(&mut killed, format!("kill {}", row.asset)).changed() {
                                kills.push((row.asset.clone(), killed));
                            }
                            if killed {
                                ui.label(RichText::new("what-if").small().weak());
                            }
                        });
                    }
                    for (c, o) in matrix.cells.iter().zip(&row.outcomes) {
                        let (text, colour, what) = match o {
                            Outcome::Primary => ("P", theme::PRIMARY, "primary".to_owned()),
                            Outcome::Fallback(f) => ("F", theme::FALLBACK, format!("fallback {f}")),
                            Outcome::Hole => ("H", theme::HOLE, "hole".to_owned()),
                            Outcome::NotDelivered => ("–", theme::NOT_DELIVERED, "not delivered".to_owned()),
                        };
                        let label = format!("{} {}/{}: {what}", row.asset, c.client, c.tier);
                        let resp = ui.label(RichText::new(text).color(Color32::WHITE).background_color(colour).monospace());
                        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &label));
                        resp.on_hover_text(format!("{label} · {:.2}% of users", c.share * 100.0));
                    }
                    ui.end_row();
                }
            });
            ui.separator();
            ui.label("P primary · F fallback · H hole (nothing plays) · – not delivered. Hover a cell for its share of users.");
            ui.label(match seq {
                Some(s) => format!("Signed kills come from the kill document in force (seq {s}); the kill switches are what-ifs: they change this view, the preview and bursts, nothing else."),
                None => "Kill switches are what-ifs: they change this view, the preview and bursts, nothing else. Open the app with --kill FILE to show a signed kill.".to_owned(),
            });
        });
        for (id, on) in kills {
            self.command(Command::Kill(id, on));
        }
    }

    fn findings_ui(&mut self, ui: &mut egui::Ui) {
        let Some(loaded) = &self.loaded else { return };
        ui.horizontal(|ui| {
            ui.label("Severity:");
            ui.selectable_value(&mut self.severity_filter, None, "all");
            ui.selectable_value(&mut self.severity_filter, Some(Severity::Error), "errors");
            ui.selectable_value(
                &mut self.severity_filter,
                Some(Severity::Warning),
                "warnings",
            );
            ui.selectable_value(&mut self.severity_filter, Some(Severity::Info), "infos");
            ui.separator();
            egui::ComboBox::from_label("Area")
                .selected_text(
                    self.area_filter
                        .map_or("all".to_owned(), |a| format!("{a:?}")),
                )
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.area_filter, None, "all");
                    for a in [
                        Area::Manifest,
                        Area::Archive,
                        Area::Integrity,
                        Area::Trust,
                        Area::History,
                        Area::Graph,
                        Area::Compatibility,
                        Area::Playback,
                        Area::Rollout,
                    ] {
                        ui.selectable_value(&mut self.area_filter, Some(a), format!("{a:?}"));
                    }
                });
            let label = ui.label("Asset:");
            ui.text_edit_singleline(&mut self.asset_filter)
                .labelled_by(label.id);
        });
        let mut select = None;
        egui::ScrollArea::vertical().show(ui, |ui| {
            for f in &loaded.report.findings {
                if self.severity_filter.is_some_and(|s| s != f.severity)
                    || self.area_filter.is_some_and(|a| a != f.code.area())
                {
                    continue;
                }
                if !self.asset_filter.is_empty()
                    && !f
                        .asset
                        .as_deref()
                        .unwrap_or("")
                        .contains(&self.asset_filter)
                {
                    continue;
                }
                let colour = match f.severity {
                    Severity::Error => theme::ERROR,
                    Severity::Warning => theme::WARNING,
                    Severity::Info => theme::INFO,
                };
                if ui
                    .add(
                        egui::Label::new(
                            RichText::new(crate::report::text::finding_line(f)).color(colour),
                        )
                        .sense(egui::Sense::click()),
                    )
                    .clicked()
                    && let Some(a) = &f.asset
                {
                    select = Some(a.clone());
                }
            }
        });
        if let Some(a) = select {
            self.tab = Tab::Preview;
            self.command(Command::Select(a));
        }
    }

    fn start_diff(&mut self, old: PathBuf) {
        let Some(loaded) = &self.loaded else { return };
        let req = crate::report::diff::DiffRequest {
            old,
            new: loaded.opts.bundle.clone(),
            keys: loaded.opts.keys.clone(),
            fleet: loaded.opts.fleet.clone(),
            now: loaded.opts.clock(),
        };
        let render = self.render.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let r = match render {
                Some(ctx) => {
                    let mut frames = crate::render::sink::GpuFrames { ctx };
                    crate::report::diff::run_diff(&req, Some(&mut frames))
                }
                None => crate::report::diff::run_diff(&req, None),
            };
            // The app may have moved on; nobody to tell then.
            tx.send(r).ok();
        });
        self.diff = DiffState::Running(rx);
    }

    fn diff_ui(&mut self, ui: &mut egui::Ui) {
        let Some(loaded) = &self.loaded else { return };
        let running = matches!(self.diff, DiffState::Running(_));
        ui.horizontal(|ui| {
            ui.label("Compare with the version users have:");
            ui.add(
                egui::TextEdit::singleline(&mut self.diff_other)
                    .hint_text("bundle directory or .zip")
                    .desired_width(360.0),
            );
            if ui.button("Browse…").clicked()
                && let Some(p) = rfd::FileDialog::new().pick_folder()
            {
                self.diff_other = p.display().to_string();
            }
            let go = ui.add_enabled(
                !running && !self.diff_other.trim().is_empty(),
                egui::Button::new("Compare"),
            );
            if go.clicked() {
                self.queue
                    .push(Command::Diff(PathBuf::from(self.diff_other.trim())));
            }
        });
        ui.label(
            RichText::new(format!(
                "NEW is the bundle open ({}); the keyring and fleet it was opened with apply to both.",
                loaded.opts.bundle.display()
            ))
            .small()
            .weak(),
        );
        ui.separator();
        match &self.diff {
            DiffState::Idle => {}
            DiffState::Running(_) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Checking both versions…");
                });
            }
            DiffState::Failed(e) => {
                ui.colored_label(theme::ERROR, e);
            }
            DiffState::Done(report, frames) => {
                let (added, removed, changed) = (
                    report.added.len(),
                    report.removed.len(),
                    report.changed.len(),
                );
                ui.label(
                    RichText::new(format!(
                        "Diff: {added} added, {removed} removed, {changed} changed, {} new finding(s), {} fixed",
                        report.new_findings.len(),
                        report.fixed_findings.len()
                    ))
                    .strong(),
                );
                egui::ScrollArea::vertical().show(ui, |ui| {
                    ui.label(RichText::new(crate::report::diff::diff_text(report)).monospace());
                    for f in frames {
                        ui.label(RichText::new(&f.label).strong());
                        ui.horizontal(|ui| {
                            ui.image((f.old.id(), f.old.size_vec2()));
                            ui.image((f.new.id(), f.new.size_vec2()));
                        });
                    }
                });
            }
        }
    }

    fn signoff_ui(&mut self, ui: &mut egui::Ui) {
        let Some(loaded) = &self.loaded else { return };
        let r = &loaded.report;
        ui.label(format!(
            "{} errors, {} warnings.",
            r.summary.errors, r.summary.warnings
        ));
        if r.summary.errors > 0 {
            ui.colored_label(theme::ERROR, "Sign-off is refused while an error stands.");
        }
        let warnings: Vec<(String, String, String)> = r
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| {
                (
                    f.code.as_str().to_owned(),
                    f.asset.clone().unwrap_or_default(),
                    f.message.clone(),
                )
            })
            .collect();
        if !warnings.is_empty() {
            ui.label("Each warning needs a waiver with a reason:");
        }
        for (code, asset, message) in warnings {
            let label = ui.label(format!("{code} {asset}: {message}"));
            let reason = self
                .reasons
                .entry((code.clone(), asset.clone()))
                .or_default();
            ui.add(
                egui::TextEdit::singleline(reason).hint_text(format!("reason for waiving {code}")),
            )
            .labelled_by(label.id);
        }
        ui.horizontal(|ui| {
            let label = ui.label("Approver key:");
            ui.text_edit_singleline(&mut self.signoff_key)
                .labelled_by(label.id);
        });
        ui.horizontal(|ui| {
            let label = ui.label("History file:");
            ui.text_edit_singleline(&mut self.signoff_history)
                .labelled_by(label.id);
        });
        let running = matches!(self.signoff, SignoffState::Running(_));
        if ui
            .add_enabled(!running, egui::Button::new("Sign off"))
            .clicked()
        {
            self.command(Command::SignOff);
        }
        match &self.signoff {
            SignoffState::Idle => {}
            SignoffState::Running(_) => {
                ui.spinner();
            }
            SignoffState::Done(msg, ok) => {
                ui.colored_label(if *ok { theme::PRIMARY } else { theme::ERROR }, msg);
            }
        }
    }
}

/// The changed effects' frames of a diff as textures: old beside new, labelled with the PSNR.
fn diff_frames(ctx: &egui::Context, report: &crate::report::diff::DiffReport) -> Vec<DiffFrame> {
    use base64::Engine as _;
    let texture = |name: String, b64: &str| {
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        let img = image::load_from_memory(&bytes).ok()?.into_rgba8();
        let size = [img.width() as usize, img.height() as usize];
        let color = egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw());
        Some(ctx.load_texture(name, color, egui::TextureOptions::LINEAR))
    };
    let mut out = Vec::new();
    for f in &report.frames {
        for p in &f.frames {
            let psnr = p
                .psnr_db
                .map_or_else(|| "identical".to_owned(), |db| format!("{db:.1} dB"));
            let (Some(old), Some(new)) = (
                texture(format!("diff-{}-{}-old", f.asset, p.frame_idx), &p.old_png),
                texture(format!("diff-{}-{}-new", f.asset, p.frame_idx), &p.new_png),
            ) else {
                continue;
            };
            out.push(DiffFrame {
                label: format!("{} frame {}: old | new, {psnr}", f.asset, p.frame_idx),
                old,
                new,
            });
        }
    }
    out
}

/// Puts premultiplied RGBA pixels of `size` into a texture, made on first use.
fn show_pixels(
    ctx: &egui::Context,
    texture: &mut Option<egui::TextureHandle>,
    name: &str,
    size: [usize; 2],
    rgba: &[u8],
) {
    let image = egui::ColorImage::from_rgba_premultiplied(size, rgba);
    match texture {
        Some(t) => t.set(image, egui::TextureOptions::LINEAR),
        None => *texture = Some(ctx.load_texture(name, image, egui::TextureOptions::LINEAR)),
    }
}

/// The live view of a running burst: progress, the queue and the frame, letterboxed.
fn burst_live_ui(
    ui: &mut egui::Ui,
    l: &LiveFrame,
    texture: Option<&egui::TextureHandle>,
    bg: Background,
) {
    ui.add(
        egui::ProgressBar::new((l.t_ms / l.length_ms.max(1.0)).clamp(0.0, 1.0) as f32)
            .text(format!("{:.1} s", l.t_ms / 1000.0)),
    );
    ui.label(format!(
        "Queue: {} playing · {} waiting · sent {} of {} · dropped {}",
        l.playing.len(),
        l.queued,
        l.sent,
        l.total,
        l.dropped
    ));
    if !l.playing.is_empty() {
        ui.label(RichText::new(format!("On screen: {}", l.playing.join(", "))).small());
    }
    let avail = ui.available_size();
    let vp = [l.size[0] as f32, l.size[1] as f32];
    let scale = (avail.x / vp[0]).min(avail.y.max(100.0) / vp[1]);
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(vp[0] * scale, vp[1] * scale),
        egui::Sense::hover(),
    );
    paint_background(ui.painter(), rect, bg);
    if let Some(t) = texture {
        ui.painter().image(
            t.id(),
            rect,
            egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
            Color32::WHITE,
        );
    }
}

/// System fonts egui falls back to for characters its own fonts lack (CJK and Arabic sender
/// names typed into slot fields), when installed.
const FALLBACK_FONTS: [&str; 4] = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/System/Library/Fonts/PingFang.ttc",
];

/// Adds the [`FALLBACK_FONTS`] found on this machine after egui's own fonts.
fn install_fallback_fonts(ctx: &egui::Context) {
    let mut defs = egui::FontDefinitions::default();
    let mut added = false;
    for path in FALLBACK_FONTS {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        defs.font_data
            .insert(path.to_owned(), Arc::new(egui::FontData::from_owned(bytes)));
        for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
            defs.families
                .entry(family)
                .or_default()
                .push(path.to_owned());
        }
        added = true;
    }
    if added {
        ctx.set_fonts(defs);
    }
}

fn save_report(report: &SmokeReport, dir: &std::path::Path) -> String {
    let json = match serde_json::to_string_pretty(report) {
        Ok(j) => j + "\n",
        Err(e) => return format!("could not save the report: {e}"),
    };
    let html = crate::report::html::smoke_html(report);
    let a = crate::fsutil::write_atomic(&dir.join("report.json"), json.as_bytes(), None);
    let b = crate::fsutil::write_atomic(&dir.join("report.html"), html.as_bytes(), None);
    match (a, b) {
        (Ok(()), Ok(())) => format!("saved report.json and report.html in {}", dir.display()),
        (Err(e), _) | (_, Err(e)) => format!("could not save the report: {e}"),
    }
}

fn paint_background(p: &egui::Painter, rect: egui::Rect, bg: Background) {
    match bg {
        Background::Dark => {
            p.rect_filled(rect, 0.0, Color32::from_gray(32));
        }
        Background::Light => {
            p.rect_filled(rect, 0.0, Color32::from_gray(230));
        }
        Background::Checker => {
            let cell = 16.0;
            p.rect_filled(rect, 0.0, Color32::from_gray(200));
            let (nx, ny) = (
                (rect.width() / cell).ceil() as i32,
                (rect.height() / cell).ceil() as i32,
            );
            for y in 0..ny {
                for x in (y % 2..nx).step_by(2) {
                    let min = rect.min + egui::vec2(x as f32 * cell, y as f32 * cell);
                    p.rect_filled(
                        egui::Rect::from_min_size(min, egui::vec2(cell, cell)).intersect(rect),
                        0.0,
                        Color32::from_gray(160),
                    );
                }
            }
        }
    }
}

fn performance_ui(ui: &mut egui::Ui, p: &Preview) {
    egui::CollapsingHeader::new(RichText::new("Performance").strong())
        .default_open(true)
        .show(ui, |ui| performance_body(ui, p));
}

fn performance_body(ui: &mut egui::Ui, p: &Preview) {
    let stats = |f: fn(&preview::FrameTimes) -> f64| {
        let v: Vec<f64> = p.history.iter().map(f).collect();
        let cur = v.last().copied().unwrap_or(0.0);
        let avg = if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        };
        let max = v.iter().copied().fold(0.0, f64::max);
        format!("{cur:.2} / {avg:.2} / {max:.2} ms")
    };
    egui::Grid::new("perf").show(ui, |ui| {
        ui.label("current / avg / max");
        ui.end_row();
        ui.label("Device main thread (simulated)");
        ui.label(stats(|t| t.device_main_ms));
        ui.end_row();
        ui.label("Device GPU (simulated)");
        ui.label(stats(|t| t.device_gpu_ms));
        ui.end_row();
        ui.label("Host render");
        ui.label(stats(|t| t.render_ms));
        ui.end_row();
        ui.label("Host present");
        ui.label(stats(|t| t.present_ms));
        ui.end_row();
        ui.label("First frame");
        ui.label(p.first_frame_ms.map_or("—".to_owned(), |ms| {
            format!("{ms:.0} ms (budget {:.0} ms)", p.tier.first_frame_budget_ms)
        }));
        ui.end_row();
        ui.label("Device memory");
        ui.label(format!(
            "{:.1} MiB of {:.0} MiB",
            p.texture_bytes() as f64 / 1_048_576.0,
            p.tier.texture_budget_bytes as f64 / 1_048_576.0
        ));
        ui.end_row();
        ui.label("Overdraw");
        ui.label(format!("{:.2} screen fills", p.overdraw));
        ui.end_row();
    });
    let series = |f: fn(&preview::FrameTimes) -> f64| -> Vec<[f64; 2]> {
        p.history
            .iter()
            .enumerate()
            .map(|(i, t)| [i as f64, f(t)])
            .collect()
    };
    let device = series(|t| t.device_main_ms.max(t.device_gpu_ms));
    let host = series(|t| t.render_ms + t.present_ms);
    egui_plot::Plot::new("preview-frame-times")
        .height(180.0)
        .allow_scroll(false)
        .legend(egui_plot::Legend::default())
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new(
                "device frame cost, simulated (ms)",
                device,
            ));
            plot.line(egui_plot::Line::new("host render + present (ms)", host));
            plot.hline(
                egui_plot::HLine::new("tier frame budget", p.tier.frame_budget_ms())
                    .color(theme::BUDGET),
            );
        });
    if let Some(e) = &p.error {
        ui.colored_label(theme::ERROR, e);
    }
}

impl eframe::App for GiftqaApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        GiftqaApp::ui(self, ui);
    }
}

/// Opens the desktop app on `opts` (the demo bundle when `None`).
///
/// # Errors
/// When no window can be opened (no display).
pub fn run(opts: Option<ViewOptions>) -> anyhow::Result<()> {
    let opts = opts.unwrap_or_else(ViewOptions::demo);
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("giftqa")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native(
        "giftqa",
        native,
        Box::new(move |cc| {
            // Share the window's wgpu device with the preview renderer.
            let egui_renderer = cc.wgpu_render_state.as_ref().map(|rs| rs.renderer.clone());
            let render = cc.wgpu_render_state.as_ref().map(|rs| {
                let info = rs.adapter.get_info();
                let adapter = crate::render::AdapterSummary {
                    name: info.name,
                    backend: format!("{:?}", info.backend),
                    device_type: format!("{:?}", info.device_type),
                    timestamps: false,
                };
                RenderContext::from_device(
                    rs.device.clone(),
                    rs.queue.clone(),
                    adapter,
                    rs.device.limits().max_texture_dimension_2d,
                )
            });
            let app = GiftqaApp::new(opts, render);
            Ok(Box::new(match egui_renderer {
                Some(r) => app.with_egui_renderer(r),
                None => app,
            }))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open a window: {e}"))
}

/// The window's egui renderer (eframe's `wgpu_render_state().renderer`).
pub type EguiRenderer = Arc<egui::mutex::RwLock<eframe::egui_wgpu::Renderer>>;

/// Keeps `Arc` in use for the loaded animations' type (re-exported for tests).
pub type SharedAnimation = Arc<crate::model::Animation>;
