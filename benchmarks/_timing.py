"""Side-by-side timing shared by the benchmark scripts."""

from __future__ import annotations

import gc
import time

import numpy as np


def timed(fn):
    """``(seconds, output)`` of one call of ``fn``, after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def interleaved(methods, repeat):
    """``{name: (best time, last output)}``, methods interleaved per round.

    Each of ``repeat`` rounds calls every method once, in order; the minimum
    over the rounds is kept. Interleaving spreads a busy machine's noise
    over all methods instead of one, so ratios from one run compare.
    """
    best = {name: (np.inf, None) for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            seconds, out = timed(fn)
            best[name] = (min(best[name][0], seconds), out)
    return best
