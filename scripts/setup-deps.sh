#!/usr/bin/env bash
# Installs the Debian packages Glimpse builds against (cgo: libjpeg-turbo for fast scaled JPEG
# decoding, libheif for HEIC/HEIF photos) when they are missing. Idempotent; needs root (or sudo)
# only when something is missing.
set -euo pipefail
pkgs=(pkg-config libturbojpeg0-dev libheif-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
