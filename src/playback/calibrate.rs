//! `giftqa calibrate`: measures this host's own device constants (spec §9), so that `smoke`
//! with the tiers file it writes predicts what the host itself does. CPU constants are measured
//! here on synthetic inputs (decode per codec, flattening, tessellation); GPU constants by the
//! renderer when there is one (`render::calibrate`). A constant that cannot be measured keeps
//! the `mid` value scaled by the host's measured CPU ratio, and is named as such.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::device::{DeviceConstants, mid_constants};

/// Least time each measurement runs.
pub const MEASURE_FOR: Duration = Duration::from_millis(300);

/// One measured (or scaled) constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    /// The constant's name.
    pub name: &'static str,
    /// Its value, in the constant's unit.
    pub value: f64,
    /// How it was found: `measured`, or what it was scaled from.
    pub how: String,
}

/// Runs `f` repeatedly for at least [`MEASURE_FOR`]; returns the mean time per call, ms.
pub fn time_ms(mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    let mut n = 0u32;
    while t.elapsed() < MEASURE_FOR || n < 3 {
        f();
        n += 1;
    }
    t.elapsed().as_secs_f64() * 1000.0 / f64::from(n)
}

/// A deterministic test picture, `px`² RGBA: a gradient with noise, as a gift frame's mix of
/// flat and busy areas.
#[must_use]
pub fn test_picture(px: u32) -> image::RgbaImage {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    image::RgbaImage::from_fn(px, px, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state & 0x3f) as u8;
        let g = ((x + y) * 255 / (2 * px).max(1)) as u8;
        image::Rgba([
            g.wrapping_add(n),
            255 - g,
            n.wrapping_mul(3),
            200 + (n & 0x1f),
        ])
    })
}

/// Measures the CPU constants on this host. `base` gives what is not measured here.
#[must_use]
pub fn measure_cpu(base: &DeviceConstants) -> (DeviceConstants, Vec<Measured>) {
    let mut c = *base;
    let mut out = Vec::new();
    let px = 512u32;
    let pic = image::DynamicImage::ImageRgba8(test_picture(px));
    let mpx = f64::from(px * px) / 1e6;
    let mut rate = |name: &'static str, format: image::ImageFormat| -> Option<f64> {
        let mut bytes = Vec::new();
        let img = if format == image::ImageFormat::Gif {
            image::DynamicImage::ImageRgba8(pic.to_rgba8())
        } else {
            pic.clone()
        };
        img.write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .ok()?;
        let ms = time_ms(|| {
            std::hint::black_box(image::load_from_memory_with_format(&bytes, format).ok());
        });
        let v = mpx / (ms / 1000.0);
        out.push(Measured {
            name,
            value: v,
            how: "measured".into(),
        });
        Some(v)
    };
    if let Some(v) = rate("decode_png_mpx_per_s", image::ImageFormat::Png) {
        c.decode_png_mpx_per_s = v;
    }
    if let Some(v) = rate("decode_webp_mpx_per_s", image::ImageFormat::WebP) {
        c.decode_webp_mpx_per_s = v;
    }
    if let Some(v) = rate("decode_gif_mpx_per_s", image::ImageFormat::Gif) {
        c.decode_gif_mpx_per_s = v;
    }
    // Flattening and tessellation of a busy path (a 64-point star of cubic curves).
    let mut path = kurbo::BezPath::new();
    let n = 64;
    for i in 0..n {
        let a = std::f64::consts::TAU * f64::from(i) / f64::from(n);
        let r = if i % 2 == 0 { 200.0 } else { 90.0 };
        let p = kurbo::Point::new(256.0 + r * a.cos(), 256.0 + r * a.sin());
        if i == 0 {
            path.move_to(p);
        } else {
            let c1 = kurbo::Point::new(p.x + 20.0, p.y - 15.0);
            path.curve_to(c1, c1, p);
        }
    }
    path.close_path();
    let segments = path.elements().len() as f64;
    let flatten_ms = time_ms(|| {
        let mut k = 0u32;
        kurbo::flatten(path.iter(), 0.25, |_| k += 1);
        std::hint::black_box(k);
    });
    let mesh = crate::model::vector::fill_mesh(&path, crate::model::vector::TOLERANCE).ok();
    let vertices = mesh.as_ref().map_or(0, |m| m.indices.len()) as f64;
    let tess_ms = time_ms(|| {
        std::hint::black_box(
            crate::model::vector::fill_mesh(&path, crate::model::vector::TOLERANCE).ok(),
        );
    });
    c.flatten_segments_per_ms = segments / flatten_ms.max(1e-9);
    out.push(Measured {
        name: "flatten_segments_per_ms",
        value: c.flatten_segments_per_ms,
        how: "measured".into(),
    });
    if vertices > 0.0 {
        c.tessellate_vertices_per_ms = vertices / (tess_ms - flatten_ms).max(1e-6);
        out.push(Measured {
            name: "tessellate_vertices_per_ms",
            value: c.tessellate_vertices_per_ms,
            how: "measured (fill tessellation less flattening)".into(),
        });
    }
    // What is not measured scales with the host's CPU, judged by its PNG decode against mid's.
    let mid = mid_constants();
    let k = c.decode_png_mpx_per_s / mid.decode_png_mpx_per_s;
    c.decode_jpeg_mpx_per_s = mid.decode_jpeg_mpx_per_s * k;
    c.eval_properties_per_ms = mid.eval_properties_per_ms * k;
    c.draw_call_us = mid.draw_call_us / k.max(1e-6);
    c.frame_overhead_ms = mid.frame_overhead_ms / k.max(1e-6);
    for (name, value) in [
        ("decode_jpeg_mpx_per_s", c.decode_jpeg_mpx_per_s),
        ("eval_properties_per_ms", c.eval_properties_per_ms),
        ("draw_call_us", c.draw_call_us),
        ("frame_overhead_ms", c.frame_overhead_ms),
    ] {
        out.push(Measured {
            name,
            value,
            how: format!("mid × {k:.2} (host PNG decode / mid's)"),
        });
    }
    (c, out)
}
