#!/usr/bin/env bash
# Install Magazin with its development tools and run every check: lint, then the whole test
# suite against SQLite and against a real PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
# the clone's own environment first: its python, ruff, pytest and `magazin`
export PATH="$(pwd)/.venv/bin:$PATH"
# the browser of the end-to-end tests: Debian's Chromium (Playwright drives it)
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing Chromium (Debian package chromium) for the browser tests…" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# the preservation tools the validators and migration plans call (Debian packages)
bash scripts/tools.sh
# the evidence tests: openssl (the local time-stamping authority), Debian's JDK and Bouncy
# Castle (the independent RFC 4998 verifier)
missing=""
for p in openssl openjdk-17-jdk-headless libbcpkix-java; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ] && [ "$(id -u)" = 0 ]; then
  echo "Installing the evidence tests' tools (Debian packages:$missing)…" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# axe-core (npm), run inside the browser tests' pages for the WCAG 2.1 AA checks
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing npm (Debian package npm) for axe-core…" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  if command -v npm >/dev/null 2>&1; then
    echo "Installing axe-core (npm) for the accessibility checks…" >&2
    mkdir -p .cache/axe
    npm install --prefix .cache/axe --silent --no-audit --no-fund axe-core@4 >/dev/null
  fi
fi
ruff check magazin tests bench
ruff format --check magazin tests bench
# the S3 tests run against Ceph's RADOS Gateway, started once, for the SQLite pass (the
# PostgreSQL pass skips them: they add nothing on a second database)
echo "== tests on SQLite (S3: Ceph RADOS Gateway)" >&2
. scripts/ceph.sh
trap ceph_stop EXIT
python -m pytest "$@"
ceph_stop
trap - EXIT
unset MAGAZIN_S3_ENDPOINT
echo "== tests on PostgreSQL" >&2
. scripts/postgres.sh
trap pg_stop EXIT
python -m pytest "$@"
