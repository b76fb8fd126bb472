//! The one playback engine (spec §9), GPU-free and generic over a [`FrameSink`]: it serves
//! `smoke` (a cost sink or the renderer), `render` and the app's preview alike.
//!
//! The engine runs on a **virtual clock** in simulated device time. Each tick is a vsync of
//! the tier: due sends are admitted (the burst queue: `max_concurrent`, FIFO, `queue_limit`
//! drops), each playing instance's clock picks its frame, decode jobs for this frame and the
//! look-ahead go to the tier's `decode_threads` simulated workers (each job's time comes from
//! the device constants and the image's pixels), finished decodes become resident under the
//! device-memory budget (least recently used evicted first, this frame's images pinned), and
//! every instance whose frame content is resident is presented. A frame whose content is not
//! ready by its deadline is **late**. The frame's work is counted exactly ([`FrameWork`]) and
//! the tier's constants turn it into main-thread and GPU time; a frame over the budget is
//! **janky** and delays the next vsync. Nothing here reads the host's clock, so the same
//! inputs give the same run on any machine.
//!
//! A sink that draws pixels ([`FrameSink::wants_pixels`]) gets decoded images from host decode
//! threads; the simulation decides *when* an image is ready, the host only *what* it holds.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use image::RgbaImage;
use serde::{Deserialize, Serialize};

use super::cache::BudgetLru;
use super::device::{
    DeviceConstants, FrameWork, ResidentBytes, draw_work, frame_problem, properties_at,
};
use super::scenario::{Admit, Scenario, Scheduler, expand};
use super::stats::{Jank, Summary, summarize};
use super::tiers::{Tier, fit_contain};
use super::{Placed, place};
use crate::format::{DecodeError, DecodeLimits};
use crate::model::load::FrameDecoder;
use crate::model::{Animation, Content, frame_at};

/// A texture key: (instance slot, image index).
pub type TextureKey = (u32, usize);

/// Longest a scenario without a duration (`single`) may run, simulated ms.
pub const MAX_RUN_MS: u64 = 180_000;
/// How far ahead frames are decoded, ms of playback.
pub const LOOKAHEAD_MS: f64 = 400.0;
/// Frames of figures a looping run (the preview) keeps before starting its series again.
pub const MAX_LOOPING_SERIES: usize = 10_000;
/// Display lists kept for reuse within a run; past it the memo starts again.
pub const MAX_MEMO_FRAMES: usize = 8192;

/// Why a sink could not take a frame or an image (the GPU failed, a texture too large for the
/// host adapter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SinkError(pub String);

/// The state of the burst queue at a presented frame.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueState {
    /// Effect ids on screen, oldest first.
    pub playing: Vec<String>,
    /// Sends waiting.
    pub queued: usize,
    /// Sends made so far.
    pub sent: usize,
    /// Sends in the scenario.
    pub total: usize,
    /// Sends dropped so far.
    pub dropped: usize,
    /// Scenario length, simulated ms (the cap when it runs until its queue drains).
    pub length_ms: f64,
}

/// One presented frame, as a sink receives it.
#[derive(Debug)]
pub struct Presented<'a> {
    /// Simulated time of the vsync, ms after the scenario started.
    pub t_ms: f64,
    /// What to draw: each instance's slot and placed commands, oldest first.
    pub layers: &'a [(u32, &'a [Placed])],
    /// The frame's work.
    pub work: &'a FrameWork,
    /// Simulated main-thread time, ms.
    pub main_ms: f64,
    /// Simulated GPU time, ms.
    pub gpu_ms: f64,
    /// The queue.
    pub queue: &'a QueueState,
}

/// Where the engine's frames go: pixels (the renderer), nothing but costs, or a record.
pub trait FrameSink {
    /// Whether the sink needs decoded pixels (then host threads decode them).
    fn wants_pixels(&self) -> bool {
        false
    }

    /// A decoded straight-alpha image became resident.
    ///
    /// # Errors
    /// [`SinkError`] when the sink cannot hold it.
    fn upload(&mut self, key: TextureKey, image: RgbaImage) -> Result<(), SinkError> {
        let _ = (key, image);
        Ok(())
    }

    /// An image was evicted (or its instance ended).
    fn evict(&mut self, key: TextureKey) {
        let _ = key;
    }

    /// A frame is presented.
    ///
    /// # Errors
    /// [`SinkError`] when the sink fails to draw it.
    fn present(&mut self, frame: &Presented<'_>) -> Result<(), SinkError>;
}

/// A sink that takes only costs: the simulation without any adapter (`smoke --no-gpu`).
#[derive(Debug, Default, Clone, Copy)]
pub struct CostSink;

impl FrameSink for CostSink {
    fn present(&mut self, _frame: &Presented<'_>) -> Result<(), SinkError> {
        Ok(())
    }
}

/// One frame as a [`RecordingSink`] keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedFrame {
    /// Simulated time, ms.
    pub t_ms: f64,
    /// Each instance drawn: slot and number of placed commands.
    pub layers: Vec<(u32, usize)>,
    /// Simulated main-thread time, ms.
    pub main_ms: f64,
    /// Simulated GPU time, ms.
    pub gpu_ms: f64,
    /// Bytes uploaded.
    pub uploaded_bytes: u64,
}

/// A sink that records what it is given (tests).
#[derive(Debug, Default, Clone)]
pub struct RecordingSink {
    /// Frames presented.
    pub frames: Vec<RecordedFrame>,
    /// Uploads, in order.
    pub uploads: Vec<TextureKey>,
    /// Evictions, in order.
    pub evictions: Vec<TextureKey>,
    /// Ask for pixels (to exercise the host decode path).
    pub pixels: bool,
}

impl FrameSink for RecordingSink {
    fn wants_pixels(&self) -> bool {
        self.pixels
    }

    fn upload(&mut self, key: TextureKey, _image: RgbaImage) -> Result<(), SinkError> {
        self.uploads.push(key);
        Ok(())
    }

    fn evict(&mut self, key: TextureKey) {
        self.evictions.push(key);
    }

    fn present(&mut self, f: &Presented<'_>) -> Result<(), SinkError> {
        self.frames.push(RecordedFrame {
            t_ms: f.t_ms,
            layers: f.layers.iter().map(|(s, p)| (*s, p.len())).collect(),
            main_ms: f.main_ms,
            gpu_ms: f.gpu_ms,
            uploaded_bytes: f.work.uploaded_bytes,
        });
        Ok(())
    }
}

/// What a send plays on this tier (spec §3, §6: what the compatibility matrix resolves to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "plays", content = "via", rename_all = "snake_case")]
pub enum Plays {
    /// The effect itself.
    Itself,
    /// A fallback asset of the bundle.
    Fallback(String),
    /// A builtin fallback of the client (`builtin:NAME`): drawn by the app, not measured.
    Builtin(String),
    /// Nothing: a hole, not delivered, or killed without a fallback.
    Nothing(String),
}

/// The effects a run may play.
#[derive(Debug, Default)]
pub struct Playlist {
    /// Asset id → loaded animation (effects and their fallbacks).
    pub anims: BTreeMap<String, Arc<Animation>>,
    /// Effect ids in manifest order (what `*` means).
    pub effects: Vec<String>,
    /// Decode outcomes by (asset, image), shared by every run: an image is decoded on the
    /// host at most once to learn whether it decodes when no sink wants its pixels.
    outcomes: Mutex<HashMap<(String, usize), Option<String>>>,
}

impl Playlist {
    /// A playlist of `anims` whose effects, in manifest order, are `effects`.
    #[must_use]
    pub fn new(anims: BTreeMap<String, Arc<Animation>>, effects: Vec<String>) -> Self {
        Self {
            anims,
            effects,
            outcomes: Mutex::new(HashMap::new()),
        }
    }
}

/// How a run handles host decodes that have not arrived when the simulation says ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostWait {
    /// Wait for them (smoke, render: the run is deterministic).
    #[default]
    Block,
    /// Try again next tick (the app's preview: never block the UI thread).
    Poll,
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// What each effect plays on this tier; an effect missing here plays itself.
    pub plays: BTreeMap<String, Plays>,
    /// Host decode behaviour for pixel sinks.
    pub host_wait: HostWait,
    /// Instances start again at their end instead of finishing (the preview).
    pub looping: bool,
    /// The viewport to place frames in, px; default the tier's.
    pub viewport_px: Option<[u32; 2]>,
}

/// One send's fate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendResult {
    /// Sequence number.
    pub id: u32,
    /// Effect id sent.
    pub asset: String,
    /// What played for it (see [`Plays`]).
    pub plays: Plays,
    /// Sent at, ms after the start.
    pub at_ms: u64,
    /// Waited in the queue, ms (send → start).
    pub queue_delay_ms: Option<f64>,
    /// Send → first frame presented, ms (spec §9 first-frame latency).
    pub first_frame_ms: Option<f64>,
    /// Start (leaving the queue) → first frame presented, ms: the effect's own share.
    pub start_to_first_frame_ms: Option<f64>,
    /// Dropped by a full queue.
    pub dropped: bool,
    /// Played to its end within the run.
    pub completed: bool,
}

/// The most expensive frame of one effect: where report thumbnails look.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WorstFrame {
    /// Frame index.
    pub frame_idx: u32,
    /// Its own simulated main-thread + GPU time, ms.
    pub cost_ms: f64,
}

/// Simulated measurements of one (tier, scenario) run: device time, never host time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimStats {
    /// Frames presented (vsyncs that drew at least one effect).
    pub frames: usize,
    /// Simulated length of the run, ms.
    pub device_ms: f64,
    /// Frames per simulated second.
    pub fps: f64,
    /// Simulated main-thread time per frame, ms.
    pub frame_main_ms: Summary,
    /// Simulated GPU time per frame, ms.
    pub frame_gpu_ms: Summary,
    /// Frames whose main-thread or GPU time is over the budget, and over twice it.
    pub jank: Jank,
    /// The tier's frame budget, ms.
    pub frame_budget_ms: f64,
    /// Effect frames not ready by their deadline.
    pub late_frames: usize,
    /// Send → first frame presented, ms.
    pub first_frame_ms: Summary,
    /// Start → first frame presented, ms: what `first-frame-slow` judges.
    pub start_to_first_frame_ms: Summary,
    /// Decode time per image job on one simulated worker, ms.
    pub decode_ms: Summary,
    /// Queue delay per started send, ms.
    pub queue_delay_ms: Summary,
    /// Most device memory resident at once, by kind.
    pub peak_memory: ResidentBytes,
    /// Most texture bytes resident at once.
    pub peak_texture_bytes: u64,
    /// The tier's device-memory budget, bytes.
    pub texture_budget_bytes: u64,
    /// Most screen fills painted in one frame (all effects).
    pub peak_overdraw: f64,
    /// Bytes uploaded per frame, p95.
    pub upload_bytes_p95: f64,
    /// Work over the whole run.
    pub total_work: FrameWork,
    /// Sends.
    pub sends: usize,
    /// Dropped sends.
    pub dropped: usize,
    /// Sends played to their end.
    pub completed: usize,
}

/// One simulated (tier, scenario) run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimRun {
    /// Tier name.
    pub tier: String,
    /// Scenario name.
    pub scenario: String,
    /// Measurements.
    pub stats: SimStats,
    /// Simulated main-thread time per frame, ms (charts).
    pub frame_main_series_ms: Vec<f64>,
    /// Simulated GPU time per frame, ms (charts).
    pub frame_gpu_series_ms: Vec<f64>,
    /// Each send.
    pub sends: Vec<SendResult>,
    /// Each played asset's largest one-frame overdraw, screen fills.
    #[serde(skip)]
    pub overdraw_by_asset: BTreeMap<String, f64>,
    /// The first decode error of each played asset.
    #[serde(skip)]
    pub decode_errors: BTreeMap<String, String>,
    /// The assets on screen when memory peaked.
    pub peak_memory_playing: Vec<String>,
    /// Each played asset's most expensive frame.
    pub worst_frames: BTreeMap<String, WorstFrame>,
    /// The findings judged on this run (filled by the smoke report; sorted).
    pub findings: Vec<crate::finding::Finding>,
}

/// Host threads that decode images for a pixel sink: one queue per worker, so the frames of
/// one instance stay on one worker and decode in order.
struct HostPool {
    queues: Vec<Sender<(TextureKey, Arc<Animation>)>>,
    results: Receiver<(TextureKey, Result<RgbaImage, DecodeError>)>,
    handles: Vec<JoinHandle<()>>,
}

impl HostPool {
    fn new(threads: u32) -> Self {
        let (tx_out, results) = mpsc::channel();
        let mut queues = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads.clamp(1, 8) {
            let (tx, rx) = mpsc::channel::<(TextureKey, Arc<Animation>)>();
            let out = tx_out.clone();
            queues.push(tx);
            handles.push(std::thread::spawn(move || {
                let mut decoder = FrameDecoder::new();
                let limits = DecodeLimits::default();
                for (key, anim) in rx {
                    let result = match anim.images.get(key.1) {
                        Some(img) => decoder.decode(img, &limits),
                        None => Err(DecodeError::Invalid(format!(
                            "image {} does not exist",
                            key.1
                        ))),
                    };
                    if out.send((key, result)).is_err() {
                        return;
                    }
                }
            }));
        }
        Self {
            queues,
            results,
            handles,
        }
    }

    fn submit(&self, key: TextureKey, anim: Arc<Animation>) {
        let n = self.queues.len().max(1);
        if let Some(q) = self.queues.get(key.0 as usize % n) {
            // A closed queue means the worker is gone; the wait below then reports it.
            q.send((key, anim)).ok();
        }
    }

    fn shutdown(self) {
        drop(self.queues);
        for h in self.handles {
            // A worker that panicked has already dropped its sender; nothing to report.
            h.join().ok();
        }
    }
}

struct FrameEntry {
    placed: Vec<Placed>,
    work: FrameWork,
    images: Vec<usize>,
    overdraw: f64,
    /// Why the frame cannot be drawn (a shape or a count past its limit): the effect fails.
    problem: Option<String>,
}

struct Instance {
    send: u32,
    slot: u32,
    plays: String,
    anim: Arc<Animation>,
    started_ms: f64,
    presented: bool,
    position_ms: f64,
    requested: HashSet<usize>,
    ready_at: BTreeMap<usize, f64>,
    resident: HashSet<usize>,
    failed: Option<String>,
}

/// The playback engine: one (tier, scenario) run on the virtual clock. Drive it with
/// [`Engine::run`], or tick by tick with [`Engine::tick`] (the preview).
pub struct Engine {
    playlist: Arc<Playlist>,
    tier: Tier,
    device: DeviceConstants,
    scenario: Scenario,
    opts: RunOptions,
    viewport: [f32; 2],
    sends: Vec<super::scenario::Send>,
    results: Vec<SendResult>,
    sched: Scheduler,
    next_send: usize,
    instances: Vec<Instance>,
    next_slot: u32,
    residency: BudgetLru<TextureKey>,
    workers_busy_ms: Vec<f64>,
    host: Option<HostPool>,
    arrived: HashMap<TextureKey, Result<RgbaImage, DecodeError>>,
    outcome_decoder: FrameDecoder,
    memo: HashMap<(String, u32), Arc<FrameEntry>>,
    now_ms: f64,
    next_tick_ms: f64,
    last_tick_ms: Option<f64>,
    cap_ms: f64,
    /// Paused: instance clocks stand still (the preview).
    pub paused: bool,
    /// Playback speed of instance clocks (the preview), 1 in smoke.
    pub speed: f64,
    // Measurements.
    main_series: Vec<f64>,
    gpu_series: Vec<f64>,
    uploads: Vec<f64>,
    decode_job_ms: Vec<f64>,
    late: usize,
    peak_overdraw: f64,
    peak_memory: ResidentBytes,
    peak_memory_playing: Vec<String>,
    overdraw_by_asset: BTreeMap<String, f64>,
    decode_errors: BTreeMap<String, String>,
    worst_frames: BTreeMap<String, WorstFrame>,
    total_work: FrameWork,
    last_frame: Option<LastFrame>,
}

/// What the last presented frame cost (the preview's profiler).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct LastFrame {
    /// Simulated time, ms.
    pub t_ms: f64,
    /// Simulated main-thread time, ms.
    pub main_ms: f64,
    /// Simulated GPU time, ms.
    pub gpu_ms: f64,
    /// The frame's work.
    pub work: FrameWork,
    /// Device memory resident.
    pub memory: ResidentBytes,
    /// Screen fills painted.
    pub overdraw: f64,
    /// Frame index of the first instance.
    pub frame_idx: u32,
}

impl Engine {
    /// A run of `scenario` on `tier` over `playlist`. Starts host decode threads only when
    /// `pixels` is set (a sink that draws).
    #[must_use]
    pub fn new(
        playlist: Arc<Playlist>,
        tier: &Tier,
        scenario: &Scenario,
        opts: RunOptions,
        pixels: bool,
    ) -> Self {
        let sends = expand(scenario, &playlist.effects);
        let results = sends
            .iter()
            .map(|s| SendResult {
                id: s.id,
                asset: s.asset.clone(),
                plays: opts.plays.get(&s.asset).cloned().unwrap_or(Plays::Itself),
                at_ms: s.at_ms,
                queue_delay_ms: None,
                first_frame_ms: None,
                start_to_first_frame_ms: None,
                dropped: false,
                completed: false,
            })
            .collect();
        let vp = opts.viewport_px.unwrap_or(tier.viewport_px);
        let cap_ms = if scenario.duration_ms == 0 {
            MAX_RUN_MS as f64
        } else {
            scenario.duration_ms.min(MAX_RUN_MS) as f64
        };
        // Textures get what the target and its MSAA buffer leave of the device budget.
        let target_bytes = u64::from(vp[0]) * u64::from(vp[1]) * 4;
        let samples = u64::from(tier.msaa_samples());
        let fixed = target_bytes
            + if samples > 1 {
                target_bytes * samples
            } else {
                0
            };
        Self {
            device: tier.device(),
            residency: BudgetLru::new(tier.texture_budget_bytes.saturating_sub(fixed)),
            workers_busy_ms: vec![0.0; tier.decode_threads.clamp(1, 64) as usize],
            host: pixels.then(|| HostPool::new(tier.decode_threads)),
            tier: tier.clone(),
            scenario: scenario.clone(),
            viewport: [vp[0] as f32, vp[1] as f32],
            sched: Scheduler::new(scenario),
            opts,
            sends,
            results,
            next_send: 0,
            instances: Vec::new(),
            next_slot: 0,
            arrived: HashMap::new(),
            outcome_decoder: FrameDecoder::new(),
            memo: HashMap::new(),
            now_ms: 0.0,
            next_tick_ms: 0.0,
            last_tick_ms: None,
            cap_ms,
            paused: false,
            speed: 1.0,
            main_series: Vec::new(),
            gpu_series: Vec::new(),
            uploads: Vec::new(),
            decode_job_ms: Vec::new(),
            late: 0,
            peak_overdraw: 0.0,
            peak_memory: ResidentBytes::default(),
            peak_memory_playing: Vec::new(),
            overdraw_by_asset: BTreeMap::new(),
            decode_errors: BTreeMap::new(),
            worst_frames: BTreeMap::new(),
            total_work: FrameWork::default(),
            playlist,
            last_frame: None,
        }
    }

    /// The simulated time of the next vsync, ms; `None` when the run is over.
    #[must_use]
    pub fn next_tick_ms(&self) -> Option<f64> {
        let drained = self.next_send >= self.sends.len()
            && self.instances.is_empty()
            && self.sched.queued() == 0;
        let over = self.next_tick_ms >= self.cap_ms
            || (self.scenario.duration_ms == 0 && drained && self.last_tick_ms.is_some());
        (!over || self.opts.looping && !self.instances.is_empty()).then_some(self.next_tick_ms)
    }

    /// The tier this run plays on.
    #[must_use]
    pub fn tier(&self) -> &Tier {
        &self.tier
    }

    /// The scenario's name.
    #[must_use]
    pub fn scenario_name(&self) -> &str {
        &self.scenario.name
    }

    /// The viewport frames are placed in, px.
    #[must_use]
    pub fn viewport_px(&self) -> [u32; 2] {
        [self.viewport[0] as u32, self.viewport[1] as u32]
    }

    /// The last presented frame's costs.
    #[must_use]
    pub fn last_frame(&self) -> Option<LastFrame> {
        self.last_frame
    }

    /// The playback position of the first instance, ms.
    #[must_use]
    pub fn position_ms(&self) -> Option<f64> {
        self.instances.first().map(|i| i.position_ms)
    }

    /// The first decode error so far, if any.
    #[must_use]
    pub fn first_error(&self) -> Option<(&str, &str)> {
        self.decode_errors
            .iter()
            .next()
            .map(|(a, e)| (a.as_str(), e.as_str()))
    }

    /// Device memory resident now.
    #[must_use]
    pub fn resident(&self) -> ResidentBytes {
        self.memory(0, 0)
    }

    /// Moves every instance's clock to `t_ms` of its animation (the preview's scrubber).
    pub fn seek(&mut self, t_ms: f64) {
        for i in &mut self.instances {
            i.position_ms = t_ms.clamp(0.0, i.anim.duration_ms());
        }
    }

    /// Runs to the end, presenting every frame to `sink`; `progress` gets 0–1.
    ///
    /// # Errors
    /// The sink's first error.
    pub fn run(
        mut self,
        sink: &mut dyn FrameSink,
        progress: &dyn Fn(f64),
    ) -> Result<SimRun, SinkError> {
        while let Some(t) = self.next_tick_ms() {
            self.tick(sink, t)?;
            progress((t / self.cap_ms).min(1.0));
        }
        Ok(self.finish())
    }

    fn entry(&mut self, asset: &str, anim: &Animation, frame: u32) -> Arc<FrameEntry> {
        if let Some(e) = self.memo.get(&(asset.to_owned(), frame)) {
            return Arc::clone(e);
        }
        if self.memo.len() >= MAX_MEMO_FRAMES {
            self.memo.clear();
        }
        let fit = fit_contain([anim.width_px as f32, anim.height_px as f32], self.viewport);
        let list = frame_at(anim, frame);
        let mut placed = place(&list, fit);
        let area = f64::from(self.viewport[0]) * f64::from(self.viewport[1]);
        let samples = self.tier.msaa_samples();
        let mut work = draw_work(&placed, area, samples);
        work.properties_evaluated = properties_at(anim, frame);
        let problem = frame_problem(frame, &list, &work);
        if problem.is_some() {
            placed.clear();
        }
        let images: Vec<usize> = placed
            .iter()
            .filter_map(Placed::image)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let overdraw = work.filled_px_samples / f64::from(samples.max(1)) / area.max(1.0);
        let e = Arc::new(FrameEntry {
            placed,
            work,
            images,
            overdraw,
            problem,
        });
        self.memo.insert((asset.to_owned(), frame), Arc::clone(&e));
        e
    }

    fn images_of(&mut self, asset: &str, anim: &Animation, frame: u32) -> Vec<usize> {
        match anim.content {
            Content::NotDrawn(_) => Vec::new(),
            Content::Lottie(..) if anim.images.is_empty() => Vec::new(),
            _ => self.entry(asset, anim, frame).images.clone(),
        }
    }

    fn start_instance(&mut self, id: u32, now: f64) -> bool {
        let r = &mut self.results[id as usize];
        r.queue_delay_ms = Some(now - r.at_ms as f64);
        let plays = match &r.plays {
            Plays::Itself => r.asset.clone(),
            Plays::Fallback(f) => f.clone(),
            Plays::Builtin(_) | Plays::Nothing(_) => return false,
        };
        let Some(anim) = self.playlist.anims.get(&plays) else {
            return false;
        };
        self.instances.push(Instance {
            send: id,
            slot: self.next_slot,
            plays,
            anim: Arc::clone(anim),
            started_ms: now,
            presented: false,
            position_ms: 0.0,
            requested: HashSet::new(),
            ready_at: BTreeMap::new(),
            resident: HashSet::new(),
            failed: None,
        });
        self.next_slot += 1;
        true
    }

    /// Frees a slot, then starts what the queue lets in (and what they let in, when a send
    /// plays nothing).
    fn end_instance(&mut self, idx: usize, sink: &mut dyn FrameSink, now: f64) {
        let inst = self.instances.remove(idx);
        for img in &inst.resident {
            let key = (inst.slot, *img);
            self.residency.remove(&key);
            sink.evict(key);
        }
        self.results[inst.send as usize].completed = inst.failed.is_none();
        self.admit_after_finish(now);
    }

    fn admit_after_finish(&mut self, now: f64) {
        let mut pending = self.sched.finished();
        while let Some(q) = pending.pop() {
            if !self.start_instance(q, now) {
                pending.extend(self.sched.finished());
            }
        }
    }

    fn memory(&self, layer_depth: u64, mesh_bytes: u64) -> ResidentBytes {
        let vp = u64::from(self.viewport[0] as u32) * u64::from(self.viewport[1] as u32) * 4;
        let samples = u64::from(self.tier.msaa_samples());
        ResidentBytes {
            textures: self.residency.resident_bytes(),
            targets: vp,
            msaa: if samples > 1 { vp * samples } else { 0 },
            layers: layer_depth * vp * samples,
            meshes: mesh_bytes,
        }
    }

    /// Host pixels for an image the simulation says is decoded: `Some(result)`, or `None`
    /// when a polling run has not received them yet.
    fn host_pixels(&mut self, key: TextureKey) -> Option<Result<RgbaImage, DecodeError>> {
        if let Some(r) = self.arrived.remove(&key) {
            return Some(r);
        }
        let host = self.host.as_ref()?;
        loop {
            let next = match self.opts.host_wait {
                HostWait::Block => host.results.recv().ok(),
                HostWait::Poll => host.results.try_recv().ok(),
            };
            let Some((k, r)) = next else {
                return match self.opts.host_wait {
                    HostWait::Block => Some(Err("the host decode worker stopped".into())),
                    HostWait::Poll => None,
                };
            };
            if k == key {
                return Some(r);
            }
            self.arrived.insert(k, r);
        }
    }

    /// Whether an image decodes, decoding it on this thread once per playlist.
    fn outcome(&mut self, asset: &str, anim: &Animation, image: usize) -> Option<String> {
        let key = (asset.to_owned(), image);
        if let Ok(map) = self.playlist.outcomes.lock()
            && let Some(o) = map.get(&key)
        {
            return o.clone();
        }
        let limits = DecodeLimits::default();
        let o = match anim.images.get(image) {
            Some(img) => self
                .outcome_decoder
                .verify(img, &limits)
                .err()
                .map(|e| e.to_string()),
            None => Some(format!("image {image} does not exist")),
        };
        if let Ok(mut map) = self.playlist.outcomes.lock() {
            map.insert(key, o.clone());
        }
        o
    }

    /// One vsync at simulated time `now_ms` (see the module docs). Returns whether a frame
    /// was presented.
    ///
    /// # Errors
    /// The sink's error.
    pub fn tick(&mut self, sink: &mut dyn FrameSink, now_ms: f64) -> Result<bool, SinkError> {
        let now = now_ms;
        self.now_ms = now;
        if self.opts.looping && self.main_series.len() > MAX_LOOPING_SERIES {
            // An endless preview keeps recent figures only.
            self.main_series.clear();
            self.gpu_series.clear();
            self.uploads.clear();
            self.decode_job_ms.clear();
        }
        let dt = self.last_tick_ms.map_or(0.0, |l| (now - l).max(0.0));
        self.last_tick_ms = Some(now);
        // Instance clocks; ended and failed instances make room.
        let advance = if self.paused { 0.0 } else { dt * self.speed };
        for i in &mut self.instances {
            if i.presented {
                i.position_ms += advance;
            }
        }
        let mut k = 0;
        while k < self.instances.len() {
            let inst = &mut self.instances[k];
            let d = inst.anim.duration_ms();
            if inst.failed.is_none() && inst.position_ms >= d && self.opts.looping && d > 0.0 {
                inst.position_ms %= d;
            }
            if inst.failed.is_some() || (inst.presented && inst.position_ms >= d) {
                self.end_instance(k, sink, now);
            } else {
                k += 1;
            }
        }
        // Sends that are due.
        while self.next_send < self.sends.len() && self.sends[self.next_send].at_ms as f64 <= now {
            let id = self.sends[self.next_send].id;
            match self.sched.send(id) {
                Admit::Start => {
                    if !self.start_instance(id, now) {
                        self.admit_after_finish(now);
                    }
                }
                Admit::Queued => {}
                Admit::Dropped => self.results[id as usize].dropped = true,
            }
            self.next_send += 1;
        }
        // This frame of each instance.
        let mut frames = Vec::with_capacity(self.instances.len());
        for k in 0..self.instances.len() {
            let (plays, anim, pos) = {
                let i = &self.instances[k];
                (i.plays.clone(), Arc::clone(&i.anim), i.position_ms)
            };
            let f = anim.frame_at_time(pos);
            let e = self.entry(&plays, &anim, f);
            if let Some(why) = &e.problem {
                self.fail(k, &plays, why.clone());
            }
            frames.push((f, e));
        }
        let pinned: HashSet<TextureKey> = self
            .instances
            .iter()
            .zip(&frames)
            .flat_map(|(i, (_, e))| e.images.iter().map(move |img| (i.slot, *img)))
            .collect();
        // Frame-by-frame content (sequences, animated images, video): a frame behind the
        // playhead is not shown again in this play, so it leaves memory at once, as a
        // player's frame queue lets it go, instead of holding the budget until evicted.
        for (k, (f, _)) in frames.iter().enumerate() {
            let inst = &self.instances[k];
            let per_frame = matches!(&inst.anim.content,
                Content::Frames(fr) if inst.anim.images.len() > 1 && fr.len() == inst.anim.images.len());
            if !per_frame {
                continue;
            }
            let stale: Vec<usize> = inst
                .resident
                .iter()
                .copied()
                .filter(|img| *img < *f as usize)
                .collect();
            let slot = inst.slot;
            for img in stale {
                self.residency.remove(&(slot, img));
                sink.evict((slot, img));
                let i = &mut self.instances[k];
                i.resident.remove(&img);
                i.requested.remove(&img);
            }
        }
        // Decode jobs for this frame and the look-ahead.
        let threads = self.workers_busy_ms.len();
        for k in 0..self.instances.len() {
            let (plays, anim, pos, slot) = {
                let i = &self.instances[k];
                (i.plays.clone(), Arc::clone(&i.anim), i.position_ms, i.slot)
            };
            let step = 1000.0 / anim.fps.max(1.0);
            let mut t = pos;
            while t <= pos + LOOKAHEAD_MS {
                let f = anim.frame_at_time(t);
                for img in self.images_of(&plays, &anim, f) {
                    let inst = &self.instances[k];
                    if inst.requested.contains(&img) {
                        continue;
                    }
                    let Some(asset) = anim.images.get(img) else {
                        continue;
                    };
                    let bytes = asset.texture_bytes();
                    if t > pos
                        && self.residency.resident_bytes() + bytes > self.residency.budget_bytes()
                    {
                        continue;
                    }
                    let cost = self.device.image_decode_ms(asset);
                    let w = slot as usize % threads;
                    let start = self.workers_busy_ms[w].max(now);
                    let ready = start + cost;
                    self.workers_busy_ms[w] = ready;
                    self.decode_job_ms.push(cost);
                    if let Some(h) = &self.host {
                        h.submit((slot, img), Arc::clone(&anim));
                    }
                    let inst = &mut self.instances[k];
                    inst.requested.insert(img);
                    inst.ready_at.insert(img, ready);
                }
                if f + 1 >= anim.frame_count {
                    break;
                }
                t += step;
            }
        }
        // Decodes that finished become resident.
        let mut work = FrameWork::default();
        for k in 0..self.instances.len() {
            let (slot, plays, anim) = {
                let i = &self.instances[k];
                (i.slot, i.plays.clone(), Arc::clone(&i.anim))
            };
            let done: Vec<usize> = self.instances[k]
                .ready_at
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(img, _)| *img)
                .collect();
            for img in done {
                let key = (slot, img);
                let pixels = if sink.wants_pixels() {
                    match self.host_pixels(key) {
                        None => continue,
                        Some(Ok(p)) => Some(p),
                        Some(Err(e)) => {
                            self.fail(k, &plays, e.to_string());
                            break;
                        }
                    }
                } else {
                    if let Some(e) = self.outcome(&plays, &anim, img) {
                        self.fail(k, &plays, e);
                        break;
                    }
                    None
                };
                self.instances[k].ready_at.remove(&img);
                let Some(asset) = anim.images.get(img) else {
                    continue;
                };
                let bytes = asset.texture_bytes();
                for gone in self.residency.insert(key, bytes, &pinned) {
                    sink.evict(gone);
                    if let Some(owner) = self.instances.iter_mut().find(|i| i.slot == gone.0) {
                        owner.resident.remove(&gone.1);
                        owner.requested.remove(&gone.1);
                    }
                }
                self.instances[k].resident.insert(img);
                work.uploaded_bytes += asset.upload_bytes();
                work.add_decoded(asset);
                if let Some(p) = pixels
                    && let Err(e) = sink.upload(key, p)
                {
                    self.fail(k, &plays, e.0);
                    break;
                }
            }
        }
        // Present what is ready.
        let mut layers: Vec<(u32, &[Placed])> = Vec::new();
        let mut newly = Vec::new();
        let mut overdraw = 0.0;
        for (k, (f, e)) in frames.iter().enumerate() {
            let inst = &self.instances[k];
            if inst.failed.is_some() {
                continue;
            }
            let ready = e.images.iter().all(|img| inst.resident.contains(img));
            if ready {
                for img in &e.images {
                    self.residency.touch(&(inst.slot, *img));
                }
                work += e.work;
                overdraw += e.overdraw;
                let od = self
                    .overdraw_by_asset
                    .entry(inst.plays.clone())
                    .or_default();
                *od = od.max(e.overdraw);
                let own = self.device.main_ms(&e.work) + self.device.gpu_ms(&e.work);
                let worst = self
                    .worst_frames
                    .entry(inst.plays.clone())
                    .or_insert(WorstFrame {
                        frame_idx: *f,
                        cost_ms: own,
                    });
                if own > worst.cost_ms {
                    *worst = WorstFrame {
                        frame_idx: *f,
                        cost_ms: own,
                    };
                }
                layers.push((inst.slot, e.placed.as_slice()));
                if !inst.presented {
                    newly.push(k);
                }
            } else if inst.presented {
                self.late += 1;
            }
        }
        let budget = self.tier.frame_budget_ms();
        let main_ms = self.device.main_ms(&work);
        let gpu_ms = self.device.gpu_ms(&work);
        let memory = self.memory(work.layer_depth, work.mesh_bytes);
        let playing: Vec<String> = self.instances.iter().map(|i| i.plays.clone()).collect();
        if memory.total() > self.peak_memory.total() {
            self.peak_memory = memory;
            self.peak_memory_playing.clone_from(&playing);
        }
        let on_screen = !layers.is_empty();
        if on_screen {
            let queue = QueueState {
                playing,
                queued: self.sched.queued(),
                sent: self.next_send,
                total: self.sends.len(),
                dropped: self.results.iter().filter(|r| r.dropped).count(),
                length_ms: self.cap_ms,
            };
            sink.present(&Presented {
                t_ms: now,
                layers: &layers,
                work: &work,
                main_ms,
                gpu_ms,
                queue: &queue,
            })?;
            self.main_series.push(main_ms);
            self.gpu_series.push(gpu_ms);
            self.uploads.push(work.uploaded_bytes as f64);
            self.peak_overdraw = self.peak_overdraw.max(overdraw);
            self.total_work += work;
            self.last_frame = Some(LastFrame {
                t_ms: now,
                main_ms,
                gpu_ms,
                work,
                memory,
                overdraw,
                frame_idx: frames.first().map_or(0, |(f, _)| *f),
            });
        }
        for k in newly {
            let inst = &mut self.instances[k];
            inst.presented = true;
            let r = &mut self.results[inst.send as usize];
            r.first_frame_ms = Some(now - r.at_ms as f64);
            r.start_to_first_frame_ms = Some(now - inst.started_ms);
        }
        // The next vsync: a frame over budget holds the display for the vsyncs it overran.
        let cost = main_ms.max(gpu_ms);
        let vsyncs = (cost / budget - 1e-9).ceil().max(1.0);
        self.next_tick_ms = now + budget * vsyncs;
        Ok(on_screen)
    }

    fn fail(&mut self, k: usize, plays: &str, message: String) {
        self.decode_errors
            .entry(plays.to_owned())
            .or_insert_with(|| message.clone());
        if let Some(i) = self.instances.get_mut(k) {
            i.failed = Some(message);
        }
    }

    /// Ends the run and returns its measurements.
    #[must_use]
    pub fn finish(mut self) -> SimRun {
        if let Some(h) = self.host.take() {
            h.shutdown();
        }
        let budget = self.tier.frame_budget_ms();
        let frame_ms: Vec<f64> = self
            .main_series
            .iter()
            .zip(&self.gpu_series)
            .map(|(m, g)| m.max(*g))
            .collect();
        let r = &self.results;
        let firsts: Vec<f64> = r.iter().filter_map(|r| r.first_frame_ms).collect();
        let start_firsts: Vec<f64> = r.iter().filter_map(|r| r.start_to_first_frame_ms).collect();
        let queues: Vec<f64> = r.iter().filter_map(|r| r.queue_delay_ms).collect();
        let device_ms = self.next_tick_ms.min(self.cap_ms);
        let stats = SimStats {
            frames: self.main_series.len(),
            device_ms,
            fps: self.main_series.len() as f64 * 1000.0 / device_ms.max(1.0),
            frame_main_ms: summarize(&self.main_series),
            frame_gpu_ms: summarize(&self.gpu_series),
            jank: super::stats::jank(&frame_ms, budget),
            frame_budget_ms: budget,
            late_frames: self.late,
            first_frame_ms: summarize(&firsts),
            start_to_first_frame_ms: summarize(&start_firsts),
            decode_ms: summarize(&self.decode_job_ms),
            queue_delay_ms: summarize(&queues),
            peak_memory: self.peak_memory,
            peak_texture_bytes: self.residency.peak_bytes(),
            texture_budget_bytes: self.tier.texture_budget_bytes,
            peak_overdraw: self.peak_overdraw,
            upload_bytes_p95: summarize(&self.uploads).p95,
            total_work: self.total_work,
            sends: r.len(),
            dropped: r.iter().filter(|r| r.dropped).count(),
            completed: r.iter().filter(|r| r.completed).count(),
        };
        SimRun {
            tier: self.tier.name.clone(),
            scenario: self.scenario.name.clone(),
            stats,
            frame_main_series_ms: std::mem::take(&mut self.main_series),
            frame_gpu_series_ms: std::mem::take(&mut self.gpu_series),
            sends: std::mem::take(&mut self.results),
            overdraw_by_asset: std::mem::take(&mut self.overdraw_by_asset),
            decode_errors: std::mem::take(&mut self.decode_errors),
            peak_memory_playing: std::mem::take(&mut self.peak_memory_playing),
            worst_frames: std::mem::take(&mut self.worst_frames),
            findings: Vec::new(),
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(h) = self.host.take() {
            // Workers end when their queues close; do not wait for them here (the UI thread).
            std::thread::spawn(move || h.shutdown());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageAsset;
    use crate::model::ImageSource;
    use crate::playback::scenario::Event;
    use crate::playback::tiers::builtin_tiers;

    /// A frame sequence of `frames` distinct `px`² PNG images at `fps`.
    fn sequence(frames: u32, px: u32, fps: f64) -> Animation {
        let mut png = Vec::new();
        image::RgbaImage::from_pixel(px, px, image::Rgba([200, 40, 40, 255]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let png: Arc<[u8]> = png.into();
        Animation {
            width_px: px,
            height_px: px,
            fps,
            frame_count: frames,
            frame_start_ms: None,
            images: (0..frames)
                .map(|i| ImageAsset {
                    key: format!("frame_{i:04}"),
                    width_px: px,
                    height_px: px,
                    source: ImageSource::Encoded(Arc::clone(&png)),
                })
                .collect(),
            content: Content::Frames(
                (0..frames as usize)
                    .map(|i| (i, [0.0, 0.0, 1.0, 1.0]))
                    .collect(),
            ),
        }
    }

    fn playlist(anims: &[(&str, Animation)]) -> Arc<Playlist> {
        Arc::new(Playlist::new(
            anims
                .iter()
                .map(|(id, a)| ((*id).to_owned(), Arc::new(a.clone())))
                .collect(),
            anims.iter().map(|(id, _)| (*id).to_owned()).collect(),
        ))
    }

    fn scenario(max_concurrent: u32, queue_limit: u32, events: Vec<Event>) -> Scenario {
        Scenario {
            name: "t".into(),
            duration_ms: 0,
            max_concurrent,
            queue_limit,
            events,
        }
    }

    fn send(at_ms: u64, asset: &str, repeat: u32, every_ms: u64) -> Event {
        Event {
            at_ms,
            asset: asset.into(),
            repeat,
            every_ms,
        }
    }

    fn run(p: &Arc<Playlist>, tier: &Tier, s: &Scenario) -> (SimRun, RecordingSink) {
        let mut sink = RecordingSink::default();
        let r = Engine::new(Arc::clone(p), tier, s, RunOptions::default(), false)
            .run(&mut sink, &|_| {})
            .unwrap();
        (r, sink)
    }

    #[test]
    fn first_frame_waits_for_the_simulated_decode_then_the_next_vsync() {
        let mut tier = builtin_tiers().remove(0); // low: 30 fps, one decode thread
        let mut c = tier.device();
        c.decode_png_mpx_per_s = 1.0; // 500² px = 0.25 Mpx → 250 ms a frame
        tier.device = Some(c);
        let p = playlist(&[("a", sequence(3, 500, 10.0))]);
        let (r, sink) = run(&p, &tier, &scenario(1, 0, vec![send(0, "a", 1, 0)]));
        let first = r.sends[0].first_frame_ms.unwrap();
        // Ready at 250 ms; the first vsync at or after it is 266.7 ms (8 × 33.3).
        assert!((first - 8.0 * 1000.0 / 30.0).abs() < 1e-6, "{first}");
        // Each later frame needs 250 ms of decode on the one worker but shows for 100 ms:
        // the decoder falls behind, and frames are late.
        assert!(r.stats.late_frames > 0);
        assert!(r.sends[0].completed);
        assert_eq!(sink.frames.first().map(|f| f.t_ms), Some(first));
        assert_eq!(
            r.stats.decode_ms.count, 3,
            "each image is decoded once: {:?}",
            r.stats.decode_ms
        );
    }

    #[test]
    fn fast_decode_means_no_late_frames_and_a_two_vsync_start() {
        let tier = builtin_tiers().remove(2); // high
        let p = playlist(&[("a", sequence(10, 64, 30.0))]);
        let (r, _) = run(&p, &tier, &scenario(1, 0, vec![send(0, "a", 1, 0)]));
        assert_eq!(r.stats.late_frames, 0);
        // 64² px decodes in microseconds: the first frame shows at the second vsync.
        assert!((r.sends[0].first_frame_ms.unwrap() - 1000.0 / 60.0).abs() < 1e-6);
    }

    #[test]
    fn the_queue_delays_and_drops_sends() {
        let tier = builtin_tiers().remove(2);
        let p = playlist(&[("a", sequence(6, 32, 30.0))]); // 200 ms a play
        let s = scenario(1, 1, vec![send(0, "a", 3, 0)]);
        let (r, _) = run(&p, &tier, &s);
        assert!(r.sends[2].dropped && !r.sends[0].dropped && !r.sends[1].dropped);
        assert_eq!(r.stats.dropped, 1);
        let delay = r.sends[1].queue_delay_ms.unwrap();
        // The second send starts when the first has played 200 ms from its first frame.
        let first = r.sends[0].first_frame_ms.unwrap();
        assert!(delay >= first + 200.0 - 1e-6, "{delay} vs {first}");
        assert_eq!(r.stats.completed, 2);
    }

    #[test]
    fn a_frame_over_budget_is_janky_and_holds_the_display() {
        let mut tier = builtin_tiers().remove(1); // mid, 16.7 ms
        let mut c = tier.device();
        c.upload_mb_per_s = 1.0; // 64² × 4 bytes = 16 KB → 16 ms; 128² → 65 ms
        tier.device = Some(c);
        let p = playlist(&[("a", sequence(4, 128, 10.0))]);
        let (r, sink) = run(&p, &tier, &scenario(1, 0, vec![send(0, "a", 1, 0)]));
        assert!(r.stats.jank.over_budget > 0);
        let gaps: Vec<f64> = sink
            .frames
            .windows(2)
            .map(|w| w[1].t_ms - w[0].t_ms)
            .collect();
        assert!(
            gaps.iter().any(|g| *g > 2.0 * tier.frame_budget_ms()),
            "{gaps:?}"
        );
    }

    #[test]
    fn runs_are_deterministic_and_pixels_change_nothing() {
        let tier = builtin_tiers().remove(0);
        let p = playlist(&[
            ("a", sequence(12, 200, 24.0)),
            ("b", sequence(5, 300, 12.0)),
        ]);
        let s = scenario(2, 3, vec![send(0, "*", 3, 40)]);
        let (a, _) = run(&p, &tier, &s);
        let (b, _) = run(&p, &tier, &s);
        assert_eq!(a, b);
        let mut pixels = RecordingSink {
            pixels: true,
            ..RecordingSink::default()
        };
        let c = Engine::new(Arc::clone(&p), &tier, &s, RunOptions::default(), true)
            .run(&mut pixels, &|_| {})
            .unwrap();
        assert_eq!(a, c);
        assert!(!pixels.uploads.is_empty());
    }

    #[test]
    fn residency_stays_under_the_budget_by_evicting() {
        let mut tier = builtin_tiers().remove(0);
        // Room for three 100² images (40 000 bytes each) beside the target and its MSAA.
        tier.texture_budget_bytes = 130_000 + 540 * 960 * 4 * 5;
        let p = playlist(&[("a", sequence(20, 100, 30.0))]);
        let (r, sink) = run(&p, &tier, &scenario(1, 0, vec![send(0, "a", 1, 0)]));
        assert!(r.stats.peak_texture_bytes <= 130_000);
        assert!(r.stats.peak_memory.total() <= tier.texture_budget_bytes);
        assert!(!sink.evictions.is_empty());
        assert!(r.sends[0].completed);
    }

    #[test]
    fn a_send_that_plays_a_fallback_or_nothing() {
        let tier = builtin_tiers().remove(0);
        let p = playlist(&[("a", sequence(3, 32, 30.0)), ("b", sequence(2, 16, 30.0))]);
        let s = scenario(1, 5, vec![send(0, "a", 2, 0)]);
        let mut opts = RunOptions::default();
        opts.plays.insert("a".into(), Plays::Fallback("b".into()));
        let r = Engine::new(Arc::clone(&p), &tier, &s, opts.clone(), false)
            .run(&mut CostSink, &|_| {})
            .unwrap();
        assert_eq!(r.sends[0].plays, Plays::Fallback("b".into()));
        assert!(r.worst_frames.contains_key("b") && !r.worst_frames.contains_key("a"));
        opts.plays
            .insert("a".into(), Plays::Nothing("not delivered".into()));
        let r = Engine::new(p, &tier, &s, opts, false)
            .run(&mut CostSink, &|_| {})
            .unwrap();
        assert_eq!(r.stats.frames, 0);
        assert!(
            r.sends
                .iter()
                .all(|s| s.first_frame_ms.is_none() && !s.dropped)
        );
    }
}
