#!/usr/bin/env bash
# bench/async_targets.sh - the async core's speed and allocation targets, measured by
# bench/async_benchmark.cpp against its baselines, as one table.
#
#   bench/async_targets.sh                        # build the bench preset, run, print the table
#   REPETITIONS=9 bench/async_targets.sh          # more repetitions (default 5; medians are used)
#   MIN_TIME=0.5 bench/async_targets.sh           # longer runs (default 0.2 s per repetition)
#   JSON=out.json bench/async_targets.sh          # also keep Google Benchmark's JSON
#   SKIP_BUILD=1 bench/async_targets.sh           # use build/release as it is
#
# It runs from any directory and needs cmake, jq and awk. It exits non-zero if one is missing,
# or if the build or the run fails, a benchmark reports an error (a cleanup, close or child
# that ran the wrong number of times) or a figure is missing; a missed target is printed, not
# an error. Figures are the medians of the repetitions' CPU time. See bench/README.md.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${script_dir}/.."

repetitions="${REPETITIONS:-5}"
min_time="${MIN_TIME:-0.2}"

require() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "async_targets.sh: '$1' not found${2:+ ($2)}" >&2
    exit 127
  fi
}
require cmake
require jq "install jq"
require awk

if ! [[ "${repetitions}" =~ ^[1-9][0-9]*$ ]]; then
  echo "async_targets.sh: REPETITIONS must be a positive integer, not '${repetitions}'" >&2
  exit 2
fi
if ! [[ "${min_time}" =~ ^[0-9]*\.?[0-9]+$ ]]; then
  echo "async_targets.sh: MIN_TIME must be a number of seconds, not '${min_time}'" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  if ! cmake --workflow --preset bench >"${tmp}/build.log" 2>&1; then
    cat "${tmp}/build.log" >&2
    echo "async_targets.sh: the bench preset did not build" >&2
    exit 1
  fi
fi

binary=build/release/bench/async_benchmark
if [[ ! -x "${binary}" ]]; then
  echo "async_targets.sh: ${binary} not found (build the bench preset)" >&2
  exit 1
fi

json="${tmp}/async_benchmark.json"
if ! "${binary}" --benchmark_format=json --benchmark_repetitions="${repetitions}" \
  --benchmark_report_aggregates_only=true --benchmark_min_time="${min_time}" \
  >"${json}" 2>"${tmp}/run.log"; then
  cat "${tmp}/run.log" >&2
  echo "async_targets.sh: ${binary} failed" >&2
  exit 1
fi
if [[ -n "${JSON:-}" ]]; then
  cp "${json}" "${JSON}"
fi

errors="$(jq -r '.benchmarks[] | select(.error_occurred == true)
                 | "\(.name): \(.error_message)"' "${json}")"
if [[ -n "${errors}" ]]; then
  echo "${errors}" >&2
  echo "async_targets.sh: a benchmark reported an error" >&2
  exit 1
fi

# One line per benchmark: name, median CPU time in ns, allocations per iteration, and the
# allocations of one stack's pushes and of its close() (-1 where a benchmark has none). With
# one repetition there are no aggregates, and the single run is taken instead.
declare -A cpu allocs allocs_push allocs_close
# shellcheck disable=SC2034  # the arrays are read through the nameref in value()
while IFS=$'\t' read -r name ns per_iter push close; do
  cpu[${name}]="${ns}"
  allocs[${name}]="${per_iter}"
  allocs_push[${name}]="${push}"
  allocs_close[${name}]="${close}"
done < <(jq -r '
  {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9} as $ns_per_unit
  | .benchmarks[]
  | select((.aggregate_name // "median") == "median")
  | [.run_name, .cpu_time * $ns_per_unit[.time_unit], (."allocs/iter" // -1),
     (.allocs_push // -1), (.allocs_close // -1)]
  | @tsv' "${json}")

# value <array> <benchmark>: the figure, or exit if the run did not produce it.
value() {
  local -n figures="$1"
  if [[ -z "${figures[$2]+set}" || "${figures[$2]}" == -1 ]]; then
    echo "async_targets.sh: no $1 figure for $2 in the results" >&2
    exit 1
  fi
  echo "${figures[$2]}"
}

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

# row <label> <measured> <baseline> <unit> <checked> <limit>: one line of the table. The ratio
# is measured / baseline; `checked` is the figure held against `limit` (both "-" for a row
# that only informs).
row() {
  local label="$1" measured="$2" baseline="$3" unit="$4" checked="$5" limit="$6"
  local ratio="-" verdict="(info)"
  if awk -v b="${baseline}" 'BEGIN { exit !(b > 0) }'; then
    ratio="$(calc "${measured} / ${baseline}" 2)x"
  fi
  if [[ "${limit}" != "-" ]]; then
    verdict="$(awk -v c="${checked}" -v l="${limit}" -v u="${unit}" 'BEGIN {
      if (c <= l + 1e-9) print "met"; else printf "missed by %.1f%s\n", c - l, u }')"
  fi
  if [[ "${limit}" == "-" ]]; then
    checked="-"
  else
    checked+="${unit}"
    limit+="${unit}"
  fi
  printf '%-46s %10s %10s %8s %10s %7s  %s\n' "${label}" "${measured}${unit}" \
    "${baseline}${unit}" "${ratio}" "${checked}" "${limit}" "${verdict}"
}
header() {
  echo
  echo "$1"
  printf '%-46s %10s %10s %8s %10s %7s  %s\n' target measured baseline ratio checked limit \
    verdict
}

compiler="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' build/release/CMakeCache.txt)"
echo "scopekit async core: medians of ${repetitions} repetition(s) of ${min_time} s, CPU time"
echo "built by the bench preset: $("${compiler:-c++}" --version | head -n 1), Release"

# --- exit stack ---------------------------------------------------------------------------------
header "exit stack, push + close, per entry (baseline: the same cleanups called by hand)"
for n in 1 8 64; do
  stack="$(value cpu "BM_ExitStackPushClose/${n}")"
  hand="$(value cpu "BM_ExitStackHandWritten/${n}")"
  row "N=${n}: overhead (stack - hand-written) / N" "$(calc "${stack} / ${n}")" \
    "$(calc "${hand} / ${n}")" " ns" "$(calc "(${stack} - ${hand}) / ${n}")" 25
done
for n in 1 8 64; do
  stack="$(value cpu "BM_ExitStackPushCloseAsync/${n}")"
  hand="$(value cpu "BM_ExitStackHandWrittenAsync/${n}")"
  row "N=${n}, task<void> cleanups: overhead / N" "$(calc "${stack} / ${n}")" \
    "$(calc "${hand} / ${n}")" " ns" "$(calc "(${stack} - ${hand}) / ${n}")" 25
done
for n in 1 8 64; do
  stack="$(value cpu "BM_ExitStackPushClose/${n}")"
  vector="$(value cpu "BM_ExitStackVectorOfFunction/${n}")"
  row "N=${n}: against vector<function> run in reverse" "$(calc "${stack} / ${n}")" \
    "$(calc "${vector} / ${n}")" " ns" - -
done

header "exit stack, allocations (baseline: hand-written, none)"
for n in 1 8; do
  push="$(value allocs_push "BM_ExitStackPushClose/${n}")"
  row "N=${n}: by the N pushes" "$(calc "${push}" 0)" 0 "" "$(calc "${push}" 0)" 0
done
for n in 1 8; do
  total="$(value allocs "BM_ExitStackPushClose/${n}")"
  close="$(value allocs_close "BM_ExitStackPushClose/${n}")"
  hand="$(value allocs "BM_ExitStackHandWritten/${n}")"
  row "N=${n}: push + close (close(): $(calc "${close}" 0) frames)" "$(calc "${total}" 2)" \
    "$(calc "${hand}" 2)" "" "$(calc "${total}" 2)" 0
done
push="$(value allocs_push "BM_ExitStackPushClose/64")"
row "N=64: by the 64 pushes (56 past the inline 8)" "$(calc "${push}" 0)" 0 "" - -

# --- spawn + join -------------------------------------------------------------------------------
header "async_scope spawn + join of a trivial child (baseline: the same tasks awaited in turn)"
scope1="$(value cpu BM_ScopeSpawnJoin/1)"
scope64="$(value cpu BM_ScopeSpawnJoin/64)"
seq1="$(value cpu BM_SequentialAwait/1)"
seq64="$(value cpu BM_SequentialAwait/64)"
row "N=64: time per child (scope's own cost / 64)" "$(calc "${scope64} / 64")" \
  "$(calc "${seq64} / 64")" " ns" "$(calc "${scope64} / 64")" 60
row "each child more: (N=64 - N=1) / 63" "$(calc "(${scope64} - ${scope1}) / 63")" \
  "$(calc "(${seq64} - ${seq1}) / 63")" " ns" "$(calc "(${scope64} - ${scope1}) / 63")" 60
row "N=1: a whole scope with one child" "$(calc "${scope1}")" "$(calc "${seq1}")" " ns" - -
a1="$(value allocs BM_ScopeSpawnJoin/1)"
a64="$(value allocs BM_ScopeSpawnJoin/64)"
b1="$(value allocs BM_SequentialAwait/1)"
b64="$(value allocs BM_SequentialAwait/64)"
row "allocations per child more: (N=64 - N=1) / 63" "$(calc "(${a64} - ${a1}) / 63" 2)" \
  "$(calc "(${b64} - ${b1}) / 63" 2)" "" "$(calc "(${a64} - ${a1}) / 63" 2)" 1
row "allocations of a scope with one child" "$(calc "${a1}" 2)" "$(calc "${b1}" 2)" "" - -

# --- one resource -------------------------------------------------------------------------------
header "async_scope::run with one entered resource (baseline: try/catch + co_await close())"
scope="$(value cpu BM_ScopeRunOneResource)"
hand="$(value cpu BM_HandWrittenOneResource)"
row "time per scope" "$(calc "${scope}")" "$(calc "${hand}")" " ns" - -
scope="$(value allocs BM_ScopeRunOneResource)"
hand="$(value allocs BM_HandWrittenOneResource)"
row "allocations per scope" "$(calc "${scope}" 2)" "$(calc "${hand}" 2)" "" - -

echo
echo "(checked: the figure held against the limit; ratio: measured / baseline. What the rows"
echo "mean and what a miss comes from: bench/README.md)"
