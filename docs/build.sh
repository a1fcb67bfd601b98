#!/usr/bin/env bash
# Build the HTML documentation from a clean state; every warning is an error.
# Needs the `docs` extra: pip install -e ".[docs]"
# Usage: bash docs/build.sh [extra sphinx-build options]
set -euo pipefail
cd "$(dirname "$0")"
# Generated folders (git-ignored): a stale gallery or API page must not hide
# a broken one.
rm -rf _build auto_examples gen_modules
export MPLBACKEND=agg
python -m sphinx -W --keep-going -b html -j 1 "$@" . _build/html
