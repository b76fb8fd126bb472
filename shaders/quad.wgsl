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

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    let t = select(in.uv.x, length(in.uv), in.mode > 1.5);
    let ramp = vec2<f32>((clamp(t, 0.0, 1.0) * 255.0 + 0.5) / 256.0, 0.5);
    let uv = select(in.uv, ramp, in.mode > 0.5);
    return textureSample(image, image_sampler, uv) * in.color;
}
