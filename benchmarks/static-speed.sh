#!/usr/bin/env bash
# Speed of `syspect static` (issue 13, Must 5): nginx with every library it loads, analysed
# from scratch (an empty summary cache) and a second time from the cache, on the debug build
# users and CI build first. Goals: under 10 s, then under 1 s. Prints both and their ratio.
# Usage: benchmarks/static-speed.sh [BINARY] [RUNS]   (default: nginx, 3 runs; best and median)
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-nginx}
runs=${2:-3}
swift build --product syspect >&2
syspect=.build/debug/syspect
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

now() { date +%s.%N; }
measure() {  # measure fresh|cached: seconds of one `syspect static --json BINARY`
  [ "$1" = fresh ] && rm -rf "$cache/syspect"
  local t0 t1
  t0=$(now)
  XDG_CACHE_HOME=$cache "$syspect" static --json "$binary" >"$cache/out.json"
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b - a}' 
}
stats() { sort -g | awk '{a[NR]=$1} END{printf "best %.3f s, median %.3f s", a[1], a[int((NR+1)/2)]}'; }

fresh=(); cached=()
for _ in $(seq "$runs"); do
  fresh+=("$(measure fresh)")
  cached+=("$(measure cached)")
done
objects=$(jq '.objects | length' "$cache/out.json")
calls=$(jq '.syscalls | length' "$cache/out.json")
f=$(printf '%s\n' "${fresh[@]}" | stats)
c=$(printf '%s\n' "${cached[@]}" | stats)
fm=$(printf '%s\n' "${fresh[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
cm=$(printf '%s\n' "${cached[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
echo "syspect static $binary: $objects objects, $calls system calls ($runs runs, debug build, load $(cut -d' ' -f1 /proc/loadavg))"
echo "  first analysis (empty cache): $f   goal < 10 s"
echo "  from the cache:               $c   goal < 1 s"
echo "  ratio first / cached (medians): $(awk -v a="$fm" -v b="$cm" 'BEGIN{printf "%.1f", a / b}')x"
