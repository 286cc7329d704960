#!/usr/bin/env bash
# bench/callgrind_guards.sh - instructions per call of each scopekit guard against the same
# cleanup written by hand, counted with callgrind at -O2. Repeatable on a noisy machine.
#
#   bench/callgrind_guards.sh                       # g++
#   CXX=clang++-14 bench/callgrind_guards.sh        # another compiler
#   CALLS=100000 bench/callgrind_guards.sh          # fewer calls per case (default 1000000)
#
# It compiles bench/callgrind_guards.cpp, runs each case once under callgrind with collection
# switched on only inside the measured function (callees included, process start-up and the
# calling loop excluded), and prints the counts, the ratio guard / hand-written, and the cost
# of one std::uncaught_exceptions() call counted in the same runs. See bench/README.md.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${script_dir}/.."

cxx="${CXX:-g++}"
calls="${CALLS:-1000000}"

require() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "callgrind_guards.sh: '$1' not found${2:+ ($2)}" >&2
    exit 127
  fi
}
require "${cxx}" "set CXX to a C++20 compiler"
require valgrind "install valgrind"
require awk

if ! [[ "${calls}" =~ ^[1-9][0-9]*$ ]]; then
  echo "callgrind_guards.sh: CALLS must be a positive integer, not '${calls}'" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

program="${tmp}/callgrind_guards"
"${cxx}" -std=c++20 -O2 -Wall -Wextra -Wpedantic -Wconversion -Wshadow -I scope/include \
  bench/callgrind_guards.cpp -o "${program}"

# measure <case> <expected cleanups per call>: runs cases::<case>() ${calls} times under
# callgrind and sets `total` (instructions inside it, callees included), `uncaught_calls` and
# `uncaught_total` (calls to std::uncaught_exceptions() from inside it, and their instructions).
measure() {
  local name="$1" per_call="$2"
  local out="${tmp}/${name}.callgrind"
  # LD_BIND_NOW: resolve library symbols at start-up, not lazily inside the first measured call.
  if ! LD_BIND_NOW=1 valgrind --tool=callgrind --callgrind-out-file="${out}" \
    --compress-strings=no --toggle-collect="cases::${name}()" \
    "${program}" "${name}" "${calls}" >"${tmp}/${name}.stdout" 2>"${tmp}/${name}.log"; then
    cat "${tmp}/${name}.log" >&2
    echo "callgrind_guards.sh: valgrind failed on ${name}" >&2
    exit 1
  fi

  local expected=$((per_call * calls)) cleanups
  cleanups="$(sed -n 's/.* cleanups=\([0-9]*\) .*/\1/p' "${tmp}/${name}.stdout")"
  if [[ "${cleanups}" != "${expected}" ]]; then
    echo "callgrind_guards.sh: ${name} ran its cleanup ${cleanups:-?} times, not ${expected}" >&2
    exit 1
  fi

  total="$(awk '/^summary:/ { print $2 }' "${out}")"
  if [[ -z "${total}" || "${total}" -eq 0 ]]; then
    echo "callgrind_guards.sh: no instructions counted in cases::${name}()" >&2
    exit 1
  fi

  # In the uncompressed callgrind format, a call is "cfn=<callee>", then "calls=<count> ...",
  # then a cost line whose last field is the callee's inclusive instruction count.
  read -r uncaught_calls uncaught_total < <(awk '
    /^cfn=/ { in_callee = ($0 == "cfn=std::uncaught_exceptions()"); next }
    in_callee && /^calls=/ { split($1, c, "="); n += c[2]; want_cost = 1; next }
    want_cost { cost += $NF; want_cost = 0; in_callee = 0 }
    END { printf "%d %d\n", n, cost }' "${out}")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
per_call() { awk -v a="$1" -v n="${calls}" 'BEGIN { printf "%.2f", a / n }'; }

echo "scopekit guards: instructions counted by callgrind, ${calls} calls per case"
echo "compiler: $("${cxx}" --version | head -n 1), -O2"
echo
printf '%-16s %-36s   %s\n' "" "instructions, all calls" "instructions per call"
printf '%-16s %14s %14s %6s   %12s %8s %10s\n' \
  guard hand-written guard ratio hand-written guard difference

declare -A difference uncaught_cost uncaught_per_call
# guard, expected cleanups per call on the normal path
for row in scope_exit:1 scope_fail:0 scope_success:1 unique_resource:1; do
  guard="${row%%:*}"
  measure "${guard}_hand_written" "${row##*:}"
  hand_total="${total}"
  measure "${guard}_guard" "${row##*:}"
  guard_total="${total}"
  if ((uncaught_calls > 0)); then
    uncaught_cost[${guard}]="$(awk -v t="${uncaught_total}" -v n="${uncaught_calls}" \
      'BEGIN { printf "%.2f", t / n }')"
    uncaught_per_call[${guard}]="$(per_call "${uncaught_calls}")"
  fi
  difference[${guard}]="$(per_call $((guard_total - hand_total)))"
  printf '%-16s %14d %14d %6s   %12s %8s %10s\n' "${guard}" "${hand_total}" "${guard_total}" \
    "$(ratio "${hand_total}" "${guard_total}")" "$(per_call "${hand_total}")" \
    "$(per_call "${guard_total}")" "${difference[${guard}]}"
done

echo
echo "target: no more instructions than hand-written; scope_fail and scope_success at most"
echo "two std::uncaught_exceptions() calls more (their hand-written code makes none)."
printf '%-16s %10s %14s %11s %7s  %s\n' guard difference "uncaught calls" "instr. each" limit \
  verdict
for guard in scope_exit scope_fail scope_success unique_resource; do
  awk -v g="${guard}" -v d="${difference[${guard}]}" -v n="${uncaught_per_call[${guard}]:--}" \
    -v u="${uncaught_cost[${guard}]:--}" 'BEGIN {
      limit = (u == "-" ? 0 : 2 * u)
      verdict = (d <= limit ? "met" : sprintf("missed by %.2f", d - limit))
      printf "%-16s %10.2f %14s %11s %7.2f  %s\n", g, d, n, u, limit, verdict
    }'
done
echo "(instructions per call; limit: 2 x one std::uncaught_exceptions() call as counted in the"
echo "guard's own run, else 0; what makes up a miss: bench/README.md)"

echo
echo "the same exception-count rule written by hand (a local struct), against the guard:"
printf '%-16s %14s %14s %6s
' guard "same rule" guard ratio
for row in scope_fail:0 scope_success:1; do
  guard="${row%%:*}"
  measure "${guard}_same_rule" "${row##*:}"
  rule_total="${total}"
  measure "${guard}_guard" "${row##*:}"
  printf '%-16s %14d %14d %6s
' "${guard}" "${rule_total}" "${total}" \
    "$(ratio "${rule_total}" "${total}")"
done
