#!/usr/bin/env bash
# Streams demo.rows from the embedded server through scopekit's CQL client and, in the same
# run, through the DataStax Python driver (python3-cassandra), and prints:
#   1. rows/s and MB/s of scopekit on one stream (prefetch 1, the default; median of 5) and of
#      the Python driver (median of 3), and their ratio (target: >= 2,000,000 rows/s and >= 20x);
#      also the CPU time each client spends per row (every thread of the client process), which
#      does not depend on how the server and the clients share the machine's cores;
#   2. the client's peak RSS streaming 100,000 rows and 10,000,000 rows (target: within 10%),
#      with a consumer slower than the server so that read-ahead fills up (RSS_WORK_NS, 200);
#   3. prefetch 0 against prefetch 2 when the consumer works ~N ns per row (WORK_NS, 1000;
#      target: a gain), medians of 3 alternated runs.
#
#   bash bench/cql_stream_benchmark.sh [BUILD_DIR]    # default build/release (cmake --workflow --preset bench)
#
# The server runs as its own process, so the RSS figures are the client's alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/release}
server="$build/driver-adapter/server/scopekit-cql-server"
reader="$build/release/cql_stream_reader"
for f in "$server" "$reader"; do
  [[ -x "$f" ]] || { echo "missing $f: run 'cmake --workflow --preset bench' first" >&2; exit 2; }
done

rows=1000000
page=5000
work_ns=${WORK_NS:-1000}
rss_work_ns=${RSS_WORK_NS:-200}

out=$(mktemp)
"$server" --port 0 --synthetic demo.rows=$rows --synthetic demo.small=100000 \
  --synthetic demo.huge=10000000 >"$out" &
server_pid=$!
cleanup() { kill "$server_pid" 2>/dev/null || true; rm -f "$out"; }
trap cleanup EXIT
for _ in $(seq 100); do
  [[ -s "$out" ]] && break
  sleep 0.05
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
[[ -n "$port" ]] || { echo "the server did not start" >&2; exit 1; }

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

echo "== 1. one stream, $rows rows, page_size $page (server: scopekit-cql-server, same machine)"
rates=(); mbs=(); cpus=()
for i in 1 2 3 4 5; do
  line=$("$reader" --port "$port" --page-size $page --prefetch 1 --expect-rows $rows)
  echo "scopekit run $i: $line"
  rates+=("$(field rows_per_s "$line")"); mbs+=("$(field mb_per_s "$line")")
  cpus+=("$(field cpu_ns_per_row "$line")")
done
sk_rate=$(median "${rates[@]}"); sk_mb=$(median "${mbs[@]}"); sk_cpu=$(median "${cpus[@]}")
if /usr/bin/python3 -c 'import cassandra' 2>/dev/null; then
  py_rates=(); py_cpus=()
  for i in 1 2 3; do
    py=$(/usr/bin/python3 bench/python_stream_reader.py "$port" \
         "SELECT id, name, payload FROM demo.rows" $page $rows 2>/dev/null)
    echo "python driver run $i: $py"
    py_rates+=("$(field rows_per_s "$py")"); py_cpus+=("$(field cpu_ns_per_row "$py")")
  done
  py_rate=$(median "${py_rates[@]}"); py_cpu=$(median "${py_cpus[@]}")
  cpu_ratio=$(awk -v a="$py_cpu" -v b="$sk_cpu" 'BEGIN { printf "%.1f", a / b }')
  ratio=$(awk -v a="$sk_rate" -v b="$py_rate" 'BEGIN { printf "%.1f", a / b }')
else
  echo "python driver:  not installed (apt-get install python3-cassandra)"; py_rate=n/a; ratio=n/a
  py_cpu=n/a; cpu_ratio=n/a
fi

echo "== 2. peak RSS of the client: 100,000 rows against 10,000,000 rows"
# The bound (prefetch + 1 pages, their buffers recycled) is reached only once read-ahead fills
# up, which a consumer faster than the server may never do in a short run. So the consumer
# does some work per row (RSS_WORK_NS ns, default 200), slower than the server: the pages
# ahead fill up in both runs. Each runs several times; the highest peak is kept (the claim is
# about the worst case).
rss_small=0; rss_huge=0
for i in 1 2 3; do
  small=$("$reader" --port "$port" --query "SELECT id, name, payload FROM demo.small" \
          --page-size $page --prefetch 1 --work-ns "$rss_work_ns" --expect-rows 100000)
  echo "100,000 rows, run $i:    $small"
  rss_small=$(( $(field max_rss_kb "$small") > rss_small ? $(field max_rss_kb "$small") : rss_small ))
done
for i in 1 2; do
  huge=$("$reader" --port "$port" --query "SELECT id, name, payload FROM demo.huge" \
         --page-size $page --prefetch 1 --work-ns "$rss_work_ns" --expect-rows 10000000)
  echo "10,000,000 rows, run $i: $huge"
  rss_huge=$(( $(field max_rss_kb "$huge") > rss_huge ? $(field max_rss_kb "$huge") : rss_huge ))
done
rss_ratio=$(awk -v a="$rss_huge" -v b="$rss_small" 'BEGIN { printf "%.3f", a / b }')

echo "== 3. prefetch with a consumer that works ~${work_ns} ns per row ($rows rows)"
# Alternated, three times each, and the medians compared: a busy machine slows runs unevenly.
t0=(); t2=()
for i in 1 2 3; do
  p0=$("$reader" --port "$port" --page-size $page --prefetch 0 --work-ns "$work_ns" --expect-rows $rows)
  p2=$("$reader" --port "$port" --page-size $page --prefetch 2 --work-ns "$work_ns" --expect-rows $rows)
  echo "prefetch 0, run $i: $p0"
  echo "prefetch 2, run $i: $p2"
  t0+=("$(field seconds "$p0")"); t2+=("$(field seconds "$p2")")
done
s0=$(median "${t0[@]}"); s2=$(median "${t2[@]}")
gain=$(awk -v a="$s0" -v b="$s2" 'BEGIN { printf "%.1f", (a - b) / a * 100 }')

echo
echo "== summary"
printf '%-44s %s\n' "scopekit rows/s (median of 5)" "$sk_rate"
printf '%-44s %s\n' "scopekit MB/s of name+payload" "$sk_mb"
printf '%-44s %s\n' "python driver rows/s (median of 3)" "$py_rate"
printf '%-44s %s\n' "ratio scopekit / python" "$ratio"
printf '%-44s %s\n' "client CPU ns per row, scopekit / python" "$sk_cpu / $py_cpu (python uses ${cpu_ratio}x)"
printf '%-44s %s\n' "peak RSS kB, 100k rows / 10M rows (max of runs)" "$rss_small / $rss_huge (x$rss_ratio)"
printf '%-44s %s\n' "prefetch 2 vs 0 with per-row work (median s)" "$s0 / $s2 ($gain% less time)"
kill -TERM "$server_pid"
wait "$server_pid" && echo "server exited 0" || { echo "server exited non-zero" >&2; exit 1; }
trap - EXIT
rm -f "$out"
