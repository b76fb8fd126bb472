#!/usr/bin/env bash
# Runs fuzz targets for SECONDS each on their seeded corpus and dictionary, and prints one line
# per target: wall seconds, CPU seconds (user + system, from GNU time), executions, edge
# coverage and the result.
# Usage: fuzz/run.sh SECONDS [TARGET...]   (all targets when none is named)
# Environment:
#   FUZZ_LANES=N     run N targets at a time (default 1); each lane is one libFuzzer process
#   FUZZ_NO_BUILD=1  use the binaries already built (a long soak is not rebuilt mid-run)
#   FUZZ_BIN=DIR     where the binaries are (default: cargo-fuzz's release folder)
#   FUZZ_LOGS=DIR    where the logs go (default: fuzz/logs)
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable with RUSTC_BOOTSTRAP=1, and GNU
# time (`/usr/bin/time`).
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:?seconds per target}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(manifest archive svga lottie dotlottie animated vap documents)
LANES=${FUZZ_LANES:-1}
./seed.sh > /dev/null
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  mkdir -p logs
  RUSTC_BOOTSTRAP=1 cargo fuzz build --release > logs/build.log 2>&1 \
    || { cat logs/build.log; exit 2; }
fi
BIN=${FUZZ_BIN:-target/x86_64-unknown-linux-gnu/release}
dict_of() {
  case $1 in
    manifest|documents) echo json ;;
    archive|svga) echo zip ;;
    lottie|dotlottie) echo lottie ;;
    animated) echo image ;;
    vap) echo mp4 ;;
  esac
}
LOGS=${FUZZ_LOGS:-logs}
mkdir -p "$LOGS"
# One target: runs it, then prints its line. Exit status 1 on a crash.
one() {
  local t=$1 log="$LOGS/$1.log" result=ok status=0
  mkdir -p "artifacts/$t"
  if ! /usr/bin/time -f 'cpu_seconds: %U %S' -o "$LOGS/$t.time" "$BIN/$t" "corpus/$t" \
      -max_total_time="$SECONDS_EACH" -dict="dict/$(dict_of "$t").dict" \
      -max_len=400000 -rss_limit_mb=2048 -timeout=60 -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" > "$log" 2>&1; then
    result="CRASH (see fuzz/$log and fuzz/artifacts/$t/)"
    status=1
  fi
  local runs cov cpu
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  cpu=$(awk '/cpu_seconds/ {printf "%.0f", $2 + $3}' "$LOGS/$t.time")
  printf '%-10s %6s s wall %6s s cpu %12s execs  cov %6s  %s\n' \
    "$t" "$SECONDS_EACH" "$cpu" "$runs" "$cov" "$result"
  return $status
}
status=0
# At most LANES targets at once; the next starts as soon as any one ends.
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$LANES" ]; do
    wait -n || status=1
  done
  one "$t" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
  wait -n || status=1
done
exit $status
