#!/usr/bin/env bash
# `check` on 1 000 seeded random mutations of every file in ../shared/assets (the example
# examples/mutations.rs): 0 panics expected; prints a line per file and the worst time and
# peak RSS of one check. Figures go to docs/reliability.md.
# Usage: bench/mutations.sh [MUTATIONS] [SEED] [FIRST] [COUNT]   (defaults 1000, 2026, 0, all;
# FIRST resumes at that file index, COUNT stops after that many files)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example mutations
exec target/release/examples/mutations ../shared/assets "${1:-1000}" "${2:-2026}" "${3:-0}" ${4:+"$4"}
