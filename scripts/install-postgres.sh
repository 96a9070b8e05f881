#!/usr/bin/env bash
# Install what the PostgreSQL contract tests need on a fresh Debian machine: Debian's
# `postgresql` package (initdb, pg_ctl, postgres). The tests create their own throwaway cluster
# in a temporary folder, owned by the unprivileged `nobody` user when run as root, on 127.0.0.1.
# Idempotent: nothing is done when initdb is already installed.
set -euo pipefail

if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "postgresql: present ($(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ' '))"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-postgres: PostgreSQL is missing and apt-get needs root; run" \
       "'sudo apt-get install -y --no-install-recommends postgresql' or run this script as root" >&2
  exit 1
fi
echo "postgresql: missing; installing Debian's package"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends postgresql
# Debian's package starts a cluster of its own; the tests never use it (they start theirs).
echo "postgresql: installed ($(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' '))"
