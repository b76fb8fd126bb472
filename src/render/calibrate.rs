//! The GPU half of `giftqa calibrate`: this adapter's upload rate, fill rate, draw-call and
//! layer costs, timed on the host (each draw waited for), as device constants.

use std::collections::HashSet;

use super::RenderContext;
use super::paint::Painter;
use crate::model::Compose;
use crate::playback::calibrate::{Measured, test_picture, time_ms};
use crate::playback::device::DeviceConstants;
use crate::playback::{Placed, PlacedMesh};

/// Side of the target the fill is measured on, px.
pub const TARGET_PX: u32 = 1024;

fn rect(x: f32, y: f32, w: f32, h: f32) -> Placed {
    Placed::Mesh(PlacedMesh {
        triangles: vec![
            [x, y],
            [x + w, y],
            [x + w, y + h],
            [x, y],
            [x + w, y + h],
            [x, y + h],
        ],
        color: [0.2, 0.1, 0.05, 0.3],
        gradient: None,
        segments: 4,
    })
}

/// Measures the GPU constants of `ctx`'s adapter into `c`.
///
/// # Errors
/// The renderer's error when a draw fails.
pub fn measure_gpu(
    ctx: &RenderContext,
    c: &mut DeviceConstants,
    samples: u32,
) -> Result<Vec<Measured>, super::RenderError> {
    let target = ctx.target(TARGET_PX, TARGET_PX);
    let mut painter = Painter::new(ctx, u64::MAX, ctx.max_texture_px);
    let side = TARGET_PX as f32;
    let mut run = |placed: &[Placed]| -> Result<f64, super::RenderError> {
        let mut err = None;
        let ms = time_ms(|| {
            if let Err(e) = painter.draw(&target, [0.0; 4], &[(0, placed)]) {
                err = Some(e);
            }
        });
        err.map_or(Ok(ms), Err)
    };
    let base = run(&[rect(0.0, 0.0, 1.0, 1.0)])?;
    // Fill: 16 full-target rectangles, blended.
    let full: Vec<Placed> = (0..16).map(|_| rect(0.0, 0.0, side, side)).collect();
    let fill_ms = (run(&full)? - base).max(1e-6);
    let px = 16.0 * f64::from(TARGET_PX * TARGET_PX) * f64::from(samples.max(1));
    c.fill_mpx_per_ms = px / 1e6 / fill_ms;
    // Draw calls: 400 one-pixel rectangles.
    let tiny: Vec<Placed> = (0..400)
        .map(|i| rect((i % 20) as f32, (i / 20) as f32, 1.0, 1.0))
        .collect();
    c.draw_call_us = ((run(&tiny)? - base).max(0.0) * 1000.0 / 400.0).max(0.01);
    // Layers: 20 unclipped layers, each with one one-pixel rectangle.
    let mut layered = Vec::new();
    for _ in 0..20 {
        layered.push(Placed::PushLayer {
            alpha: 0.9,
            compose: Compose::SrcOver,
            clip: None,
        });
        layered.push(rect(0.0, 0.0, 1.0, 1.0));
        layered.push(Placed::PopLayer);
    }
    let layer_ms = (run(&layered)? - base).max(0.0) / 20.0;
    c.layer_us = (layer_ms * 1000.0 - 2.0 * c.draw_call_us).max(0.01);
    // Upload: a 1024² picture made resident, then drawn once (waited for).
    let pic = test_picture(1024);
    let bytes = f64::from(1024u32 * 1024 * 4);
    let mut err = None;
    let mut k = 0u32;
    let upload_ms = time_ms(|| {
        k += 1;
        if let Err(e) = painter.upload((0, k as usize), pic.clone(), &HashSet::new()) {
            err = Some(e);
        }
        painter.evict((0, k as usize));
    });
    if let Some(e) = err {
        return Err(e);
    }
    c.upload_mb_per_s = bytes / 1e6 / (upload_ms / 1000.0).max(1e-9);
    Ok(vec![
        Measured {
            name: "fill_mpx_per_ms",
            value: c.fill_mpx_per_ms,
            how: "measured".into(),
        },
        Measured {
            name: "draw_call_us",
            value: c.draw_call_us,
            how: "measured".into(),
        },
        Measured {
            name: "layer_us",
            value: c.layer_us,
            how: "measured".into(),
        },
        Measured {
            name: "upload_mb_per_s",
            value: c.upload_mb_per_s,
            how: "measured (premultiply and copy included)".into(),
        },
    ])
}
