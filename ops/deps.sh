#!/usr/bin/env bash
# Installs the Debian packages Triton needs to build, test and run (only those missing).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
for p in pkg-config libpq-dev libcurl4-openssl-dev postgresql-15 openssl curl python3-venv chromium chromium-driver poppler-utils; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "ops/deps.sh: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
