#!/usr/bin/env bash
# `triton bench seals` against a durable throwaway PostgreSQL (fsync and synchronous_commit on),
# built in release mode. Arguments go to the benchmark (e.g. --events 100000 --output json).
exec "$(dirname "$0")/bench.sh" seals "$@"
