"""The gauge of any dot-product model: factor_gauge_stability and project_factors."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import TruncatedSVD
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.autoencoders._gauge import sample_gauge
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
