#!/usr/bin/env bash
# strace-crosscheck.sh: an INDEPENDENT reference for syspect's verdicts (issue 3, item 8), built
# only from strace fault injection and the examples/ spec files; no syspect code is used.
#
#   benchmarks/strace-crosscheck.sh [-j N] [-r R] [-o DIR] [--fresh] [APP|SPEC.yaml ...]
#   benchmarks/strace-crosscheck.sh compare [--workload W] REFERENCE.tsv SYSPECT.json|SYSPECT.tsv|-
#
# run (default apps: redis nginx; APP = examples/APP/APP.yaml):
#   1. census: R baseline runs with the server under `strace -f` (full trace, output kept in the
#      probe folder); the traced set is the union of the syscall names seen. Every baseline must
#      pass, else the app is skipped with the reason.
#   2. for every traced syscall S, R runs with `strace -f --seccomp-bpf -e trace=S
#      -e inject=S:error=ENOSYS` (stub) and R runs with `-e inject=S:retval=0` (fake). Only the
#      SERVER runs under strace; the test script (load generator) runs outside it. Each run is
#      one probe of benchmarks/lib/run-probe: fresh network/mount/PID/IPC/UTS namespaces, its own
#      folder, the whole tree killed at its end.
#   3. verdict, merged conservatively (one failing replica = that mode fails):
#      stub and fake pass -> either; only stub -> stub; only fake -> fake; neither -> required.
#   Output in DIR/APP/WORKLOAD/: verdicts.tsv (name, number, calls, stub_passes, fake_passes, verdict,
#   note), verdicts.json, summary.txt; runs/ keeps one result line per run (resumable: finished
#   runs are skipped unless --fresh). Default DIR: ${XDG_CACHE_HOME:-~/.cache}/syspect/strace-crosscheck.
#
# execve: strace would inject into the launch itself, so execve uses `:when=2+`. strace counts
#   invocations per process (per thread), so this spares the FIRST execve of every process: the
#   launch, and also the first exec of any child the server forks (none for redis or nginx,
#   whose census shows exactly one execve: the launch). Document any app where that differs.
# Calls traced only during shutdown (after the script ended, e.g. exit_group, the SIGTERM
#   handler's rt_sigreturn) come out "either": the protocol does not judge the shutdown.
#
# compare: REFERENCE.tsv is a verdicts.tsv from step 3. SYSPECT is `syspect show APP --json`
#   output (documents {app, workload, syscalls: [{number, name, verdict}]}; --workload picks one
#   when there are several; any objects with "name"/"syscall" and "verdict" are read), or a TSV of `name<TAB>verdict` lines. Prints per-syscall
#   agreement over the reference's traced syscalls and the percentage (goal >= 95%).
#
# Options: -j N parallel runs (default nproc); -r R replicas (default 3); -o DIR output folder;
#   --fresh forget earlier runs of these apps; --timeout-scale F (default 2) for the spec timeouts.
# Exit codes: 0 done (compare: agreement >= 95%), 1 a baseline failed (run) or agreement < 95%
#   (compare), 2 bad usage or input, 3 not root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
probe=$here/lib/run-probe

usage() { sed -n '2,45p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "strace-crosscheck: $*" >&2; exit 2; }

# ---------------------------------------------------------------- compare
normalize_verdict() { tr '[:upper:]' '[:lower:]' | sed 's/^stubbed$/stub/; s/^faked$/fake/; s/^both$/either/'; }

compare() {
  local workload=""
  if [ "${1:-}" = --workload ]; then workload=${2:-}; shift 2 || die "--workload needs a name"; fi
  [ $# -eq 2 ] || die "compare needs REFERENCE.tsv and SYSPECT.json|.tsv|- (see --help)"
  local ref=$1 ours=$2 tmp
  [ -f "$ref" ] || die "reference not found: $ref (run the cross-check first)"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  if [ "$ours" = - ]; then cat >"$tmp/in"; else [ -r "$ours" ] || die "cannot read $ours"; cat "$ours" >"$tmp/in"; fi
  if jq -e . "$tmp/in" >/dev/null 2>&1; then
    # JSON (`syspect show APP --json`: one document per workload). Pick the workload's document
    # when several, then every object that has a verdict and a syscall name, wherever it sits.
    local n; n=$(jq '[.. | objects | select(has("workload") and has("syscalls"))] | length' "$tmp/in")
    if [ -n "$workload" ]; then
      jq --arg w "$workload" '[.. | objects | select(has("workload") and has("syscalls") and .workload == $w)]' \
        "$tmp/in" >"$tmp/sel" && mv "$tmp/sel" "$tmp/in"
      [ "$(jq length "$tmp/in")" -ge 1 ] || die "no workload '$workload' in $ours"
    elif [ "$n" -gt 1 ]; then
      die "$ours holds $n workloads: choose one with compare --workload NAME"
    fi
    jq -r '.. | objects | select(has("verdict") and (has("name") or has("syscall")))
           | [(.name // .syscall | tostring), (.verdict | tostring)] | @tsv' "$tmp/in" >"$tmp/ours.tsv"
  else
    grep -v '^#' "$tmp/in" | awk -F'\t' 'NF>=2{print $1 "\t" $2}' >"$tmp/ours.tsv"
  fi
  [ -s "$tmp/ours.tsv" ] || die "no (name, verdict) pairs found in $ours"
  awk -F'\t' '{print $1 "\t" $2}' "$tmp/ours.tsv" | while IFS=$'\t' read -r n v; do
    printf '%s\t%s\n' "$n" "$(printf '%s' "$v" | normalize_verdict)"; done | sort -u >"$tmp/o.tsv"
  awk -F'\t' '$1!~/^#/ && $1!="name" && NF>=6 {print $1 "\t" $6}' "$ref" | sort -u >"$tmp/r.tsv"
  [ -s "$tmp/r.tsv" ] || die "no verdicts in $ref (expected verdicts.tsv columns)"
  printf '%-20s %-10s %-10s %s\n' syscall strace syspect agree
  join -t $'\t' -a 1 -e MISSING -o 0,1.2,2.2 "$tmp/r.tsv" "$tmp/o.tsv" | awk -F'\t' '
    { ok = ($2 == $3); n++; a += ok
      printf "%-20s %-10s %-10s %s\n", $1, $2, $3, ok ? "yes" : "NO" }
    END { pct = n ? 100 * a / n : 0
      printf "\nagreement: %d of %d traced syscalls (%.1f%%), goal >= 95%%\n", a, n, pct
      exit !(pct >= 95) }'
  local extra; extra=$(join -t $'\t' -v 2 "$tmp/r.tsv" "$tmp/o.tsv" | cut -f1 | tr '\n' ' ')
  [ -z "$extra" ] || echo "syspect has verdicts for calls the strace census did not see: $extra"
}

if [ "${1:-}" = compare ]; then shift; compare "$@"; exit $?; fi

# ---------------------------------------------------------------- one run (internal, for xargs)
# run_one OUTDIR SPEC SYSCALL MODE REPLICA SCALE
if [ "${1:-}" = --run-one ]; then
  shift
  out=$1 spec=$2 sc=$3 mode=$4 rep=$5 scale=$6
  result=$out/runs/$sc.$mode.$rep
  [ -s "$result" ] && exit 0
  case $mode in
    stub) inj="$sc:error=ENOSYS" ;;
    fake) inj="$sc:retval=0" ;;
    *) die "bad mode $mode" ;;
  esac
  [ "$sc" = execve ] && inj="$inj:when=2+"
  work=$(mktemp -d "$out/work/$sc.$mode.$rep.XXXX")
  line=$("$probe" --quiet --dir "$work" --timeout-scale "$scale" "$spec" -- \
    strace -f -qq --seccomp-bpf -o /dev/null -e trace="$sc" -e inject="$inj" -- 2>/dev/null | tail -n 1) || true
  [ -n "$line" ] || line="FAIL 0 run-probe printed nothing"
  if [ "${line%% *}" != PASS ]; then   # keep a short excerpt of the logs of failed runs
    for f in server.log script.log command.log; do
      [ -f "$work/$f" ] && { echo "--- $f"; tail -c 1500 "$work/$f"; }
    done >"$out/runs/$sc.$mode.$rep.log" 2>/dev/null || true
  fi
  rm -rf "$work"
  printf '%s\n' "$line" >"$result.tmp" && mv "$result.tmp" "$result"
  printf '%-18s %-4s r%s %s\n' "$sc" "$mode" "$rep" "$line"
  exit 0
fi

# ---------------------------------------------------------------- run
jobs=$(nproc) replicas=3 outroot=${XDG_CACHE_HOME:-$HOME/.cache}/syspect/strace-crosscheck fresh=0 scale=2
apps=()
while [ $# -gt 0 ]; do
  case $1 in
    -j|--jobs) jobs=$2; shift 2 ;;
    -r|--replicas) replicas=$2; shift 2 ;;
    -o|--output) outroot=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    --timeout-scale) scale=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) apps+=("$1"); shift ;;
  esac
done
[ ${#apps[@]} -gt 0 ] || apps=(redis nginx)
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j needs a positive number, got '$jobs'"
[[ $replicas =~ ^[1-9][0-9]*$ ]] || die "-r needs a positive number, got '$replicas'"
[ "$(id -u)" -eq 0 ] || { echo "strace-crosscheck: needs root (namespaces, strace of children)" >&2; exit 3; }
for tool in strace jq yq unshare ip; do command -v "$tool" >/dev/null || die "$tool is missing: run scripts/setup"; done

unistd=/usr/include/x86_64-linux-gnu/asm/unistd_64.h
sysno() { [ -f "$unistd" ] && awk -v n="__NR_$1" '$1=="#define" && $2==n {print $3; exit}' "$unistd"; }

spec_of() {
  case $1 in
    *.yaml|*.yml) [ -f "$1" ] || die "spec not found: $1"; (cd "$(dirname "$1")" && echo "$PWD/$(basename "$1")") ;;
    *) [ -f "$repo/examples/$1/$1.yaml" ] || die "no example named '$1' (examples/$1/$1.yaml)"; echo "$repo/examples/$1/$1.yaml" ;;
  esac
}

# census RUN_DIR: syscall name and count from a full strace -f log (one per line: NAME COUNT).
census_of() {
  sed -nE 's/^[0-9]+ +(<\.\.\. )?([a-z_0-9]+)(\(| resumed>).*/\2 \3/p' "$1" \
    | awk '$2=="(" {c[$1]++} $2!="(" && !($1 in c) {c[$1]+=0} END {for (k in c) print k, c[k]}' | sort
}

run_app() {
  local app=$1 spec out t0
  spec=$(spec_of "$app"); app=$(yq -r .name "$spec")
  # strace injects into every process it traces: only a command that IS the single target works.
  local first targets
  first=$(yq -r '.command[0] | split("/") | last' "$spec"); targets=$(yq -r '(.targets // []) | join(" ")' "$spec")
  if [ -n "$targets" ] && [ "$targets" != "$first" ]; then
    echo "strace-crosscheck: $spec: targets ($targets) differ from the command ($first); strace would inject into the wrapper and its tools too, so this method does not apply" >&2
    return 1
  fi
  out=$outroot/$app/$(yq -r .workload.name "$spec")
  [ "$fresh" -eq 1 ] && rm -rf "$out"
  mkdir -p "$out/runs" "$out/work" "$out/baseline"
  t0=$(date +%s)
  echo "== $app: spec $spec, $replicas replicas, -j $jobs, results in $out"

  # 1. census (baseline under full strace), replicated; all must pass.
  local r line union=$out/census.txt
  : >"$out/census.all"
  for r in $(seq "$replicas"); do
    local b=$out/baseline/$r
    rm -rf "$b"; mkdir -p "$b"
    line=$("$probe" --quiet --dir "$b/probe" --timeout-scale "$scale" "$spec" -- \
      strace -f -qq -s 0 -o "$b/trace.txt" -- | tail -n 1) || true
    echo "baseline $r: ${line:-no result}"
    if [ "${line%% *}" != PASS ]; then
      echo "strace-crosscheck: $app: the baseline under strace failed (${line:-no result}); logs in $b/probe" >&2
      return 1
    fi
    census_of "$b/trace.txt" | tee "$b/census.txt" >>"$out/census.all"
    rm -f "$b/trace.txt"; rm -rf "$b/probe"
  done
  # union of names; calls = max count over the baselines; note names not seen in every baseline
  awk '{n[$1]++; if ($2 > m[$1]) m[$1] = $2} END {for (k in n) print k, m[k], n[k]}' "$out/census.all" \
    | sort >"$union"
  echo "census: $(wc -l <"$union") syscalls traced"

  # 2. probes, in parallel; finished runs (files in runs/) are skipped.
  local mode
  while read -r sc _ _; do
    for mode in stub fake; do for r in $(seq "$replicas"); do
      printf '%s\0%s\0%s\0%s\0%s\0%s\0' "$out" "$spec" "$sc" "$mode" "$r" "$scale"
    done; done
  done <"$union" | xargs -0 -n 6 -P "$jobs" "$0" --run-one || true   # a run that broke leaves no result: noted below
  rm -rf "$out/work"

  # 3. verdicts
  local tsv=$out/verdicts.tsv
  printf 'name\tnumber\tcalls\tstub_passes\tfake_passes\tverdict\tnote\n' >"$tsv"
  while read -r sc calls seen; do
    local sp=0 fp=0 st fs note="" missing=0
    for r in $(seq "$replicas"); do
      [ -s "$out/runs/$sc.stub.$r" ] || missing=$((missing + 1))
      [ -s "$out/runs/$sc.fake.$r" ] || missing=$((missing + 1))
      [ "$(cut -d' ' -f1 "$out/runs/$sc.stub.$r" 2>/dev/null)" = PASS ] && sp=$((sp + 1))
      [ "$(cut -d' ' -f1 "$out/runs/$sc.fake.$r" 2>/dev/null)" = PASS ] && fp=$((fp + 1))
    done
    st=$([ "$sp" -eq "$replicas" ] && echo 1 || echo 0)
    fs=$([ "$fp" -eq "$replicas" ] && echo 1 || echo 0)
    case $st$fs in 11) v=either ;; 10) v=stub ;; 01) v=fake ;; *) v=required ;; esac
    if [ "$sp" -gt 0 ] && [ "$sp" -lt "$replicas" ]; then note+="stub flaky ($sp/$replicas); "; fi
    if [ "$fp" -gt 0 ] && [ "$fp" -lt "$replicas" ]; then note+="fake flaky ($fp/$replicas); "; fi
    [ "$seen" -lt "$replicas" ] && note+="traced in $seen/$replicas baselines; "
    [ "$missing" -gt 0 ] && note+="INCOMPLETE: $missing runs left no result (run again to resume); "
    [ "$sc" = execve ] && note+="injected with when=2+ (launch spared); "
    printf '%s\t%s\t%s\t%s/%s\t%s/%s\t%s\t%s\n' "$sc" "$(sysno "$sc")" "$calls" "$sp" "$replicas" \
      "$fp" "$replicas" "$v" "${note%; }" >>"$tsv"
  done <"$union"
  jq -R -s --arg app "$app" --arg spec "$spec" --argjson replicas "$replicas" '
    split("\n") | map(select(length > 0) | split("\t")) | .[1:]
    | { app: $app, spec: $spec, method: "strace fault injection", replicas: $replicas,
        syscalls: map({ name: .[0], number: (.[1] | tonumber? // null), calls: (.[2] | tonumber),
                        stubPasses: .[3], fakePasses: .[4], verdict: .[5], note: .[6] }) }' \
    "$tsv" >"$out/verdicts.json"

  local secs=$(( $(date +%s) - t0 ))
  {
    echo "strace reference for $app ($(wc -l <"$union") traced syscalls, $replicas replicas, -j $jobs, ${secs}s, $(date -u +%FT%TZ))"
    for v in required stub fake either; do
      printf '%-8s %3d: %s\n' "$v" "$(awk -F'\t' -v v="$v" 'NR>1 && $6==v' "$tsv" | wc -l)" \
        "$(awk -F'\t' -v v="$v" 'NR>1 && $6==v {printf "%s ", $1}' "$tsv")"
    done
    awk -F'\t' 'NR>1 && $7!="" {printf "note: %s: %s\n", $1, $7}' "$tsv"
  } | tee "$out/summary.txt"
}

status=0
for a in "${apps[@]}"; do run_app "$a" || status=1; done
exit "$status"
