#!/usr/bin/env bash
# Playback benchmarks (docs/performance.md): decode throughput per format, simulation speed
# and host frame rate of smoke per tier, and peak process memory of smoke spam-100 per tier against the tier's
# texture budget + 150 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"; chmod 700 "$XDG_RUNTIME_DIR"
cargo build --release --quiet
bin=target/release/giftqa
echo "== decode throughput (demo bundle): engine (decode + premultiply) with 1 and 2 workers vs image, 1 thread"
$bin bench decode assets/demo-bundle --threads 1 --runs 5
$bin bench decode assets/demo-bundle --threads 2 --runs 5 | tail -n +2
echo
echo "== smoke, storm on every tier: simulation speed without drawing, host frame rate drawing"
$bin smoke assets/demo-bundle --tier all --scenario storm --no-gpu --format json > /tmp/giftqa-bench-sim.json
$bin smoke assets/demo-bundle --tier all --scenario storm --format json > /tmp/giftqa-bench-smoke.json
python3 - <<'PY'
import json
r = json.load(open('/tmp/giftqa-bench-sim.json'))
device_ms = sum(run["stats"]["device_ms"] for run in r["runs"])
wall = r["host"]["wall_ms"]
print(f"simulated without drawing: {device_ms/1000:.1f} device-s in {wall/1000:.3f} host-s = {device_ms/wall:.0f} device-s per host-s")
r = json.load(open('/tmp/giftqa-bench-smoke.json'))
a = r["host"]["adapter"]
print("drawn on:", a["name"], a["backend"])
for h in r["host"]["runs"]:
    g = h["frame_gpu_ms"] or {}
    print(f'{h["tier"]:5} {h["scenario"]:8} {h["frames"]:5} frames {h["fps"]:6.1f} host fps  cpu p50 {h["frame_cpu_ms"]["p50"]:.1f} ms p95 {h["frame_cpu_ms"]["p95"]:.1f} ms  gpu p50 {g.get("p50", 0):.2f} ms')
PY
echo
echo "== peak process memory, smoke spam-100 (budget + 150 MiB)"
for tier in low mid high; do
  /usr/bin/time -v $bin smoke assets/demo-bundle --tier $tier --scenario spam-100 --format json > /tmp/giftqa-bench-spam.json 2> /tmp/giftqa-bench-spam.time || true
  rss=$(grep 'Maximum resident' /tmp/giftqa-bench-spam.time | awk '{print $NF}')
  python3 - "$tier" "$rss" <<'PY'
import json, sys
tier, rss = sys.argv[1], int(sys.argv[2])
r = json.load(open('/tmp/giftqa-bench-spam.json'))
s = r["runs"][0]["stats"]
budget = s["texture_budget_bytes"] / 2**20
print(f'{tier:5} peak RSS {rss/1024:.1f} MiB (limit {budget + 150:.0f} MiB)  peak device memory {s["peak_memory"]["textures"]/2**20:.1f} MiB textures of {budget:.0f} MiB  sends {s["sends"]} dropped {s["dropped"]}')
PY
done
