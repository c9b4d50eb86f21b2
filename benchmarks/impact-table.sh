#!/usr/bin/env bash
# impact-table.sh: the paper's Table 2 (performance and resource impact of stubbing and faking)
# measured by syspect on nginx under wrk and redis under redis-benchmark (examples/): explores
# each example (resumed if already in the database), then `--impact`, then prints
# `syspect show APP --impact`. Long (minutes to hours): CI does not run it. docs/impact.md.
#
#   benchmarks/impact-table.sh [-n RUNS] [--all] [--db FILE] [--work-dir DIR] [APP ...]
#     -n RUNS      runs per stub/fake policy, each interleaved with a baseline run (default 10)
#     --all        every call whose verdict is stub, fake or either (default: the calls of the
#                  paper's Table 2: nginx write,brk,clone,rt_sigsuspend; redis close,munmap,
#                  brk,rt_sigprocmask,futex,pipe2 — those the exploration finds required are skipped)
#     --db FILE    results database (default /var/tmp/syspect-impact-table/impact.db: resumable)
#     APP          nginx and/or redis (default both)
# Environment: SYSPECT (the binary; default .build/release/syspect, else .build/debug/syspect),
# WRK_DURATION (nginx, default 3s), REDIS_REQUESTS (redis, default 20000).
# Needs root (probe namespaces) and a quiet machine: throughput is compared across runs.
# Exit codes: 0 tables printed; 2 bad usage; 3 not root; other: syspect's own exit status.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
runs=10 all=0 db=/var/tmp/syspect-impact-table/impact.db work=/var/tmp/syspect-impact-table/probes apps=()
while [ $# -gt 0 ]; do
  case $1 in
    -n) runs=$2; shift 2 ;;
    --all) all=1; shift ;;
    --db) db=$2; shift 2 ;;
    --work-dir) work=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    nginx|redis) apps+=("$1"); shift ;;
    *) echo "impact-table: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ ]] && [ "$runs" -ge 2 ] || { echo "impact-table: -n needs a number ≥ 2" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "impact-table: needs root (probe namespaces)" >&2; exit 3; }
[ ${#apps[@]} -gt 0 ] || apps=(nginx redis)
syspect=${SYSPECT:-}
if [ -z "$syspect" ]; then
  for candidate in "$repo/.build/release/syspect" "$repo/.build/debug/syspect"; do
    [ -x "$candidate" ] && { syspect=$candidate; break; }
  done
fi
[ -x "${syspect:-}" ] || { echo "impact-table: no syspect binary: run swift build -c release, or set SYSPECT" >&2; exit 2; }
mkdir -p "$(dirname "$db")" "$work"
export WRK_DURATION=${WRK_DURATION:-3s} REDIS_REQUESTS=${REDIS_REQUESTS:-20000}

declare -A table2=([nginx]=write,brk,clone,rt_sigsuspend [redis]=close,munmap,brk,rt_sigprocmask,futex,pipe2)
echo "impact-table: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), runs $runs, $syspect"
for app in "${apps[@]}"; do
  select=(--impact-syscalls "${table2[$app]}")
  [ "$all" -eq 1 ] && select=()
  echo "impact-table: $app: explore + impact (progress on stderr)"
  "$syspect" explore "$repo/examples/$app/$app.yaml" --db "$db" --work-dir "$work" \
    --impact --impact-runs "$runs" "${select[@]}" >/dev/null
  "$syspect" show "$app" --impact --db "$db"
done
