#!/usr/bin/env bash
# Set up everything calcml needs in ./.venv, then run the tour or the whole test suite.
#   bash dev.sh tour     the book in one run (calcml tour, on embedded data)
#   bash dev.sh test     every test (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

setup() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[all]"
}

case "${1:-}" in
  tour) setup; shift; exec .venv/bin/calcml tour "$@" ;;
  test) setup; shift; exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: bash dev.sh tour | bash dev.sh test [pytest arguments]" >&2; exit 2 ;;
esac
