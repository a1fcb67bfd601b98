"""Tests of gauge_stability and resample_stability (docs/user_guide/stability.rst)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer

import skcosim
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import gauge_stability, resample_stability
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding

CosineAutoencoder = skcosim.CosineAutoencoder


@pytest.fixture(scope="module")
def clustered():
    return make_clustered_interactions(
        n_users=1500, n_items=150, n_clusters=5, random_state=0
    ).data


def _gauge_free_models():
    yield WeightDecayAutoencoder(n_components=8, alpha=1.0)
    yield ProjectedEmbedding(DropoutAutoencoder(n_components=8, alpha=10.0))
    yield ProjectedEmbedding(WeightDecayAutoencoder(n_components=8, alpha=1.0))


@pytest.mark.parametrize("method", ["jaccard", "rbo"])
@pytest.mark.parametrize("model", list(_gauge_free_models()), ids=repr)
def test_gauge_stability_is_one_for_gauge_free_models(clustered, model, method):
    model.fit(clustered)
    assert gauge_stability(model, 10, n_draws=5, method=method, random_state=0) == 1.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gauge_stability_is_one_for_cosine_autoencoder(clustered):
    model = CosineAutoencoder(n_components=8, max_iter=20, random_state=0)
    model.fit(clustered)
    assert gauge_stability(model, 10, n_draws=5, random_state=0) == 1.0


@pytest.mark.parametrize("embedding", ["decoder", "encoder", "projected"])
def test_gauge_stability_of_weight_decay_is_one_for_every_embedding(
    clustered, embedding
):
    model = WeightDecayAutoencoder(n_components=8, alpha=1.0).fit(clustered)
    assert gauge_stability(model, 10, n_draws=5, embedding=embedding) == 1.0


@pytest.mark.parametrize("embedding", ["decoder", "encoder"])
def test_gauge_stability_of_dropout_is_clearly_below_one(clustered, embedding):
    # Objective 1: a random diagonal gauge changes the cosine neighbours.
    model = DropoutAutoencoder(n_components=8, alpha=10.0).fit(clustered)
    score = gauge_stability(model, 10, n_draws=5, embedding=embedding, random_state=0)
    assert score < 0.8
    # ... while the projected embedding of the same model is gauge-free.
    assert gauge_stability(model, 10, n_draws=5, embedding="projected") == 1.0


def test_gauge_stability_is_reproducible_and_in_unit_interval(clustered):
    model = DropoutAutoencoder(n_components=8, alpha=10.0).fit(clustered)
    a = gauge_stability(model, 10, n_draws=3, method="rbo", random_state=1)
    b = gauge_stability(model, 10, n_draws=3, method="rbo", random_state=1)
    assert a == b
    assert 0.0 <= a <= 1.0


def test_gauge_stability_uses_the_last_step_of_a_pipeline(clustered):
    pipe = make_pipeline(
        PopularityScaler(beta=0.5), DropoutAutoencoder(n_components=8, alpha=10.0)
    ).fit(clustered)
    kw = {"n_draws": 3, "embedding": "decoder", "random_state": 0}
    direct = gauge_stability(pipe[-1], 10, **kw)
    assert gauge_stability(pipe, 10, **kw) == direct
    assert direct < 0.8


def test_gauge_stability_errors_name_the_problem(clustered):
    with pytest.raises(NotFittedError):
        gauge_stability(WeightDecayAutoencoder(), 5)
    with pytest.raises(TypeError, match="no item_embeddings"):
        gauge_stability(Normalizer().fit(clustered), 5)


# -- resample_stability ---------------------------------------------------------


class _RecordingAutoencoder(WeightDecayAutoencoder):
    """Records the rows each clone is fitted on (by their content)."""

    fitted_on: list = []

    def fit(self, X, y=None):
        type(self).fitted_on.append({tuple(row) for row in X.toarray()})
        return super().fit(X, y)


def test_resample_stability_fits_on_disjoint_random_halves():
    rng = np.random.default_rng(0)
    X = make_clustered_interactions(n_users=200, n_items=40, random_state=0).data
    X = X + rng.random(X.shape) * 1e-3  # make every row distinct
    X = sp.csr_matrix(X)
    _RecordingAutoencoder.fitted_on = []
    resample_stability(
        _RecordingAutoencoder(n_components=4), X, 5, n_resamples=3, random_state=0
    )
    fits = _RecordingAutoencoder.fitted_on
    assert len(fits) == 6
    for first, second in zip(fits[::2], fits[1::2], strict=True):
        assert len(first) == len(second) == 100
        assert not first & second


def test_resample_stability_is_below_one_and_lower_for_random_gauges(clustered):
    wd = resample_stability(
        WeightDecayAutoencoder(n_components=8, alpha=1.0),
        clustered,
        10,
        n_resamples=2,
        random_state=0,
    )
    assert 0.0 < wd < 1.0
    # Each clone draws its own gauge from the global RNG (random_state=None);
    # seed it so that the draws, and the test, are reproducible.
    np.random.seed(0)  # noqa: NPY002 (the clones draw from the global RNG)
    random_gauge = resample_stability(
        DropoutAutoencoder(n_components=8, alpha=10.0, gauge="random"),
        clustered,
        10,
        n_resamples=2,
        random_state=0,
    )
    assert random_gauge < wd
    again = resample_stability(
        WeightDecayAutoencoder(n_components=8, alpha=1.0),
        clustered,
        10,
        n_resamples=2,
        random_state=0,
    )
    assert_allclose(again, wd, rtol=0, atol=0)


@pytest.mark.slow
def test_resample_stability_in_processes_scores_the_same_subsets(clustered):
    """n_jobs=2 fits the same halves: a closed form scores the same, to rounding."""
    model = WeightDecayAutoencoder(n_components=8, alpha=1.0)
    one = resample_stability(model, clustered, 10, n_resamples=2, random_state=0)
    two = resample_stability(
        model, clustered, 10, n_resamples=2, random_state=0, n_jobs=2
    )
    assert_allclose(two, one, rtol=0, atol=1e-12)


def test_resample_stability_in_processes_raises_the_fits_warnings_here(clustered):
    """A worker's ConvergenceWarning must reach the caller, not vanish."""
    from sklearn.exceptions import ConvergenceWarning

    model = CosineAutoencoder(4, loss="squared", max_iter=2)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        resample_stability(model, clustered, 5, n_resamples=1, n_jobs=2)


@pytest.mark.catalogue(
    "M51",
    input=(
        "``resample_stability`` and ``cosine_neighbors`` with ``n_jobs=0``, "
        "``True``, ``np.True_`` or ``1.5``"
    ),
    outcome=(
        "``InvalidParameterError`` naming ``n_jobs`` before any fit; ``-1``, ``2`` and "
        "``np.int64(1)`` give the serial result."
    ),
)
@pytest.mark.parametrize("n_jobs", [0, True, np.True_, 1.5])
def test_n_jobs_is_validated_like_scikit_learns(clustered, n_jobs):
    """M51: n_jobs=0, a boolean or a float.

    Regression: 0 passed validation and failed inside joblib, ``True`` ran as
    one job.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    from skcosim.metrics import cosine_neighbors

    X = clustered[:200]
    model = WeightDecayAutoencoder(n_components=4, alpha=1.0)
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        resample_stability(model, X, 5, n_resamples=1, n_jobs=n_jobs)
    E = np.random.RandomState(0).randn(30, 4)
    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        cosine_neighbors(E, 3, n_jobs=n_jobs)


@pytest.mark.catalogue("M51b", part_of="M51")
def test_valid_n_jobs_score_as_the_serial_computation(clustered):
    """M51b: n_jobs=-1, 2 and np.int64(1) still pass, to the serial score."""
    X = clustered[:200]
    model = WeightDecayAutoencoder(n_components=4, alpha=1.0)
    serial = resample_stability(model, X, 5, n_resamples=1, random_state=0)
    for valid in (-1, 2, np.int64(1)):
        score = resample_stability(
            model, X, 5, n_resamples=1, random_state=0, n_jobs=valid
        )
        assert_allclose(score, serial, rtol=0, atol=1e-12)


def test_resample_stability_rejects_empty_subsets(clustered):
    with pytest.raises(ValueError, match="leaves no sample"):
        resample_stability(WeightDecayAutoencoder(), clustered[:3], 2, subsample=0.1)
