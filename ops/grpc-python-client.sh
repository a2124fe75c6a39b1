#!/usr/bin/env bash
# Runs Tests/grpc/canary_client.py against a Triton gRPC server: stubs generated from
# Sources/TritonGRPC/Protos by Python's grpcio-tools (an independent toolchain), in a venv
# ($TRITON_PY_VENV, else a temporary one).
# Usage: ops/grpc-python-client.sh HOST:PORT [--ca PEM (TLS)] [--smoke (a few calls only)]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${TRITON_PY_VENV:-}"
cleanup=()
if [[ -z "$venv" ]]; then
    venv="$(mktemp -d)/venv"
    cleanup+=("$(dirname "$venv")")
fi
stubs="$(mktemp -d)"
cleanup+=("$stubs")
trap 'rm -rf "${cleanup[@]}"' EXIT
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import grpc, grpc_tools' 2>/dev/null || "$venv/bin/pip" install -q grpcio grpcio-tools
"$venv/bin/python" -m grpc_tools.protoc -I "$root/Sources/TritonGRPC/Protos" --python_out="$stubs" --grpc_python_out="$stubs" \
    "$root"/Sources/TritonGRPC/Protos/*.proto
"$venv/bin/python" "$root/Tests/grpc/canary_client.py" "$1" "$stubs" "${@:2}"
