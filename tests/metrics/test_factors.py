"""The gauge of any dot-product model: factor_gauge_stability and project_factors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.decomposition import TruncatedSVD
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._gauge import sample_gauge
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import factor_gauge_stability, gauge_stability
from skcosim.preprocessing import project_factors


@pytest.fixture(scope="module")
def X():
    return make_clustered_interactions(
        n_users=300, n_items=80, n_clusters=4, random_state=0
    ).data


def _column_cosines(S):
    norms = np.linalg.norm(S, axis=0)
    return (S.T @ S) / np.outer(norms, norms)


def _row_cosines(E):
    norms = np.linalg.norm(E, axis=1)
    return (E @ E.T) / np.outer(norms, norms)


def test_orthogonal_group_keeps_neighbors_invertible_group_moves_them(X):
    V = TruncatedSVD(n_components=8, random_state=0).fit(X).components_.T
    orthogonal = factor_gauge_stability(V, group="orthogonal", random_state=0)
    invertible = factor_gauge_stability(V, group="invertible", random_state=0)
    diagonal = factor_gauge_stability(V, group="diagonal", random_state=0)
    # Rotations keep every cosine: only float ties could differ.
    assert orthogonal == pytest.approx(1.0, abs=1e-12)
    assert invertible < 0.75
    assert diagonal < 0.9


def test_factor_gauge_stability_equals_gauge_stability_of_the_model(X):
    model = DropoutAutoencoder(n_components=6, alpha=5.0).fit(X)
    for seed in (0, 1):
        expected = gauge_stability(
            model, n_neighbors=5, n_draws=4, embedding="decoder", random_state=seed
        )
        got = factor_gauge_stability(
            model.decoder_,
            group="diagonal",
            n_neighbors=5,
            n_draws=4,
            random_state=seed,
        )
        assert got == expected
    wd = WeightDecayAutoencoder(n_components=6, alpha=1.0).fit(X)
    assert factor_gauge_stability(wd.decoder_, group="orthogonal") == gauge_stability(
        wd
    )


def test_invertible_gauge_draws_are_invertible_and_not_orthogonal():
    R = sample_gauge("invertible", 6, 0)
    assert np.linalg.cond(R) < 1e4
    assert not np.allclose(R @ R.T, np.eye(6))


def test_factor_gauge_stability_rejects_bad_input():
    with pytest.raises(InvalidParameterError, match="group"):
        factor_gauge_stability(np.ones((5, 2)), group="rotation")
    with pytest.raises(ValueError, match="n_neighbors=10 is too large"):
        factor_gauge_stability(np.eye(5), group="orthogonal")
    with pytest.raises(ValueError, match="NaN"):
        factor_gauge_stability(np.full((20, 2), np.nan), group="orthogonal")


def test_project_factors_has_the_column_cosines_of_the_scores():
    rng = np.random.RandomState(0)
    U, V = rng.randn(200, 5), rng.randn(40, 5)
    E = project_factors(U, V)
    assert E.shape == (40, 5)
    S = U @ V.T
    assert_allclose(_row_cosines(E), _column_cosines(S), atol=1e-8)
    # Not only the cosines: the inner products too.
    assert_allclose(E @ E.T, S.T @ S, rtol=1e-8, atol=1e-8 * np.abs(S.T @ S).max())


@pytest.mark.parametrize("seed", range(3))
def test_project_factors_is_unchanged_by_any_invertible_gauge(seed):
    rng = np.random.RandomState(seed)
    U, V = rng.randn(150, 4), rng.randn(30, 4)
    R = rng.randn(4, 4) * np.exp(rng.randn(4))  # general, badly scaled
    E = project_factors(U, V)
    E_R = project_factors(U @ R, V @ np.linalg.inv(R).T)
    assert_allclose(_row_cosines(E_R), _row_cosines(E), atol=1e-8)
    assert_allclose(E_R, E, atol=1e-8 * np.abs(E).max())


def test_project_factors_of_truncated_svd_is_gauge_free_where_its_factors_are_not(X):
    svd = TruncatedSVD(n_components=6, random_state=0).fit(X)
    U, V = svd.transform(X), svd.components_.T
    E = project_factors(U, V)
    assert factor_gauge_stability(E, group="invertible", random_state=0) < 1.0
    R = sample_gauge("invertible", 6, 1)
    E_R = project_factors(U @ R, V @ np.linalg.inv(R).T)
    assert_allclose(_row_cosines(E_R), _row_cosines(E), atol=1e-8)


def test_project_factors_rejects_mismatched_factors():
    with pytest.raises(ValueError, match="one column per component"):
        project_factors(np.ones((5, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        project_factors(np.full((5, 2), np.nan), np.ones((4, 2)))


def _peak_row_cosines(E):
    """Row cosines of ``E`` at any scale: divided by its largest entry first."""
    peak = np.abs(E).max()
    return _row_cosines(E / peak)


SCALES = [1e-200, 1e-160, 1e-100, 1e-20, 1e20, 1e100, 1e160, 1e200]


@pytest.mark.catalogue(
    "P17",
    input=(
        "``project_factors`` on user or item factors scaled by ``1e-200`` to "
        "``1e200``, and on all-zero factors"
    ),
    outcome=(
        "Correct: the embedding of the 1.0-scale factors times the scale (rtol 1e-10), "
        "the column cosines of ``U V^T`` (to 1e-10), zero rows for zero factors, never "
        "NaN; a ``ValueError`` when the scores themselves overflow or underflow "
        "float64."
    ),
)
@pytest.mark.parametrize("side", ["user", "item"])
@pytest.mark.parametrize("scale", SCALES)
def test_project_factors_is_invariant_to_the_factors_scale(scale, side):
    """P17: project_factors on factors scaled by 1e-200 to 1e200.

    Regression: the Gram matrix U^T U underflowed (1e-160: wrong cosines,
    1e-200: all zeros) or overflowed (1e160: LinAlgError).
    """
    rng = np.random.RandomState(0)
    U, V = rng.randn(60, 4), rng.randn(25, 4)
    V[3] = 0.0  # an item without factors
    E = project_factors(U, V)
    scaled = (U * scale, V) if side == "user" else (U, V * scale)
    E_scaled = project_factors(*scaled)
    assert np.all(np.isfinite(E_scaled))
    assert_allclose(E_scaled, E * scale, rtol=1e-10, atol=1e-10 * scale)
    assert_array_equal(E_scaled[3], 0.0)
    keep = np.arange(25) != 3
    S = U @ V.T  # the 1.0-scale scores: an independent reference
    assert_allclose(
        _peak_row_cosines(E_scaled[keep]),
        _column_cosines(S[:, keep]),
        atol=1e-10,
    )


def test_project_factors_of_zero_factors_is_zero_and_extreme_scores_are_refused():
    """P17: zero factors give zero rows; scores beyond float64 a ValueError."""
    rng = np.random.RandomState(0)
    U, V = rng.randn(30, 3), rng.randn(12, 3)
    for zero in ((np.zeros_like(U), V), (U, np.zeros_like(V))):
        assert_array_equal(project_factors(*zero), 0.0)
    # Opposite scales: the scores are the 1.0-scale ones.
    assert_allclose(
        project_factors(U * 1e200, V * 1e-200),
        project_factors(U, V),
        rtol=1e-10,
        atol=1e-10,
    )
    for scale in (1e200, 1e-200):
        with pytest.raises(ValueError, match="overflow or underflow float64"):
            project_factors(U * scale, V * scale)
