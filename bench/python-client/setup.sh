#!/usr/bin/env bash
# Installs proxystream's Python client (python/, with its dependencies) into a virtual environment under
# .cache/ (git ignores it), again whenever python/ changed since. Prints the venv's python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${PYTHON_CLIENT_VENV:-$root/.cache/venv-python-client}"
python="${PYTHON:-python3}"
stamp="$(cd "$root" && find python -type f -newer "$venv/.installed" -not -path '*/__pycache__/*' -print -quit 2>/dev/null || echo new)"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.installed" ] || [ -n "$stamp" ]; then
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$root/python" >&2
  touch "$venv/.installed"
fi
echo "$venv/bin/python"
