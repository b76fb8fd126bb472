//! The self-contained HTML report of `smoke` (`report.html`): findings, one table and one
//! frame-time chart per tier and scenario, as inline SVG. No scripts, no network.

use std::fmt::Write as _;

/// Escapes text for HTML.
#[must_use]
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A frame-time chart: CPU (and GPU) series against the frame budget, as an SVG string.
#[must_use]
pub fn frame_time_svg(cpu_ms: &[f64], gpu_ms: &[f64], budget_ms: f64) -> String {
    let (w, h, pad) = (720.0f64, 180.0f64, 30.0f64);
    let n = cpu_ms.len().max(2) as f64;
    let top = cpu_ms
        .iter()
        .chain(gpu_ms)
        .copied()
        .fold(budget_ms * 2.0, f64::max);
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / (n - 1.0);
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v / top).min(1.0);
    let poly = |series: &[f64]| {
        series
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="frame times">"#
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{w}" height="{h}" fill="#fafafa"/>"##
    );
    for (v, colour, label) in [
        (budget_ms, "#d33", "budget"),
        (budget_ms * 2.0, "#f90", "2× budget"),
    ] {
        let _ = write!(
            s,
            r#"<line x1="{pad}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="{colour}">{label} {v:.1} ms</text>"#,
            w - pad,
            y(v),
            y(v),
            w - pad - 90.0,
            y(v) - 3.0
        );
    }
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#1565c0" stroke-width="1" points="{}"/>"##,
        poly(cpu_ms)
    );
    if !gpu_ms.is_empty() {
        let _ = write!(
            s,
            r##"<polyline fill="none" stroke="#2e7d32" stroke-width="1" points="{}"/>"##,
            poly(gpu_ms)
        );
    }
    let _ = write!(
        s,
        r##"<text x="{pad}" y="14" font-size="11" fill="#1565c0">CPU frame time (ms)</text><text x="{:.1}" y="14" font-size="11" fill="#2e7d32">{}</text><text x="4" y="{:.1}" font-size="10">{top:.0}</text><text x="4" y="{:.1}" font-size="10">0</text></svg>"##,
        pad + 140.0,
        if gpu_ms.is_empty() {
            ""
        } else {
            "GPU pass time (ms)"
        },
        pad,
        h - pad
    );
    s
}

/// Renders the smoke report as one HTML page: findings, what plays instead of what, each
/// simulated run with its frame-cost chart, and the host's figures and thumbnails apart.
#[must_use]
pub fn smoke_html(r: &super::smoke::SmokeReport) -> String {
    let mut s = String::new();
    let title = r.bundle.as_ref().map_or_else(
        || "bundle".to_owned(),
        |b| format!("{} {}", b.bundle_id, b.version),
    );
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>giftqa smoke: {}</title><style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:8px 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}th{{background:#eee}}td:first-child,th:first-child{{text-align:left}}.error{{color:#b00}}.warning{{color:#a60}}.info{{color:#555}}code{{background:#f3f3f3}}figure{{display:inline-block;margin:4px 12px 4px 0}}</style></head><body>",
        escape(&title)
    );
    let _ = write!(s, "<h1>giftqa smoke: {}</h1>", escape(&title));
    let _ = write!(
        s,
        "<p>{} {} · {} errors, {} warnings, {} infos</p>",
        r.tool.name, r.tool.version, r.summary.errors, r.summary.warnings, r.summary.infos
    );
    s.push_str("<p>Every figure but the host's is simulated device time (the device model of each tier, docs/device-model.md): the same bundle, tiers and scenarios give the same figures and findings on any machine.</p>");
    if !r.findings.is_empty() {
        s.push_str("<h2>Findings</h2><ul>");
        for f in &r.findings {
            let _ = write!(
                s,
                "<li class=\"{0}\">{0}[<code>{1}</code>] {2}: {3}</li>",
                f.severity.as_str(),
                f.code,
                escape(f.asset.as_deref().unwrap_or("")),
                escape(&f.message)
            );
        }
        s.push_str("</ul>");
    }
    if !r.substitutions.is_empty() {
        s.push_str("<h2>What users get instead</h2><ul>");
        for (tier, plays) in &r.substitutions {
            for (effect, p) in plays {
                let _ = write!(
                    s,
                    "<li>tier {}: <code>{}</code> plays {}</li>",
                    escape(tier),
                    escape(effect),
                    escape(&serde_json::to_string(p).unwrap_or_default())
                );
            }
        }
        s.push_str("</ul>");
    }
    if !r.host.thumbnails.is_empty() {
        s.push_str("<h2>Each effect at its most expensive frame</h2>");
        for t in &r.host.thumbnails {
            let _ = write!(
                s,
                "<figure><img alt=\"{0} frame {1}\" src=\"data:image/png;base64,{2}\"><figcaption><code>{0}</code> frame {1}, tier {3}: {4:.2} ms simulated</figcaption></figure>",
                escape(&t.asset),
                t.frame_idx,
                t.png_base64,
                escape(&t.tier),
                t.cost_ms
            );
        }
    }
    if !r.not_drawn.is_empty() {
        s.push_str("<h2>Not drawn yet</h2><ul>");
        for (asset, u) in &r.not_drawn {
            let _ = write!(
                s,
                "<li><code>{}</code>: {}</li>",
                escape(asset),
                escape(&u.describe().join("; "))
            );
        }
        s.push_str("</ul>");
    }
    s.push_str("<h2>Runs (simulated)</h2>");
    for run in &r.runs {
        let st = &run.stats;
        let _ = write!(
            s,
            "<h3>tier {} · scenario {}</h3>",
            escape(&run.tier),
            escape(&run.scenario)
        );
        s.push_str(
            "<table><tr><th>measure</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>",
        );
        let mut row = |name: &str, v: &crate::playback::stats::Summary| {
            let _ = write!(
                s,
                "<tr><td>{name}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
                v.p50, v.p95, v.p99, v.max
            );
        };
        row("main-thread frame time, ms", &st.frame_main_ms);
        row("GPU frame time, ms", &st.frame_gpu_ms);
        row(
            "first-frame latency (send → first frame), ms",
            &st.first_frame_ms,
        );
        row(
            "start → first frame (decode share), ms",
            &st.start_to_first_frame_ms,
        );
        row("decode per image, ms", &st.decode_ms);
        row("queue delay, ms", &st.queue_delay_ms);
        s.push_str("</table><table>");
        let mut kv = |k: &str, v: String| {
            let _ = write!(s, "<tr><td>{k}</td><td>{}</td></tr>", escape(&v));
        };
        kv(
            "frames, fps",
            format!(
                "{} frames, {:.1} fps over {:.1} s",
                st.frames,
                st.fps,
                st.device_ms / 1000.0
            ),
        );
        kv(
            "jank (over budget / over 2× budget)",
            format!(
                "{} / {} (budget {:.1} ms)",
                st.jank.over_budget, st.jank.over_twice_budget, st.frame_budget_ms
            ),
        );
        kv(
            "late frames (content not ready)",
            st.late_frames.to_string(),
        );
        let m = &st.peak_memory;
        kv(
            "peak device memory / budget",
            format!(
                "{:.1} MiB / {:.0} MiB (textures {:.1}, targets {:.1}, MSAA {:.1}, layers {:.1}, meshes {:.2})",
                m.total() as f64 / 1_048_576.0,
                st.texture_budget_bytes as f64 / 1_048_576.0,
                m.textures as f64 / 1_048_576.0,
                m.targets as f64 / 1_048_576.0,
                m.msaa as f64 / 1_048_576.0,
                m.layers as f64 / 1_048_576.0,
                m.meshes as f64 / 1_048_576.0
            ),
        );
        kv(
            "peak overdraw (screen fills)",
            format!("{:.2}", st.peak_overdraw),
        );
        kv(
            "upload per frame, p95",
            format!("{:.1} KiB", st.upload_bytes_p95 / 1024.0),
        );
        kv(
            "sends: completed / dropped / total",
            format!("{} / {} / {}", st.completed, st.dropped, st.sends),
        );
        s.push_str("</table>");
        s.push_str(&frame_time_svg(
            &run.frame_main_series_ms,
            &run.frame_gpu_series_ms,
            st.frame_budget_ms,
        ));
    }
    s.push_str("<h2>Host (this machine; never judged)</h2>");
    match &r.host.adapter {
        Some(a) => {
            let _ = write!(
                s,
                "<p>adapter {} ({}, {}) · wall time {:.1} s</p>",
                escape(&a.name),
                escape(&a.backend),
                escape(&a.device_type),
                r.host.wall_ms / 1000.0
            );
        }
        None => {
            let _ = write!(
                s,
                "<p>nothing drawn (--no-gpu) · wall time {:.1} s</p>",
                r.host.wall_ms / 1000.0
            );
        }
    }
    if !r.host.runs.is_empty() {
        s.push_str("<table><tr><th>tier · scenario</th><th>frames</th><th>host fps</th><th>CPU p50 ms</th><th>CPU p95 ms</th><th>GPU p95 ms</th></tr>");
        for h in &r.host.runs {
            let _ = write!(
                s,
                "<tr><td>{} · {}</td><td>{}</td><td>{:.1}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr>",
                escape(&h.tier),
                escape(&h.scenario),
                h.frames,
                h.fps,
                h.frame_cpu_ms.p50,
                h.frame_cpu_ms.p95,
                h.frame_gpu_ms
                    .map_or("-".to_owned(), |g| format!("{:.2}", g.p95))
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_is_well_formed_and_escapes() {
        let svg = frame_time_svg(&[10.0, 20.0, 40.0], &[1.0, 2.0, 3.0], 16.7);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(escape("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
