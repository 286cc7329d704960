#!/usr/bin/env bash
# Builds the `fuzz` preset (clang++-14, libFuzzer + ASan + UBSan) and runs the fuzzers (the CQL
# codec's and the embedded server's) side by side, each for N seconds of wall time (default 60)
# on a copy of its seed corpus (tests/fuzz/corpus/<fuzzer>/, which stays untouched). First checks
# that the server's seeds are the ones server_request_seeds writes. Prints the executions each one
# ran; exits non-zero on any crash, leak, sanitizer report or timeout, after printing the end of
# its log. Crashing inputs are kept in build/fuzz/artifacts/ to reproduce with:
# build/fuzz/tests/fuzz/<fuzzer> <artifact>
#
#   bash tests/fuzz/run_fuzzers.sh        # 60 s per fuzzer
#   bash tests/fuzz/run_fuzzers.sh 600    # a long run
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: $0 [seconds-per-fuzzer, default 60]" >&2
  exit 2
fi
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

fuzzers=(frame_fuzzer rows_fuzzer server_request_fuzzer)
build_log="$(mktemp)"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$build_log"' EXIT

if ! cmake --workflow --preset fuzz >"$build_log" 2>&1; then
  cat "$build_log"
  echo "run_fuzzers: building the fuzz preset failed" >&2
  exit 1
fi

if ! build/fuzz/tests/fuzz/server_request_seeds check tests/fuzz/corpus/server_request_fuzzer; then
  echo "run_fuzzers: the server's seed corpus is stale" >&2
  exit 1
fi

artifacts="build/fuzz/artifacts"
mkdir -p "$artifacts"
# All fuzzers run at once, each for the given wall time (on two cores they share the CPU, so a
# run of N seconds costs N seconds of CI, not 3N); their reports are printed in order afterwards.
run_one() {
  local fuzzer="$1"
  cp -R "tests/fuzz/corpus/$fuzzer" "$work/$fuzzer"
  "build/fuzz/tests/fuzz/$fuzzer" "$work/$fuzzer" -max_total_time="$seconds" \
    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$artifacts/$fuzzer-" >"$work/$fuzzer.log" 2>&1
}
pids=()
for fuzzer in "${fuzzers[@]}"; do
  run_one "$fuzzer" &
  pids+=("$!")
done
status=0
for i in "${!fuzzers[@]}"; do
  fuzzer="${fuzzers[$i]}"
  log="$work/$fuzzer.log"
  if wait "${pids[$i]}"; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
    printf '%s: %s executions in %s s (%s), no crash\n' "$fuzzer" "${runs:-?}" "$seconds" \
      "${cov:-cov: ?}"
  else
    status=1
    tail -n 60 "$log"
    printf '%s: FAILED (inputs kept in %s)\n' "$fuzzer" "$artifacts" >&2
  fi
done
exit "$status"
