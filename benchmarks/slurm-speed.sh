#!/usr/bin/env bash
# slurm-speed.sh: the same spec explored with --executor local and --executor slurm in ONE run
# (issue 15 Must 3), on this machine's single-node Slurm (scripts/start-slurm) and PostgreSQL
# (scripts/start-postgres).
#
#   benchmarks/slurm-speed.sh [-o DIR] [--syspect BIN] [--max-tasks N] [--noop N] [SPEC ...]
#
# SPEC defaults to the crash tests' fixture (Tests/SyspectExploreTests/Fixtures/crash-workload.c,
# built into DIR; ~0.1 s probes: the worst case for per-task overhead) and examples/sqlite3
# (longer probes). For each spec, each run in a FRESH PostgreSQL schema:
#   1. local: `syspect explore SPEC --jobs N --no-static`;
#   2. slurm: `syspect explore SPEC --executor slurm --slurm-max-tasks N --no-static`.
# Prints, per spec and executor, the probes (as `syspect show` counts them), the wall time, probes/s,
# the ratio slurm/local of wall times, whether the verdicts agree (`show --json`), and from the
# slurm run's last line the arrays, tasks, sbatch seconds per task and the first-task check time.
# Then a no-op array (`--array=0-(K-1)%N` of `date`; K = --noop, default 20) measures sbatch's
# time, queue-to-start of the first task and empty tasks per second: Slurm's own share of the
# per-probe overhead. The load average is printed (the machine is shared).
#
# Output: DIR (default ${XDG_CACHE_HOME:-~/.cache}/syspect/slurm-speed) keeps logs and probe
#   folders; the PostgreSQL schemas are dropped at the end (with psql). --syspect BIN: the
#   binary (default: .build/debug/syspect, copied into DIR so that a rebuild does not replace it
#   under running tasks). N defaults to the node's CPUs (Slurm runs
#   one task per CPU). Needs root, jq, a C compiler.
# Exit codes: 0 measured, verdicts equal; 1 verdicts differ; 2 bad usage; 3 an explore failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${XDG_CACHE_HOME:-$HOME/.cache}/syspect/slurm-speed
syspect=$repo/.build/debug/syspect
max_tasks=$(nproc)
noop=20
specs=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    --syspect) syspect=$2; shift 2 ;;
    --max-tasks) max_tasks=$2; shift 2 ;;
    --noop) noop=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "slurm-speed: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) specs+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"); shift ;;
  esac
done
command -v jq >/dev/null || { echo "slurm-speed: needs jq (apt-get install jq)" >&2; exit 2; }
[ -x "$syspect" ] || { echo "slurm-speed: no syspect at $syspect: build it (swift build) or pass --syspect" >&2; exit 2; }
mkdir -p "$out"
rm -rf "${out:?}/work" "$out/logs" "$out/noop"
mkdir -p "$out/work" "$out/logs" "$out/noop"
cp "$syspect" "$out/syspect"
syspect=$out/syspect
pg=${SYSPECT_TEST_POSTGRES_URL:-$("$repo/scripts/start-postgres")}
partition=${SYSPECT_TEST_SLURM_PARTITION:-$("$repo/scripts/start-slurm")}
if [ ${#specs[@]} -eq 0 ]; then
  mkdir -p "$out/crash"
  cc -static -O1 -o "$out/crash/crash-workload" "$repo/Tests/SyspectExploreTests/Fixtures/crash-workload.c"
  cp "$repo/Tests/SyspectExploreTests/Fixtures/crash-workload."{yaml,sh} "$out/crash/"
  specs=("$out/crash/crash-workload.yaml" "$repo/examples/sqlite3/sqlite3.yaml")
fi
run=$(date +%s)
url() { case $pg in *\?*) echo "$pg&schema=$1" ;; *) echo "$pg?schema=$1" ;; esac; }
schemas=()
drop_schemas() {  # the run's schemas go with it (psql, when installed)
  command -v psql >/dev/null || return 0
  for schema in "${schemas[@]}"; do psql "$pg" -qc "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 || true; done
}
trap drop_schemas EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }

# One explore; sets wall (s), probes, verdicts (JSON), app.
explore() {  # explore NAME SPEC ARGS...
  local name=$1 spec=$2; shift 2
  local db; db=$(url "speed_${name}_$run")
  schemas+=("speed_${name}_$run")
  local start end
  start=$(date +%s.%N)
  if ! "$syspect" explore "$spec" --db "$db" --work-dir "$out/work/$name" --no-static "$@" >"$out/logs/$name.out" 2>"$out/logs/$name.err"; then
    echo "slurm-speed: the $name explore failed; see $out/logs/$name.err" >&2
    tail -n 3 "$out/logs/$name.err" >&2
    exit 3
  fi
  end=$(date +%s.%N)
  wall=$(echo "$end - $start" | bc -l)
  app=$(awk '/^name:/ {print $2; exit}' "$spec")
  local shown; shown=$("$syspect" show "$app" --json --db "$db")
  probes=$(echo "$shown" | jq '.[0].exploration.probeCount')
  verdicts=$(echo "$shown" | jq -c '[.[0].syscalls[] | {nr: .number, v: .verdict}] | sort_by(.nr)')
}

status=0
printf '%-16s %-6s %7s %9s %8s  %s\n' spec executor probes "wall s" "probes/s" "load"
for spec in "${specs[@]}"; do
  base=$(basename "$spec" .yaml)
  explore "$base-local" "$spec" --jobs "$max_tasks"
  local_wall=$wall local_probes=$probes local_verdicts=$verdicts
  printf '%-16s %-6s %7d %9.1f %8.2f  %s\n' "$base" local "$probes" "$wall" "$(echo "$probes / $wall" | bc -l)" "$(load)"
  explore "$base-slurm" "$spec" --executor slurm --slurm-partition "$partition" --slurm-max-tasks "$max_tasks"
  printf '%-16s %-6s %7d %9.1f %8.2f  %s\n' "$base" slurm "$probes" "$wall" "$(echo "$probes / $wall" | bc -l)" "$(load)"
  same=yes
  [ "$verdicts" = "$local_verdicts" ] || { same=NO; status=1; }
  printf '%-16s ratio slurm/local wall %.2f; verdicts equal: %s\n' "$base" "$(echo "$wall / $local_wall" | bc -l)" "$same"
  printf '%-16s %s\n' "$base" "$(grep '^slurm:' "$out/logs/$base-slurm.out")"
  per_probe=$(echo "($wall - $local_wall) / $probes" | bc -l)
  printf '%-16s extra wall per probe through Slurm: %.2f s (with %d tasks at once)\n' "$base" "$per_probe" "$max_tasks"
done

# Slurm's own overhead: a no-op array.
start=$(date +%s.%N)
job=$(sbatch --parsable -p "$partition" --array="0-$((noop - 1))%$max_tasks" -o "$out/noop/%A_%a.out" --wrap 'date +%s.%N')
submitted=$(date +%s.%N)
while squeue -h -j "$job" -t all -o %T | grep -qvE '^(COMPLETED|FAILED|CANCELLED)$'; do sleep 0.05; done
done_at=$(date +%s.%N)
first=$(cat "$out/noop/${job}"_*.out | sort -n | head -n 1)
printf 'no-op array of %d tasks (%%%d): sbatch %.3f s; queue-to-start of the first task %.2f s; all done in %.2f s (%.2f empty tasks/s, %.2f s per task)\n' \
  "$noop" "$max_tasks" "$(echo "$submitted - $start" | bc -l)" "$(echo "$first - $submitted" | bc -l)" \
  "$(echo "$done_at - $submitted" | bc -l)" "$(echo "$noop / ($done_at - $submitted)" | bc -l)" "$(echo "($done_at - $submitted) / $noop" | bc -l)"
exit $status
