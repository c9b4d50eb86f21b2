#!/bin/sh
# A tiny automake-style suite: one .trs file per test case in $SYSPECT_PROBE_DIR/tree/t, the
# suite's own exit status 1 (a case fails on every machine), a slow last case.
out="$SYSPECT_PROBE_DIR/tree/t"
mkdir -p "$out"
result() { echo ":test-result: $1" > "$out/$2.trs"; }
if cat "$SYSPECT_SPEC_DIR/suite.sh" > /dev/null 2>&1; then result PASS reads; else result FAIL reads; fi
result FAIL always-fails
result SKIP skipped
sleep "${SUITE_SLOW_SECONDS:-3}"
if cat /dev/null; then result PASS late; else result FAIL late; fi
exit 1
