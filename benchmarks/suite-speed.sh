#!/usr/bin/env bash
# suite-speed.sh: a Debian package's own test suite explored twice in ONE run (issue 14 Must 3):
# the reference `--strategy one-by-one --jobs 1`, then the default explore (adaptive, jobs from
# the baseline), the same spec file for both (`debian: {package: P}` with `timeouts: {run: T}`).
#
#   benchmarks/suite-speed.sh [-o DIR] [--syspect BIN] [--run-timeout T] [PACKAGE]
#
# PACKAGE defaults to hello (a suite of seconds; lighttpd is the paper's example: ~1 h for the
# reference here). T defaults to 60 s (the reference has no adaptive timeouts: a probe that
# hangs costs it T). The package is fetched and built once in DIR/work before either run
# (needs the deb-src line of docs/suites.md). Prints per run the wall time (the exploration's,
# as stored), the probes, the CPU seconds of the whole explore (/usr/bin/time), then the ratios
# default/reference and how many calls have the same verdict (`show --json`), listing those that
# differ. The load average is printed (the machine may be shared).
#
# Output: DIR (default ${XDG_CACHE_HOME:-~/.cache}/syspect/suite-speed/PACKAGE) keeps both
#   databases, logs (reference.err, default.err: one line per probe) and probe folders.
#   --syspect BIN: the binary (default: .build/debug/syspect, copied into DIR so that a rebuild
#   does not replace it while it runs). Needs root, jq, sqlite3.
# Exit codes: 0 measured, verdicts identical; 1 verdicts differ; 2 bad usage; 3 an explore failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
syspect=$repo/.build/debug/syspect
timeout=60
out=
package=hello
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    --syspect) syspect=$2; shift 2 ;;
    --run-timeout) timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "suite-speed.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) package=$1; shift ;;
  esac
done
out=${out:-${XDG_CACHE_HOME:-$HOME/.cache}/syspect/suite-speed/$package}
for tool in jq sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "suite-speed.sh: $tool is missing (apt-get install -y jq sqlite3 time)" >&2; exit 2; }
done
[ -x "$syspect" ] || { echo "suite-speed.sh: no $syspect: run swift build first, or pass --syspect BIN" >&2; exit 2; }
case $out in /tmp|/tmp/*) echo "suite-speed.sh: $out is under /tmp, which the probes' sandbox replaces: use -o" >&2; exit 2 ;; esac
mkdir -p "$out"
cp "$syspect" "$out/syspect"
spec=$out/$package.yaml
printf 'debian:\n  package: %s\ntimeouts: {run: %s}\n' "$package" "$timeout" > "$spec"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# explore NAME OPTIONS...: one measured explore of the spec into DIR/NAME.db.
explore() {
  local name=$1; shift
  rm -f "$out/$name.db" "$out/$name.db-wal" "$out/$name.db-shm"
  if ! /usr/bin/time -f '%U %S' -o "$out/$name.cpu" "$out/syspect" explore "$spec" --db "$out/$name.db" \
      --work-dir "$out/work" "$@" > "$out/$name.out" 2> "$out/$name.err"; then
    echo "suite-speed.sh: the $name explore failed; the end of $out/$name.err:" >&2
    tail -5 "$out/$name.err" >&2
    exit 3
  fi
}
# figures NAME: wall seconds, probes, CPU seconds.
figures() {
  local wall probes
  read -r wall probes < <(sqlite3 -separator ' ' "$out/$1.db" 'select round(wall_seconds, 1), probe_count from exploration')
  echo "$wall $probes $(awk '{ printf "%.1f", $1 + $2 }' "$out/$1.cpu")"
}

# The package is fetched and built by the first explore of the work directory: a warm-up
# explore does it and is stopped when its baseline starts, so that neither measured run pays it.
echo "building $package once (fetch, build-dep, build) in $out/work …"
"$out/syspect" explore "$spec" --db "$out/build.db" --work-dir "$out/work" > "$out/build.out" 2> "$out/build.err" &
warm=$!
until grep -q "^baseline:" "$out/build.err" 2>/dev/null; do
  kill -0 "$warm" 2>/dev/null || { echo "suite-speed.sh: preparing $package failed:" >&2; tail -5 "$out/build.err" >&2; exit 3; }
  sleep 1
done
kill -INT "$warm"; wait "$warm" || true
explore reference --strategy one-by-one --jobs 1
explore default
read -r ref_wall ref_probes ref_cpu < <(figures reference)
read -r def_wall def_probes def_cpu < <(figures default)
printf '%-34s %10s %7s %9s\n' run wall_s probes cpu_s
printf '%-34s %10s %7s %9s\n' "one-by-one --jobs 1 (reference)" "$ref_wall" "$ref_probes" "$ref_cpu"
printf '%-34s %10s %7s %9s\n' "default (adaptive)" "$def_wall" "$def_probes" "$def_cpu"
awk -v a="$def_wall" -v b="$ref_wall" -v c="$def_probes" -v d="$ref_probes" -v e="$def_cpu" -v f="$ref_cpu" \
  'BEGIN { printf "default/reference: wall %.2f, probes %.2f, cpu %.2f\n", a / b, c / d, e / f }'
grep -h "probes at once" "$out/default.err" | sed 's/^/default: /' || true
verdicts() { "$out/syspect" show "$package" --db "$out/$1.db" --json | jq -r '(if type == "array" then .[0] else . end).syscalls[] | "\(.name) \(.verdict)"' | sort; }
verdicts reference > "$out/reference.verdicts"
verdicts default > "$out/default.verdicts"
same=$(comm -12 "$out/reference.verdicts" "$out/default.verdicts" | wc -l)
total=$(cut -d' ' -f1 "$out/reference.verdicts" "$out/default.verdicts" | sort -u | wc -l)
echo "verdicts identical: $same of $total calls"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$same" -ne "$total" ]; then
  echo "differ (reference | default):"
  join -a1 -a2 -e - -o 0,1.2,2.2 "$out/reference.verdicts" "$out/default.verdicts" | awk '$2 != $3'
  exit 1
fi
