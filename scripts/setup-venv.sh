#!/usr/bin/env bash
# Creates the Python environment of the model tooling (tools/requirements.txt) in a cache outside
# the clone, keyed by the requirements file and the interpreter, so every clone on this machine
# shares it and a new machine builds it once (about a minute from PyPI). The environment sees
# Debian's packages (python3-torch and friends, installed here when missing) and adds the pinned
# list with --no-deps, then `pip check` proves the set complete. The environment's .complete holds
# the versions of those Debian packages it was checked against: when they change (torch installed
# after a failed attempt, upgraded or removed), the next run installs what is missing and checks
# the environment again, and builds it anew only when that check fails.
#
#   scripts/setup-venv.sh          build if missing, print the environment's python
#   scripts/setup-venv.sh --path   print the environment's python without building
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQ=$ROOT/tools/requirements.txt
PY=/usr/bin/python3
CACHE=${GLIMPSE_CACHE_HOME:-$HOME/.cache/glimpse}
key=$( (cat "$REQ"; $PY -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)
VENV=$CACHE/venv-$key
if [ "${1:-}" = "--path" ]; then echo "$VENV/bin/python"; exit 0; fi

pkgs=(python3-venv python3-torch python3-torchvision python3-torchaudio python3-numpy python3-pil python3-onnx python3-yaml libopenblas0-openmp)
# stamp: the Debian packages as installed now ("ii" when they are), what .complete records
stamp() { dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' "${pkgs[@]}" 2>/dev/null || true; }
current() { [ -f "$VENV/.complete" ] && [ "$(cat "$VENV/.complete")" = "$(stamp)" ]; }
if current; then echo "$VENV/bin/python"; exit 0; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.venv.lock"
flock 9  # one build at a time; a second caller waits and then finds it built
if current; then echo "$VENV/bin/python"; exit 0; fi

missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-venv: installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# built before, against other Debian packages: keep it when it still checks out over these
if [ -f "$VENV/.complete" ] && "$VENV/bin/pip" check --disable-pip-version-check >/dev/null 2>&1 &&
  "$VENV/bin/python" -c 'import torch, torchvision, torchaudio, onnx, numpy, PIL, yaml' 2>/dev/null; then
  stamp >"$VENV/.complete.part" && mv "$VENV/.complete.part" "$VENV/.complete"
  echo "$VENV/bin/python"; exit 0
fi

echo "setup-venv: building $VENV" >&2
rm -rf "$VENV" "$VENV.part"
$PY -m venv --system-site-packages "$VENV.part"
"$VENV.part/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQ" >&2
"$VENV.part/bin/pip" check --disable-pip-version-check >&2
# venv scripts hold absolute paths: build under .part, then fix them up on the rename
mv "$VENV.part" "$VENV"
grep -rlI --exclude-dir=__pycache__ "$VENV.part" "$VENV/bin" | xargs -r sed -i "s#$VENV.part#$VENV#g"
stamp >"$VENV/.complete.part" && mv "$VENV/.complete.part" "$VENV/.complete"
echo "$VENV/bin/python"
