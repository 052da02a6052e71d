#!/usr/bin/env bash
# The README's layout block names every package and bench directory in the tree, and
# nothing that is not there: the user's map cannot drift from the code.
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
layout="$(awk '/^## Layout/{on=1} on && /^```$/{n++; if (n==2) exit} on' "$root/README.md")"
fail=0
for dir in "$root"/lib/*/ "$root"/benchmarks/*/; do
  rel="${dir#"$root"/}"
  if ! grep -q "^${rel%/}/\? " <<<"$layout"; then
    echo "README layout: $rel is in the tree but not in the layout" >&2
    fail=1
  fi
done
while read -r rel; do
  if [[ ! -d "$root/$rel" ]]; then
    echo "README layout: $rel is in the layout but not in the tree" >&2
    fail=1
  fi
done < <(grep -oE '^(lib|benchmarks)/[a-z0-9_]+' <<<"$layout")
while read -r target; do
  grep -q "add_library(pmbench::${target} " "$root/lib/$target/CMakeLists.txt" 2>/dev/null || {
    echo "README layout: pmbench::$target has no lib/$target/CMakeLists.txt target" >&2
    fail=1
  }
done < <(grep -oE 'pmbench::[a-z_]+' <<<"$layout" | sed 's/pmbench:://')
[[ $fail == 0 ]] && echo "README layout matches the tree"
exit $fail
