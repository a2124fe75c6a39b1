#!/usr/bin/env bash
# Regenerates the committed gRPC Swift code for Triton's wire-compatible API.
#
#   ops/grpc-gen.sh [REPO_ROOT]      (REPO_ROOT defaults to the parent of this script's folder)
#
# Builds protoc-gen-swift and protoc-gen-grpc-swift-2 from the separate tools package
# ops/grpc-tools (scratch path .build-grpc-tools, kept out of the main package's .build), then runs
# protoc over Sources/TritonGRPC/Protos/*.proto into Sources/TritonGRPC/Generated.
# Run by hand after editing a .proto; commit the output. CI does not run it.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${1:-$SCRIPT_DIR/..}" && pwd)"
TOOLS="$ROOT/ops/grpc-tools"
SCRATCH="$ROOT/.build-grpc-tools"
PROTOS="$ROOT/Sources/TritonGRPC/Protos"
OUT="$ROOT/Sources/TritonGRPC/Generated"

# protoc (Debian's protobuf-compiler) and the well-known types (libprotobuf-dev:
# google/protobuf/timestamp.proto, wrappers.proto under /usr/include).
if ! command -v protoc >/dev/null 2>&1 || [ ! -f /usr/include/google/protobuf/timestamp.proto ]; then
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
  fi
fi

echo "grpc-gen: building plugins in $TOOLS" >&2
swift build --package-path "$TOOLS" --scratch-path "$SCRATCH" --product protoc-gen-swift
swift build --package-path "$TOOLS" --scratch-path "$SCRATCH" --product protoc-gen-grpc-swift-2
BIN="$(swift build --package-path "$TOOLS" --scratch-path "$SCRATCH" --show-bin-path)"

shopt -s nullglob
protos=("$PROTOS"/*.proto)
shopt -u nullglob
if [ "${#protos[@]}" -eq 0 ]; then
  echo "grpc-gen: no .proto files in $PROTOS" >&2
  exit 1
fi

# Generate into a fresh folder, then replace Generated/ whole, so a removed .proto leaves no stale file.
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
protoc \
  --proto_path="$PROTOS" \
  --proto_path=/usr/include \
  --plugin=protoc-gen-swift="$BIN/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$BIN/protoc-gen-grpc-swift-2" \
  --swift_out="$TMP" \
  --swift_opt=Visibility=Public \
  --grpc-swift-2_out="$TMP" \
  --grpc-swift-2_opt=Visibility=Public \
  "${protos[@]}"

# protoc-gen-grpc-swift-2 (grpc-swift-protobuf 2.4.1) lower-camel-cases method names without escaping
# Swift keywords: rpc Continue becomes `func continue(`, which does not compile. Backtick keyword
# function names in declarations (call sites like `self.continue(` are legal Swift as they are).
# The wire name (/deployflow.DeployFlow/Continue) is unaffected.
KEYWORDS='associatedtype|break|case|catch|class|continue|default|defer|deinit|do|else|enum|extension|fallthrough|false|fileprivate|for|func|guard|if|import|in|init|inout|internal|is|let|nil|operator|private|precedencegroup|protocol|public|repeat|rethrows|return|self|Self|static|struct|subscript|super|switch|throw|throws|true|try|typealias|var|where|while'
for f in "$TMP"/*.grpc.swift; do
  sed -E -i "s/(^|[^[:alnum:]_])func (${KEYWORDS})([<(])/\\1func \`\\2\`\\3/g" "$f"
done

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$TMP"/*.swift "$OUT"/
echo "grpc-gen: wrote $(ls "$OUT" | wc -l) files to $OUT:" >&2
ls -1 "$OUT" >&2
