#!/bin/sh
# The scopekit-cql-server executable: --help, a bad argument (exit 2), and a run on port 0 that
# prints its address and exits 0 on SIGTERM.
set -u
exe=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

"$exe" --help | grep -q '^usage: scopekit-cql-server' || fail "--help prints no usage"
"$exe" --bogus 2>/dev/null >/dev/null
[ $? -eq 2 ] || fail "an unknown argument must exit 2"
[ "$("$exe" --port 70000 2>&1 >/dev/null | wc -l)" -eq 1 ] || fail "a bad port: one line on stderr"
"$exe" --port 70000 2>/dev/null
[ $? -eq 2 ] || fail "a bad port must exit 2"

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
echo ok
