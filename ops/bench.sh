#!/usr/bin/env bash
# `ops/bench.sh KIND [ARGS…]`: `triton bench KIND ARGS…` (store, engine, seals, reports, figures)
# against a durable throwaway PostgreSQL (fsync and synchronous_commit on), built in release mode; the
# server is stopped when the benchmark ends. The ops/bench-KIND.sh scripts call it.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?usage: ops/bench.sh store|engine|seals|reports|figures [ARGS…]}
shift
ops/deps.sh
PGROOT=/tmp/triton-bench-pg
trap 'ops/pg.sh stop "$PGROOT" || true' EXIT
url=$(ops/pg.sh start "$PGROOT" 54331 durable)
swift build -c release --product triton
.build/release/triton bench "$kind" --database-url "$url" "$@"
