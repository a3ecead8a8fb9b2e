#!/usr/bin/env bash
# Fetches ONNX Runtime's shared library (libonnxruntime.so.1, version 1.30.0) from the npm package
# onnxruntime-node, which carries it, checks its sha256 and keeps it in the per-user cache
# (~/.cache/glimpse, or $GLIMPSE_CACHE_HOME), shared by every clone on the machine, then links it
# (or copies it, across file systems) into the clone's git-ignored .cache/, where the binaries
# look for it. Idempotent: does nothing when the clone's library already has the right hash.
set -euo pipefail
VERSION=1.30.0
SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
CACHE=${GLIMPSE_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
DEST=$CACHE/onnxruntime-$VERSION/libonnxruntime.so.1
SHARED=${GLIMPSE_CACHE_HOME:-$HOME/.cache/glimpse}/onnxruntime-$VERSION/libonnxruntime.so.1

good() { [ -f "$1" ] && echo "$SHA256  $1" | sha256sum -c --status; }
place() { # the shared copy into the clone
  mkdir -p "$(dirname "$DEST")"
  ln -f "$SHARED" "$DEST" 2>/dev/null || cp "$SHARED" "$DEST"
  echo "onnxruntime $VERSION: $DEST"
}
if good "$DEST"; then echo "onnxruntime $VERSION: $DEST"; exit 0; fi
if good "$SHARED"; then place; exit 0; fi
command -v npm >/dev/null || { echo "setup: npm is needed to fetch ONNX Runtime (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
tar -xzf "$tmp"/onnxruntime-node-$VERSION.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
mkdir -p "$(dirname "$SHARED")"
mv "$tmp"/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 "$SHARED.part.$$"
echo "$SHA256  $SHARED.part.$$" | sha256sum -c --status || { echo "setup: sha256 mismatch for libonnxruntime.so.1" >&2; rm -f "$SHARED.part.$$"; exit 1; }
mv "$SHARED.part.$$" "$SHARED"
place
