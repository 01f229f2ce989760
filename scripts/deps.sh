#!/usr/bin/env bash
# Installs the system packages liveproof needs on Debian 12, only those missing:
#   ffmpeg (decoding, also used by tests), cmake + clang + libclang-dev (building whisper.cpp),
#   python3-pip (fetching model wheels from PyPI), espeak-ng (tests speak sales talk with it),
#   openssl (checks RFC 3161 timestamp tokens; tests run a local TSA with it),
#   chromium + chromium-driver + fonts-noto-cjk (the web page, Chinese included, is tested in
#   headless Chromium),
#   libopenblas-dev (whisper.cpp's encoder runs its matrix products through OpenBLAS),
#   postgresql-15 (the platform's catalog; tests start their own server on loopback).
set -euo pipefail
need=()
for p in ffmpeg cmake clang libclang-dev pkg-config espeak-ng openssl chromium chromium-driver fonts-noto-cjk libopenblas-dev postgresql-15; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
python3 -m pip --version >/dev/null 2>&1 || need+=(python3-pip)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
