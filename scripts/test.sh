#!/usr/bin/env bash
# Runs the suites of `make test` one after another under GLIMPSE_REQUIRE_ALL=1 (a test that would
# skip for a missing prerequisite fails instead), each through its own make target, which writes
# its result to build/test-summary/<suite>.txt; a failing suite does not stop the others. Then it
# prints one line per suite (passed, failed, skipped, each skip with its reason) and exits 1 when
# any suite failed.
#
#   scripts/test.sh                 every suite: go cluster python parity-reduced
#   scripts/test.sh go python       some of them
#   scripts/test.sh --summary       print the last run's summary again (make test-summary)
set -uo pipefail
cd "$(dirname "$0")/.."
DIR=build/test-summary
declare -A target=([go]=test-go [cluster]=test-cluster [python]=test-python [parity-reduced]=parity-reduced)
all=(go cluster python parity-reduced)

summary() {
  local failed=0 s rc line
  echo
  echo "== test summary ($DIR/)"
  for s in "$@"; do
    rc=$(cat "$DIR/$s.rc" 2>/dev/null || echo "?")
    if [ ! -f "$DIR/$s.txt" ]; then
      [ "$rc" = "?" ] && line="not run" || line="no result: make ${target[$s]} exited $rc before its tests reported (see above)"
      printf 'FAIL  %s: %s\n' "$s" "$line"
      failed=1
      continue
    fi
    { read -r line; printf '%-4s  %s\n' "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "$line"
      sed 's/^/      /'; } <"$DIR/$s.txt"
    if [ "$rc" != 0 ]; then
      failed=1
      [ "$rc" = "?" ] || printf '      (make %s exited %s)\n' "${target[$s]}" "$rc"
    fi
  done
  return $failed
}

if [ "${1:-}" = "--summary" ]; then
  shift
  summary "${@:-${all[@]}}"
  exit
fi
suites=("${@:-${all[@]}}")
for s in "${suites[@]}"; do
  [ -n "${target[$s]:-}" ] || { echo "test.sh: unknown suite $s (known: ${all[*]})" >&2; exit 2; }
done
export GLIMPSE_REQUIRE_ALL=1
mkdir -p "$DIR"
for s in "${suites[@]}"; do
  rm -f "$DIR/$s.txt" "$DIR/$s.rc"
  echo
  echo "== make ${target[$s]}"
  start=$SECONDS
  make --no-print-directory "${target[$s]}"
  rc=$?
  echo "$rc" >"$DIR/$s.rc"
  echo "== make ${target[$s]}: exit $rc after $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s"
done
summary "${suites[@]}"
