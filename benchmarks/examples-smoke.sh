#!/usr/bin/env bash
# examples-smoke.sh: run every examples/*/*.yaml workload once natively (no syspect), each in its
# own sandbox (benchmarks/lib/run-probe: fresh network/mount/PID/IPC/UTS namespaces and folder),
# and check that it passes. For CI and for the explore engineer: if this fails, the examples or
# the machine are broken, not syspect.
#
#   benchmarks/examples-smoke.sh [-r N] [--keep] [SPEC.yaml|NAME ...]   (default: every example)
#     -r N     run each example N times (default 1)
#     --keep   keep the probe folders (their paths are printed)
# Prints one line per run (PASS|FAIL, seconds, metric or reason), then "smoke: N passed, N failed".
# Exit codes: 0 all passed, 1 one failed, 2 bad usage, 3 not root.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
reps=1 keep=0 specs=()
while [ $# -gt 0 ]; do
  case $1 in
    -r) reps=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    -*) echo "examples-smoke: unknown option $1 (see --help)" >&2; exit 2 ;;
    *.yaml|*.yml) specs+=("$1"); shift ;;
    *) [ -f "$repo/examples/$1/$1.yaml" ] || { echo "examples-smoke: no example named '$1'" >&2; exit 2; }
       specs+=("$repo/examples/$1/$1.yaml"); shift ;;
  esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "examples-smoke: -r needs a positive number" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "examples-smoke: needs root (probe namespaces)" >&2; exit 3; }
[ ${#specs[@]} -gt 0 ] || specs=("$repo"/examples/*/*.yaml)

passed=0 failed=0
for spec in "${specs[@]}"; do
  for r in $(seq "$reps"); do
    dir=$(mktemp -d /var/tmp/syspect-smoke.XXXXXX)
    line=$("$here/lib/run-probe" --dir "$dir" "$spec" 2>"$dir/run-probe.err" | tail -n 1)
    name=${spec#"$repo"/}
    printf '%-45s %s\n' "$name" "${line:-FAIL 0 run-probe printed nothing}"
    if [ "${line%% *}" = PASS ]; then passed=$((passed + 1)); else
      failed=$((failed + 1)); sed 's/^/    /' "$dir/run-probe.err"; keep_this=1; fi
    if [ "$keep" -eq 1 ] || [ "${keep_this:-0}" -eq 1 ]; then echo "    probe folder: $dir"; else rm -rf "$dir"; fi
    keep_this=0
  done
done
echo "smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
