#!/usr/bin/env bash
# Install Magazin with its development tools and run every check: lint, then the whole test
# suite against SQLite and against a real PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --disable-pip-version-check -e '.[dev]'
ruff check magazin tests bench
ruff format --check magazin tests bench
echo "== tests on SQLite" >&2
python3 -m pytest "$@"
echo "== tests on PostgreSQL" >&2
. scripts/postgres.sh
trap pg_stop EXIT
python3 -m pytest "$@"
