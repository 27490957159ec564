#!/usr/bin/env bash
# Set up everything calcml needs in ./.venv, then run the tour or the whole test suite.
#   bash dev.sh tour     the book in one run (calcml tour, on embedded data)
#   bash dev.sh test     every test (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

setup() {
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[all,test,dev,docs]"
}

# The browser tests of the lab drive Debian's Chromium; graph pictures use Graphviz's `dot`; worksheets
# are typeset into PDFs with pdflatex (TeX Live's base, without its recommended extras).
system_packages() {
  command -v chromium >/dev/null && command -v dot >/dev/null && command -v pdflatex >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium graphviz >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends texlive-latex-base >/dev/null
  else
    echo "note: chromium, graphviz or pdflatex is missing and cannot be installed here; their tests will be skipped" >&2
  fi
}

case "${1:-}" in
  tour) setup; shift; exec .venv/bin/calcml tour "$@" ;;
  test) system_packages; setup; shift; exec .venv/bin/python -m pytest "$@" ;;
  *) echo "usage: bash dev.sh tour | bash dev.sh test [pytest arguments]" >&2; exit 2 ;;
esac
