#!/usr/bin/env bash
# Speed of `syspect serve`'s pages under wrk on loopback, over the bundled loupedb data (116
# applications, an empty results database beside it): the catalogue, one application page
# (redis, two workloads) and the plan page of all 116 applications on Kerla (plan table and the
# five curves). Prints requests/s and the p99 latency of each (wrk --latency), the first
# (uncached) plan page's time, and each against its goal: p99 under 50 ms for the catalogue and
# the application page, the full 116-application plan page under 200 ms. A baseline in the same
# run, GET /api/v1/info (a route that does no work), shows how much of the latency is the
# machine (a loaded 2-core machine delays every answer): each page's p99 is also printed as a
# ratio to it.
#
# Usage: benchmarks/serve-speed.sh [--debug] [SECONDS [CONNECTIONS]]
#   --debug      use the debug build (.build/debug/syspect) instead of a release build
#   SECONDS      wrk duration per page (default 10), CONNECTIONS wrk connections (default 4, 2 threads)
# Needs wrk and curl (scripts/setup installs both). Results: docs/serve.md ("Speed").
set -euo pipefail
cd "$(dirname "$0")/.."

config=release
if [ "${1:-}" = "--debug" ]; then config=debug; shift; fi
seconds=${1:-10}
connections=${2:-4}
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "serve-speed: $tool is not installed; run scripts/setup" >&2; exit 1; }
done

if [ "$config" = release ]; then
  swift build -c release --scratch-path .build-bench-serve --product syspect >&2
  binary=.build-bench-serve/release/syspect
else
  swift build --product syspect >&2
  binary=.build/debug/syspect
fi

work=$(mktemp -d /tmp/syspect-serve-speed.XXXXXX)
server=
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the server picks a free port and prints its address.
"$binary" serve --db "$work/site.db" --listen 127.0.0.1:0 --quiet >"$work/out" 2>"$work/err" &
server=$!
base=
for _ in $(seq 1 300); do
  base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/out" 2>/dev/null | head -1 || true)
  [ -n "$base" ] && break
  kill -0 "$server" 2>/dev/null || { echo "serve-speed: syspect serve stopped: $(cat "$work/err")" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "serve-speed: syspect serve did not say where it listens within 30 s" >&2; exit 1; }

apps=$(curl -sf "$base/api/v1/info" | grep -o '"apps":[0-9]*' | cut -d: -f2)
echo "syspect serve ($config build) at $base over the bundled data: $apps applications; wrk -t2 -c$connections -d${seconds}s"

# The first plan page computes the plan and its curves (then cached by request).
cold=$(curl -sf -o /dev/null -w '%{time_total}' "$base/plan?os=Kerla")
cold_ms=$(awk -v t="$cold" 'BEGIN { printf "%.0f", t * 1000 }')

# wrk's latency lines read like "99%   12.34ms" (us, ms or s): in milliseconds.
p99_ms() { awk '$1 == "99%" { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
                              m = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v; printf "%.1f", m }' "$1"; }
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$1"; }
# The mean, from wrk's "Latency  avg stdev max" line, in milliseconds.
avg_ms() { awk '$1 == "Latency" && !done { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
                                           m = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v; printf "%.1f", m; done = 1 }' "$1"; }

missed=0
baseline=
printf '%-40s %10s %8s %9s %8s %9s %9s  %s\n' page 'requests/s' 'mean ms' 'p99 ms' 'goal ms' 'p99/goal' 'p99/base' result
bench() {
  local name=$1 path=$2 goal=$3
  curl -sf -o /dev/null "$base$path" || { echo "serve-speed: GET $path failed" >&2; exit 1; }
  wrk -t2 -c"$connections" -d"${seconds}s" --latency "$base$path" >"$work/wrk"
  if grep -q 'Non-2xx' "$work/wrk"; then echo "serve-speed: $path answered errors: $(cat "$work/wrk")" >&2; exit 1; fi
  local p99 verdict
  p99=$(p99_ms "$work/wrk")
  [ -n "$baseline" ] || baseline=$p99
  if [ "$goal" = - ]; then
    verdict=baseline
  else
    verdict=$(awk -v p="$p99" -v g="$goal" 'BEGIN { print (p < g) ? "ok" : "MISSED" }')
    [ "$verdict" = ok ] || missed=1
  fi
  printf '%-40s %10s %8s %9s %8s %9s %9s  %s\n' "$name" "$(rps "$work/wrk")" "$(avg_ms "$work/wrk")" "$p99" "$goal" \
    "$(awk -v p="$p99" -v g="$goal" 'BEGIN { if (g == "-") print "-"; else printf "%.2f", p / g }')" \
    "$(awk -v p="$p99" -v b="$baseline" 'BEGIN { printf "%.1f", p / (b > 0 ? b : 0.001) }')" "$verdict"
}
bench "baseline /api/v1/info (no work)" "/api/v1/info" -
bench "catalogue /" "/" 50
bench "application /apps/redis" "/apps/redis" 50
bench "plan /plan?os=Kerla ($apps apps)" "/plan?os=Kerla" 200
cold_verdict=$(awk -v p="$cold_ms" 'BEGIN { print (p < 200) ? "ok" : "MISSED" }')
[ "$cold_verdict" = ok ] || missed=1
printf '%-40s %10s %8s %9s %8s %9s %9s  %s\n' "first plan page (computed, uncached)" - - "$cold_ms" 200 \
  "$(awk -v p="$cold_ms" 'BEGIN { printf "%.2f", p / 200 }')" - "$cold_verdict"
exit "$missed"
