#!/usr/bin/env bash
# explore-speed.sh: how much faster the default `syspect explore` is than the paper's method
# (issue 7), measured side by side in ONE run, with the verdicts compared syscall by syscall.
#
#   benchmarks/explore-speed.sh [-o DIR] [--syspect BIN] [--loupedb DIR] [--fast "ARGS"] [APP ...]
#   benchmarks/explore-speed.sh report [-o DIR] [--syspect BIN] [APP ...]
#   benchmarks/explore-speed.sh levers [-o DIR] [--syspect BIN] [--loupedb DIR] [--jobs "1 2 3 4"] [APP]
#
# compare (default apps: redis nginx; APP = examples/APP/APP.yaml). For each app, one after the
#   other, each in its own FRESH database with loupedb imported (`syspect db import-loupedb`):
#   1. reference: `syspect explore SPEC --strategy one-by-one --jobs 1` (the paper's sequential
#      one-by-one method, every replica run);
#   2. fast: `syspect explore SPEC` with the default options (plus --fast ARGS if given).
#   Leave-one-out priors: loupedb holds measurements of redis and nginx themselves. explore
#   never uses the explored application's own measurements as priors (Explorer drops every
#   measurement whose app equals the spec's `name`; AdaptiveStrategyTests checks it), so the
#   fast run only learns from the OTHER applications. The script prints how many rows that
#   leaves out.
#   Prints both wall times (measured around the command), both probe counts (as stored and shown
#   by `syspect show`), the ratio fast/reference (goal <= 0.25), and the per-syscall verdict
#   agreement (goal >= 98%) with every differing syscall and both verdicts. The load average is
#   printed next to each run (the machine is shared).
# report: prints the compare table again from the databases and timings kept in DIR.
#
# levers: the separate levers on one app (default redis), each in a fresh database:
#   fewer runs  adaptive with loupedb priors vs adaptive with an EMPTY database (no priors);
#   shorter runs  mean probe duration of failing vs passing probes (one-by-one reference: spec
#                 timeouts; adaptive: baseline-derived timeouts);
#   more at once  one-by-one with --replicas 1 at each --jobs value (wall time scaling).
#
# Output: DIR (default ${XDG_CACHE_HOME:-~/.cache}/syspect/explore-speed) keeps the databases,
#   the probe folders (work/) and each run's log. Needs root (namespaces), jq and sqlite3.
#   --syspect BIN: the binary to measure (default: a release build in .build-speed-release).
#   --loupedb DIR: the loupedb folder imported for priors (default: $SYSPECT_LOUPEDB, else the
#   repository's data/loupedb).
# Exit codes: 0 measured (and, for compare, every app met both goals); 1 a goal missed;
#   2 bad usage; 3 an explore failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${XDG_CACHE_HOME:-$HOME/.cache}/syspect/explore-speed
syspect=""
fast_args=""
loupedb=${SYSPECT_LOUPEDB:-$repo/data/loupedb}
jobs_list="1 2 3 4"
mode=compare
case ${1:-} in levers|report) mode=$1; shift ;; esac
apps=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    --syspect) syspect=$2; shift 2 ;;
    --fast) fast_args=$2; shift 2 ;;
    --loupedb) loupedb=$2; shift 2 ;;
    --jobs) jobs_list=$2; shift 2 ;;
    -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "explore-speed: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) apps+=("$1"); shift ;;
  esac
done
if [ ${#apps[@]} -eq 0 ]; then
  if [ $mode = compare ]; then apps=(redis nginx); else apps=(redis); fi
fi
if [ -z "$syspect" ]; then
  swift build -c release --scratch-path "$repo/.build-speed-release" --product syspect >&2
  syspect=$repo/.build-speed-release/release/syspect
fi
[ -x "$syspect" ] || { echo "explore-speed: $syspect is not executable" >&2; exit 2; }
command -v jq >/dev/null && command -v sqlite3 >/dev/null || { echo "explore-speed: needs jq and sqlite3" >&2; exit 2; }
mkdir -p "$out"
[ -f "$loupedb/PROVENANCE.md" ] || { echo "explore-speed: no loupedb folder at $loupedb (--loupedb DIR)" >&2; exit 2; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
spec_of() { local s=$repo/examples/$1/$1.yaml; [ -f "$s" ] || { echo "explore-speed: no spec $s" >&2; exit 2; }; echo "$s"; }

# fresh_db NAME [empty]: a new database, with loupedb imported unless `empty`.
fresh_db() {
  local db=$out/$1.sqlite
  rm -f "$db" "$db-wal" "$db-shm"
  if [ "${2:-}" != empty ] && ! "$syspect" db import-loupedb "$loupedb" --db "$db" >"$out/import.log" 2>&1; then
    echo "explore-speed: cannot import $loupedb into $db" >&2; exit 3
  fi
  echo "$db"
}

# explore NAME DB SPEC ARGS...: runs explore, prints "seconds" (wall, measured here) on stdout.
explore() {
  local name=$1 db=$2 spec=$3; shift 3
  local work=$out/work/$name start end
  rm -rf "$work"; mkdir -p "$work"
  echo "  [$name] load $(load) before; syspect explore $(basename "$spec") $*" >&2
  start=$(date +%s.%N)
  if ! "$syspect" explore "$spec" --db "$db" --work-dir "$work" "$@" >"$out/$name.log" 2>&1; then
    echo "explore-speed: explore $name failed, see $out/$name.log:" >&2; tail -5 "$out/$name.log" >&2; exit 3
  fi
  end=$(date +%s.%N)
  echo "  [$name] load $(load) after" >&2
  awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}' | tee "$out/$name.seconds"
}

# show APP DB: the `syspect show --json` document of APP's syspect measurement (the database
# also holds the imported loupedb measurements of APP: source loupedb:...).
show() { "$syspect" show "$1" --json --db "$2" | jq '[.[] | select(.source == "syspect")][0]'; }

# verdicts JSON: "name<TAB>verdict" lines, sorted.
verdicts() { jq -r '.syscalls[] | [.name, .verdict] | @tsv' <<<"$1" | sort; }

# durations DB: "pass n mean / fail n mean" of the non-baseline probes.
durations() {
  sqlite3 -separator ' ' "$1" "SELECT outcome, count(*), printf('%.2f', avg(duration_seconds)) FROM probe
    WHERE policy <> 'baseline' AND outcome <> 'error' GROUP BY outcome ORDER BY outcome DESC" |
    awk '{printf "%s%s %s probes, mean %s s", sep, $1, $2, $3; sep="; "} END{print ""}'
}

# explain RUN DB NUMBER: per policy holding the call (its single-call policies and groups; not
# the final run's sets), the outcome of each replica, and the end of the first failing
# replica's script stderr.
explain() {
  local run=$1 db=$2 n=$3 policy outcomes first line
  sqlite3 -separator '|' "$db" "SELECT policy, group_concat(outcome, ' '), min(CASE WHEN outcome = 'fail' THEN replica END)
      FROM (SELECT * FROM probe ORDER BY replica) WHERE policy IN ('stub:$n', 'fake:$n') OR (policy LIKE 'group:%'
      AND ',' || replace(replace(policy, 'group:stub:', ''), 'group:fake:', '') || ',' LIKE '%,$n,%')
      GROUP BY policy ORDER BY policy" |
  while IFS='|' read -r policy outcomes first; do
    line=""
    [ -n "$first" ] && line=$(tail -1 "$out/work/$run"/*/"$(tr ':;=' '__-' <<<"$policy")-r$first/script.stderr" 2>/dev/null || true)
    printf '      %-9s %-22s %-14s %s\n' "${run##*-}" "${policy:0:22}" "$outcomes" "${line:0:80}"
  done
}

excluded_rows() {
  sqlite3 "$1" "SELECT count(*) FROM measurement_verdict v JOIN measurement m ON m.id = v.measurement_id
    WHERE m.app = '$2'" 2>/dev/null || echo "?"
}

compare_app() {
  local app=$1 spec ref_db fast_db ref_s fast_s ref fast
  spec=$(spec_of "$app")
  echo "== $app ($(nproc) cores, $(uptime | sed 's/.*load/load/'))"
  ref_db=$(fresh_db "$app-reference")
  fast_db=$(fresh_db "$app-fast")
  echo "  leave-one-out: the fast run ignores $app's own loupedb measurements ($(excluded_rows "$fast_db" "$app") verdict rows)"
  explore "$app-reference" "$ref_db" "$spec" --strategy one-by-one --jobs 1 >/dev/null
  # shellcheck disable=SC2086
  explore "$app-fast" "$fast_db" "$spec" $fast_args >/dev/null
  summarize_app "$app"
}

# summarize_app APP: the comparison table from the databases and timings in DIR.
summarize_app() {
  [ $mode = report ] && echo "== $1"
  local app=$1 ref_db=$out/$1-reference.sqlite fast_db=$out/$1-fast.sqlite ref fast ref_s fast_s
  ref_s=$(cat "$out/$app-reference.seconds"); fast_s=$(cat "$out/$app-fast.seconds")
  ref=$(show "$app" "$ref_db"); fast=$(show "$app" "$fast_db")
  local rp fp rs fs
  rp=$(jq .exploration.probeCount <<<"$ref"); fp=$(jq .exploration.probeCount <<<"$fast")
  rs=$(jq -r .exploration.strategy <<<"$ref"); fs=$(jq -r .exploration.strategy <<<"$fast")
  printf '  %-10s %-34s %9s %7s  %s\n' run configuration "wall (s)" probes "probe durations (excl. baseline)"
  printf '  %-10s %-34s %9s %7s  %s\n' reference "$rs --jobs 1" "$ref_s" "$rp" "$(durations "$ref_db")"
  printf '  %-10s %-34s %9s %7s  %s\n' fast "$fs (defaults${fast_args:+ + $fast_args})" "$fast_s" "$fp" "$(durations "$fast_db")"
  echo "  traced: reference $(jq .counts.traced <<<"$ref"), fast $(jq .counts.traced <<<"$fast")"
  local ratio
  ratio=$(awk -v f="$fast_s" -v r="$ref_s" 'BEGIN{printf "%.3f", f/r}')
  echo "  ratio fast/reference: $ratio (goal <= 0.25); probes $(awk -v f="$fp" -v r="$rp" 'BEGIN{printf "%.3f", f/r}')"
  local diff same total
  diff=$(join -t $'\t' -a 1 -a 2 -e absent -o 0,1.2,2.2 <(verdicts "$ref") <(verdicts "$fast"))
  total=$(grep -c . <<<"$diff")
  same=$(awk -F'\t' '$2==$3' <<<"$diff" | grep -c . || true)
  local pct; pct=$(awk -v s="$same" -v t="$total" 'BEGIN{printf "%.1f", 100*s/t}')
  echo "  verdicts identical: $same of $total syscalls ($pct%, goal >= 98%)"
  awk -F'\t' '$2!=$3{print $1}' <<<"$diff" | while read -r name; do
    printf '    differs: %-16s reference %-9s fast %s\n' "$name" "$(jq -r --arg n "$name" '.syscalls[] | select(.name == $n) | .verdict' <<<"$ref")" \
      "$(jq -r --arg n "$name" '.syscalls[] | select(.name == $n) | .verdict' <<<"$fast")"
    local number; number=$(jq -r --arg n "$name" '[.syscalls[] | select(.name == $n) | .number][0] // empty' <<<"$ref$fast" | head -1)
    [ -n "$number" ] && { explain "$app-reference" "$ref_db" "$number"; explain "$app-fast" "$fast_db" "$number"; }
  done
  awk -v r="$ratio" -v p="$pct" 'BEGIN{exit !(r <= 0.25 && p >= 98)}' || missed=1
}

levers_app() {
  local app=$1 spec db s
  spec=$(spec_of "$app")
  echo "== levers on $app ($(nproc) cores)"
  echo "  fewer runs (grouping + priors):"
  for priors in loupedb empty; do
    if [ $priors = loupedb ]; then db=$(fresh_db "$app-adaptive-priors"); else db=$(fresh_db "$app-adaptive-nopriors" empty); fi
    s=$(explore "$app-adaptive-$priors" "$db" "$spec" --strategy adaptive)
    printf '    adaptive, priors from %-8s %4s probes %7s s wall; %s\n' "$priors" \
      "$(show "$app" "$db" | jq .exploration.probeCount)" "$s" "$(durations "$db")"
  done
  echo "  more runs at once (one-by-one, --replicas 1):"
  local base=""
  for j in $jobs_list; do
    db=$(fresh_db "$app-jobs$j" empty)
    s=$(explore "$app-jobs$j" "$db" "$spec" --strategy one-by-one --replicas 1 --jobs "$j")
    base=${base:-$s}
    printf '    --jobs %s  %4s probes %7s s wall  speed-up x%s; %s\n' "$j" \
      "$(show "$app" "$db" | jq .exploration.probeCount)" "$s" \
      "$(awk -v b="$base" -v s="$s" 'BEGIN{printf "%.2f", b/s}')" "$(durations "$db")"
  done
}

missed=0
echo "explore-speed $(date -u +%FT%TZ) $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "$repo") syspect=$syspect"
for app in "${apps[@]}"; do
  case $mode in compare) compare_app "$app" ;; report) summarize_app "$app" ;; levers) levers_app "$app" ;; esac
done
exit $missed
