#!/usr/bin/env bash
# `triton bench reports` against a durable throwaway PostgreSQL (fsync and synchronous_commit on),
# built in release mode. Arguments go to the benchmark (e.g. --releases 1000 --output json).
set -euo pipefail
cd "$(dirname "$0")/.."
ops/deps.sh
PGROOT=/tmp/triton-bench-pg
trap 'ops/pg.sh stop "$PGROOT" || true' EXIT
url=$(ops/pg.sh start "$PGROOT" 54331 durable)
swift build -c release --product triton
.build/release/triton bench reports --database-url "$url" "$@"
