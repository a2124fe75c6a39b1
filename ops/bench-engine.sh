#!/usr/bin/env bash
# `triton bench engine` against a durable throwaway PostgreSQL (fsync and synchronous_commit on),
# built in release mode. Arguments go to the benchmark (e.g. --flows 100 --output json).
exec "$(dirname "$0")/bench.sh" engine "$@"
