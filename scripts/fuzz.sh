#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZTIME each (default 10m), one after another,
# and prints one line per target and a JSON summary last. New interesting inputs stay in Go's
# fuzz cache ($(go env GOCACHE)/fuzz), so a later run starts from them; a failing input is
# written under the package's testdata/fuzz/ (commit it: it becomes a seed that go test runs).
# Usage: scripts/fuzz.sh [FUZZTIME] [PACKAGE_PATTERN]
set -euo pipefail
fuzztime=${1:-10m}
pattern=${2:-./...}
cd "$(dirname "$0")/.."
failed=()
n=0
for pkg in $(go list "$pattern"); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		n=$((n + 1))
		start=$(date +%s)
		if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
			echo "ok    $pkg $target $(( $(date +%s) - start ))s"
		else
			echo "FAIL  $pkg $target"
			echo "$out" | tail -20
			failed+=("$pkg.$target")
		fi
	done
done
list=""
for f in "${failed[@]+"${failed[@]}"}"; do
	list+="${list:+, }\"$f\""
done
printf '{"targets": %d, "fuzztime": "%s", "failed": [%s]}\n' "$n" "$fuzztime" "$list"
[ ${#failed[@]} -eq 0 ]
