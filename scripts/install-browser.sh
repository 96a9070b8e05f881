#!/usr/bin/env bash
# Install what the browser tests need on a fresh Debian machine (root only for apt-get):
#   - Debian's chromium package (/usr/bin/chromium)
#   - the playwright Python package in the active virtualenv
# Idempotent: each step is skipped when already present.
# Deliberately NOT run: `playwright install` -- it downloads its own browser build
# from a CDN, which this environment cannot reach; the tests drive /usr/bin/chromium.
set -euo pipefail

started=$(date +%s)
did=()

# The virtualenv: the active one, else the repository's .venv (as `make test` runs it).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z "${VIRTUAL_ENV:-}" && -x "$repo/.venv/bin/python" ]]; then
  export VIRTUAL_ENV="$repo/.venv"
fi
if [[ -z "${VIRTUAL_ENV:-}" ]]; then
  echo "install-browser: no virtualenv; run 'make install' (or '. .venv/bin/activate') first" >&2
  exit 1
fi
export PATH="$VIRTUAL_ENV/bin:$PATH"

if command -v chromium >/dev/null 2>&1; then
  echo "chromium: present ($(chromium --version 2>/dev/null || echo 'version unknown'))"
else
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-browser: chromium is missing and apt-get needs root; run" \
         "'sudo apt-get install -y --no-install-recommends chromium' or run this script as root" >&2
    exit 1
  fi
  echo "chromium: missing; installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends chromium
  echo "chromium: installed ($(chromium --version))"
  did+=("apt-get install chromium")
fi

if python -c "import playwright" >/dev/null 2>&1; then
  echo "playwright: present ($(python -m pip show playwright 2>/dev/null | awk '/^Version:/{print $2}'))"
else
  echo "playwright: missing; installing into $VIRTUAL_ENV"
  python -m pip install --quiet "playwright>=1.45"
  echo "playwright: installed ($(python -m pip show playwright | awk '/^Version:/{print $2}'))"
  did+=("pip install playwright")
fi

elapsed=$(( $(date +%s) - started ))
if [[ ${#did[@]} -eq 0 ]]; then
  echo "install-browser: nothing to do (${elapsed}s)"
else
  echo "install-browser: done in ${elapsed}s: ${did[*]}"
fi
