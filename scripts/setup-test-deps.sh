#!/usr/bin/env bash
# Installs the Debian packages `make test` needs beyond the build's (scripts/setup-deps.sh) when
# they are missing: torch and friends under the model tooling's Python environment (tools/; the
# rest comes pinned from PyPI through scripts/setup-venv.sh), OpenBLAS so that torch does not fall
# back to the reference BLAS, chromium for the web interface's browser tests (web/ui), and npm,
# when there is none, to fetch ONNX Runtime (scripts/setup-ort.sh). Idempotent; needs root (or
# sudo) only when something is missing.
set -euo pipefail
pkgs=(python3-venv python3-torch python3-torchvision python3-torchaudio python3-onnx python3-numpy python3-pil
  python3-yaml libopenblas0-openmp chromium)
command -v npm >/dev/null || pkgs+=(npm)
exec "$(dirname "$0")/apt-install.sh" setup-test "${pkgs[@]}"
