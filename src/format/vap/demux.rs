//! ISO-BMFF demuxing of a VAP file (ISO/IEC 14496-12 and -15): the video track's sample table
//! (sizes, chunk offsets, sync samples, composition times), its `avcC` parameter sets and its
//! timing, read with `re_mp4`, and the top-level boxes VAP adds (`vapc`).
//!
//! `re_mp4` reads every table it is given; before it runs, [`prescan`] walks the boxes itself
//! and refuses what would make that unbounded (a constant-size `stsz` that declares four
//! billion samples, boxes that overrun the file, containers nested without end), and the
//! crate runs inside [`crate::format::contain`] so that a panic on a malformed table is a
//! finding.

use super::VapError;
use crate::format::DecodeLimits;

/// One coded video sample (an access unit), in decode order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleRef {
    /// Byte offset in the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// Whether decoding may start here (`stss`; every sample when the table is absent).
    pub sync: bool,
    /// Composition (presentation) time, in the track's timescale.
    pub cts: i64,
}

/// The video track of a VAP file.
#[derive(Debug, Clone)]
pub struct VideoTrack {
    /// The sample entry's four-character code (`avc1`, `avc3`, `hvc1`, `hev1`…).
    pub codec: String,
    /// Coded width from the sample entry, px.
    pub width_px: u32,
    /// Coded height from the sample entry, px.
    pub height_px: u32,
    /// Ticks per second of the sample times.
    pub timescale: u64,
    /// Samples in decode order.
    pub samples: Vec<SampleRef>,
    /// For each presentation index, the index of its sample in `samples` (B-frames make the
    /// two orders differ).
    pub display_order: Vec<usize>,
    /// H.264 sequence parameter sets from `avcC` (empty for other codecs).
    pub sps: Vec<Vec<u8>>,
    /// H.264 picture parameter sets from `avcC`.
    pub pps: Vec<Vec<u8>>,
    /// Bytes of each NAL unit's length prefix in a sample (1, 2 or 4; `avcC`).
    pub nal_length_size: u8,
    /// Frames per second from the sample durations.
    pub fps: f64,
}

impl VideoTrack {
    /// Whether the track is H.264 (`avc1`/`avc3`).
    #[must_use]
    pub fn is_h264(&self) -> bool {
        matches!(self.codec.as_str(), "avc1" | "avc3")
    }

    /// Whether the track is HEVC (`hvc1`/`hev1`).
    #[must_use]
    pub fn is_hevc(&self) -> bool {
        matches!(self.codec.as_str(), "hvc1" | "hev1")
    }
}

/// What the top-level walk found.
#[derive(Debug, Clone, Default)]
pub struct Prescan {
    /// Top-level box types, in file order.
    pub top: Vec<[u8; 4]>,
    /// The body of the `vapc` box, when present.
    pub vapc: Option<Vec<u8>>,
    /// Sample-entry codes of every track (`avc1`, `mp4a`…).
    pub codecs: Vec<String>,
    /// Zero padding after the last box (seen in `special_size_750.mp4`).
    pub trailing_padding: bool,
    /// Byte just past the `moov` box: the demuxer reads the file up to here.
    pub moov_end: usize,
    /// The last top-level box is an `mdat` cut short: its samples past the end are reported
    /// frame by frame as they are decoded.
    pub truncated_mdat: bool,
}

const CONTAINERS: [&[u8; 4]; 7] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf",
];

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the box tree and refuses structures the demuxer must not be given.
///
/// # Errors
/// [`VapError::Container`] naming the box and byte offset.
pub fn prescan(b: &[u8], limits: &DecodeLimits) -> Result<Prescan, VapError> {
    let mut p = Prescan::default();
    walk(b, 0, 0, limits, &mut p)?;
    Ok(p)
}

fn walk(
    b: &[u8],
    base: usize,
    depth: usize,
    limits: &DecodeLimits,
    p: &mut Prescan,
) -> Result<(), VapError> {
    let mut off = 0usize;
    while off < b.len() {
        let at = base + off;
        let rest = b.len() - off;
        if rest < 8 {
            return Err(VapError::Container(format!(
                "truncated box header at byte {at}"
            )));
        }
        let mut size = u64::from(be32(b, off).unwrap_or(0));
        let ty: [u8; 4] = [b[off + 4], b[off + 5], b[off + 6], b[off + 7]];
        let mut header = 8u64;
        if size == 1 {
            if rest < 16 {
                return Err(VapError::Container(format!(
                    "truncated 64-bit box size at byte {at}"
                )));
            }
            size = u64::from_be_bytes(b[off + 8..off + 16].try_into().unwrap_or([0; 8]));
            header = 16;
        } else if size == 0 {
            if ty == [0; 4] && depth == 0 {
                p.trailing_padding = true;
                return Ok(());
            }
            // "To the end of the file" is for the last top-level box (ISO 14496-12 §4.2);
            // inside a container re_mp4 0.5 would read the same header forever.
            if depth > 0 || &ty != b"mdat" {
                return Err(VapError::Container(format!(
                    "box {:?} at byte {at} has size 0, allowed only for a final mdat",
                    String::from_utf8_lossy(&ty)
                )));
            }
            size = rest as u64;
        }
        if depth == 0 && &ty == b"mdat" && size > rest as u64 && size >= header {
            // A cut download: keep what is there; frames past the end fail by name.
            p.top.push(ty);
            p.truncated_mdat = true;
            return Ok(());
        }
        if size < header || size > rest as u64 {
            return Err(VapError::Container(format!(
                "box {:?} at byte {at} claims {size} bytes, {rest} remain (a truncated file?)",
                String::from_utf8_lossy(&ty)
            )));
        }
        let body = &b[off + header as usize..off + size as usize];
        if depth == 0 {
            p.top.push(ty);
            if &ty == b"vapc" {
                p.vapc = Some(body.to_vec());
            }
            if &ty == b"moov" {
                p.moov_end = at + size as usize;
            }
        }
        if CONTAINERS.contains(&&ty) {
            if depth >= 8 {
                return Err(VapError::Container(format!(
                    "boxes nested deeper than 8 at byte {at}"
                )));
            }
            walk(body, at + header as usize, depth + 1, limits, p)?;
        }
        match &ty {
            b"stsd" if body.len() >= 16 => {
                p.codecs
                    .push(String::from_utf8_lossy(&body[12..16]).into_owned());
            }
            b"stsc" if be32(body, 4) == Some(0) => {
                // re_mp4 indexes the first entry unconditionally (fuzzing found it).
                return Err(VapError::Container(format!(
                    "stsc at byte {at} has no entries: no sample can be located"
                )));
            }
            b"stsz" => {
                // version/flags (4), sample_size (4), sample_count (4).
                let count = u64::from(be32(body, 8).unwrap_or(0));
                if count > limits.max_frames {
                    return Err(VapError::Container(format!(
                        "stsz at byte {at} declares {count} samples, over the {}-frame limit",
                        limits.max_frames
                    )));
                }
            }
            _ => {}
        }
        off += size as usize;
    }
    Ok(())
}

/// Reads the first video track's sample table and decoder configuration from the file's
/// boxes up to `moov_end` (see [`Prescan::moov_end`]).
///
/// # Errors
/// [`VapError::Container`] for a file the demuxer refuses, [`VapError::NoVideo`] when no
/// track is video.
pub fn video_track(
    bytes: &[u8],
    moov_end: usize,
    limits: &DecodeLimits,
) -> Result<(VideoTrack, usize), VapError> {
    // The boxes up to the end of `moov`: sample offsets stay absolute in the whole file.
    let head = bytes.get(..moov_end).unwrap_or(bytes);
    let mp4 = crate::format::contain(|| {
        re_mp4::Mp4::read_bytes(head).map_err(|e| VapError::Container(e.to_string()))
    })?;
    let mut audio = 0;
    let mut video = None;
    for tk in &mp4.moov.traks {
        let Some(track) = mp4.tracks().get(&tk.tkhd.track_id) else {
            continue;
        };
        match track.kind {
            Some(re_mp4::TrackKind::Video) if video.is_none() => video = Some((tk, track)),
            Some(re_mp4::TrackKind::Audio) => audio += 1,
            _ => {}
        }
    }
    let Some((tk, track)) = video else {
        return Err(VapError::NoVideo);
    };
    let stsd = &tk.mdia.minf.stbl.stsd;
    let (codec, w, h, sps, pps, nal) = match &stsd.contents {
        re_mp4::StsdBoxContent::Avc1(avc) => (
            "avc1".to_owned(),
            u32::from(avc.width),
            u32::from(avc.height),
            avc.avcc
                .sequence_parameter_sets
                .iter()
                .map(|n| n.bytes.clone())
                .collect(),
            avc.avcc
                .picture_parameter_sets
                .iter()
                .map(|n| n.bytes.clone())
                .collect(),
            avc.avcc.length_size_minus_one.saturating_add(1),
        ),
        re_mp4::StsdBoxContent::Hvc1(v) => (
            "hvc1".to_owned(),
            u32::from(v.width),
            u32::from(v.height),
            Vec::new(),
            Vec::new(),
            4,
        ),
        re_mp4::StsdBoxContent::Hev1(v) => (
            "hev1".to_owned(),
            u32::from(v.width),
            u32::from(v.height),
            Vec::new(),
            Vec::new(),
            4,
        ),
        _ => (
            "other".to_owned(),
            track.width.into(),
            track.height.into(),
            Vec::new(),
            Vec::new(),
            4,
        ),
    };
    limits
        .check_frame("the video track", f64::from(w), f64::from(h))
        .map_err(VapError::Limit)?;
    if track.samples.len() as u64 > limits.max_frames {
        return Err(VapError::Limits(format!(
            "the video track has {} samples, over the {}-frame limit",
            track.samples.len(),
            limits.max_frames
        )));
    }
    let samples: Vec<SampleRef> = track
        .samples
        .iter()
        .map(|s| SampleRef {
            offset: s.offset,
            size: s.size,
            sync: s.is_sync,
            cts: s.composition_timestamp,
        })
        .collect();
    let mut display_order: Vec<usize> = (0..samples.len()).collect();
    display_order.sort_by_key(|&i| (samples[i].cts, i));
    let timescale = track.timescale.max(1);
    let span = samples
        .iter()
        .map(|s| s.cts)
        .max()
        .zip(samples.iter().map(|s| s.cts).min())
        .map_or(0, |(a, b)| a - b);
    let fps = if samples.len() >= 2 && span > 0 {
        (samples.len() - 1) as f64 * timescale as f64 / span as f64
    } else if track.duration > 0 {
        samples.len() as f64 * timescale as f64 / track.duration as f64
    } else {
        0.0
    };
    Ok((
        VideoTrack {
            codec,
            width_px: w,
            height_px: h,
            timescale,
            samples,
            display_order,
            sps,
            pps,
            nal_length_size: nal,
            fps,
        },
        audio,
    ))
}
