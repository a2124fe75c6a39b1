#!/usr/bin/env bash
# The run command: installs what is missing, builds Triton, and runs `triton serve` with its embedded
# defaults (a private PostgreSQL in .triton/postgres, the simulated cluster in process with its API on
# 127.0.0.1:6443). Arguments go to `triton serve`; `ops/run.sh demo [...]` runs the scripted demo instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/deps.sh
swift build --product triton
if [[ "${1:-}" == "demo" ]]; then
    shift
    exec .build/debug/triton demo "$@"
fi
exec .build/debug/triton serve "$@"
