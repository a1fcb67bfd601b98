#!/usr/bin/env bash
# Build the HTML documentation from a clean state; every warning is an error.
# Needs the `docs` extra: pip install -e ".[docs]"
# Usage: bash docs/build.sh [extra sphinx-build options]
set -euo pipefail
cd "$(dirname "$0")"
# Generated folders (git-ignored): a stale gallery or API page must not hide
# a broken one.
rm -rf _build auto_examples gen_modules sg_execution_times.rst
export MPLBACKEND=agg
# The gallery examples are small: BLAS threads buy nothing on them and, on a
# busy machine, spin against each other. An explicit setting wins.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
start=$(date +%s)
# The MovieLens gallery example reads MovieLens-100k as RecBole ships it,
# fetched here as the benchmarks fetch it (never committed).
SKCOSIM_ML100K="$(python ../benchmarks/_data.py ml-100k)"
export SKCOSIM_ML100K
python -m sphinx -W --keep-going -b html "$@" . _build/html
# Readers may be offline: no page may load a script, style or font from a CDN.
if grep -rlE "(src|href)=\"(https?:)?//[^\"]*(cdn|unpkg|googleapis)" _build/html --include="*.html"; then
    echo "docs: the pages above load assets from a CDN" >&2
    exit 1
fi
echo "docs built in $(( $(date +%s) - start )) s: $(pwd)/_build/html/index.html"
