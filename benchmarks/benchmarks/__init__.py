"""airspeed velocity (asv) suite of skcosim: fit, transform, neighbours, metrics.

Run from ``benchmarks/``: ``asv run --python=same`` (in the current
environment) or ``asv continuous main HEAD``; ``asv check --python=same``
imports every benchmark. Side-by-side comparisons with other libraries are in
``benchmarks/compare.py``.
"""
