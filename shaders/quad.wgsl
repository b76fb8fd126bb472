// Textured triangles with premultiplied alpha. Vertices arrive in normalised device
// coordinates with a premultiplied tint: image quads carry their opacity in all four channels,
// vector fills sample a 1 × 1 white texture and carry their colour, layer composites sample the
// layer at the vertex's own place. Textures hold premultiplied RGBA8, so bilinear filtering
// does not darken edges. The blend state (one pipeline per Porter–Duff operator) does the rest.

// `mode` 0 samples the texture at `uv`; 1 and 2 sample a 256-texel gradient ramp at the
// gradient offset t: `uv.x` for a linear gradient (affine, so exact when interpolated), the
// length of `uv` (the offset from the centre in radii) for a radial one, padded beyond 0 and 1.

struct VertexOut {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
    @location(1) color: vec4<f32>,
    @location(2) mode: f32,
};

@vertex
fn vs_main(@location(0) position: vec2<f32>, @location(1) uv: vec2<f32>, @location(2) color: vec4<f32>, @location(3) mode: f32) -> VertexOut {
    var out: VertexOut;
    out.position = vec4<f32>(position, 0.0, 1.0);
    out.uv = uv;
    out.color = color;
    out.mode = mode;
    return out;
}

@group(0) @binding(0) var image: texture_2d<f32>;
@group(0) @binding(1) var image_sampler: sampler;

// The premultiplied colour of a fill or image at `uv` in `mode` (see above), tinted.
fn paint(uv: vec2<f32>, mode: f32, color: vec4<f32>) -> vec4<f32> {
    let t = select(uv.x, length(uv), mode > 1.5);
    let ramp = vec2<f32>((clamp(t, 0.0, 1.0) * 255.0 + 0.5) / 256.0, 0.5);
    return textureSampleLevel(image, image_sampler, select(uv, ramp, mode > 0.5), 0.0) * color;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return paint(in.uv, in.mode, in.color);
}

// Blend-mode composite (W3C Compositing and Blending Level 1, §9–10): the layer (group 0,
// premultiplied, at the vertex opacity) over a copy of what lies under it (group 1). `mode` is
// Lottie's `bm`. With straight colours cs (layer) and cb (backdrop) and alphas as, ab:
// result = (1 − ab)·Cs + (1 − as)·Cb + as·ab·B(cb, cs), alpha = as + ab − as·ab.

@group(1) @binding(0) var backdrop: texture_2d<f32>;
@group(1) @binding(1) var backdrop_sampler: sampler;

fn lum(c: vec3<f32>) -> f32 {
    return dot(c, vec3<f32>(0.3, 0.59, 0.11));
}

fn clip_color(c: vec3<f32>) -> vec3<f32> {
    let l = lum(c);
    let n = min(min(c.r, c.g), c.b);
    let x = max(max(c.r, c.g), c.b);
    var out = c;
    if n < 0.0 {
        out = l + (out - l) * l / max(l - n, 1e-6);
    }
    if x > 1.0 {
        out = l + (out - l) * (1.0 - l) / max(x - l, 1e-6);
    }
    return out;
}

fn set_lum(c: vec3<f32>, l: f32) -> vec3<f32> {
    return clip_color(c + (l - lum(c)));
}

fn sat(c: vec3<f32>) -> f32 {
    return max(max(c.r, c.g), c.b) - min(min(c.r, c.g), c.b);
}

fn set_sat(c: vec3<f32>, s: f32) -> vec3<f32> {
    let n = min(min(c.r, c.g), c.b);
    let x = max(max(c.r, c.g), c.b);
    if x <= n {
        return vec3<f32>(0.0);
    }
    return (c - n) * s / (x - n);
}

fn hard_light(cb: vec3<f32>, cs: vec3<f32>) -> vec3<f32> {
    let lo = cb * 2.0 * cs;
    let hi = cb + (2.0 * cs - 1.0) - cb * (2.0 * cs - 1.0);
    return select(hi, lo, cs <= vec3<f32>(0.5));
}

fn soft_light(cb: vec3<f32>, cs: vec3<f32>) -> vec3<f32> {
    let d = select(sqrt(cb), ((16.0 * cb - 12.0) * cb + 4.0) * cb, cb <= vec3<f32>(0.25));
    let lo = cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb);
    let hi = cb + (2.0 * cs - 1.0) * (d - cb);
    return select(hi, lo, cs <= vec3<f32>(0.5));
}

fn color_dodge(cb: vec3<f32>, cs: vec3<f32>) -> vec3<f32> {
    let q = min(vec3<f32>(1.0), cb / max(1.0 - cs, vec3<f32>(1e-6)));
    return select(select(q, vec3<f32>(1.0), cs >= vec3<f32>(1.0)), vec3<f32>(0.0), cb <= vec3<f32>(0.0));
}

fn color_burn(cb: vec3<f32>, cs: vec3<f32>) -> vec3<f32> {
    let q = 1.0 - min(vec3<f32>(1.0), (1.0 - cb) / max(cs, vec3<f32>(1e-6)));
    return select(select(q, vec3<f32>(0.0), cs <= vec3<f32>(0.0)), vec3<f32>(1.0), cb >= vec3<f32>(1.0));
}

fn blend_mode(mode: i32, cb: vec3<f32>, cs: vec3<f32>) -> vec3<f32> {
    switch mode {
        case 1: { return cb * cs; }
        case 2: { return cb + cs - cb * cs; }
        case 3: { return hard_light(cs, cb); }
        case 4: { return min(cb, cs); }
        case 5: { return max(cb, cs); }
        case 6: { return color_dodge(cb, cs); }
        case 7: { return color_burn(cb, cs); }
        case 8: { return hard_light(cb, cs); }
        case 9: { return soft_light(cb, cs); }
        case 10: { return abs(cb - cs); }
        case 11: { return cb + cs - 2.0 * cb * cs; }
        case 12: { return set_lum(set_sat(cs, sat(cb)), lum(cb)); }
        case 13: { return set_lum(set_sat(cb, sat(cs)), lum(cb)); }
        case 14: { return set_lum(cs, lum(cb)); }
        case 15: { return set_lum(cb, lum(cs)); }
        case 16: { return min(vec3<f32>(1.0), cb + cs); }
        case 17: { return select(vec3<f32>(0.0), vec3<f32>(1.0), cb + cs >= vec3<f32>(1.0)); }
        default: { return cs; }
    }
}

@fragment
fn fs_blend(in: VertexOut) -> @location(0) vec4<f32> {
    let s = textureSample(image, image_sampler, in.uv) * in.color.a;
    let b = textureSample(backdrop, backdrop_sampler, in.uv);
    let cs = select(vec3<f32>(0.0), s.rgb / max(s.a, 1e-6), s.a > 0.0);
    let cb = select(vec3<f32>(0.0), b.rgb / max(b.a, 1e-6), b.a > 0.0);
    let mixed = clamp(blend_mode(i32(round(in.mode)), cb, cs), vec3<f32>(0.0), vec3<f32>(1.0));
    let rgb = (1.0 - b.a) * s.rgb + (1.0 - s.a) * b.rgb + s.a * b.a * mixed;
    return vec4<f32>(rgb, s.a + b.a - s.a * b.a);
}

// Layer effects (After Effects' as lottie-web's SVG renderer draws them, `SVGEffects`): the
// layer (group 0, premultiplied) drawn through one effect, composited source-over. `fx.head`
// holds the kind and the texel size; `c1`–`c3` the parameters (`model::EffectParams`).

struct Effect {
    head: vec4<f32>,
    c1: vec4<f32>,
    c2: vec4<f32>,
    c3: vec4<f32>,
};

@group(1) @binding(0) var<uniform> fx: Effect;

// A Gaussian of standard deviations `sigma` (px) over ±3σ, 15 taps a side.
fn blurred(uv: vec2<f32>, sigma: vec2<f32>) -> vec4<f32> {
    let texel = fx.head.yz;
    let n = 7;
    let step = 3.0 * sigma / f32(n);
    let inv = vec2<f32>(select(0.0, 1.0 / (sigma.x * sigma.x), sigma.x > 0.0), select(0.0, 1.0 / (sigma.y * sigma.y), sigma.y > 0.0));
    var sum = vec4<f32>(0.0);
    var total = 0.0;
    for (var j = -n; j <= n; j++) {
        for (var i = -n; i <= n; i++) {
            let off = vec2<f32>(f32(i), f32(j)) * step;
            let w = exp(-0.5 * dot(off * off, inv));
            sum += textureSampleLevel(image, image_sampler, uv + off * texel, 0.0) * w;
            total += w;
        }
    }
    return sum / total;
}

fn luma(c: vec3<f32>) -> f32 {
    return dot(c, vec3<f32>(0.3, 0.59, 0.11));
}

@fragment
fn fs_effect(in: VertexOut) -> @location(0) vec4<f32> {
    let kind = i32(round(fx.head.x));
    var c = textureSampleLevel(image, image_sampler, in.uv, 0.0);
    let straight = select(vec3<f32>(0.0), c.rgb / max(c.a, 1e-6), c.a > 0.0);
    switch kind {
        case 1: {
            // Fill: the colour where the layer is, alpha × opacity.
            let a = c.a * fx.c1.a;
            c = vec4<f32>(fx.c1.rgb * a, a);
        }
        case 2: {
            // Tint: luminance mapped from black to white, mixed by the amount.
            let mapped = mix(fx.c1.rgb, fx.c2.rgb, luma(straight));
            c = vec4<f32>(mix(straight, mapped, fx.c1.a) * c.a, c.a);
        }
        case 3: {
            // Tritone: shadows → midtones → highlights by luminance; c1.a blends the original.
            let l = luma(straight);
            let mapped = select(mix(fx.c2.rgb, fx.c1.rgb, l * 2.0 - 1.0), mix(fx.c3.rgb, fx.c2.rgb, l * 2.0), l < 0.5);
            c = vec4<f32>(mix(mapped, straight, fx.c1.a) * c.a, c.a);
        }
        case 4: {
            c = blurred(in.uv, fx.c1.xy);
        }
        case 5: {
            // Drop shadow: the layer's alpha, blurred and moved, in the shadow colour, under it.
            let s = blurred(in.uv - fx.c2.xy * fx.head.yz, vec2<f32>(fx.c2.z)).a * fx.c1.a;
            c = c + vec4<f32>(fx.c1.rgb * s, s) * (1.0 - c.a);
        }
        default: {}
    }
    return c * in.color.a;
}

// Exact coverage of vector shapes (as Skia's analytic anti-aliasing, which the reference
// players' canvases use). A shape is drawn in two steps:
//
// 1. `vs_cover`/`fs_cover` add, for each of its triangles (which partition the shape, as
//    lyon's tessellator emits them), the exact area of the triangle inside each pixel (the
//    signed areas its three edges sweep inside the pixel's square, `edge_area`) to one
//    channel of a 16-bit float coverage texture (additive blending). Each triangle arrives as
//    its footprint (its pixel-aligned bounding box, or the triangle pushed out half a pixel's
//    diagonal, `render::cover`), carrying its corners (`a`, `b`, `c` in target px) and the
//    channel (0–3) flat.
// 2. `fs_shape` draws the shape's bounding box once, its colour (as `fs_main`) times the
//    pixel's coverage, clamped to 1, source-over: the shape is composited whole, per pixel,
//    by its own coverage, as Skia composites it.

struct CoverOut {
    @builtin(position) position: vec4<f32>,
    @location(0) @interpolate(flat) a: vec2<f32>,
    @location(1) @interpolate(flat) bc: vec4<f32>,
    @location(2) @interpolate(flat) channel: f32,
};

@vertex
fn vs_cover(@location(0) position: vec2<f32>, @location(1) uv: vec2<f32>, @location(2) color: vec4<f32>, @location(3) mode: f32) -> CoverOut {
    var out: CoverOut;
    out.position = vec4<f32>(position, 0.0, 1.0);
    out.a = uv;
    out.bc = color;
    out.channel = mode;
    return out;
}

// ∫ clamp(t, 0, 1) dt from 0 to `t`.
fn clamped_integral(t: f32) -> f32 {
    return select(select(t * t * 0.5, t - 0.5, t > 1.0), 0.0, t < 0.0);
}

// The signed area the directed edge `p` → `q` (in the pixel's own coordinates) contributes to
// the pixel square [0, 1]²: ∫ clamp(x(y), 0, 1) dy over the part of the edge with y in [0, 1].
// Summed over a closed outline it is the area of the outline inside the square, signed by its
// winding (the exact-area accumulation of font rasterisers).
fn edge_area(p: vec2<f32>, q: vec2<f32>) -> f32 {
    let y0 = clamp(p.y, 0.0, 1.0);
    let y1 = clamp(q.y, 0.0, 1.0);
    if y0 == y1 {
        return 0.0;
    }
    let dxdy = (q.x - p.x) / (q.y - p.y);
    let xa = p.x + (y0 - p.y) * dxdy;
    let xb = p.x + (y1 - p.y) * dxdy;
    // The mean of clamp(x, 0, 1) while x runs linearly from xa to xb.
    var mean = clamp((xa + xb) * 0.5, 0.0, 1.0);
    if abs(xb - xa) > 1e-4 {
        mean = (clamped_integral(xb) - clamped_integral(xa)) / (xb - xa);
    }
    return (y1 - y0) * mean;
}

// Distance of `p` from the line through `u` → `v`, positive on the side `s` (the triangle's
// winding) names inside.
fn inside_distance(u: vec2<f32>, v: vec2<f32>, p: vec2<f32>, s: f32) -> f32 {
    let e = v - u;
    return s * (e.x * (p.y - u.y) - e.y * (p.x - u.x)) / max(length(e), 1e-20);
}

@fragment
fn fs_cover(in: CoverOut) -> @location(0) vec4<f32> {
    let origin = floor(in.position.xy);
    let a = in.a - origin;
    let b = in.bc.xy - origin;
    let c = in.bc.zw - origin;
    let s = sign((b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x));
    if s == 0.0 {
        discard;
    }
    // The pixel's centre against each edge: more than half a diagonal outside one edge is no
    // coverage, as far inside all three is full coverage; only pixels an edge may cross are
    // integrated.
    let centre = vec2<f32>(0.5, 0.5);
    let da = inside_distance(a, b, centre, s);
    let db = inside_distance(b, c, centre, s);
    let dc = inside_distance(c, a, centre, s);
    let reach = 0.70711;
    if min(min(da, db), dc) <= -reach {
        discard;
    }
    var area = 1.0;
    if min(min(da, db), dc) < reach {
        area = abs(edge_area(a, b) + edge_area(b, c) + edge_area(c, a));
    }
    if area <= 0.0 {
        discard;
    }
    let ch = in.channel;
    return vec4<f32>(f32(ch < 0.5), f32(ch > 0.5 && ch < 1.5), f32(ch > 1.5 && ch < 2.5), f32(ch > 2.5)) * min(area, 1.0);
}

// Zeroes a channel of the coverage texture (the pipeline's write mask picks which) over a
// shape's box before its coverage is added.
@fragment
fn fs_zero() -> @location(0) vec4<f32> {
    return vec4<f32>(0.0);
}

@group(1) @binding(0) var coverage: texture_2d<f32>;

// `mode` is the fill's mode (as `fs_main`) plus 4 × the coverage channel.
@fragment
fn fs_shape(in: VertexOut) -> @location(0) vec4<f32> {
    let channel = i32(floor(in.mode / 4.0 + 0.125));
    let mode = in.mode - 4.0 * f32(channel);
    let cover = textureLoad(coverage, vec2<i32>(floor(in.position.xy)), 0);
    let pick = vec4<f32>(f32(channel == 0), f32(channel == 1), f32(channel == 2), f32(channel >= 3));
    let amount = min(dot(cover, pick), 1.0);
    return paint(in.uv, mode, in.color) * amount;
}
