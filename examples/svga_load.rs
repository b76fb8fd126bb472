//! SVGA load speed: what `check` does to one SVGA file (`format::svga::decode`: inflate, count,
//! protobuf decode, every bitmap decoded within the limits), timed per file against
//! SVGAPlayer-Web's own load time in `../shared/reference/svga/timings.csv`, with the protobuf
//! parse rate over the inflated bytes. Run (release, on an idle machine):
//! `cargo run --release --example svga_load [RUNS]`; the table is in `docs/performance.md`.
//!
//! Columns: `check ms` is the median of RUNS calls (default 21) after one warm-up; `× faster` is
//! the reference's `load_ms_median` over it (the target is 5 or more); `parse MB/s` is the
//! inflated protobuf size over the median time of `MovieEntity` decoding alone.

#![expect(
    clippy::print_stdout,
    reason = "the example prints its table on stdout"
)]

use std::io::Read as _;
use std::path::Path;

use giftqa::format::DecodeLimits;
use giftqa::format::svga::{count_entities, decode};
use giftqa::format::svga_proto::MovieEntity;
use giftqa::playback::bench::median_ms;
use prost::Message as _;

fn main() -> anyhow::Result<()> {
    let runs = giftqa::playback::bench::runs_from_args(21)?;
    let reference = Path::new("../shared/reference/svga/timings.csv");
    let assets = Path::new("../shared/assets/svga");
    let limits = DecodeLimits::default();
    let csv = std::fs::read_to_string(reference)?;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| anyhow::anyhow!("timings.csv has no {name} column"))
    };
    let (file_col, load_col) = (col("file")?, col("load_ms_median")?);
    println!("| file | bytes | inflated bytes | Web load ms | check ms | × faster | parse MB/s |");
    println!("|---|---|---|---|---|---|---|");
    let (mut worst, mut slowest_parse) = ((f64::INFINITY, String::new()), f64::INFINITY);
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let (Some(file), Some(load)) = (cells.get(file_col), cells.get(load_col)) else {
            continue;
        };
        let Ok(load_ms) = load.parse::<f64>() else {
            println!("| {file} | – | – | – | – | – | – (no reference load time) |");
            continue;
        };
        let bytes = std::fs::read(assets.join(file))?;
        if let Err(e) = decode(&bytes, &limits) {
            println!(
                "| {file} | {} | – | {load_ms:.1} | – | – | decode-failed: {e} |",
                bytes.len()
            );
            continue;
        }
        let check_ms = median_ms(runs, || {
            std::hint::black_box(decode(&bytes, &limits).is_ok());
        });
        // The 2.x protobuf alone (1.x files are zip + JSON: no protobuf to time).
        let mut inflated = Vec::new();
        let parse = if bytes.starts_with(&[0x78]) {
            flate2::read::ZlibDecoder::new(bytes.as_slice()).read_to_end(&mut inflated)?;
            let ms = median_ms(runs, || {
                std::hint::black_box(count_entities(&inflated).is_ok());
                std::hint::black_box(MovieEntity::decode(inflated.as_slice()).is_ok());
            });
            let mbs = inflated.len() as f64 / 1e6 / (ms / 1000.0);
            slowest_parse = slowest_parse.min(mbs);
            format!("{mbs:.0}")
        } else {
            "– (1.x)".to_owned()
        };
        let ratio = load_ms / check_ms;
        if ratio < worst.0 {
            worst = (ratio, (*file).to_owned());
        }
        println!(
            "| {file} | {} | {} | {load_ms:.1} | {check_ms:.2} | {ratio:.0} | {parse} |",
            bytes.len(),
            if inflated.is_empty() {
                "–".to_owned()
            } else {
                inflated.len().to_string()
            }
        );
    }
    println!(
        "\nslowest against the reference: {} at {:.1}×; slowest protobuf parse {slowest_parse:.0} MB/s",
        worst.1, worst.0
    );
    Ok(())
}
