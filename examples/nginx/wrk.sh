#!/usr/bin/env bash
# Test script for examples/nginx and examples/lighttpd (syspect test-script protocol, see docs/examples.md).
# Writes the document root into the probe directory, checks that the server serves it byte for
# byte and answers 404 for a missing file, runs wrk for a short time, checks that wrk saw only
# 2xx answers and no socket errors, and prints requests/s last (access-log size: stderr only).
# Exit 0 = the workload passed. Every step is bounded by `timeout`.
set -euo pipefail
port=${WEB_PORT:-8080}   # lighttpd sets WEB_PORT=8081 (examples/lighttpd uses this script too)
duration=${WRK_DURATION:-1s}
dir=${SYSPECT_PROBE_DIR:-$PWD}
fail() { echo "wrk.sh: $*" >&2; exit 1; }

mkdir -p "$dir/html"
# As root, nginx's worker runs as nobody: it must be able to reach the document root even when
# the probe folder was made private (mktemp -d gives 0700).
chmod a+x "$dir" && chmod a+rx "$dir/html"
body="syspect nginx example $$"
printf '%s\n' "$body" >"$dir/html/index.html"
head -c 4096 /dev/zero | tr '\0' 'a' >"$dir/html/4k.txt"

got=$(timeout 5 curl -sS --max-time 4 "http://127.0.0.1:$port/") || fail "GET / failed"
[ "$got" = "$body" ] || fail "GET / returned '$got', expected '$body'"
code=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' --max-time 4 "http://127.0.0.1:$port/missing") || true
[ "$code" = 404 ] || fail "GET /missing answered $code, expected 404"
size=$(timeout 5 curl -sS --max-time 4 "http://127.0.0.1:$port/4k.txt" | wc -c) || fail "GET /4k.txt failed"
[ "$size" -eq 4096 ] || fail "GET /4k.txt returned $size bytes, expected 4096"

out=$(timeout 20 wrk -t 1 -c 10 -d "$duration" "http://127.0.0.1:$port/index.html" 2>&1) \
  || fail "wrk failed: $out"
printf '%s\n' "$out" >wrk.out
requests=$(printf '%s\n' "$out" | awk '/requests in/{print $1; exit}')
rate=$(printf '%s\n' "$out" | awk '/^Requests\/sec:/{print $2}')
[ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "wrk made no requests: $out"
! printf '%s\n' "$out" | grep -q 'Socket errors' || fail "wrk saw socket errors: $(grep 'Socket errors' wrk.out)"
! printf '%s\n' "$out" | grep -q 'Non-2xx' || fail "wrk saw non-2xx answers: $(grep 'Non-2xx' wrk.out)"
awk -v r="$rate" 'BEGIN{exit !(r>0)}' || fail "wrk reported $rate requests/s"

# The access log is ON but deliberately NOT a pass criterion: a stubbed or faked `write` that
# silently drops it must pass here and show up as an impact (throughput, issue 6). Reported only.
logged=$(grep -c '"GET /index.html' "$dir/access.log" 2>/dev/null || true)
echo "wrk.sh: wrk completed $requests requests, access.log holds ${logged:-0}" >&2
echo "$rate"
