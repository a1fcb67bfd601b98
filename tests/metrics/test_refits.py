"""Stability fits as plans, run in worker processes in the background."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skcosim import DropoutAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import resample_stability, restart_stability
from skcosim.metrics._refits import start_refits
from skcosim.metrics._restart import restart_plan
from skcosim.metrics._stability import resample_plan


@pytest.fixture(scope="module")
def X():
    """Clustered interactions with two items nobody saw."""
    X = make_clustered_interactions(
        n_users=300, n_items=50, n_clusters=4, random_state=0
    ).data.tolil()
    X[:, [7, 30]] = 0
    return X.tocsr()


class _Noisy(DropoutAutoencoder):
    """A seeded model whose every fit warns, and which fails below 100 users."""

    def fit(self, X, y=None):
        if X.shape[0] < 100:
            raise ValueError("too few users for this model")
        warnings.warn("not converged (test)", ConvergenceWarning, stacklevel=2)
        return super().fit(X, y)


@pytest.mark.catalogue(
    "M70",
    input=(
        "The fits of ``resample_stability`` and ``restart_stability`` as plans, "
        "all started at once in 2 worker processes (what ``skcosim audit`` "
        "runs beside its other models); a fit that fails, a plan that cannot "
        "be built"
    ),
    outcome=(
        "The same stabilities as the functions, exactly; the fits' warnings "
        "raised again when a plan is scored; a failed fit raises its error "
        "when its plan is scored, and the other plan's fits are not lost"
    ),
)
def test_background_plans_give_the_functions_numbers(X):
    """M70: plans in the background equal the stability functions."""
    model = _Noisy(6, alpha=10.0, gauge="random", random_state=0)
    common = dict(embedding="decoder", random_state=3, max_items=30)
    with pytest.warns(ConvergenceWarning):
        expected = (
            resample_stability(model, X, 5, n_resamples=2, **common),
            restart_stability(model, X, 5, n_restarts=3, **common),
        )
    assert 0 < expected[0] < 1 and 0 < expected[1] < 1  # the seeds matter
    background = start_refits(
        [
            lambda: resample_plan(model, X, 5, n_resamples=2, **common),
            lambda: restart_plan(model, X, 5, n_restarts=3, **common),
            lambda: resample_plan(model, X, 5, n_resamples=1, subsample=1.0),
        ],
        n_jobs=2,
    )
    for index in (0, 1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = background.score(index)
        if index == 0:  # resample: the overlaps, draw by draw
            got = got.reduce("Resample stability")
        assert got == expected[index]
        assert {str(w.message) for w in caught} == {"not converged (test)"}
    with pytest.raises(ValueError, match="puts every sample in both"):
        background.score(2)

    # A fit that fails (halves of 150 users) raises when its plan is scored;
    # the restarts after it in the queue are still fitted and scored.
    small = X[:300:2]
    background = start_refits(
        [
            lambda: resample_plan(model, small, 5, n_resamples=1, **common),
            lambda: restart_plan(model, small, 5, n_restarts=2, **common),
        ],
        n_jobs=2,
    )
    with pytest.raises(ValueError, match="too few users"):
        background.score(0)
    with pytest.warns(ConvergenceWarning):
        got = background.score(1)
    with pytest.warns(ConvergenceWarning):
        assert got == restart_stability(model, small, 5, n_restarts=2, **common)
    background.close()
    assert np.isfinite(got)
