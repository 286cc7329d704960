#!/usr/bin/env bash
# bench/cluster_throughput.sh - what a 3-node scopekit-cql-server cluster serves to 3 readers of
# token ranges at once, against one reader of the whole table from one node, in one run; and
# what a synthetic table of 100 million rows costs in memory and in the time to find a range.
#
#   bench/cluster_throughput.sh                  # build the bench preset, use build/release
#   bench/cluster_throughput.sh build/bench2     # use that build directory as it is
#   ROWS=600000 RUNS=5 PAGE_SIZE=1000 bench/cluster_throughput.sh
#
# It starts `scopekit-cql-server --port 0 --nodes 3 --synthetic demo.rows=ROWS` (default 3000000
# rows of about 130 bytes) and, RUNS times (default 5), alternately:
#   one:    bench/cql_raw_reader reads all of demo.rows from node 1 (pages of PAGE_SIZE, default
#           5000), checking the row count;
#   three:  three cql_raw_readers at once, reader k reading the k-th third of the token ring
#           (`WHERE token(id) > A AND token(id) <= B`) from node k; their rows must add up to
#           ROWS.
# Each run prints rows/s (for `three`, all rows over the time the slowest reader took). Then the
# best and the median of each, and three / one (median). The machine's core count is printed:
# with fewer cores than 3 readers plus 3 node threads, three readers compete for the CPU.
#
# Then the memory: a one-node server with demo.rows of 100,000,000 rows and one with 1 row, each
# asked for the last range of the ring (the 1,000-odd rows nearest the top token): the resident
# memory (VmRSS) of each after the read, and the time of each read. A table that kept memory per
# row, or enumerated its rows to find a range, would show it here.
#
# Exits non-zero if a build, a run, a row count or a server fails.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${script_dir}/.."

rows="${ROWS:-3000000}"
runs="${RUNS:-5}"
page_size="${PAGE_SIZE:-5000}"
for pair in "ROWS:${rows}" "RUNS:${runs}" "PAGE_SIZE:${page_size}"; do
  if ! [[ "${pair#*:}" =~ ^[1-9][0-9]*$ ]]; then
    echo "cluster_throughput.sh: ${pair%%:*} must be a positive integer, not '${pair#*:}'" >&2
    exit 2
  fi
done
if (($# > 1)); then
  echo "usage: $0 [BUILD_DIR]" >&2
  exit 2
fi
build_dir="${1:-build/release}"
if (($# == 0)); then
  build_log="$(mktemp)"
  if ! cmake --workflow --preset bench >"${build_log}" 2>&1; then
    cat "${build_log}" >&2
    rm -f "${build_log}"
    echo "cluster_throughput.sh: the bench preset did not build" >&2
    exit 1
  fi
  rm -f "${build_log}"
fi
server="${build_dir}/driver-adapter/server/scopekit-cql-server"
reader="${build_dir}/bench/cql_raw_reader"
for binary in "${server}" "${reader}"; do
  if [[ ! -x "${binary}" ]]; then
    echo "cluster_throughput.sh: ${binary} not found (build the bench preset)" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    if kill -0 "${pid}" 2>/dev/null; then
      kill -TERM "${pid}" 2>/dev/null || true
      wait "${pid}" 2>/dev/null || true
    fi
  done
  rm -rf "${tmp}"
}
trap cleanup EXIT

# start_server <name> <args...>: starts scopekit-cql-server, waits for its first line, sets
# ${port} and ${pid}.
start_server() {
  local name="$1"
  shift
  "${server}" --port 0 "$@" >"${tmp}/${name}.out" 2>"${tmp}/${name}.err" &
  pid=$!
  pids+=("${pid}")
  port=""
  for _ in $(seq 1 100); do
    port="$(sed -n '1s/^listening on .*:\([0-9][0-9]*\)$/\1/p' "${tmp}/${name}.out")"
    if [[ -n "${port}" ]] || ! kill -0 "${pid}" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  if [[ -z "${port}" ]]; then
    cat "${tmp}/${name}.out" "${tmp}/${name}.err" >&2
    echo "cluster_throughput.sh: the server '${name}' did not print its port" >&2
    exit 1
  fi
}

# stop_server <pid>: SIGTERM, which must end it with status 0.
stop_server() {
  local status=0
  kill -TERM "$1"
  wait "$1" || status=$?
  if ((status != 0)); then
    echo "cluster_throughput.sh: a server exited with status ${status} on SIGTERM" >&2
    exit 1
  fi
}

# field <name> <line>: the number after "<name>=" in a cql_raw_reader line.
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=\\([0-9.]*\\)$/\\1/p"; }

start_server cluster --nodes 3 --synthetic "demo.rows=${rows}"
cluster_pid="${pid}"
cluster_port="${port}"
# The ring cut in three: (min, b1], (b1, b2], (b2, max].
bounds=(-9223372036854775808 -3074457345618258603 3074457345618258602 9223372036854775807)

echo "cores: $(nproc); a 3-node cluster on port ${cluster_port}: demo.rows = ${rows} rows," \
  "pages of ${page_size}, ${runs} runs each"
for _ in $(seq 1 "${runs}"); do
  line="$("${reader}" 127.0.0.1 "${cluster_port}" "${rows}" --page-size "${page_size}")"
  rate="$(awk -v r="$(field rows "${line}")" -v s="$(field seconds "${line}")" \
    'BEGIN { printf "%.0f", r / s }')"
  printf '  one    1 reader,  node 1:    %s rows/s (%s)\n' "${rate}" "${line}"
  echo "${rate}" >>"${tmp}/one"

  reader_pids=()
  for k in 1 2 3; do
    "${reader}" "127.0.0.${k}" "${cluster_port}" any --page-size "${page_size}" \
      --where "token(id) > ${bounds[k - 1]} AND token(id) <= ${bounds[k]}" >"${tmp}/range${k}" &
    reader_pids+=("$!")
  done
  for p in "${reader_pids[@]}"; do
    wait "${p}" || { echo "cluster_throughput.sh: a range reader failed" >&2; exit 1; }
  done
  total=0
  slowest=0
  for k in 1 2 3; do
    line="$(cat "${tmp}/range${k}")"
    total=$((total + $(field rows "${line}")))
    slowest="$(awk -v a="${slowest}" -v b="$(field seconds "${line}")" \
      'BEGIN { print (b > a ? b : a) }')"
  done
  if ((total != rows)); then
    echo "cluster_throughput.sh: the three ranges gave ${total} rows, not ${rows}" >&2
    exit 1
  fi
  rate="$(awk -v r="${total}" -v s="${slowest}" 'BEGIN { printf "%.0f", r / s }')"
  printf '  three  3 readers, nodes 1-3: %s rows/s (%s rows, slowest reader %s s)\n' \
    "${rate}" "${total}" "${slowest}"
  echo "${rate}" >>"${tmp}/three"
done
stop_server "${cluster_pid}"

summary() { sort -g "$1" | awk '{ v[NR] = $1 } END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "best %.0f rows/s, median %.0f rows/s, worst %.0f rows/s", v[NR], m, v[1] }'; }
median() { sort -g "$1" | awk '{ v[NR] = $1 } END {
  print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
printf '%-7s %s\n' "one:" "$(summary "${tmp}/one")"
printf '%-7s %s\n' "three:" "$(summary "${tmp}/three")"
awk -v t="$(median "${tmp}/three")" -v o="$(median "${tmp}/one")" \
  'BEGIN { printf "three / one (medians): %.2f\n", t / o }'

# The memory of a synthetic table, and the time to find its last range.
# The top 1/100,000 of the ring: about 1,000 rows of 100 million.
last_range="token(id) > 9223187569414038712"
for size in 1 100000000; do
  start_server "synthetic${size}" --synthetic "demo.rows=${size}"
  line="$("${reader}" 127.0.0.1 "${port}" any --page-size "${page_size}" --where "${last_range}")"
  rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/${pid}/status")"
  printf 'demo.rows = %9s rows: RSS %6s kB after reading the last range (%s)\n' \
    "${size}" "${rss}" "${line}"
  stop_server "${pid}"
done
