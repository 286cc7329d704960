#!/bin/sh
# check_lambda_bodies.sh SOURCE_DIR: the documentation and the examples never write a body
# inside the co_await that runs it (issue 15).
#
# GCC 12 duplicates a temporary built by aggregate initialization (the closure of a lambda with
# captures by value, an aggregate function object) inside a full-expression that contains
# co_await, and destroys both copies (GCC PR 100611, 99576, 101367). So the pages and examples
# name a body before running it:
#   auto body = [name](async_scope& s) -> task<> { ... };
#   co_await async_scope::run(body);
# This script fails, naming file:line, on what would teach the unsafe form again:
#   1. a lambda written as the argument of run(), spawn() or enter(): `run([`;
#   2. a lambda with a capture by value written directly after co_await: `co_await [n]() ...`;
#   3. a braced temporary as the body of run() inside a co_await statement:
#      `co_await async_scope::run(body_type{...})`.
# It reads docs/**/*.md, README.md, examples/*.cpp and the public headers of scope/include
# (their comments show examples too). Code blocks marked <!-- compile: skip -->, which show
# deliberately wrong code, are not read. Prose is read like code, so that a page cannot
# recommend the unsafe form in a sentence either.
set -u
src=${1:?usage: check_lambda_bodies.sh SOURCE_DIR}
[ -d "$src/docs" ] || { echo "check_lambda_bodies: no docs/ under $src" >&2; exit 2; }

files=$(
  cd "$src" &&
    find docs examples scope/include README.md \
      \( -name '*.md' -o -name '*.cpp' -o -name '*.hpp' \) -type f 2>/dev/null | LC_ALL=C sort
)
[ -n "$files" ] || { echo "check_lambda_bodies: nothing to read under $src" >&2; exit 2; }

found=$(
  cd "$src" && for f in $files; do
    awk -v file="$f" '
      function report(what) {
        printf "%s:%d: %s\n", file, FNR, what
      }
      # True if the capture list starting at "[" in s holds a capture by value.
      function captures_by_value(s,    list, n, items, i, item) {
        list = substr(s, 2)
        if (index(list, "]") == 0) return 1
        list = substr(list, 1, index(list, "]") - 1)
        n = split(list, items, ",")
        for (i = 1; i <= n; i++) {
          item = items[i]
          gsub(/^[[:space:]]+|[[:space:]]+$/, "", item)
          if (item != "" && item !~ /^&/ && item != "this") return 1
        }
        return 0
      }
      BEGIN { markdown = (file ~ /\.md$/) }
      markdown && /^[[:space:]]*<!-- compile: skip -->/ { skip_next = 1; next }
      markdown && /^[[:space:]]*```/ {
        if (in_fence) { in_fence = 0; skipping = 0 } else { in_fence = 1; skipping = skip_next }
        skip_next = 0; in_await = 0; tail = ""
        next
      }
      { skip_next = 0 }
      skipping { next }
      /^[[:space:]]*$/ { in_await = 0; tail = ""; next }
      {
        line = $0
        joined = tail line  # a call split as `run(` / `[...`
        if (joined ~ /(^|[^A-Za-z0-9_])(run|spawn|enter)\([[:space:]]*\[/) {
          report("a lambda written as the argument of run(), spawn() or enter(): name it first (auto body = [...](...) {...}; then run(body))")
        } else if (match(line, /co_await[[:space:]]*\[/) &&
                   captures_by_value(substr(line, RSTART + RLENGTH - 1))) {
          report("a lambda with a capture by value written inside co_await: name it first (GCC 12 destroys its captures twice)")
        }
        if (line ~ /co_await/) in_await = 1
        if (in_await && line ~ /(^|[^A-Za-z0-9_])run\([[:space:]]*[A-Za-z_][A-Za-z0-9_:]*[[:space:]]*\{/) {
          report("a braced temporary as the body of run() inside a co_await: name it first (GCC 12 destroys an aggregate temporary there twice)")
        }
        if (line ~ /;/) in_await = 0
        tail = (line ~ /(run|spawn|enter)\([[:space:]]*$/) ? "run(" : ""
      }
    ' "$f"
  done
)

if [ -n "$found" ]; then
  printf '%s\n' "$found" >&2
  echo "check_lambda_bodies: write the body as a named variable before the co_await that runs it;" \
    "docs/reference/async_scope.md#lambda-bodies-on-gcc-12 says why" >&2
  exit 1
fi
echo "check_lambda_bodies: $(printf '%s\n' "$files" | wc -l) files, no body written inside a co_await"
