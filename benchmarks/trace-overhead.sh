#!/usr/bin/env bash
# trace-overhead.sh: the tracer's cost (issue 2, item 7). Runs a system-call-heavy command
# natively, under `syspect trace` (default census method: eBPF when available; failures
# counted), `syspect trace --no-failures`, the same two with `--census-method ptrace` (every
# call stops at the tracer, for comparison), and `strace -f -c`, interleaved, N times each in
# the same run; prints the machine load, the median wall and CPU times and the overhead ratios.
# Goal (wall time, default mode): syspect's overhead over native (median minus native median)
# is at most half of strace's.
#
#   benchmarks/trace-overhead.sh [-n RUNS] [-b SYSPECT] [-- COMMAND...]
#     -n RUNS    runs per variant (default 5)
#     -b PATH    the syspect binary (default: build release into .build-bench and use it;
#                the goal is about the release build a user runs)
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
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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

# "WALL:CPU" seconds of one run of "$@" (stdout/stderr discarded). CPU is user + system time
# of the whole tree (tracer and tracees; eBPF programs run in the tracees' system time): on a
# loaded machine it is steadier than wall time.
seconds() {
  python3 - "$@" <<'PY' || { echo "trace-overhead: '$*' failed" >&2; exit 2; }
import os, resource, subprocess, sys, time
before = resource.getrusage(resource.RUSAGE_CHILDREN)
start = time.monotonic()
status = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - start
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(f"{wall:.4f}:{cpu:.4f}")
sys.exit(status)
PY
}
# The census method the default mode really used (auto falls back to ptrace without eBPF).
method=$("$syspect" trace --json --output - -- "${cmd[@]}" 2>/dev/null \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"].get("censusMethod") or "?")')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A times
variants=(native syspect syspect-nofail ptrace ptrace-nofail strace)
for ((i = 1; i <= runs; i++)); do
  times[native]+=" $(seconds "${cmd[@]}")"
  times[syspect]+=" $(seconds "$syspect" trace --output /dev/null -- "${cmd[@]}")"
  times[syspect-nofail]+=" $(seconds "$syspect" trace --no-failures --output /dev/null -- "${cmd[@]}")"
  times[ptrace]+=" $(seconds "$syspect" trace --census-method ptrace --output /dev/null -- "${cmd[@]}")"
  times[ptrace-nofail]+=" $(seconds "$syspect" trace --census-method ptrace --no-failures --output /dev/null -- "${cmd[@]}")"
  times[strace]+=" $(seconds strace -f -c -o /dev/null "${cmd[@]}")"
  echo "run $i/$runs done" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "${cmd[*]}" "$runs" "$method" "$load_before" "$load_after" "$(nproc)" \
  "${times[native]}" "${times[syspect]}" "${times[syspect-nofail]}" "${times[ptrace]}" "${times[ptrace-nofail]}" \
  "${times[strace]}" <<'PY'
import statistics, sys
command, runs, method, load_before, load_after, cpus = sys.argv[1:7]
names = ["native", f"syspect trace ({method})", f"syspect trace --no-failures ({method})",
         "syspect trace --census-method ptrace", "  ... ptrace --no-failures", "strace -f -c"]
pairs = [[x.split(":") for x in arg.split()] for arg in sys.argv[7:]]
print(f"command: {command}   runs per variant: {runs}")
print(f"load average (1/5/15 min) before: {load_before}   after: {load_after}   cpus: {cpus}")
verdict = None
for column, label in ((0, "wall"), (1, "cpu (user+sys of the tree)")):
    samples = [[float(p[column]) for p in variant] for variant in pairs]
    med = [statistics.median(s) for s in samples]
    print(f"{label} seconds:")
    for name, s, m in zip(names, samples, med):
        print(f"  {name:40s} median {m:8.3f} s   ({' '.join(f'{x:.2f}' for x in s)})")
    native, strace = med[0], med[-1]
    strace_over = strace - native
    print(f"  ratio traced / native: strace {strace / native:.1f}x, " +
          ", ".join(f"{name.strip()} {m / native:.1f}x" for name, m in zip(names[1:-1], med[1:-1])))
    for index, name in enumerate(names[1:-1], start=1):
        share = (med[index] - native) / strace_over if strace_over > 0 else float("inf")
        goal = share <= 0.5
        if index == 1 and column == 0:
            verdict = goal  # the goal is on wall time, default mode
        print(f"  {name:40s} overhead = {share:5.2f} of strace's  (goal <= 0.50: {'met' if goal else 'MISSED'})")
sys.exit(0 if verdict else 1)
PY
