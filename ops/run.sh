#!/usr/bin/env bash
# The run command: installs what is missing, builds Triton, and runs it with its embedded defaults
# (a private PostgreSQL in .triton/postgres). Arguments go to `triton demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/deps.sh
swift build --product triton
exec .build/debug/triton demo "$@"
