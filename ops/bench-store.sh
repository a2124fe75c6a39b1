#!/usr/bin/env bash
# `triton bench store` against a durable throwaway PostgreSQL (fsync and synchronous_commit on),
# built in release mode. Arguments go to the benchmark (e.g. --seconds 3 --output json).
exec "$(dirname "$0")/bench.sh" store "$@"
