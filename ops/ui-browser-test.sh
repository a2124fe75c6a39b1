#!/usr/bin/env bash
# The web UI's browser test: Tests/ui/canary_ui.py drives Debian's chromium through chromedriver with
# Selenium (PyPI, in a venv: $TRITON_PY_VENV, else a temporary one) against `triton serve` on the
# given database and a standalone `triton sim`. Screenshots go to the output folder.
# Usage: ops/ui-browser-test.sh TRITON_BINARY DATABASE_URL SCHEMA OUT_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/ops/deps.sh"
venv="${TRITON_PY_VENV:-}"
if [[ -z "$venv" ]]; then
    tmp="$(mktemp -d)"
    venv="$tmp/venv"
    trap 'rm -rf "$tmp"' EXIT
fi
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import selenium' 2>/dev/null || "$venv/bin/pip" install -q selenium
exec "$venv/bin/python" "$root/Tests/ui/canary_ui.py" "$@"
