#!/usr/bin/env bash
# Hashing throughput of `giftqa check` against b3sum on the same 1 GiB of many files, in the
# same run (issue: hashing must reach 90 % of b3sum). Prints both and the ratio.
#   bench/hash.sh [FILES] [MIB_PER_FILE]     (default 1024 files of 1 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-1024}
mib=${2:-1}
command -v b3sum >/dev/null || cargo install b3sum
cargo build --release --quiet
bin=target/release/giftqa
dir=${BENCH_DIR:-/tmp/giftqa-bench-hash}
if [ "$(find "$dir" -type f 2>/dev/null | wc -l)" != "$files" ]; then
  rm -rf "$dir"; mkdir -p "$dir"
  for i in $(seq -w 1 "$files"); do head -c $((mib * 1024 * 1024)) /dev/urandom > "$dir/f$i.bin"; done
fi
cat "$dir"/* > /dev/null   # warm the page cache for both tools
best() { # best wall time in seconds of 3 runs of "$@"
  local b=999999
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
    b=$(echo "if ($e - $s < $b) $e - $s else $b" | bc -l)
  done
  echo "$b"
}
total_mib=$((files * mib))
t_b3=$(best b3sum --no-names "$dir"/*)
t_gq=$(best "$bin" bench hash "$dir" --runs 1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "data: $files files x $mib MiB = $total_mib MiB"
printf 'b3sum:  %.3f s  %.0f MiB/s\n' "$t_b3" "$(echo "$total_mib / $t_b3" | bc -l)"
printf 'giftqa: %.3f s  %.0f MiB/s\n' "$t_gq" "$(echo "$total_mib / $t_gq" | bc -l)"
printf 'giftqa / b3sum throughput: %.1f %%\n' "$(echo "100 * $t_b3 / $t_gq" | bc -l)"
