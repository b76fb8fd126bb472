#!/usr/bin/env bash
# Keeps the fuzz harness alive (what .ci/run does): builds every target with libFuzzer's
# coverage instrumentation but no sanitizer, straight through cargo (no cargo-fuzz to install),
# then runs each for SECONDS (default 20) on its seeded corpus. A crash fails the run.
# Long runs with AddressSanitizer use fuzz/run.sh instead (fuzz/README.md).
# Usage: fuzz/smoke.sh [build | run [SECONDS] | SECONDS]   (both steps when no step is named)
set -euo pipefail
cd "$(dirname "$0")"
triple=$(rustc -vV | sed -n 's/^host: //p')
# cargo-fuzz's flags for `-s none` (src/project.rs): sancov counters, comparisons traced,
# `--cfg fuzzing`, debug assertions and overflow checks on. The explicit --target keeps them
# off build scripts and proc-macros.
export RUSTC_BOOTSTRAP=1
# Line tables still name the file and line of a crash, at a fraction of the disk.
export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
step=both
case ${1:-} in
  build) step=build ;;
  run) step=run; shift ;;
esac
mkdir -p logs
if [ "$step" != run ]; then
  if ! cargo build --release --target "$triple" --target-dir target/smoke --bins \
      > logs/smoke-build.log 2>&1; then
    tail -40 logs/smoke-build.log
    exit 2
  fi
fi
if [ "$step" != build ]; then
  FUZZ_NO_BUILD=1 FUZZ_BIN="target/smoke/$triple/release" FUZZ_LOGS=logs/smoke \
    exec ./run.sh "${1:-20}"
fi
