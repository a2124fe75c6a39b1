#!/usr/bin/env bash
# Fuzzes Triton's REST API from its own OpenAPI document with schemathesis (PyPI) for a bounded
# time: every generated request must get an answer that is not a 5xx. Also validates the document
# (openapi-spec-validator). Usage: ops/fuzz-api.sh BASE_URL [SECONDS] [RESPONSES_JSON]
# (e.g. http://127.0.0.1:8088). With RESPONSES_JSON it writes every request's method, path, status and
# X-Request-ID (the id the server records on the events a request appends) there, from schemathesis'
# HAR report, so a caller can check that no rejected request wrote anything.
# A venv is made in $TRITON_FUZZ_VENV, else in a temporary folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="$1"
seconds="${2:-30}"
responses="${3:-}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
venv="${TRITON_FUZZ_VENV:-$tmp/venv}"
[[ -x "$venv/bin/st" ]] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q schemathesis openapi-spec-validator; }
"$venv/bin/openapi-spec-validator" "$root/Sources/TritonAPI/openapi.json"
# The watch streams until a flow finishes and the log stream never ends, so both are left out. Phases: the document's examples (a real
# instance in prod), coverage (boundary values of every field), fuzzing, and stateful (following the
# document's links from a created flow to the intents on it); one worker (the coverage phase errs with two).
"$venv/bin/st" run "$base/api/v1/openapi.json" --checks not_a_server_error --phases examples,coverage,fuzzing,stateful --max-time "$seconds" \
    --exclude-operation-id watchDeployFlow --exclude-operation-id followLog --workers 1 --generation-database none --no-color \
    --report har --report-har-path "$tmp/fuzz.har"
if [[ -n "$responses" ]]; then
    python3 - "$tmp/fuzz.har" "$responses" <<'PY'
import json, sys
from urllib.parse import urlsplit

entries = json.load(open(sys.argv[1]))["log"]["entries"]
out = []
for entry in entries:
    headers = {h["name"].lower(): h["value"] for h in entry["response"].get("headers", [])}
    out.append({"method": entry["request"]["method"], "path": urlsplit(entry["request"]["url"]).path,
                "status": entry["response"]["status"], "requestID": headers.get("x-request-id")})
json.dump({"responses": out}, open(sys.argv[2], "w"))
print("recorded %d responses in %s" % (len(out), sys.argv[2]))
PY
fi
