//! Lottie and dotLottie drawn through velato's model: a [`velato::RenderSink`] that turns
//! velato's layers, clips, fills and strokes into our [`DrawCmd`]s (meshes tessellated with
//! lyon, layers composited by Porter–Duff operator), so Lottie shares the renderer of every
//! other format.
//!
//! Image layers draw the animation's image assets (keyed by asset id) as lottie-web's canvas
//! renderer does (`CVImageElement`): scaled to the asset's `w` × `h` as `xMidYMid slice`
//! (cover), clipped to that box. What velato does not model (text layers, expressions, layer
//! effects, blend modes other than normal, merge paths, mask modes) is named by the format
//! decoder and reported in [`super::Unsupported::features`]. Linear and radial gradients are drawn per pixel from a
//! colour ramp; sweep gradients (which Lottie does not export) are drawn flat.

use std::sync::Arc;

use velato::model::fixed;
use velato::{Composition, RenderSink};

use super::vector::{Cap, GradientPaint, Join, Mesh, ShapeError, Stroke, fill_mesh, stroke_mesh};
use super::{Affine, Compose, DrawCmd, ImageAsset};

/// Collects the commands of one frame.
#[derive(Debug, Default)]
pub struct DisplayListSink<'a> {
    /// The animation's images, which image layers name by asset id ([`ImageAsset::key`]).
    pub images: &'a [ImageAsset],
    /// Commands in painter's order.
    pub cmds: Vec<DrawCmd>,
    /// Layers pushed and not yet popped.
    depth: usize,
    /// For each layer group velato has begun and not ended, how many layers it opened (blend
    /// and effects).
    groups: Vec<usize>,
    /// The file's layer effects, which marked layers name by index.
    pub effects: &'a [crate::format::lottie_fx::LayerEffects],
    /// The composition frame drawn (effect parameters are read on its clock).
    pub frame: f64,
    /// The first shape or clip that could not be tessellated within the limits.
    pub refused: Option<ShapeError>,
}

fn affine(t: kurbo::Affine) -> Affine {
    let c = t.as_coeffs();
    Affine([
        c[0] as f32,
        c[1] as f32,
        c[2] as f32,
        c[3] as f32,
        c[4] as f32,
        c[5] as f32,
    ])
}

/// Flattening tolerance in local units for a transform ([`super::vector::tolerance_at`] of its
/// largest stretch, at most 10 units): a shape drawn 12× up is flattened 12× finer.
fn tolerance(t: kurbo::Affine) -> f64 {
    f64::from(super::vector::tolerance_at(affine(t).max_scale().max(1e-6)).min(10.0))
}

impl DisplayListSink<'_> {
    /// The fill mesh of a layer's clip shape; a shape past the limits is recorded and
    /// gives `None`.
    fn mesh_of(&mut self, shape: &impl kurbo::Shape, t: kurbo::Affine) -> Option<Arc<Mesh>> {
        let tol = tolerance(t);
        let path = shape.to_path(tol);
        match fill_mesh(&path, tol as f32) {
            Ok(m) => Some(Arc::new(m)),
            Err(e) => {
                self.refused.get_or_insert(e);
                None
            }
        }
    }
}

/// Premultiplied RGBA of a brush: solid colours as they are, gradients (sweeps, the ones
/// drawn flat) as the mean of their stops.
fn premultiplied(brush: &fixed::Brush) -> Option<[f32; 4]> {
    let rgba = match brush {
        peniko::Brush::Solid(c) => c.components,
        peniko::Brush::Gradient(g) => {
            if g.stops.is_empty() {
                return None;
            }
            let mut sum = [0.0f32; 4];
            for s in g.stops.iter() {
                let c = s.color.to_alpha_color::<peniko::color::Srgb>().components;
                for i in 0..4 {
                    sum[i] += c[i];
                }
            }
            sum.map(|v| v / g.stops.len() as f32)
        }
        peniko::Brush::Image(_) => return None,
    };
    let a = rgba[3].clamp(0.0, 1.0);
    (a > 0.0).then(|| [rgba[0] * a, rgba[1] * a, rgba[2] * a, a])
}

/// A linear or radial peniko gradient as a [`GradientPaint`] (`None` for other brushes).
fn gradient(brush: &fixed::Brush) -> Option<GradientPaint> {
    let peniko::Brush::Gradient(g) = brush else {
        return None;
    };
    let p = |pt: kurbo::Point| [pt.x as f32, pt.y as f32];
    let (radial, start, end) = match &g.kind {
        peniko::GradientKind::Linear(l) => (false, p(l.start), p(l.end)),
        peniko::GradientKind::Radial(r) => {
            let c = p(r.end_center);
            (true, c, [c[0] + r.end_radius, c[1]])
        }
        peniko::GradientKind::Sweep(_) => return None,
    };
    let stops = g
        .stops
        .iter()
        .map(|s| {
            (
                s.offset,
                s.color.to_alpha_color::<peniko::color::Srgb>().components,
            )
        })
        .collect::<Vec<_>>();
    (!stops.is_empty()).then_some(GradientPaint {
        radial,
        start,
        end,
        stops,
    })
}

fn compose(mode: peniko::BlendMode) -> Compose {
    match mode.compose {
        peniko::Compose::SrcIn => Compose::SrcIn,
        peniko::Compose::SrcOut => Compose::SrcOut,
        peniko::Compose::DestIn => Compose::DestIn,
        peniko::Compose::DestOut => Compose::DestOut,
        _ => Compose::SrcOver,
    }
}

impl RenderSink for DisplayListSink<'_> {
    /// A layer whose name carries a blend mark (`format::lottie_text::split_blend`) is drawn
    /// into a layer of its own and blended onto what lies under it.
    fn begin_layer_group(&mut self, name: &str, _index: usize) {
        let (_, blend, fx) = crate::format::lottie_text::split_marks(name);
        let mut layers: Vec<Compose> = blend.map(Compose::Blend).into_iter().collect();
        // The first effect applies to the layer's content first: it is the innermost layer.
        if let Some(list) = fx.and_then(|i| self.effects.get(i)) {
            layers.extend(
                list.iter()
                    .rev()
                    .map(|e| Compose::Effect(effect_at(e, self.frame))),
            );
        }
        for compose in &layers {
            self.depth += 1;
            self.cmds.push(DrawCmd::PushLayer {
                alpha: 1.0,
                compose: *compose,
                clip: None,
            });
        }
        self.groups.push(layers.len());
    }

    fn end_layer_group(&mut self) {
        for _ in 0..self.groups.pop().unwrap_or(0) {
            if self.depth > 0 {
                self.depth -= 1;
                self.cmds.push(DrawCmd::PopLayer);
            }
        }
    }

    fn push_layer(
        &mut self,
        blend: impl Into<peniko::BlendMode>,
        alpha: f32,
        transform: kurbo::Affine,
        shape: &impl kurbo::Shape,
    ) {
        self.depth += 1;
        let clip = self
            .mesh_of(shape, transform)
            .map(|m| (m, affine(transform)));
        self.cmds.push(DrawCmd::PushLayer {
            alpha: alpha.clamp(0.0, 1.0),
            compose: compose(blend.into()),
            clip,
        });
    }

    fn push_clip_layer(&mut self, transform: kurbo::Affine, shape: &impl kurbo::Shape) {
        self.depth += 1;
        // A clip that cannot be tessellated (empty) hides everything inside it.
        let clip = self.mesh_of(shape, transform).unwrap_or_default();
        self.cmds.push(DrawCmd::PushLayer {
            alpha: 1.0,
            compose: Compose::SrcOver,
            clip: Some((clip, affine(transform))),
        });
    }

    fn pop_layer(&mut self) {
        if self.depth > 0 {
            self.depth -= 1;
            self.cmds.push(DrawCmd::PopLayer);
        }
    }

    fn draw(
        &mut self,
        stroke: Option<&fixed::Stroke>,
        transform: kurbo::Affine,
        brush: &fixed::Brush,
        shape: &impl kurbo::Shape,
    ) {
        let gradient = gradient(brush).map(Arc::new);
        let mut color = if gradient.is_some() {
            [1.0; 4]
        } else {
            let Some(c) = premultiplied(brush) else {
                return;
            };
            c
        };
        let tol = tolerance(transform);
        let path = shape.to_path(tol);
        let mesh = match stroke {
            None => fill_mesh(&path, tol as f32),
            Some(s) => stroke_mesh(
                &path,
                &stroke_as_drawn(
                    Stroke {
                        color: [0.0; 4],
                        width: s.width as f32,
                        cap: match s.start_cap {
                            kurbo::Cap::Butt => Cap::Butt,
                            kurbo::Cap::Round => Cap::Round,
                            kurbo::Cap::Square => Cap::Square,
                        },
                        join: match s.join {
                            kurbo::Join::Bevel => Join::Bevel,
                            kurbo::Join::Round => Join::Round,
                            kurbo::Join::Miter => Join::Miter,
                        },
                        miter_limit: s.miter_limit as f32,
                        dash: s.dash_pattern.iter().map(|d| *d as f32).collect(),
                        dash_offset: s.dash_offset as f32,
                    },
                    transform,
                    &mut color,
                ),
                tol as f32,
            ),
        };
        match mesh {
            Ok(mesh) if !mesh.is_empty() => self.cmds.push(DrawCmd::Mesh {
                mesh: Arc::new(mesh),
                transform: affine(transform),
                color,
                gradient,
            }),
            Ok(_) => {}
            Err(e) => {
                self.refused.get_or_insert(e);
            }
        }
    }

    fn draw_image(
        &mut self,
        image: &velato::model::ImageAsset,
        transform: kurbo::Affine,
        alpha: f64,
    ) {
        let Some((idx, asset)) = self
            .images
            .iter()
            .enumerate()
            .find(|(_, a)| a.key == image.id)
        else {
            return;
        };
        let (iw, ih) = (f64::from(asset.width_px), f64::from(asset.height_px));
        let w = image.width.filter(|w| *w > 0.0).unwrap_or(iw);
        let h = image.height.filter(|h| *h > 0.0).unwrap_or(ih);
        if iw <= 0.0 || ih <= 0.0 || !(w.is_finite() && h.is_finite()) {
            return;
        }
        self.cmds.push(DrawCmd::Image {
            image: idx,
            uv: cover_uv([iw, ih], [w, h]),
            size: [w as f32, h as f32],
            transform: affine(transform),
            alpha: alpha.clamp(0.0, 1.0) as f32,
        });
    }
}

/// An effect's parameters at `frame`, as lottie-web's SVG renderer reads them (`SVGEffects`):
/// Gaussian blur σ = 0.3 × blurriness; drop shadow σ = softness / 4, offset `distance` along
/// `direction − 90°`, opacity / 255.
fn effect_at(e: &crate::format::lottie_fx::EffectSpec, frame: f64) -> super::EffectParams {
    use super::EffectParams as P;
    use crate::format::lottie_fx::EffectKind;
    let p = |i: usize, c: usize, d: f64| e.params.get(i).map_or(d, |v| v.at(frame, c, d)) as f32;
    let rgb = |i: usize, d: f64| [p(i, 0, d), p(i, 1, d), p(i, 2, d)];
    match e.kind {
        EffectKind::Fill => {
            let [r, g, b] = rgb(2, 1.0);
            P::new(
                P::FILL,
                [
                    r,
                    g,
                    b,
                    p(6, 0, 1.0).clamp(0.0, 1.0),
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                ],
            )
        }
        EffectKind::Tint => {
            let [r0, g0, b0] = rgb(0, 0.0);
            let [r1, g1, b1] = rgb(1, 1.0);
            let amount = (p(2, 0, 100.0) / 100.0).clamp(0.0, 1.0);
            P::new(
                P::TINT,
                [r0, g0, b0, amount, r1, g1, b1, 0.0, 0.0, 0.0, 0.0, 0.0],
            )
        }
        EffectKind::Tritone => {
            let [r0, g0, b0] = rgb(0, 1.0);
            let [r1, g1, b1] = rgb(1, 0.5);
            let [r2, g2, b2] = rgb(2, 0.0);
            let blend = (p(3, 0, 0.0) / 100.0).clamp(0.0, 1.0);
            P::new(
                P::TRITONE,
                [r0, g0, b0, blend, r1, g1, b1, 0.0, r2, g2, b2, 0.0],
            )
        }
        EffectKind::GaussianBlur => {
            let sigma = (0.3 * p(0, 0, 0.0)).clamp(0.0, 256.0);
            let dims = p(1, 0, 1.0).round();
            let (sx, sy) = match dims as i32 {
                2 => (sigma, 0.0),
                3 => (0.0, sigma),
                _ => (sigma, sigma),
            };
            P::new(
                P::BLUR,
                [sx, sy, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            )
        }
        EffectKind::DropShadow => {
            let [r, g, b] = rgb(0, 0.0);
            let opacity = (p(1, 0, 127.5) / 255.0).clamp(0.0, 1.0);
            let angle = (p(2, 0, 135.0) - 90.0).to_radians();
            let distance = p(3, 0, 5.0).clamp(-4096.0, 4096.0);
            let sigma = (p(4, 0, 0.0) / 4.0).clamp(0.0, 256.0);
            P::new(
                P::SHADOW,
                [
                    r,
                    g,
                    b,
                    opacity,
                    distance * angle.cos(),
                    distance * angle.sin(),
                    sigma,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                    0.0,
                ],
            )
        }
    }
}

/// The texture rect (`[u0, v0, u1, v1]`) of an image of `image` px shown in a box of `boxed`
/// units as `xMidYMid slice` (lottie-web's default `imagePreserveAspectRatio`): scaled to cover
/// the box, centred, the overflow cut off.
fn cover_uv(image: [f64; 2], boxed: [f64; 2]) -> [f32; 4] {
    let scale = (boxed[0] / image[0]).max(boxed[1] / image[1]);
    if !(scale.is_finite() && scale > 0.0) {
        return [0.0, 0.0, 1.0, 1.0];
    }
    let (du, dv) = (
        (1.0 - boxed[0] / scale / image[0]).max(0.0) / 2.0,
        (1.0 - boxed[1] / scale / image[1]).max(0.0) / 2.0,
    );
    [du as f32, dv as f32, (1.0 - du) as f32, (1.0 - dv) as f32]
}

/// The commands of frame `idx` (counted from the composition's first frame), and the first
/// shape that could not be tessellated within the limits ([`ShapeError`]), left out. Image
/// layers draw `images` (the animation's, keyed by asset id); marked layers are drawn through
/// their `effects` (the file's, `format::lottie_fx`).
#[must_use]
pub fn lottie_cmds(
    comp: &Composition,
    idx: u32,
    images: &[ImageAsset],
    effects: &[crate::format::lottie_fx::LayerEffects],
) -> (Vec<DrawCmd>, Option<ShapeError>) {
    let frame = (comp.frames.start + f64::from(idx)).min(comp.frames.end - 1e-3);
    let run = crate::format::contain(|| {
        let mut sink = DisplayListSink {
            images,
            effects,
            frame,
            ..DisplayListSink::default()
        };
        velato::Renderer::new().append(comp, frame, kurbo::Affine::IDENTITY, 1.0, &mut sink);
        while sink.depth > 0 {
            sink.pop_layer();
        }
        Ok::<_, crate::format::Panicked>((sink.cmds, sink.refused))
    });
    // A model velato cannot evaluate draws nothing rather than taking the player down.
    run.unwrap_or_default()
}

/// The stroke as it is drawn under `transform`: a stroke under a canvas pixel wide
/// becomes a hairline, its opacity (`color`, premultiplied, or a gradient's tint) scaled
/// as Skia scales it ([`crate::model::vector::hairline`]).
fn stroke_as_drawn(stroke: Stroke, transform: kurbo::Affine, color: &mut [f32; 4]) -> Stroke {
    match crate::model::vector::hairline(stroke.width, affine(transform)) {
        Some((width, cover)) => {
            for c in color.iter_mut() {
                *c *= cover;
            }
            crate::model::vector::hairline_stroke(&stroke, width)
        }
        None => stroke,
    }
}

#[cfg(test)]
mod tests {
    use super::cover_uv;

    fn near(a: [f32; 4], b: [f32; 4]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn images_cover_their_box_centred() {
        // Same aspect: the whole image.
        assert!(near(
            cover_uv([200.0, 300.0], [200.0, 300.0]),
            [0.0, 0.0, 1.0, 1.0]
        ));
        assert!(near(
            cover_uv([400.0, 600.0], [200.0, 300.0]),
            [0.0, 0.0, 1.0, 1.0]
        ));
        // A square image in a 2:1 box: scaled to the width, the middle half of its height.
        assert!(near(
            cover_uv([100.0, 100.0], [200.0, 100.0]),
            [0.0, 0.25, 1.0, 0.75]
        ));
        // A 2:1 image in a square box: the middle half of its width.
        assert!(near(
            cover_uv([200.0, 100.0], [50.0, 50.0]),
            [0.25, 0.0, 0.75, 1.0]
        ));
    }

    /// The x of the first mesh's transform (the square's place) at frame `f`.
    fn square_x(anim: &crate::model::Animation, f: u32) -> f32 {
        let list = crate::model::frame_at(anim, f);
        list.cmds
            .iter()
            .find_map(|c| match c {
                crate::model::DrawCmd::Mesh {
                    transform, mesh, ..
                } => {
                    let x0 = mesh.vertices.iter().map(|v| v[0]).fold(f32::MAX, f32::min);
                    Some(transform.apply(x0, 0.0).0)
                }
                _ => None,
            })
            .expect("the square is drawn")
    }

    /// A time-remapped precomp (`tm`) shows the precomp frame its curve names, as lottie-web
    /// plays it: the square moves 1 px a frame inside the precomp; the remap runs it at double
    /// speed for 10 frames (0 → 0.8 s at 25 fps = precomp frame 20), then holds.
    #[test]
    fn time_remapped_precomps_follow_their_curve() {
        let square = serde_json::json!({
            "ty": 4, "ind": 1, "ip": 0, "op": 200, "st": 0, "sr": 1,
            "ks": {"o": {"a": 0, "k": 100}, "r": {"a": 0, "k": 0}, "a": {"a": 0, "k": [0, 0]},
                   "s": {"a": 0, "k": [100, 100]},
                   "p": {"a": 1, "k": [{"t": 0, "s": [0, 50], "i": {"x": 1, "y": 1}, "o": {"x": 0, "y": 0}},
                                       {"t": 100, "s": [100, 50]}]}},
            "shapes": [{"ty": "gr", "it": [
                {"ty": "rc", "d": 1, "p": {"a": 0, "k": [5, 5]}, "s": {"a": 0, "k": [10, 10]}, "r": {"a": 0, "k": 0}},
                {"ty": "fl", "c": {"a": 0, "k": [1, 0, 0, 1]}, "o": {"a": 0, "k": 100}, "r": 1},
                {"ty": "tr", "p": {"a": 0, "k": [0, 0]}, "a": {"a": 0, "k": [0, 0]}, "s": {"a": 0, "k": [100, 100]},
                 "r": {"a": 0, "k": 0}, "o": {"a": 0, "k": 100}}]}]
        });
        let json = serde_json::json!({
            "v": "5.7.0", "fr": 25, "ip": 0, "op": 40, "w": 200, "h": 100,
            "assets": [{"id": "moving", "layers": [square]}],
            "layers": [{"ty": 0, "ind": 1, "refId": "moving", "w": 200, "h": 100, "ip": 0, "op": 40, "st": 0, "sr": 1,
                "ks": {"o": {"a": 0, "k": 100}, "r": {"a": 0, "k": 0}, "p": {"a": 0, "k": [0, 0]},
                       "a": {"a": 0, "k": [0, 0]}, "s": {"a": 0, "k": [100, 100]}},
                "tm": {"a": 1, "k": [{"t": 0, "s": [0], "i": {"x": [1], "y": [1]}, "o": {"x": [0], "y": [0]}},
                                     {"t": 10, "s": [0.8]}]}}]
        });
        let model = crate::format::lottie::lottie_composition(
            &serde_json::to_vec(&json).unwrap(),
            &crate::format::DecodeLimits::default(),
            &mut |_| None,
        )
        .unwrap();
        assert_eq!(
            model.comp.layers.len(),
            40,
            "one copy per frame of the layer"
        );
        let anim = crate::model::load::lottie_animation(model);
        for (frame, x) in [(0, 0.0), (5, 10.0), (10, 20.0), (30, 20.0)] {
            let got = square_x(&anim, frame);
            assert!((got - x).abs() < 0.01, "frame {frame}: x {got}, want {x}");
        }
    }
}
