#!/usr/bin/env bash
# The test command: installs what is missing, starts a throwaway PostgreSQL, builds, runs every
# test, and stops what it started. Extra arguments go to `swift test` (e.g. --filter Store).
set -euo pipefail
cd "$(dirname "$0")/.."
ops/deps.sh
ops/check-architecture.py
PGROOT=${TRITON_TEST_PGROOT:-/tmp/triton-test-pg}
PGPORT=${TRITON_TEST_PGPORT:-54329}
cleanup() { ops/pg.sh stop "$PGROOT" || true; }
trap cleanup EXIT
export TRITON_TEST_DATABASE_URL
TRITON_TEST_DATABASE_URL=$(ops/pg.sh start "$PGROOT" "$PGPORT")
echo "ops/test.sh: PostgreSQL for tests at $TRITON_TEST_DATABASE_URL"
swift build --build-tests
swift test --skip-build "$@"
