//! VAP (`shared/spec/formats/vap/`): an MP4 whose frames hold RGB and alpha side by side, with
//! a JSON config in a custom top-level `vapc` box. This module checks the ISO-BMFF box
//! structure and reads the config; decoding video frames is the playback engine's job.

use serde_json::Value;

use super::{AnimationInfo, DecodeLimits};

const CONTAINERS: [&[u8; 4]; 6] = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"];

struct Walk {
    boxes: Vec<[u8; 4]>,
    vapc: Option<Vec<u8>>,
    codecs: Vec<String>,
    trailing_padding: bool,
}

fn walk(b: &[u8], depth: usize, w: &mut Walk) -> Result<(), String> {
    let mut off = 0usize;
    while off < b.len() {
        if b.len() - off < 8 {
            return Err(format!("truncated box header at byte {off}"));
        }
        let mut size = u64::from(u32::from_be_bytes([
            b[off],
            b[off + 1],
            b[off + 2],
            b[off + 3],
        ]));
        let ty: [u8; 4] = [b[off + 4], b[off + 5], b[off + 6], b[off + 7]];
        let mut header = 8u64;
        if size == 1 {
            if b.len() - off < 16 {
                return Err(format!("truncated 64-bit box size at byte {off}"));
            }
            let mut s = [0u8; 8];
            s.copy_from_slice(&b[off + 8..off + 16]);
            size = u64::from_be_bytes(s);
            header = 16;
        } else if size == 0 {
            if ty == [0; 4] && depth == 0 {
                // Zero padding to the end of the file (seen in special_size_750.mp4).
                w.trailing_padding = true;
                return Ok(());
            }
            size = (b.len() - off) as u64;
        }
        if size < header || size > (b.len() - off) as u64 {
            return Err(format!(
                "box {:?} at byte {off} claims {size} bytes, {} remain",
                String::from_utf8_lossy(&ty),
                b.len() - off
            ));
        }
        let body = &b[off + header as usize..off + size as usize];
        if depth == 0 {
            w.boxes.push(ty);
            if &ty == b"vapc" {
                w.vapc = Some(body.to_vec());
            }
        }
        if CONTAINERS.contains(&&ty) && depth < 8 {
            walk(body, depth + 1, w)?;
        }
        if &ty == b"stsd" && body.len() >= 16 {
            // version/flags (4), entry_count (4), then sample entries: size (4) + format (4).
            w.codecs
                .push(String::from_utf8_lossy(&body[12..16]).into_owned());
        }
        off += size as usize;
    }
    Ok(())
}

/// Checks the MP4 box structure of a VAP file and reads its `vapc` config.
///
/// # Errors
/// A message for `decode-failed`: broken boxes, no `moov` or `mdat`, an invalid config.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<AnimationInfo, String> {
    let mut w = Walk {
        boxes: Vec::new(),
        vapc: None,
        codecs: Vec::new(),
        trailing_padding: false,
    };
    walk(bytes, 0, &mut w)?;
    if w.boxes.first() != Some(b"ftyp") {
        return Err("the first box is not ftyp".into());
    }
    for need in [b"moov", b"mdat"] {
        if !w.boxes.contains(need) {
            return Err(format!("no {} box", String::from_utf8_lossy(need)));
        }
    }
    let mut notes = Vec::new();
    if w.trailing_padding {
        notes.push("zero padding after the last box".into());
    }
    for c in &w.codecs {
        match c.as_str() {
            "avc1" | "avc3" => {}
            "hvc1" | "hev1" => notes
                .push("H.265 video: unsupported on Android 4.x and some low-end devices".into()),
            "mp4a" => notes.push("audio track".into()),
            other => notes.push(format!("{other:?} track")),
        }
    }
    let Some(vapc) = w.vapc else {
        notes.push(
            "no vapc box: a version-1 VAP file; layout must be configured by the player".into(),
        );
        return Ok(AnimationInfo {
            notes,
            audio: Vec::new(),
            ..AnimationInfo::default()
        });
    };
    let cfg: Value =
        serde_json::from_slice(&vapc).map_err(|e| format!("vapc config is not JSON: {e}"))?;
    let info = cfg.get("info").ok_or("vapc config has no info")?;
    let get = |k: &str| info.get(k).and_then(Value::as_f64);
    let (Some(w_px), Some(h_px), Some(fps), Some(frames)) =
        (get("w"), get("h"), get("fps"), get("f"))
    else {
        return Err("vapc info needs w, h, fps and f".into());
    };
    limits.check_frame("the effect", w_px, h_px)?;
    limits.check_timing(frames, fps)?;
    let (vw, vh) = (get("videoW").unwrap_or(w_px), get("videoH").unwrap_or(h_px));
    limits.check_frame("the video", vw, vh)?;
    if vw.max(vh) > 1504.0 {
        notes.push(format!(
            "video {vw} × {vh} px: longest side over 1504 px fails on some devices"
        ));
    }
    if vw % 16.0 != 0.0 || vh % 16.0 != 0.0 {
        notes.push(format!("video {vw} × {vh} px is not a multiple of 16"));
    }
    let mut slot_keys: Vec<String> = cfg
        .get("src")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            s.get("srcTag")
                .and_then(Value::as_str)
                .map(|t| t.trim_matches(['[', ']']).to_owned())
        })
        .collect();
    slot_keys.sort();
    slot_keys.dedup();
    Ok(AnimationInfo {
        width_px: w_px as u32,
        height_px: h_px as u32,
        fps,
        frame_count: frames as u64,
        duration_ms: (frames * 1000.0 / fps).round() as u64,
        image_count: 0,
        decoded_bytes: (vw * vh * 4.0) as u64,
        slot_keys,
        notes,
        audio: Vec::new(),
    })
}
