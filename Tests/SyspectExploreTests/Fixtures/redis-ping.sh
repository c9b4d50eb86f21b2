#!/usr/bin/env bash
# PING, SET, GET round trip against the probe's redis; prints a metric (the value read back).
# SYSPECT_TEST_SCRIPT_MODE: survivor (leave a background sleep), shutdown (stop the server, then
# hang), hang (never end), fail (exit 3).
set -euo pipefail
cli() { timeout 5 redis-cli -h 127.0.0.1 -p 6379 "$@"; }
case "${SYSPECT_TEST_SCRIPT_MODE:-}" in
  survivor) sleep 300 & ;;
  shutdown) cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true; sleep 30 ;;
  hang) sleep 300 ;;
  fail) echo "failing on purpose" >&2; exit 3 ;;
esac
[ "$(cli PING)" = PONG ] || { echo "no PONG" >&2; exit 1; }
[ "$(cli SET syspect:k 42)" = OK ] || { echo "SET failed" >&2; exit 1; }
v=$(cli GET syspect:k)
[ "$v" = 42 ] || { echo "GET returned '$v'" >&2; exit 1; }
echo "$v"
