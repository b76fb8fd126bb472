//! `giftqa smoke`: plays a bundle's effects under each tier and burst scenario on wgpu,
//! offscreen, in real time, and measures what a device would feel (spec §9).
//!
//! Per frame the loop admits due sends (scheduler: `max_concurrent`, FIFO queue,
//! `queue_limit` drops), takes decoded images from the tier's decode workers (their CPU work
//! stretched by the tier's slowdown: the worker idles for the extra share), uploads them under
//! the tier's texture budget, asks for the next frames ahead, and draws every effect whose
//! frame is ready into the tier's viewport. An effect starts playing at its first drawn frame;
//! a later frame whose images are not ready is counted late and not drawn.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::RgbaImage;
use serde::Serialize;

use super::paint::{Painter, TextureKey};
use super::{AdapterSummary, RenderContext};
use crate::check::BundleHeader;
use crate::check::finding::{Code, Finding, Summary as FindingSummary, summarize as count};
use crate::format::DecodeLimits;
use crate::model::load::FrameDecoder;
use crate::model::{Animation, Unsupported, frame_at};
use crate::playback::scenario::{Admit, Scenario, Scheduler, expand};
use crate::playback::stats::{Jank, Summary, jank, summarize};
use crate::playback::tiers::{Tier, fit_contain};
use crate::playback::{Placed, place};

/// Longest a scenario without a duration (`single`) may run, ms.
pub const MAX_RUN_MS: u64 = 180_000;
/// How far ahead frames are decoded, ms of playback.
pub const LOOKAHEAD_MS: f64 = 400.0;

/// A decode request: image `image` of the animation in `slot`.
pub struct Job {
    /// The animation's slot.
    pub slot: u32,
    /// Image index.
    pub image: usize,
    /// The animation.
    pub anim: Arc<Animation>,
}

/// A decoded image (straight alpha) and how long it took, slowdown included.
pub struct Decoded {
    /// The animation's slot.
    pub slot: u32,
    /// Image index.
    pub image: usize,
    /// Pixels, or why not.
    pub result: Result<RgbaImage, String>,
    /// Decode time, ms.
    pub decode_ms: f64,
}

/// The tier's decode workers: one queue per worker so that the frames of one animation stay
/// on one worker and decode in order.
pub struct DecodePool {
    queues: Vec<Sender<Job>>,
    /// Decoded images, as they finish.
    pub results: Receiver<Decoded>,
    handles: Vec<JoinHandle<()>>,
}

impl DecodePool {
    /// Starts `threads` workers whose decode work is stretched by `slowdown`.
    #[must_use]
    pub fn new(threads: u32, slowdown: f64) -> Self {
        let (tx_out, results) = mpsc::channel();
        let mut queues = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads.max(1) {
            let (tx, rx) = mpsc::channel::<Job>();
            let out = tx_out.clone();
            queues.push(tx);
            handles.push(std::thread::spawn(move || {
                let mut decoder = FrameDecoder::new();
                let limits = DecodeLimits::default();
                for job in rx {
                    let t = Instant::now();
                    let result = decoder.decode(&job.anim.images[job.image], &limits);
                    let work = t.elapsed();
                    // CPU slowdown, as browser throttling does it: the work really takes
                    // `slowdown` times longer; the worker idles for the extra share.
                    std::thread::sleep(work.mul_f64((slowdown - 1.0).max(0.0)));
                    let decode_ms = t.elapsed().as_secs_f64() * 1000.0;
                    if out
                        .send(Decoded {
                            slot: job.slot,
                            image: job.image,
                            result,
                            decode_ms,
                        })
                        .is_err()
                    {
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

    /// Queues a decode on the animation's worker.
    pub fn submit(&self, job: Job) {
        let q = &self.queues[job.slot as usize % self.queues.len()];
        let _ = q.send(job);
    }

    /// Stops the workers once their queues are done.
    pub fn shutdown(self) {
        drop(self.queues);
        for h in self.handles {
            let _ = h.join();
        }
    }
}

/// One send's fate.
#[derive(Debug, Clone, Serialize)]
pub struct SendResult {
    /// Sequence number.
    pub id: u32,
    /// Effect id.
    pub asset: String,
    /// Sent at, ms after the start.
    pub at_ms: u64,
    /// Waited in the queue, ms (send → start).
    pub queue_delay_ms: Option<f64>,
    /// Send → first frame drawn, ms.
    pub first_frame_ms: Option<f64>,
    /// Start → first frame drawn, ms: the decode share, judged against the tier.
    pub start_to_first_frame_ms: Option<f64>,
    /// Dropped by a full queue.
    pub dropped: bool,
    /// Played to its end within the run.
    pub completed: bool,
}

/// Measurements of one (tier, scenario) run.
#[derive(Debug, Clone, Serialize)]
pub struct RunStats {
    /// Frames drawn.
    pub frames: usize,
    /// Wall time of the run, ms.
    pub wall_ms: f64,
    /// Frames per second achieved.
    pub fps: f64,
    /// Host CPU frame time (prepare, upload, draw, wait), ms.
    pub frame_cpu_ms: Summary,
    /// GPU time of the render pass, ms (timestamp queries).
    pub frame_gpu_ms: Option<Summary>,
    /// Frames over the tier's frame budget, and over twice it.
    pub jank: Jank,
    /// The tier's frame budget, ms.
    pub frame_budget_ms: f64,
    /// Effect frames shown late (their images were not decoded in time).
    pub late_frames: usize,
    /// Send → first frame drawn, ms.
    pub first_frame_ms: Summary,
    /// Start (leaving the queue) → first frame drawn, ms: the decode share of first-frame
    /// latency, which `first-frame-slow` judges.
    pub start_to_first_frame_ms: Summary,
    /// Decode time per image on the tier's workers (slowdown included), ms.
    pub decode_ms: Summary,
    /// Queue delay per started send, ms.
    pub queue_delay_ms: Summary,
    /// Most texture bytes resident.
    pub peak_texture_bytes: u64,
    /// The tier's texture budget, bytes.
    pub texture_budget_bytes: u64,
    /// Most screen fills painted in one frame.
    pub peak_overdraw: f64,
    /// Bytes uploaded per frame, p95.
    pub upload_bytes_p95: f64,
    /// Sends, dropped sends, and sends that played to their end.
    pub sends: usize,
    /// Dropped sends.
    pub dropped: usize,
    /// Completed sends.
    pub completed: usize,
}

/// One (tier, scenario) run.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    /// Tier name.
    pub tier: String,
    /// Scenario name.
    pub scenario: String,
    /// Measurements.
    pub stats: RunStats,
    /// CPU frame time per frame, ms (for charts).
    pub frame_cpu_series_ms: Vec<f64>,
    /// GPU frame time per frame, ms (empty without timestamps).
    pub frame_gpu_series_ms: Vec<f64>,
    /// Each send.
    pub sends: Vec<SendResult>,
}

/// The `smoke` report (`report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct SmokeReport {
    /// Tool name and version.
    pub tool: crate::report::json::Tool,
    /// The bundle.
    pub bundle: Option<BundleHeader>,
    /// Counts of findings.
    pub summary: FindingSummary,
    /// Sorted findings.
    pub findings: Vec<Finding>,
    /// The adapter the runs used.
    pub adapter: AdapterSummary,
    /// The tiers used.
    pub tiers: Vec<Tier>,
    /// Runs in tier order, then scenario order.
    pub runs: Vec<Run>,
    /// Effects, or parts of them, that the playback model does not draw yet.
    pub not_drawn: Vec<(String, Unsupported)>,
}

struct Instance {
    send: u32,
    slot: u32,
    asset: String,
    anim: Arc<Animation>,
    started_ms: f64,
    first_drawn_ms: Option<f64>,
    requested: HashSet<usize>,
    failed: bool,
}

/// The effects a smoke test plays: their animations by id, in manifest order.
#[derive(Debug, Default)]
pub struct Playlist {
    /// Effect id → loaded animation.
    pub anims: HashMap<String, Arc<Animation>>,
    /// Effect ids in manifest order (what `*` means).
    pub effects: Vec<String>,
    /// Effects that must not play on the current tier (their frames exceed its textures).
    pub blocked: HashSet<String>,
    /// Draw frames back to back instead of at the tier's frame rate (benchmarks: the host's
    /// maximum frame rate).
    pub unpaced: bool,
    /// Where to send looks at the burst while it runs (the app's live view); `None` in CI.
    pub live: Option<LiveView>,
}

/// One look at a running burst: the frame just drawn and the state of the queue.
#[derive(Debug, Clone)]
pub struct LiveFrame {
    /// Tier and scenario names.
    pub tier: String,
    /// Scenario name.
    pub scenario: String,
    /// Frame size in pixels (the tier's viewport), width × height.
    pub size: [usize; 2],
    /// Premultiplied RGBA8 pixels, row-major, `size[0] * size[1] * 4` bytes.
    pub rgba: Vec<u8>,
    /// Milliseconds since the scenario started.
    pub t_ms: f64,
    /// Scenario length in milliseconds (the cap when the scenario runs until its queue drains).
    pub length_ms: f64,
    /// Effect ids on screen now, oldest first.
    pub playing: Vec<String>,
    /// Sends waiting in the queue.
    pub queued: usize,
    /// Sends made so far, and in all.
    pub sent: usize,
    /// Sends in the scenario.
    pub total: usize,
    /// Sends dropped so far (queue full).
    pub dropped: usize,
}

/// Receives [`LiveFrame`]s at most once per `every`. Reading the frame back happens after the
/// frame's CPU time is taken, so the figures a burst reports do not include it.
#[derive(Clone)]
pub struct LiveView {
    /// Least time between two looks.
    pub every: Duration,
    /// Called on the burst's thread with each look.
    pub sink: Arc<dyn Fn(LiveFrame) + Send + Sync>,
}

impl std::fmt::Debug for LiveView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveView")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

/// Plays one scenario on one tier.
///
/// # Errors
/// [`super::RenderError`] from the GPU.
pub fn run_scenario(
    ctx: &RenderContext,
    playlist: &Playlist,
    tier: &Tier,
    scenario: &Scenario,
    findings: &mut Vec<Finding>,
    progress: &dyn Fn(f64),
) -> Result<Run, super::RenderError> {
    let (anims, effects, blocked) = (&playlist.anims, &playlist.effects, &playlist.blocked);
    let viewport = [tier.viewport_px[0] as f32, tier.viewport_px[1] as f32];
    let viewport_area = f64::from(viewport[0]) * f64::from(viewport[1]);
    let budget_ms = tier.frame_budget_ms();
    let target = ctx.target(tier.viewport_px[0], tier.viewport_px[1]);
    let mut painter = Painter::new(
        ctx,
        tier.texture_budget_bytes,
        tier.max_texture_px.min(ctx.max_texture_px),
    );
    let pool = DecodePool::new(tier.decode_threads, tier.cpu_slowdown);
    let sends = expand(scenario, effects);
    let mut results: Vec<SendResult> = sends
        .iter()
        .map(|s| SendResult {
            id: s.id,
            asset: s.asset.clone(),
            at_ms: s.at_ms,
            queue_delay_ms: None,
            first_frame_ms: None,
            start_to_first_frame_ms: None,
            dropped: false,
            completed: false,
        })
        .collect();
    let mut sched = Scheduler::new(scenario);
    let mut next_send = 0usize;
    let mut instances: Vec<Instance> = Vec::new();
    let mut next_slot = 0u32;
    let (mut cpu, mut gpu, mut uploads, mut decode_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut late, mut peak_overdraw) = (0usize, 0.0f64);
    let mut per_asset_overdraw: HashMap<String, f64> = HashMap::new();
    let mut decode_errors: HashMap<String, String> = HashMap::new();
    let mut peak_resident = (0u64, Vec::<String>::new());
    let cap_ms = if scenario.duration_ms == 0 {
        MAX_RUN_MS as f64
    } else {
        scenario.duration_ms as f64
    };
    let start = Instant::now();
    let now_ms = || start.elapsed().as_secs_f64() * 1000.0;
    let mut last_live: Option<Instant> = None;
    let start_instance = |id: u32,
                          now: f64,
                          slot: &mut u32,
                          results: &mut Vec<SendResult>,
                          instances: &mut Vec<Instance>| {
        let r = &mut results[id as usize];
        r.queue_delay_ms = Some(now - r.at_ms as f64);
        if let Some(anim) = anims.get(&r.asset).filter(|_| !blocked.contains(&r.asset)) {
            instances.push(Instance {
                send: id,
                slot: *slot,
                asset: r.asset.clone(),
                anim: Arc::clone(anim),
                started_ms: now,
                first_drawn_ms: None,
                requested: HashSet::new(),
                failed: false,
            });
            *slot += 1;
            true
        } else {
            false
        }
    };
    loop {
        let frame_start = Instant::now();
        let now = now_ms();
        if now >= cap_ms {
            break;
        }
        // Sends that are due.
        while next_send < sends.len() && sends[next_send].at_ms as f64 <= now {
            let id = sends[next_send].id;
            match sched.send(id) {
                Admit::Start => {
                    if !start_instance(id, now, &mut next_slot, &mut results, &mut instances) {
                        for q in sched.finished() {
                            start_instance(q, now, &mut next_slot, &mut results, &mut instances);
                        }
                    }
                }
                Admit::Queued => {}
                Admit::Dropped => results[id as usize].dropped = true,
            }
            next_send += 1;
        }
        if scenario.duration_ms == 0
            && next_send >= sends.len()
            && instances.is_empty()
            && sched.queued() == 0
        {
            break;
        }
        // This frame's display lists.
        let mut frames: Vec<(usize, Vec<Placed>)> = Vec::new();
        let mut pinned: HashSet<TextureKey> = HashSet::new();
        for (i, inst) in instances.iter().enumerate() {
            let t = inst.first_drawn_ms.map_or(0.0, |s| now - s);
            let f = inst.anim.frame_at_time(t);
            let fit = fit_contain(
                [inst.anim.width_px as f32, inst.anim.height_px as f32],
                viewport,
            );
            let placed = place(&frame_at(&inst.anim, f), fit);
            pinned.extend(
                placed
                    .iter()
                    .filter_map(Placed::image)
                    .map(|i| (inst.slot, i)),
            );
            frames.push((i, placed));
        }
        // Decoded images arrive.
        painter.uploaded_bytes = 0;
        while let Ok(d) = pool.results.try_recv() {
            decode_ms.push(d.decode_ms);
            let Some(inst) = instances.iter_mut().find(|i| i.slot == d.slot) else {
                continue;
            };
            match d.result {
                Ok(img) => {
                    if let Err(e) = painter.upload((d.slot, d.image), img, &pinned) {
                        decode_errors
                            .entry(inst.asset.clone())
                            .or_insert_with(|| e.to_string());
                        inst.failed = true;
                    }
                }
                Err(e) => {
                    decode_errors.entry(inst.asset.clone()).or_insert(e);
                    inst.failed = true;
                }
            }
        }
        // Ask for this frame's images and the next ones.
        for inst in &mut instances {
            let t0 = inst.first_drawn_ms.map_or(0.0, |s| now - s);
            let mut t = t0;
            let step = 1000.0 / inst.anim.fps.max(1.0);
            while t <= t0 + LOOKAHEAD_MS {
                let f = inst.anim.frame_at_time(t);
                for img in inst.anim.images_at(f) {
                    if !inst.requested.contains(&img) && !painter.has((inst.slot, img)) {
                        let headroom = painter.resident_bytes()
                            + inst.anim.images[img].texture_bytes()
                            <= tier.texture_budget_bytes;
                        if t > t0 && !headroom {
                            continue;
                        }
                        inst.requested.insert(img);
                        pool.submit(Job {
                            slot: inst.slot,
                            image: img,
                            anim: Arc::clone(&inst.anim),
                        });
                    }
                }
                if f + 1 >= inst.anim.frame_count {
                    break;
                }
                t += step;
            }
        }
        // Draw what is ready.
        let mut layers: Vec<(u32, &[Placed])> = Vec::new();
        let mut drawn = Vec::new();
        let mut overdraw = 0.0;
        for (i, placed) in &frames {
            let inst = &instances[*i];
            let ready = placed
                .iter()
                .filter_map(Placed::image)
                .all(|img| painter.has((inst.slot, img)));
            if ready {
                let od: f64 =
                    placed.iter().map(|p| p.area(viewport_area)).sum::<f64>() / viewport_area;
                overdraw += od;
                let e = per_asset_overdraw.entry(inst.asset.clone()).or_default();
                *e = e.max(od);
                layers.push((inst.slot, placed.as_slice()));
                drawn.push(*i);
            } else if inst.first_drawn_ms.is_some() {
                late += 1;
            }
        }
        let (gpu_ms, _) = painter.draw(&target, [0.0; 4], &layers)?;
        let drew_at = now_ms();
        for i in drawn {
            let inst = &mut instances[i];
            if inst.first_drawn_ms.is_none() {
                inst.first_drawn_ms = Some(drew_at);
                let r = &mut results[inst.send as usize];
                r.first_frame_ms = Some(drew_at - r.at_ms as f64);
                r.start_to_first_frame_ms = Some(drew_at - inst.started_ms);
            }
        }
        cpu.push(frame_start.elapsed().as_secs_f64() * 1000.0);
        if let Some(g) = gpu_ms {
            gpu.push(g);
        }
        if let Some(live) = &playlist.live
            && last_live.is_none_or(|t: Instant| t.elapsed() >= live.every)
        {
            last_live = Some(Instant::now());
            let img = ctx.read_pixels(&target)?;
            (live.sink)(LiveFrame {
                tier: tier.name.clone(),
                scenario: scenario.name.clone(),
                size: [img.width() as usize, img.height() as usize],
                rgba: img.into_raw(),
                t_ms: now,
                length_ms: cap_ms,
                playing: instances.iter().map(|i| i.asset.clone()).collect(),
                queued: sched.queued(),
                sent: next_send,
                total: sends.len(),
                dropped: results.iter().filter(|r| r.dropped).count(),
            });
        }
        uploads.push(painter.uploaded_bytes as f64);
        peak_overdraw = peak_overdraw.max(overdraw);
        if painter.resident_bytes() > peak_resident.0 {
            peak_resident = (
                painter.resident_bytes(),
                instances.iter().map(|i| i.asset.clone()).collect(),
            );
        }
        // Effects that ended (or failed) make room for queued sends.
        let now = now_ms();
        let mut ended = Vec::new();
        instances.retain(|inst| {
            let done = inst.failed
                || inst
                    .first_drawn_ms
                    .is_some_and(|s| now - s >= inst.anim.duration_ms());
            if done {
                ended.push((inst.slot, inst.send, !inst.failed));
            }
            !done
        });
        for (slot, send, ok) in ended {
            painter.release(slot);
            results[send as usize].completed = ok;
            for q in sched.finished() {
                start_instance(q, now, &mut next_slot, &mut results, &mut instances);
            }
        }
        progress(now / cap_ms.max(1.0));
        // Pace at the tier's frame rate.
        let spent = frame_start.elapsed().as_secs_f64() * 1000.0;
        if spent < budget_ms && !playlist.unpaced {
            std::thread::sleep(Duration::from_secs_f64((budget_ms - spent) / 1000.0));
        }
    }
    let wall_ms = now_ms();
    pool.shutdown();
    let tag = format!("tier {}, scenario {}", tier.name, scenario.name);
    for (asset, e) in &decode_errors {
        findings.push(Finding::new(Code::DecodeFailed, format!("{tag}: {e}")).asset(asset.clone()));
    }
    if painter.peak_bytes() > tier.texture_budget_bytes {
        findings.push(
            Finding::new(
                Code::MemoryOverBudget,
                format!(
                    "{tag}: {} texture bytes resident with {} playing, over the tier's budget",
                    painter.peak_bytes(),
                    peak_resident.1.join(", ")
                ),
            )
            .expected_actual(
                format!("≤ {}", tier.texture_budget_bytes),
                painter.peak_bytes().to_string(),
            ),
        );
    }
    let mut slow: HashMap<&str, f64> = HashMap::new();
    for r in &results {
        if let Some(ms) = r.start_to_first_frame_ms {
            let e = slow.entry(r.asset.as_str()).or_default();
            *e = e.max(ms);
        }
    }
    for (asset, ms) in slow {
        if ms > tier.first_frame_budget_ms {
            findings.push(
                Finding::new(Code::FirstFrameSlow, format!("{tag}: first frame drawn {ms:.0} ms after the effect started, over the tier's {:.0} ms budget", tier.first_frame_budget_ms))
                    .asset(asset)
                    .expected_actual(format!("≤ {:.0} ms", tier.first_frame_budget_ms), format!("{ms:.0} ms")),
            );
        }
    }
    for (asset, od) in &per_asset_overdraw {
        if *od > tier.overdraw_budget() {
            findings.push(
                Finding::new(
                    Code::OverdrawOverBudget,
                    format!(
                        "{tag}: one frame paints {od:.2} screen fills, over the tier's {:.1}",
                        tier.overdraw_budget()
                    ),
                )
                .asset(asset.clone())
                .expected_actual(
                    format!("≤ {:.1}", tier.overdraw_budget()),
                    format!("{od:.2}"),
                ),
            );
        }
    }
    let upload_p95 = summarize(&uploads).p95;
    if upload_p95 > tier.upload_budget_bytes_per_frame() as f64 {
        findings.push(
            Finding::new(
                Code::UploadOverBudget,
                format!(
                    "{tag}: p95 upload {upload_p95:.0} bytes per frame, over the tier's {} bytes",
                    tier.upload_budget_bytes_per_frame()
                ),
            )
            .expected_actual(
                format!("≤ {}", tier.upload_budget_bytes_per_frame()),
                format!("{upload_p95:.0}"),
            ),
        );
    }
    let dropped = results.iter().filter(|r| r.dropped).count();
    if dropped > 0 {
        findings.push(
            Finding::new(
                Code::BurstDropped,
                format!(
                    "{tag}: {dropped} of {} sends dropped by a full queue (limit {})",
                    results.len(),
                    scenario.queue_limit
                ),
            )
            .expected_actual("0 dropped", dropped.to_string()),
        );
    }
    let firsts: Vec<f64> = results.iter().filter_map(|r| r.first_frame_ms).collect();
    let queues: Vec<f64> = results.iter().filter_map(|r| r.queue_delay_ms).collect();
    let start_firsts: Vec<f64> = results
        .iter()
        .filter_map(|r| r.start_to_first_frame_ms)
        .collect();
    let stats = RunStats {
        frames: cpu.len(),
        wall_ms,
        fps: cpu.len() as f64 * 1000.0 / wall_ms.max(1.0),
        frame_cpu_ms: summarize(&cpu),
        frame_gpu_ms: (!gpu.is_empty()).then(|| summarize(&gpu)),
        jank: jank(&cpu, budget_ms),
        frame_budget_ms: budget_ms,
        late_frames: late,
        first_frame_ms: summarize(&firsts),
        start_to_first_frame_ms: summarize(&start_firsts),
        decode_ms: summarize(&decode_ms),
        queue_delay_ms: summarize(&queues),
        peak_texture_bytes: painter.peak_bytes(),
        texture_budget_bytes: tier.texture_budget_bytes,
        peak_overdraw,
        upload_bytes_p95: upload_p95,
        sends: results.len(),
        dropped,
        completed: results.iter().filter(|r| r.completed).count(),
    };
    Ok(Run {
        tier: tier.name.clone(),
        scenario: scenario.name.clone(),
        stats,
        frame_cpu_series_ms: cpu,
        frame_gpu_series_ms: gpu,
        sends: results,
    })
}

/// Sorts and counts findings for the report.
#[must_use]
pub fn finish_findings(mut findings: Vec<Finding>) -> (Vec<Finding>, FindingSummary) {
    crate::check::finding::sort_findings(&mut findings);
    findings.dedup();
    let s = count(&findings);
    (findings, s)
}
