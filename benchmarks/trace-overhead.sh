#!/usr/bin/env bash
# trace-overhead.sh: the tracer's cost (issue 2, item 7). Runs a system-call-heavy command
# natively, under `syspect trace` (failures counted: the default), under `syspect trace
# --no-failures`, and under `strace -f -c`, interleaved, N times each in the same run; prints
# the median wall times and the overhead ratios. Goal: syspect's overhead over native (median
# minus native median) is at most half of strace's.
#
#   benchmarks/trace-overhead.sh [-n RUNS] [-b SYSPECT] [-- COMMAND...]
#     -n RUNS    runs per variant (default 5)
#     -b PATH    the syspect binary (default: build release into .build-bench and use it)
#     COMMAND    default: dd if=/dev/zero of=/dev/null bs=1 count=200000 (≈ 400k calls)
# Needs: strace (scripts/setup installs it), python3 (for medians).
# Exit codes: 0 goal met, 1 goal missed, 2 bad usage or missing tool.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5 syspect=""
while [ $# -gt 0 ]; do
  case $1 in
    -n) runs=$2; shift 2 ;;
    -b) syspect=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "trace-overhead: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
cmd=("$@")
[ ${#cmd[@]} -gt 0 ] || cmd=(dd if=/dev/zero of=/dev/null bs=1 count=200000 status=none)
command -v strace >/dev/null || { echo "trace-overhead: strace is missing: run scripts/setup" >&2; exit 2; }
command -v python3 >/dev/null || { echo "trace-overhead: python3 is missing" >&2; exit 2; }
if [ -z "$syspect" ]; then
  swift build -c release --scratch-path .build-bench --product syspect >&2
  syspect=.build-bench/release/syspect
fi
[ -x "$syspect" ] || { echo "trace-overhead: $syspect is not executable" >&2; exit 2; }

# Wall seconds of one run of "$@" (stdout/stderr discarded).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || { echo "trace-overhead: '$*' failed" >&2; exit 2; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l 2>/dev/null || python3 -c "print($end - $start)"
}

declare -A times
variants=(native syspect syspect-nofail strace)
for ((i = 1; i <= runs; i++)); do
  times[native]+=" $(seconds "${cmd[@]}")"
  times[syspect]+=" $(seconds "$syspect" trace --output /dev/null -- "${cmd[@]}")"
  times[syspect-nofail]+=" $(seconds "$syspect" trace --no-failures --output /dev/null -- "${cmd[@]}")"
  times[strace]+=" $(seconds strace -f -c -o /dev/null "${cmd[@]}")"
  echo "run $i/$runs done" >&2
done

python3 - "${cmd[*]}" "$runs" "${times[native]}" "${times[syspect]}" "${times[syspect-nofail]}" "${times[strace]}" <<'PY'
import statistics, sys
command, runs = sys.argv[1], sys.argv[2]
names = ["native", "syspect trace", "syspect trace --no-failures", "strace -f -c"]
samples = [[float(x) for x in arg.split()] for arg in sys.argv[3:]]
med = [statistics.median(s) for s in samples]
print(f"command: {command}   runs per variant: {runs}")
for name, s, m in zip(names, samples, med):
    print(f"  {name:30s} median {m:8.3f} s   ({' '.join(f'{x:.2f}' for x in s)})")
native, strace = med[0], med[3]
strace_over = strace - native
print(f"  overhead ratio (traced / native):  strace {strace / native:6.1f}x", end="")
for label, m in (("syspect", med[1]), ("syspect --no-failures", med[2])):
    print(f"   {label} {m / native:6.1f}x", end="")
print()
ok = True
for label, m in (("syspect trace", med[1]), ("syspect trace --no-failures", med[2])):
    share = (m - native) / strace_over if strace_over > 0 else float("inf")
    goal = share <= 0.5
    ok &= goal if label == "syspect trace" else True
    print(f"  {label:30s} overhead = {share:5.2f} of strace's  (goal <= 0.50: {'met' if goal else 'MISSED'})")
sys.exit(0 if ok else 1)
PY
