//! Pixel operations on RGBA8 images: premultiplying alpha for textures, and back for PNG output.

use image::RgbaImage;

/// Premultiplies straight-alpha RGBA8 in place (what the texture cache uploads). Opaque and
/// fully transparent pixels, most of a gift's pixels, take a fast path.
pub fn premultiply(image: &mut RgbaImage) {
    for p in image.chunks_exact_mut(4) {
        match p[3] {
            255 => {}
            0 => p[..3].fill(0),
            a => {
                let a = u16::from(a);
                for c in &mut p[..3] {
                    *c = ((u16::from(*c) * a + 127) / 255) as u8;
                }
            }
        }
    }
}

/// Turns premultiplied RGBA8 back into straight alpha (for PNG output).
pub fn unpremultiply(image: &mut RgbaImage) {
    for p in image.pixels_mut() {
        let a = u32::from(p[3]);
        if a == 0 {
            p.0 = [0, 0, 0, 0];
        } else if a < 255 {
            for c in 0..3 {
                p[c] = ((u32::from(p[c]) * 255 + a / 2) / a).min(255) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premultiply_round_trips_opaque_and_clears_transparent() {
        let mut img =
            RgbaImage::from_raw(3, 1, vec![200, 100, 50, 255, 200, 100, 50, 128, 9, 9, 9, 0])
                .unwrap();
        premultiply(&mut img);
        assert_eq!(img.as_raw()[4..8], [100, 50, 25, 128]);
        unpremultiply(&mut img);
        assert_eq!(img.as_raw()[..4], [200, 100, 50, 255]);
        assert_eq!(img.as_raw()[8..], [0, 0, 0, 0]);
    }
}
