//! H.264 decoding of a VAP video track with Cisco's OpenH264 (the `openh264` crate builds it
//! from source), one frame at a time: MP4 samples carry length-prefixed NAL units (ISO/IEC
//! 14496-15 §5.3), which become an Annex-B byte stream with the `avcC` parameter sets in front
//! of every sync sample the decoder starts from.
//!
//! A stream decodes in order and keeps only the newest picture. Asking for an earlier frame,
//! or one far ahead, restarts at the sync sample before it, as the players' `MediaCodec` and
//! `VTDecompressionSession` loops do after a seek. Before any parameter set reaches the C
//! decoder its picture size is read here and held to the limits, so a hostile SPS cannot make
//! it allocate gigabytes.

use openh264::OpenH264API;
use openh264::decoder::{DecodeOptions, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;

use super::VapError;
use super::demux::VideoTrack;
use crate::format::DecodeLimits;

/// A decoded picture in planar YUV 4:2:0, 8 bits, cropped to the coded size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Yuv420 {
    /// Luma width, px.
    pub width: u32,
    /// Luma height, px.
    pub height: u32,
    /// Luma, `width × height`, row-major.
    pub y: Vec<u8>,
    /// Cb, `⌈width/2⌉ × ⌈height/2⌉`.
    pub u: Vec<u8>,
    /// Cr, same size as `u`.
    pub v: Vec<u8>,
}

impl Yuv420 {
    /// Chroma plane size, px.
    #[must_use]
    pub fn chroma_size(&self) -> (u32, u32) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }

    /// Bilinear sample of a plane at a position in its texels (texel centres at `i + 0.5`,
    /// clamped at the edges), as a GL/Metal linear sampler reads it.
    fn bilinear(plane: &[u8], w: u32, h: u32, x: f32, y: f32) -> f32 {
        let fx = (x - 0.5).clamp(0.0, (w - 1) as f32);
        let fy = (y - 0.5).clamp(0.0, (h - 1) as f32);
        let (x0, y0) = (fx.floor() as u32, fy.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
        let at = |x: u32, y: u32| f32::from(plane[(y * w + x) as usize]);
        let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * ax;
        let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * ax;
        top + (bottom - top) * ay
    }

    /// The RGB colour (0–255, not clamped) at a position in luma pixels, converted as the VAP
    /// players' shaders do: BT.601 full range on linearly sampled planes (iOS
    /// `QGHWDShaders.metal` `RGBColorFromYuvTextures` with
    /// `kQGColorConversionMatrix601FullRangeDefault`; Android `YUVShader.kt`).
    #[must_use]
    pub fn rgb_at(&self, x: f32, y: f32) -> [f32; 3] {
        let (cw, ch) = self.chroma_size();
        let l = Self::bilinear(&self.y, self.width, self.height, x, y);
        let (cx, cy) = (
            x * cw as f32 / self.width as f32,
            y * ch as f32 / self.height as f32,
        );
        let u = Self::bilinear(&self.u, cw, ch, cx, cy) - 128.0;
        let v = Self::bilinear(&self.v, cw, ch, cx, cy) - 128.0;
        [
            l + 1.402 * v,
            l - 0.344_14 * u - 0.714_14 * v,
            l + 1.772 * u,
        ]
    }
}

/// Why an H.264 sample or parameter set is refused before OpenH264 sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NalError {
    /// The SPS is cut short or holds a field the parser does not take.
    #[error("{0}")]
    Sps(&'static str),
    /// Fewer bytes left in the sample than its NAL length prefix needs.
    #[error("NAL unit {index}: {left} bytes left, too few for its {prefix}-byte length")]
    ShortLength {
        /// NAL unit index within the sample, from 0.
        index: usize,
        /// Bytes left.
        left: usize,
        /// The prefix size (`avcC` `lengthSizeMinusOne` + 1).
        prefix: usize,
    },
    /// A NAL unit longer than what remains of its sample.
    #[error(
        "NAL unit {index} claims {len} bytes, {left} remain in the sample (a sample size that lies?)"
    )]
    Overrun {
        /// NAL unit index within the sample, from 0.
        index: usize,
        /// The claimed length, bytes.
        len: usize,
        /// Bytes left.
        left: usize,
    },
    /// The picture size an SPS declares is outside the limits.
    #[error(transparent)]
    Limit(#[from] crate::format::LimitError),
}

/// Reads `(width, height)` in px from an H.264 sequence parameter set NAL unit (with its
/// header byte), per ITU-T H.264 §7.3.2.1.1, before frame cropping.
///
/// # Errors
/// [`NalError::Sps`] when the SPS ends early or is not one.
pub fn sps_size(nal: &[u8]) -> Result<(u32, u32), NalError> {
    // Remove emulation-prevention bytes (00 00 03 → 00 00).
    let mut rbsp = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal.iter().skip(1) {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let mut r = Bits { b: &rbsp, pos: 0 };
    let profile = r.u(8)?;
    r.u(16)?; // constraint flags, level
    r.ue()?; // seq_parameter_set_id
    if matches!(
        profile,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        let chroma = r.ue()?;
        if chroma == 3 {
            r.u(1)?;
        }
        r.ue()?;
        r.ue()?;
        r.u(1)?;
        if r.u(1)? == 1 {
            for i in 0..if chroma == 3 { 12 } else { 8 } {
                if r.u(1)? == 1 {
                    let n = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i64, 8i64);
                    for _ in 0..n {
                        if next != 0 {
                            next = (last + r.se()? + 256).rem_euclid(256);
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?;
        }
        1 => {
            r.u(1)?;
            r.se()?;
            r.se()?;
            let n = r.ue()?;
            if n > 255 {
                return Err(NalError::Sps(
                    "an SPS with more than 255 reference frames in its cycle",
                ));
            }
            for _ in 0..n {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.u(1)?;
    let w_mbs = r.ue()?.saturating_add(1);
    let h_units = r.ue()?.saturating_add(1);
    let frame_mbs_only = r.u(1)?;
    let w = w_mbs.saturating_mul(16);
    let h = h_units
        .saturating_mul(16)
        .saturating_mul(2 - frame_mbs_only.min(1));
    Ok((
        u32::try_from(w).unwrap_or(u32::MAX),
        u32::try_from(h).unwrap_or(u32::MAX),
    ))
}

struct Bits<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<u64, NalError> {
        let byte = self
            .b
            .get(self.pos / 8)
            .ok_or(NalError::Sps("the SPS ends before its picture size"))?;
        let v = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(u64::from(v))
    }

    fn u(&mut self, n: u32) -> Result<u64, NalError> {
        let mut v = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Ok(v)
    }

    fn ue(&mut self) -> Result<u64, NalError> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(NalError::Sps("an SPS field longer than 32 bits"));
            }
        }
        Ok((1u64 << zeros) - 1 + self.u(zeros)?)
    }

    fn se(&mut self) -> Result<i64, NalError> {
        let k = self.ue()? as i64;
        Ok(if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) })
    }
}

/// Turns one MP4 sample (length-prefixed NAL units) into Annex-B, appending to `out`; every
/// SPS it holds is held to the limits first.
///
/// # Errors
/// A message naming the NAL unit that overruns the sample.
pub fn sample_to_annex_b(
    sample: &[u8],
    length_size: u8,
    limits: &DecodeLimits,
    out: &mut Vec<u8>,
) -> Result<(), NalError> {
    let n = usize::from(length_size.clamp(1, 4));
    let mut off = 0usize;
    let mut index = 0usize;
    while off < sample.len() {
        if sample.len() - off < n {
            return Err(NalError::ShortLength {
                index,
                left: sample.len() - off,
                prefix: n,
            });
        }
        let len = sample[off..off + n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        off += n;
        if len > sample.len() - off {
            return Err(NalError::Overrun {
                index,
                len,
                left: sample.len() - off,
            });
        }
        let nal = &sample[off..off + len];
        if nal.first().is_some_and(|h| h & 0x1f == 7) {
            check_sps(nal, limits)?;
        }
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
        off += len;
        index += 1;
    }
    Ok(())
}

fn check_sps(nal: &[u8], limits: &DecodeLimits) -> Result<(), NalError> {
    let (w, h) = sps_size(nal)?;
    Ok(limits.check_frame("the H.264 picture", f64::from(w), f64::from(h))?)
}

/// Frames kept decoding forward instead of restarting at a sync sample.
const MAX_SKIP_AHEAD: usize = 48;

/// A decoder positioned in a track: decodes frames in presentation order and restarts at
/// the previous sync sample on a seek.
pub struct H264Stream {
    decoder: Decoder,
    /// Next sample (decode order) to feed.
    next_sample: usize,
    /// Presentation index of the next picture the decoder will output.
    next_out: usize,
    /// The newest picture and its presentation index.
    last: Option<(usize, Yuv420)>,
    /// Whether the remaining buffered pictures were flushed at the end.
    flushed: bool,
    /// Pictures flushed at the end and not yet asked for, in order.
    pending: std::collections::VecDeque<Yuv420>,
}

impl H264Stream {
    /// A decoder for `track` (H.264 only).
    ///
    /// # Errors
    /// [`VapError::Codec`] for other codecs, [`VapError::Decode`] when OpenH264 cannot start.
    pub fn new(track: &VideoTrack) -> Result<Self, VapError> {
        if !track.is_h264() {
            return Err(VapError::Codec(track.codec.clone()));
        }
        Ok(Self {
            decoder: new_decoder()?,
            next_sample: 0,
            next_out: 0,
            last: None,
            flushed: false,
            pending: std::collections::VecDeque::new(),
        })
    }

    /// The picture at presentation index `index`.
    ///
    /// # Errors
    /// [`VapError::Frame`] naming the frame whose sample is truncated, overruns the file or
    /// does not decode.
    pub fn frame(
        &mut self,
        file: &[u8],
        track: &VideoTrack,
        index: usize,
        limits: &DecodeLimits,
    ) -> Result<&Yuv420, VapError> {
        let n = track.display_order.len();
        if index >= n {
            return Err(VapError::Frame {
                index,
                why: format!("the track has {n} frames"),
            });
        }
        if !matches!(&self.last, Some((i, _)) if *i == index) {
            let behind = index < self.next_out;
            let far = index >= self.next_out + MAX_SKIP_AHEAD;
            if behind || far {
                let target_sample = track.display_order[index];
                let start = (0..=target_sample)
                    .rev()
                    .find(|&s| track.samples[s].sync)
                    .unwrap_or(0);
                // The pictures before the sync sample in presentation order are not output.
                let cts = track.samples[start].cts;
                let skip_to = track
                    .display_order
                    .iter()
                    .position(|&s| track.samples[s].cts >= cts)
                    .unwrap_or(0);
                if behind || skip_to > self.next_out {
                    self.restart(start, skip_to)?;
                }
            }
        }
        while self.last.as_ref().is_none_or(|(i, _)| *i < index) {
            if let Some(p) = self.pending.pop_front() {
                self.take(p);
                continue;
            }
            if self.next_sample >= track.samples.len() {
                if self.flushed {
                    return Err(VapError::Frame {
                        index,
                        why: "the decoder gave fewer pictures than the track has samples".into(),
                    });
                }
                self.flushed = true;
                let pics: Vec<Yuv420> = self
                    .decoder
                    .flush_remaining()
                    .map_err(|e| VapError::Frame {
                        index,
                        why: e.to_string(),
                    })?
                    .iter()
                    .map(copy_planes)
                    .collect();
                self.pending.extend(pics);
                continue;
            }
            let s = self.next_sample;
            let sample = track.samples[s];
            let bytes = usize::try_from(sample.offset)
                .ok()
                .zip(usize::try_from(sample.size).ok())
                .and_then(|(o, len)| file.get(o..o.checked_add(len)?))
                .ok_or_else(|| VapError::Frame {
                    index: display_index(track, s),
                    why: format!(
                        "its sample ({} bytes at byte {}) lies past the end of the {}-byte file (a truncated file, or a sample size that lies)",
                        sample.size,
                        sample.offset,
                        file.len()
                    ),
                })?;
            let mut annex_b = Vec::with_capacity(bytes.len() + 64);
            if s == 0 || sample.sync {
                for ps in &track.sps {
                    check_sps(ps, limits).map_err(|source| VapError::Nal {
                        index: display_index(track, s),
                        source,
                    })?;
                    annex_b.extend_from_slice(&[0, 0, 0, 1]);
                    annex_b.extend_from_slice(ps);
                }
                for ps in &track.pps {
                    annex_b.extend_from_slice(&[0, 0, 0, 1]);
                    annex_b.extend_from_slice(ps);
                }
            }
            sample_to_annex_b(bytes, track.nal_length_size, limits, &mut annex_b).map_err(
                |source| VapError::Nal {
                    index: display_index(track, s),
                    source,
                },
            )?;
            self.next_sample += 1;
            let pic = self
                .decoder
                .decode_with_options(
                    &annex_b,
                    DecodeOptions::new().flush_after_decode(Flush::NoFlush),
                )
                .map_err(|e| VapError::Frame {
                    index: display_index(track, s),
                    why: format!("OpenH264 refused it: {e}"),
                })?
                .map(|p| copy_planes(&p));
            if let Some(p) = pic {
                if (p.width, p.height) != (track.width_px, track.height_px)
                    && limits
                        .check_frame(
                            "the decoded picture",
                            f64::from(p.width),
                            f64::from(p.height),
                        )
                        .is_err()
                {
                    return Err(VapError::Frame {
                        index: display_index(track, s),
                        why: format!("it decodes to {} × {} px", p.width, p.height),
                    });
                }
                self.take(p);
            }
        }
        match &self.last {
            Some((i, p)) if *i == index => Ok(p),
            _ => Err(VapError::Frame {
                index,
                why: "the decoder skipped it".into(),
            }),
        }
    }

    fn take(&mut self, p: Yuv420) {
        self.last = Some((self.next_out, p));
        self.next_out += 1;
    }

    fn restart(&mut self, sample: usize, out: usize) -> Result<(), VapError> {
        self.decoder = new_decoder()?;
        self.next_sample = sample;
        self.next_out = out;
        self.last = None;
        self.flushed = false;
        self.pending.clear();
        Ok(())
    }
}

fn display_index(track: &VideoTrack, sample: usize) -> usize {
    track
        .display_order
        .iter()
        .position(|&s| s == sample)
        .unwrap_or(sample)
}

fn new_decoder() -> Result<Decoder, VapError> {
    Decoder::with_api_config(
        OpenH264API::from_source(),
        DecoderConfig::new().flush_after_decode(Flush::NoFlush),
    )
    .map_err(|e| VapError::Decode(format!("OpenH264 did not start: {e}")))
}

fn copy_planes(p: &openh264::decoder::DecodedYUV<'_>) -> Yuv420 {
    let (w, h) = p.dimensions();
    let (sy, su, sv) = p.strides();
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let plane = |src: &[u8], stride: usize, pw: usize, ph: usize| {
        let mut out = Vec::with_capacity(pw * ph);
        for row in 0..ph {
            let line = src.get(row * stride..row * stride + pw).unwrap_or(&[]);
            out.extend_from_slice(line);
            out.resize((row + 1) * pw, 128);
        }
        out
    };
    Yuv420 {
        width: w as u32,
        height: h as u32,
        y: plane(p.y(), sy, w, h),
        u: plane(p.u(), su, cw, ch),
        v: plane(p.v(), sv, cw, ch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sps_sizes_are_read_and_held_to_the_limits() {
        // Baseline SPS of a 752 × 880 stream (47 × 55 macroblocks): profile 66, level 31.
        let mut bits = String::new();
        for v in [66u8, 0, 31] {
            bits.extend(
                (0..8)
                    .rev()
                    .map(|i| if v >> i & 1 == 1 { '1' } else { '0' }),
            );
        }
        let ue = |v: u64| {
            let x = v + 1;
            let len = 64 - x.leading_zeros() as usize;
            format!("{}{x:b}", "0".repeat(len - 1))
        };
        for v in [0, 0, 0] {
            bits += &ue(v); // sps id, log2_max_frame_num-4, poc type 0
        }
        bits += &ue(0); // log2_max_poc_lsb-4
        bits += &ue(1); // max_num_ref_frames
        bits += "0";
        bits += &ue(46);
        bits += &ue(54);
        bits += "1";
        while !bits.len().is_multiple_of(8) {
            bits.push('1');
        }
        let mut nal = vec![0x67];
        for chunk in bits.as_bytes().chunks(8) {
            nal.push(u8::from_str_radix(std::str::from_utf8(chunk).unwrap_or("0"), 2).unwrap_or(0));
        }
        assert_eq!(sps_size(&nal), Ok((752, 880)));
        assert!(check_sps(&nal, &DecodeLimits::default()).is_ok());
        let tiny = DecodeLimits {
            max_dimension_px: 512,
            ..DecodeLimits::default()
        };
        assert!(check_sps(&nal, &tiny).is_err());
        assert!(sps_size(&[0x67, 66]).is_err(), "a cut SPS is an error");
    }

    #[test]
    fn lying_nal_lengths_are_errors() {
        let mut out = Vec::new();
        let l = DecodeLimits::default();
        assert!(sample_to_annex_b(&[0, 0, 0, 2, 0x65, 0x88], 4, &l, &mut out).is_ok());
        assert_eq!(out, [0, 0, 0, 1, 0x65, 0x88]);
        let e = sample_to_annex_b(&[0, 0, 1, 0, 0x65], 4, &l, &mut out).unwrap_err();
        assert!(e.to_string().contains("claims 256 bytes"), "{e}");
        assert!(sample_to_annex_b(&[0, 0], 4, &l, &mut out).is_err());
    }
}
