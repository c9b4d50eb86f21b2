#!/usr/bin/env bash
# fuzz.sh: libFuzzer over every parser of user files (issue 12, item 4; docs/fuzzing.md).
# Builds syspect-fuzz with -sanitize=fuzzer into .build-fuzz (the normal build never needs the
# fuzzer runtime), then fuzzes each target for SECONDS, starting from the committed seed corpus
# (Tests/Fuzz/corpus/TARGET) and the inputs earlier runs found (.build-fuzz/corpus/TARGET).
# A crash is a trap (force unwrap, overflow, index out of range), a fault, or a rejection that
# breaks the rules (not one line, no file name, a wrong line number): the target traps on it.
# A hang is an input that takes over 10 s. Goal: 0 crashes, 0 hangs.
#
#   benchmarks/fuzz.sh [-t SECONDS] [-c release|debug] [TARGET...]
#     -t SECONDS  per target (default 120)
#     -c CONFIG   build configuration (default release)
#     TARGET      spec os-list costs dyn-csv static-csv trace-json (default: all)
# Prints per target: seconds, runs, exec/s, new inputs, crashes, hangs. Crashing or hanging
# inputs are kept in .build-fuzz/artifacts/TARGET/; add each to Tests/Fuzz/corpus/TARGET/ once
# fixed (docs/fuzzing.md). Exit codes: 0 no crash and no hang, 1 a crash or hang, 2 bad usage
# or the build failed.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120 config=release targets=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) seconds=$2; shift 2 ;;
    -c) config=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(spec os-list costs dyn-csv static-csv trace-json)
for t in "${targets[@]}"; do
  [ -d "Tests/Fuzz/corpus/$t" ] || { echo "fuzz.sh: unknown target '$t' (no Tests/Fuzz/corpus/$t)" >&2; exit 2; }
done

# Swift code is instrumented by -sanitize=fuzzer, the C parts (libyaml in Yams) by -fsanitize=fuzzer-no-link.
build_start=$(date +%s)
swift build -c "$config" --scratch-path .build-fuzz --product syspect-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -DSYSPECT_LIBFUZZER -Xcc -fsanitize=fuzzer-no-link >&2 \
  || { echo "fuzz.sh: the libFuzzer build failed" >&2; exit 2; }
fuzzer=.build-fuzz/$config/syspect-fuzz
echo "built $fuzzer in $(( $(date +%s) - build_start )) s; load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"

status=0
printf '%-11s %8s %10s %8s %6s %8s %6s\n' target seconds runs exec/s new crashes hangs
for t in "${targets[@]}"; do
  work=.build-fuzz/corpus/$t artifacts=.build-fuzz/artifacts/$t
  mkdir -p "$work" "$artifacts"
  before=$(ls "$artifacts" | wc -l)
  log=.build-fuzz/fuzz-$t.log
  start=$(date +%s)
  # New inputs go to the first folder (the work corpus); the committed corpus is only read.
  # Swift's backtracer would take the crash signal from libFuzzer, which then saves no input.
  SWIFT_BACKTRACE=enable=no SYSPECT_FUZZ_TARGET=$t "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$work" "Tests/Fuzz/corpus/$t" >"$log" 2>&1 || true
  took=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  new=$(sed -n 's/^stat::new_units_added: *//p' "$log")
  crashes=$(ls "$artifacts" | tail -n +$((before + 1)) | grep -c -E '^(crash|leak|oom|deadly)-' || true)
  hangs=$(ls "$artifacts" | tail -n +$((before + 1)) | grep -c -E '^(timeout|slow-unit)-' || true)
  # libFuzzer stops at the first crash; a run that ended early without an artifact is a crash too.
  if [ -z "$runs" ] && [ "$crashes" -eq 0 ] && [ "$hangs" -eq 0 ]; then crashes=1; fi
  printf '%-11s %8s %10s %8s %6s %8s %6s\n' "$t" "$took" "${runs:-?}" "${rate:-?}" "${new:-?}" "$crashes" "$hangs"
  if [ "$crashes" -gt 0 ] || [ "$hangs" -gt 0 ]; then
    status=1
    grep -m3 -E 'Fatal error|rule|ERROR: libFuzzer|Test unit written' "$log" | sed 's/^/    /' || true
  fi
done
exit $status
