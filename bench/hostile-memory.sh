#!/usr/bin/env bash
# Peak memory (max RSS, /usr/bin/time -v) of `giftqa check` on each hostile bundle the tests
# build: the rlottie repro_*.json files, a truncated SVGA, a zip entry escaping the root, a zip
# entry of 300 MiB of zeros, a PNG declaring 100 000 x 100 000 px. The issue's bound: 300 MiB.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${HOSTILE_DIR:-/tmp/giftqa-hostile}
rm -rf "$out"; mkdir -p "$out"
GIFTQA_KEEP_HOSTILE="$out" cargo test --release --quiet --test hostile > /dev/null
cargo build --release --quiet
for b in "$out"/*; do
  set +e
  /usr/bin/time -v target/release/giftqa check "$b" --keys assets/demo-keys.json --fleet assets/demo-fleet.json > "$out.log" 2> "$out.time"
  code=$?
  set -e
  rss=$(grep 'Maximum resident' "$out.time" | awk '{print $NF}')
  wall=$(grep 'Elapsed (wall' "$out.time" | awk '{print $NF}')
  finding=$(grep -m1 -oE '^error\[[a-z-]+\]' "$out.log" || echo "no error")
  printf '%-55s exit %s  %-24s peak %6.1f MiB  %s\n' "$(basename "$b")" "$code" "$finding" "$(echo "$rss / 1024" | bc -l)" "$wall"
done
