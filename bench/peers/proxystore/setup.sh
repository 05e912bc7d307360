#!/usr/bin/env bash
# Installs the peer (ProxyStore, pinned) into a virtual environment under .cache/ (git ignores it).
# Idempotent: does nothing when the pinned version is already there. Prints the venv's python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
venv="${PROXYSTORE_VENV:-$root/.cache/venv-proxystore}"
version="${PROXYSTORE_VERSION:-1.1.0}"
python="${PYTHON:-python3}"
if ! "$venv/bin/python" -c "import proxystore, redis, sys; sys.exit(proxystore.__version__ != '$version')" 2>/dev/null; then
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "proxystore==$version" "redis>=5" >&2
fi
echo "$venv/bin/python"
