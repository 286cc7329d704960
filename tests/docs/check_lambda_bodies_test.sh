#!/bin/sh
# check_lambda_bodies_test.sh: check_lambda_bodies.sh reports each unsafe form at its line, and
# nothing for the safe forms, the skipped blocks and ordinary code. A check that cannot fail
# would let the unsafe form back into the docs unnoticed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

dir=$(mktemp -d) || fail mktemp
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/docs/reference" "$dir/examples" "$dir/scope/include/scopekit"

cat >"$dir/docs/reference/page.md" <<'EOF'
A sentence that recommends `co_await async_scope::run([&](async_scope& s) -> task<> { ... })`.

```cpp
task<> safe(std::string name) {
  auto body = [name](async_scope& s) -> task<> { co_return; };
  co_await async_scope::run(body);
  co_await async_scope::run(std::move(body));
  co_await [&]() -> task<> { co_return; }();
  int main_value = scopekit::sync_wait(async_scope::run(example::body{ending::returns}));
}
task<> unsafe(std::string name) {
  co_await async_scope::run([name](async_scope& s) -> task<> { co_return; });
  co_await scopekit::with_timeout(1s,
                                  async_scope::run(greeter{name}));
  co_await [name]() -> task<> { co_return; }();
  co_await async_scope::run(
      [name](async_scope& s) -> task<> { co_return; });
  s.spawn([&]() -> task<> { co_return; }());
}
```

Shown, not compiled, on purpose:

<!-- compile: skip -->
```cpp
co_await async_scope::run([name](async_scope& s) -> task<> { co_return; });
```
EOF

cat >"$dir/examples/example.cpp" <<'EOF'
task<> run(ending how) {
  const session_body body{how};
  co_await scopekit::with_timeout(20ms, async_scope::run(body));
  co_await scopekit::with_timeout(20ms, async_scope::run(session_body{how}));
}
EOF

cat >"$dir/scope/include/scopekit/header.hpp" <<'EOF'
//   co_await scopekit::async_scope::run([&](scopekit::async_scope& s) -> scopekit::task<> {
EOF

expected="docs/reference/page.md:1:
docs/reference/page.md:12:
docs/reference/page.md:14:
docs/reference/page.md:15:
docs/reference/page.md:17:
docs/reference/page.md:18:
examples/example.cpp:4:
scope/include/scopekit/header.hpp:1:"

out=$(sh "$here/check_lambda_bodies.sh" "$dir" 2>&1)
status=$?
[ "$status" -eq 1 ] || fail "unsafe forms: exit status $status, expected 1; output:
$out"
reported=$(printf '%s\n' "$out" | grep -o '^[^ ]*:[0-9]*:')
[ "$reported" = "$expected" ] || fail "reported lines differ; expected:
$expected
got:
$out"

# The same tree with the unsafe lines removed passes.
sed -i '1d;11,19d' "$dir/docs/reference/page.md"  # the sentence and task<> unsafe
printf '%s\n' "// run(body) only" >"$dir/scope/include/scopekit/header.hpp"
sed -i '/session_body{how}/d' "$dir/examples/example.cpp"
out=$(sh "$here/check_lambda_bodies.sh" "$dir" 2>&1) || fail "safe forms reported:
$out"
echo ok
