#!/usr/bin/env bash
# Runs fuzz targets for SECONDS each on their seeded corpus and dictionary, one after the
# other, and prints one line per target: executions, coverage, crashes.
# Usage: fuzz/run.sh SECONDS [TARGET...]   (all targets when none is named)
# Needs cargo-fuzz (`cargo install cargo-fuzz`); runs on stable with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH=${1:?seconds per target}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(manifest archive svga lottie dotlottie animated vap documents)
./seed.sh > /dev/null
dict_of() {
  case $1 in
    manifest|documents) echo json ;;
    archive|svga) echo zip ;;
    lottie|dotlottie) echo lottie ;;
    animated) echo image ;;
    vap) echo mp4 ;;
  esac
}
mkdir -p logs
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "artifacts/$t"
  log="logs/$t.log"
  if RUSTC_BOOTSTRAP=1 cargo fuzz run --release "$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_EACH" -dict="dict/$(dict_of "$t").dict" \
      -max_len=400000 -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" > "$log" 2>&1; then
    result=ok
  else
    result="CRASH (see $log and artifacts/$t/)"
    status=1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  printf '%-10s %8s s %12s execs  cov %6s  %s\n' "$t" "$SECONDS_EACH" "$runs" "$cov" "$result"
done
exit $status
