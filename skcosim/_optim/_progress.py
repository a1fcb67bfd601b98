"""What a gradient solver reports while it runs: progress and non-convergence."""

from __future__ import annotations

import sys
import warnings

from sklearn.exceptions import ConvergenceWarning


class IterationProgress:
    """``verbose`` output: a tqdm bar when tqdm is installed, else one line each.

    ``verbose=0`` prints nothing; ``verbose >= 1`` reports every iteration.
    ``verbose >= 2`` forces plain lines even with tqdm (e.g. for log files).
    """

    def __init__(self, verbose, total, name):
        self.verbose = verbose
        self.name = name
        self.bar = None
        if verbose == 1:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=name, leave=False)

    def update(self, iteration, loss):
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.6g}", refresh=False)
        else:
            print(f"{self.name}: iteration {iteration}, loss = {loss:.8g}")
            sys.stdout.flush()

    def close(self, message=None):
        if self.bar is not None:
            self.bar.close()
        if self.verbose and message:
            print(f"{self.name}: {message}")


def warn_not_converged(name, max_iter, note=None):
    """The ``ConvergenceWarning`` every gradient solver raises at ``max_iter``.

    ``note``, when given, is appended (a sentence).
    """
    warnings.warn(
        f"{name} stopped at max_iter={max_iter} before reaching tol; "
        "increase max_iter or tol." + ("" if note is None else f" {note}"),
        ConvergenceWarning,
        stacklevel=3,
    )
