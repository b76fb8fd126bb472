#!/usr/bin/env bash
# H.264 decode of the shared VAP files: giftqa (OpenH264, one thread, planes copied out) against
# `ffmpeg -threads 1` decoding the same files to raw YUV, in the same run. Best of 3 each.
# Usage: bench/vap-decode.sh [GIFTQA]   (default target/release/giftqa)
set -euo pipefail
cd "$(dirname "$0")/.."
GIFTQA="${1:-target/release/giftqa}"
VAP=../shared/assets/vap
printf '%-32s %10s %10s %10s %10s\n' file "giftqa f/s" "MP/s" "ffmpeg f/s" "MP/s"
for f in "$VAP"/Android/*.mp4 "$VAP"/web/demo.mp4; do
  g=$("$GIFTQA" bench h264 "$f" --runs 3)
  frames=$(sed -E 's/.*: ([0-9]+) frames of ([0-9]+)×([0-9]+) px.*/\1/' <<<"$g")
  w=$(sed -E 's/.*frames of ([0-9]+)×([0-9]+) px.*/\1/' <<<"$g")
  h=$(sed -E 's/.*frames of ([0-9]+)×([0-9]+) px.*/\2/' <<<"$g")
  gfps=$(sed -E 's/.* ([0-9.]+) frames\/s.*/\1/' <<<"$g")
  gmp=$(sed -E 's/.* ([0-9.]+) MP\/s.*/\1/' <<<"$g")
  best=999
  for _ in 1 2 3; do
    s=$( { /usr/bin/time -f %e ffmpeg -v error -threads 1 -i "$f" -an -f rawvideo -pix_fmt yuv420p -y /dev/null; } 2>&1 | tail -1)
    best=$(python3 -c "print(min($best, $s))")
  done
  ffps=$(python3 -c "print(f'{$frames/$best:.1f}')")
  fmp=$(python3 -c "print(f'{$frames/$best*$w*$h/1e6:.1f}')")
  printf '%-32s %10s %10s %10s %10s\n' "${f#$VAP/}" "$gfps" "$gmp" "$ffps" "$fmp"
done
