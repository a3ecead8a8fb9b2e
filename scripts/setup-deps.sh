#!/usr/bin/env bash
# Installs the Debian packages Glimpse builds against (cgo: libjpeg-turbo for fast scaled JPEG
# decoding, libheif for HEIC/HEIF photos) when they are missing. Idempotent; needs root (or sudo)
# only when something is missing.
set -euo pipefail
pkgs=(pkg-config libturbojpeg0-dev libheif-dev)
exec "$(dirname "$0")/apt-install.sh" setup "${pkgs[@]}"
