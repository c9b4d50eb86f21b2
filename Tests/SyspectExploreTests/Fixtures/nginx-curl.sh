#!/usr/bin/env bash
# GET / (body checked), GET /missing (404) and GET /4k.txt (4096 bytes) against the probe's
# nginx (Fixtures/nginx-curl.yaml). Every step is bounded; prints the bytes of the 4k file.
set -euo pipefail
dir=${SYSPECT_PROBE_DIR:-$PWD}
fail() { echo "nginx-curl.sh: $*" >&2; exit 1; }
mkdir -p "$dir/html"
chmod a+x "$dir" && chmod a+rx "$dir/html"   # nginx's worker runs as nobody
body="syspect nginx test $$"
printf '%s\n' "$body" >"$dir/html/index.html"
head -c 4096 /dev/zero | tr '\0' 'a' >"$dir/html/4k.txt"
get() { timeout 5 curl -sS --max-time 4 "$@"; }
[ "$(get http://127.0.0.1:8080/)" = "$body" ] || fail "GET / returned the wrong body"
code=$(timeout 5 curl -s -o /dev/null -w '%{http_code}' --max-time 4 http://127.0.0.1:8080/missing) || true
[ "$code" = 404 ] || fail "GET /missing answered $code, expected 404"
size=$(get http://127.0.0.1:8080/4k.txt | wc -c) || fail "GET /4k.txt failed"
[ "$size" -eq 4096 ] || fail "GET /4k.txt returned $size bytes"
echo "$size"
