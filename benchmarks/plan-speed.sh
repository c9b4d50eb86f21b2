#!/usr/bin/env bash
# Speed of `syspect plan`: plans for every bundled application on all 12 bundled OS support
# lists (11 OSes, Unikraft twice), against the paper's greedy rule computed in the same run.
# Goal: under one second in total. Usage: benchmarks/plan-speed.sh [REPETITIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --scratch-path .build-bench-plan --product plan-bench >&2
.build-bench-plan/release/plan-bench "${1:-5}"
