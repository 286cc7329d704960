#!/bin/sh
# The scopekit-cql-server executable: --help, bad arguments (exit 2, a password never echoed),
# a run on port 0 that prints its address and exits 0 on SIGTERM, and a 3-node cluster that
# prints one line per node, the first node's first, all on one port.
set -u
exe=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$exe" --help | grep -q '^usage: scopekit-cql-server' || fail "--help prints no usage"
"$exe" --bogus 2>/dev/null >/dev/null
[ $? -eq 2 ] || fail "an unknown argument must exit 2"
[ "$("$exe" --port 70000 2>&1 >/dev/null | wc -l)" -eq 1 ] || fail "a bad port: one line on stderr"
"$exe" --port 70000 2>/dev/null
[ $? -eq 2 ] || fail "a bad port must exit 2"

for bad in "--nodes 0" "--nodes 256" "--nodes x" "--num-tokens 0" "--page-delay -1" \
           "--token-seed 18446744073709551616" "--auth nocolon" "--auth :password"; do
  # shellcheck disable=SC2086
  "$exe" $bad >/dev/null 2>&1
  [ $? -eq 2 ] || fail "'$bad' must exit 2"
done
"$exe" --auth ':hunter2-secret' 2>&1 | grep -q hunter2 && fail "--auth echoed a password"

dir=$(mktemp -d) || fail mktemp
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/out"
"$exe" --port 0 >"$dir/out" &
pid=$!
exec 3<"$dir/out"
if ! read -r line <&3; then kill "$pid"; fail "no output"; fi
case $line in
  "listening on 127.0.0.1:"[0-9]*) ;;
  *) kill "$pid"; fail "unexpected first line: $line" ;;
esac
kill -TERM "$pid"
wait "$pid"
status=$?
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
exec 3<&-

mkfifo "$dir/cluster"
"$exe" --port 0 --nodes 3 --auth cassandra:hunter2-secret --page-delay 1 >"$dir/cluster" &
pid=$!
exec 3<"$dir/cluster"
lines=""
for node in 1 2 3; do
  if ! read -r line <&3; then kill "$pid"; fail "no line for node $node"; fi
  case $line in
    "listening on 127.0.0.$node:"[0-9]*) lines="$lines ${line##*:}" ;;
    *) kill "$pid"; fail "unexpected line for node $node: $line" ;;
  esac
done
set -- $lines
[ "$1" = "$2" ] && [ "$2" = "$3" ] || { kill "$pid"; fail "the nodes' ports differ:$lines"; }
kill -TERM "$pid"
wait "$pid"
status=$?
[ "$status" -eq 0 ] || fail "cluster: exit status $status after SIGTERM"
echo ok
