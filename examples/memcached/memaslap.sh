#!/usr/bin/env bash
# Test script for examples/memcached (syspect test-script protocol, see docs/examples.md).
# Checks set/get/incr/delete answers over the text protocol, runs memaslap (memcaslap) for a
# fixed number of operations, checks it saw no misses or errors and that the server counted the
# traffic, and prints operations/s (TPS) last. Exit 0 = passed. Every step is bounded.
set -euo pipefail
port=${MEMCACHED_PORT:-11211}
ops=${MEMASLAP_OPS:-20000}
fail() { echo "memaslap.sh: $*" >&2; exit 1; }
ask() {  # ask "COMMANDS": send text-protocol commands (then quit), print the answer without CRs
  timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0; printf "%b" "$1quit\r\n" >&3; cat <&3' \
    "$port" "$1" | tr -d '\r'
}

got=$(ask 'set syspect 0 0 5\r\nhello\r\nget syspect\r\n') || fail "set/get exchange failed"
[ "$got" = "$(printf 'STORED\nVALUE syspect 0 5\nhello\nEND')" ] || fail "set/get answered: $got"
got=$(ask 'set n 0 0 1\r\n7\r\nincr n 5\r\ndelete syspect\r\nget syspect\r\n') || fail "incr/delete exchange failed"
[ "$got" = "$(printf 'STORED\n12\nDELETED\nEND')" ] || fail "incr/delete answered: $got"

out=$(timeout 20 memcaslap -s "127.0.0.1:$port" -T 1 -c 8 -x "$ops" 2>&1) || fail "memaslap failed: $out"
printf '%s\n' "$out" >memaslap.out
tps=$(printf '%s\n' "$out" | awk '/^Run time:/{for(i=1;i<NF;i++) if($i=="TPS:") print $(i+1)}')
done_ops=$(printf '%s\n' "$out" | awk '/^Run time:/{for(i=1;i<NF;i++) if($i=="Ops:") print $(i+1)}')
[ "${done_ops:-0}" -eq "$ops" ] || fail "memaslap did ${done_ops:-0} of $ops operations: $out"
awk -v r="${tps:-0}" 'BEGIN{exit !(r>0)}' || fail "memaslap reported TPS ${tps:-none}"
misses=$(printf '%s\n' "$out" | awk -F': ' '/^get_misses:/{print $2; exit}')
[ "${misses:-1}" -eq 0 ] || fail "memaslap saw ${misses:-unknown} get misses"

stats=$(ask 'stats\r\n') || fail "stats failed"
sets=$(printf '%s\n' "$stats" | awk '$2=="cmd_set"{print $3}')
[ "${sets:-0}" -ge $((ops / 10)) ] || fail "server counted ${sets:-0} sets, expected >= $((ops / 10))"
echo "$tps"
