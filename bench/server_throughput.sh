#!/usr/bin/env bash
# bench/server_throughput.sh - how fast scopekit-cql-server streams a big table to one client,
# against what the same client reads from a source that costs nothing (the loopback baseline).
#
#   bench/server_throughput.sh                  # build the bench preset, use build/release
#   bench/server_throughput.sh build/bench2     # use that build directory as it is
#   ROWS=200000 RUNS=5 PAGE_SIZE=1000 bench/server_throughput.sh
#
# It starts `scopekit-cql-server --port 0 --synthetic demo.rows=ROWS` (default 1000000 rows of
# about 130 bytes), reads the port from its first line, and runs bench/cql_raw_reader RUNS times
# (default 3): `SELECT * FROM demo.rows`, PAGE_SIZE rows a page (default 5000), paging to the
# end and checking the row count. Then `cql_raw_reader --loopback-baseline`, as many times, for
# the same rows. It prints each run's MB/s (10^6 bytes a second), the best and the median of
# each, and the server's best as a fraction of the baseline's best. Finally it stops the server
# with SIGTERM and checks that it exits with status 0.
#
# Exits non-zero if a build, a run or the row count fails, or the server does not start or
# exits with another status; a missed target (TARGET_MBPS, default 500 MB/s for the server) is
# printed, not an error. See bench/README.md.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${script_dir}/.."

rows="${ROWS:-1000000}"
runs="${RUNS:-3}"
page_size="${PAGE_SIZE:-5000}"
target="${TARGET_MBPS:-500}"
for pair in "ROWS:${rows}" "RUNS:${runs}" "PAGE_SIZE:${page_size}" "TARGET_MBPS:${target}"; do
  if ! [[ "${pair#*:}" =~ ^[1-9][0-9]*$ ]]; then
    echo "server_throughput.sh: ${pair%%:*} must be a positive integer, not '${pair#*:}'" >&2
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
    echo "server_throughput.sh: the bench preset did not build" >&2
    exit 1
  fi
  rm -f "${build_log}"
fi
server="${build_dir}/driver-adapter/server/scopekit-cql-server"
reader="${build_dir}/bench/cql_raw_reader"
for binary in "${server}" "${reader}"; do
  if [[ ! -x "${binary}" ]]; then
    echo "server_throughput.sh: ${binary} not found (build the bench preset)" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "${server_pid}" ]] && kill -0 "${server_pid}" 2>/dev/null; then
    kill -TERM "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
  fi
  rm -rf "${tmp}"
}
trap cleanup EXIT

"${server}" --port 0 --synthetic "demo.rows=${rows}" >"${tmp}/server.out" 2>"${tmp}/server.err" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n '1s/^listening on .*:\([0-9][0-9]*\)$/\1/p' "${tmp}/server.out")"
  if [[ -n "${port}" ]] || ! kill -0 "${server_pid}" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [[ -z "${port}" ]]; then
  cat "${tmp}/server.out" "${tmp}/server.err" >&2
  echo "server_throughput.sh: the server did not print its port" >&2
  exit 1
fi

# run_reader <label> <args...>: one run; prints its line and appends its MB/s to ${tmp}/<label>.
run_reader() {
  local label="$1" line
  shift
  if ! line="$("${reader}" "$@")"; then
    echo "server_throughput.sh: cql_raw_reader $* failed" >&2
    exit 1
  fi
  printf '  %-8s %s\n' "${label}" "${line}"
  sed -n 's/.* MB\/s=\([0-9.]*\)$/\1/p' <<<"${line}" >>"${tmp}/${label}"
}

echo "scopekit-cql-server on port ${port}: demo.rows = ${rows} rows, pages of ${page_size}," \
  "${runs} runs each"
for _ in $(seq 1 "${runs}"); do
  run_reader server 127.0.0.1 "${port}" "${rows}" --page-size "${page_size}"
done
for _ in $(seq 1 "${runs}"); do
  run_reader baseline --loopback-baseline "${rows}" --page-size "${page_size}"
done

kill -TERM "${server_pid}"
status=0
wait "${server_pid}" || status=$?
server_pid=""
if ((status != 0)); then
  cat "${tmp}/server.err" >&2
  echo "server_throughput.sh: the server exited with status ${status} on SIGTERM" >&2
  exit 1
fi
echo "server stopped by SIGTERM, exit status 0"

# best and median of a file of numbers, one a line.
summary() { sort -g "$1" | awk '{ v[NR] = $1 } END {
  m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
  printf "best %.1f MB/s, median %.1f MB/s", v[NR], m }'; }
best() { sort -g "$1" | tail -n 1; }

printf '%-9s %s\n' "server:" "$(summary "${tmp}/server")"
printf '%-9s %s\n' "baseline:" "$(summary "${tmp}/baseline")"
awk -v s="$(best "${tmp}/server")" -v b="$(best "${tmp}/baseline")" -v t="${target}" 'BEGIN {
  printf "server / baseline (best): %.2f\n", s / b
  printf "target: server >= %d MB/s: %s (best %.1f MB/s)\n", t, (s >= t ? "met" : "MISSED"), s
}'
