#!/usr/bin/env bash
# The clone's one virtual environment (.venv), shared by `make start` and `make test`:
#   scripts/venv.sh [EXTRAS]   create .venv where missing (installing Debian's python3-venv
#                              if Python cannot make one), install Magazin into it (with the
#                              optional extras, e.g. "dev"), and link `magazin` into a folder on
#                              PATH: /usr/local/bin as root, ~/.local/bin otherwise.
# Nothing is installed into the system's Python (Debian's refuses: externally-managed).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
extras=${1:-}

if [ ! -x "$VENV/bin/python" ]; then
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    rm -rf "$VENV"
    pkg="python3-venv python$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing Debian's $pkg (Python cannot make a virtual environment without it)…" >&2
      apt-get update -qq >/dev/null
      # shellcheck disable=SC2086 # two package names; the versioned one may not exist
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkg >/dev/null 2>&1 ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "python3 cannot create a virtual environment; install python3-venv" \
        "(sudo apt-get install python3-venv) and run this again." >&2
      exit 1
    fi
    python3 -m venv "$VENV"
  fi
fi

# install (again) only when pyproject.toml changed since the last install of these extras
stamp="$VENV/.installed${extras:+-$extras}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing Magazin${extras:+ with [$extras]} into $VENV…" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}"
  touch "$stamp"
fi

# `magazin` on PATH
if [ "$(id -u)" = 0 ]; then bindir=/usr/local/bin; else bindir="$HOME/.local/bin"; fi
mkdir -p "$bindir"
target="$(pwd)/$VENV/bin/magazin"
if [ "$(readlink "$bindir/magazin" 2>/dev/null)" != "$target" ]; then
  ln -sfn "$target" "$bindir/magazin"
  echo "Linked $bindir/magazin -> $target" >&2
fi
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "Note: $bindir is not on your PATH; add it (export PATH=\"$bindir:\$PATH\")" \
       "to call \`magazin\` from anywhere." >&2 ;;
esac
