#!/usr/bin/env bash
# Test script for examples/redis (syspect test-script protocol, see docs/examples.md).
# Checks that redis answers correctly (SET/GET round trip, INCR, benchmark data visible), runs
# redis-benchmark (SET and GET, a few thousand requests) and prints the mean requests/s last.
# Exit 0 = the workload passed. Every step is bounded by `timeout`.
set -euo pipefail
port=${REDIS_PORT:-6379}
requests=${REDIS_REQUESTS:-10000}
cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@"; }
fail() { echo "redis-benchmark.sh: $*" >&2; exit 1; }

[ "$(cli PING)" = PONG ] || fail "PING did not answer PONG"
[ "$(cli SET syspect:probe hello)" = OK ] || fail "SET did not answer OK"
[ "$(cli GET syspect:probe)" = hello ] || fail "GET did not return the value just set"
cli DEL syspect:counter >/dev/null
for i in 1 2 3; do cli INCR syspect:counter >/dev/null; done
[ "$(cli GET syspect:counter)" = 3 ] || fail "INCR x3 did not give 3"

out=$(timeout 20 redis-benchmark -h 127.0.0.1 -p "$port" -t set,get -n "$requests" -c 10 --csv) \
  || fail "redis-benchmark failed (exit $?)"
# CSV lines: "test","rps","avg_latency_ms",... ; one for SET, one for GET.
rates=$(printf '%s\n' "$out" | awk -F'"' '$2=="SET"||$2=="GET"{print $4}')
[ "$(printf '%s\n' "$rates" | grep -c .)" -eq 2 ] || fail "no SET/GET rates in redis-benchmark output: $out"
mean=$(printf '%s\n' "$rates" | awk '$1>0{s+=$1; n++} END{if(n==2) printf "%.2f", s/2}')
[ -n "$mean" ] || fail "a zero requests/s rate: $rates"

# The benchmark's SET writes "VXK" (3 bytes, the default -d 3) under key:__rand_int__.
[ "$(cli GET key:__rand_int__)" = VXK ] || fail "the benchmark's SETs are not visible to GET"
processed=$(cli INFO stats | tr -d '\r' | awk -F: '$1=="total_commands_processed"{print $2}')
[ "${processed:-0}" -ge $((2 * requests)) ] || fail "server processed only ${processed:-0} commands"
echo "$mean"
