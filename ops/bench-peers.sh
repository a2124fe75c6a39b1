#!/usr/bin/env bash
# Triton's event log against its peers on one durable throwaway PostgreSQL, in one run: appends by writer
# count, global read + decode and fold for Triton (`triton bench figures`, release build), Python
# eventsourcing (PyPI) and message-db (from its published schema: MESSAGE_DB_SOURCE=<checkout of
# github.com/message-db/message-db>; skipped, saying why, without one). Prints the figures and Triton's
# ratios, and writes peers.json and peers.png (matplotlib) into $TRITON_BENCH_OUT (default
# .build/bench-peers). Arguments go to ops/bench_peers.py (e.g. --seconds 3 --writers 1,8).
set -euo pipefail
cd "$(dirname "$0")/.."
ops/deps.sh
out=${TRITON_BENCH_OUT:-.build/bench-peers}
mkdir -p "$out"
venv=${TRITON_PEERS_VENV:-.build/peers-venv}
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "eventsourcing[postgres]==9.5.6" "matplotlib>=3.8"
PGROOT=/tmp/triton-bench-pg
trap 'ops/pg.sh stop "$PGROOT" || true' EXIT
url=$(ops/pg.sh start "$PGROOT" 54331 durable)
swift build -c release --product triton
# The options both sides take (the rest go to the peers' side only).
seconds=5 writers=1,2,4,8 streams=1000 per_stream=100
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --seconds) seconds=${args[$((i + 1))]} ;;
    --writers) writers=${args[$((i + 1))]} ;;
    --streams) streams=${args[$((i + 1))]} ;;
    --events-per-stream) per_stream=${args[$((i + 1))]} ;;
  esac
done
.build/release/triton bench figures --database-url "$url" --seconds "$seconds" --writers "$writers" \
  --streams "$streams" --events-per-stream "$per_stream" --output json > "$out/triton.json"
"$venv/bin/python" ops/bench_peers.py --url "$url" --triton "$out/triton.json" --out "$out" "$@"
