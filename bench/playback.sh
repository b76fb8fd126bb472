#!/usr/bin/env bash
# Playback benchmarks (docs/performance.md): decode throughput per format, smoke frame rate
# per tier (unpaced), and peak process memory of smoke spam-100 per tier against the tier's
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
echo "== smoke frame rate per tier, storm, unpaced"
$bin smoke assets/demo-bundle --tier all --scenario storm --unpaced --format json > /tmp/giftqa-bench-smoke.json
python3 - <<'PY'
import json
r = json.load(open('/tmp/giftqa-bench-smoke.json'))
print("adapter:", r["adapter"]["name"], r["adapter"]["backend"])
for run in r["runs"]:
    s = run["stats"]
    g = s["frame_gpu_ms"] or {}
    print(f'{run["tier"]:5} {run["scenario"]:8} {s["frames"]:5} frames {s["fps"]:6.1f} fps  cpu p50 {s["frame_cpu_ms"]["p50"]:.1f} ms p95 {s["frame_cpu_ms"]["p95"]:.1f} ms  gpu p50 {g.get("p50", 0):.2f} ms')
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
print(f'{tier:5} peak RSS {rss/1024:.1f} MiB (limit {budget + 150:.0f} MiB)  peak textures {s["peak_texture_bytes"]/2**20:.1f} MiB of {budget:.0f} MiB  sends {s["sends"]} dropped {s["dropped"]}')
PY
done
