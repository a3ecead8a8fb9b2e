#!/usr/bin/env bash
# Fetches ONNX Runtime's shared library (libonnxruntime.so.1, version 1.30.0) from the npm package
# onnxruntime-node, which carries it, checks its sha256 and keeps it in a git-ignored cache.
# Idempotent: does nothing when the cached library already has the right hash.
set -euo pipefail
VERSION=1.30.0
SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
CACHE=${GLIMPSE_CACHE:-$(cd "$(dirname "$0")/.." && pwd)/.cache}
DEST=$CACHE/onnxruntime-$VERSION/libonnxruntime.so.1

have() { [ -f "$DEST" ] && echo "$SHA256  $DEST" | sha256sum -c --status; }
if have; then echo "onnxruntime $VERSION: $DEST"; exit 0; fi
command -v npm >/dev/null || { echo "setup: npm is needed to fetch ONNX Runtime (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "onnxruntime-node@$VERSION" >/dev/null)
tar -xzf "$tmp"/onnxruntime-node-$VERSION.tgz -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
mkdir -p "$(dirname "$DEST")"
mv "$tmp"/package/bin/napi-v6/linux/x64/libonnxruntime.so.1 "$DEST.part"
echo "$SHA256  $DEST.part" | sha256sum -c --status || { echo "setup: sha256 mismatch for libonnxruntime.so.1" >&2; rm -f "$DEST.part"; exit 1; }
mv "$DEST.part" "$DEST"
echo "onnxruntime $VERSION: $DEST"
