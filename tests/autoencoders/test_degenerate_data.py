"""Autoencoders on degenerate data: empty rows and columns, low rank, extreme
regularisation; each result equals the dense reference or the zero model.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder

from .._closed_forms import (
    ATOL,
    RTOL,
    _assert_finite,
    _assert_matches_reference,
    _product,
    closed_forms,
)

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.


@pytest.mark.catalogue(
    "E05",
    input="One user (one row)",
    outcome=(
        "Correct: the rank-one closed form (``s_1 = ||x||``), equal to the "
        "reference; components 2..k exactly zero"
    ),
)
@closed_forms
def test_one_user_gives_the_rank_one_closed_form(
    estimator, small_binary, gauge_free_reference
):
    """E05: a single user (one row): the rank-one closed form, other components 0."""
    X = small_binary[[1]]
    model = clone(estimator).fit(X)
    _assert_matches_reference(model, X, gauge_free_reference)
    assert_allclose(model.singular_values_[0], np.linalg.norm(X), rtol=1e-12)
    assert_array_equal(model.singular_values_[1:], 0)
    assert_array_equal(model.decoder_[:, 1:], 0)


@pytest.mark.catalogue(
    "E06",
    input="One item (one column), ``n_components=3``",
    outcome=(
        "Correct: the scalar closed form, equal to the reference; "
        "components 2..3 zero, ``transform`` still has 3 columns"
    ),
)
@closed_forms
def test_one_item_gives_the_scalar_closed_form(
    estimator, small_binary, gauge_free_reference
):
    """E06: a single item (one column), n_components=3 > 1."""
    X = small_binary[:, [0]]
    model = clone(estimator).fit(X)
    _assert_matches_reference(model, X, gauge_free_reference)
    assert model.transform(X).shape == (X.shape[0], 3)
    assert_array_equal(model.encoder_[:, 1:], 0)


@pytest.mark.catalogue(
    "E07",
    input="All-zero ``X`` (no interactions), dense or sparse, every solver",
    outcome=(
        "Correct: the zero model (zero factors, zero singular values, zero embeddings, "
        "``objective == 0``)."
    ),
)
@closed_forms
@pytest.mark.parametrize("solver", ["gram", "arpack", "randomized"])
@pytest.mark.parametrize("sparse", [False, True])
def test_all_zero_X_gives_the_zero_model(estimator, solver, sparse):
    """E07: every entry zero (no interactions at all), every solver.

    Regression: ``solver="arpack"`` raised ``ArpackError: Starting vector is
    zero`` before zero matrices were short-cut in ``top_k_spectrum``.
    """
    X = np.zeros((30, 10))
    X = sp.csr_matrix(X) if sparse else X
    model = clone(estimator).set_params(solver=solver, random_state=0).fit(X)
    _assert_finite(model)
    assert_array_equal(model.singular_values_, 0)
    assert_array_equal(_product(model), 0)
    assert_array_equal(model.transform(X), 0)
    assert model.objective(X) == 0


@pytest.mark.catalogue(
    "E08",
    input="Users with no interactions (zero rows)",
    outcome=(
        "Correct: their embeddings are exactly 0 and the model equals the "
        "one fitted without them"
    ),
)
@closed_forms
def test_users_without_interactions_get_zero_embeddings_and_change_nothing(
    estimator, small_binary
):
    """E08: all-zero rows (users with no interactions)."""
    X = np.vstack([small_binary, np.zeros((3, small_binary.shape[1]))])
    with_empty = clone(estimator).fit(X)
    without = clone(estimator).fit(small_binary)
    assert_array_equal(with_empty.transform(X)[-3:], 0)
    assert_allclose(_product(with_empty), _product(without), rtol=RTOL, atol=ATOL)


@pytest.mark.catalogue(
    "E09",
    input=(
        "Items nobody interacted with (zero columns), also with ``alpha=0`` "
        "(singular dropout system)"
    ),
    outcome=(
        "Correct: their rows of ``encoder_`` and ``decoder_`` are exactly "
        "0.0 (were rounding, ``1e-17``, with the Gram solver) and the other "
        "items' model equals the one fitted without those columns; equal to "
        "the reference"
    ),
)
@closed_forms
def test_items_never_seen_get_zero_rows_and_change_nothing(
    estimator, small_binary, gauge_free_reference
):
    """E09: all-zero columns (items nobody interacted with)."""
    X = small_binary.copy()
    X[:, [2, 5]] = 0
    model = clone(estimator).fit(X)
    _assert_matches_reference(model, X, gauge_free_reference)
    for factor in (model.encoder_, model.decoder_):
        assert_array_equal(factor[[2, 5]], 0.0)  # exactly, not to rounding
    # The other items' model is the one fitted without the unseen columns.
    rest = np.delete(np.arange(X.shape[1]), [2, 5])
    reduced = clone(estimator).fit(X[:, rest])
    assert_allclose(
        _product(model)[np.ix_(rest, rest)], _product(reduced), rtol=RTOL, atol=ATOL
    )


@pytest.mark.catalogue("E09b", part_of="E09")
@closed_forms
def test_items_never_seen_with_alpha_zero_get_zero_rows(estimator, small_binary):
    """E09b: unseen items when alpha = 0 (the dropout Gram system is singular)."""
    X = small_binary.copy()
    X[:, 4] = 0
    model = clone(estimator).set_params(alpha=0.0).fit(X)
    _assert_finite(model)
    assert_array_equal(model.encoder_[4], 0.0)
    assert_array_equal(model.decoder_[4], 0.0)


@pytest.mark.catalogue(
    "E10",
    input="``n_components=20`` > ``min(n_samples, n_features)=6``",
    outcome="Correct: extra components are zero, the fit is the full-rank reference",
)
@closed_forms
def test_n_components_above_min_shape_pads_with_zero_components(
    estimator, small_binary, gauge_free_reference
):
    """E10: n_components = 20 > min(n_samples, n_features) = 6."""
    X = small_binary[:6, :8]
    model = clone(estimator).set_params(n_components=20).fit(X)
    _assert_matches_reference(model, X, gauge_free_reference)
    assert model.encoder_.shape == (8, 20)
    assert_array_equal(model.singular_values_[6:], 0)
    assert_array_equal(model.decoder_[:, 6:], 0)


@pytest.mark.catalogue(
    "E11",
    input="``n_components=5`` > rank 2 (repeated columns), every solver",
    outcome=(
        "Correct: singular values beyond the rank are 0 (to ``1e-8``), "
        "equal to the reference (exact solvers)"
    ),
)
@closed_forms
@pytest.mark.parametrize("solver", ["gram", "arpack", "randomized"])
def test_n_components_above_the_rank_gives_zero_components(
    estimator, small_binary, gauge_free_reference, solver
):
    """E11: rank-2 X (repeated columns) with n_components = 5, every solver."""
    rng = np.random.RandomState(1)
    X = rng.rand(40, 2) @ rng.rand(2, 12)
    model = clone(estimator).set_params(n_components=5, solver=solver, random_state=0)
    model.fit(X)
    if solver != "randomized":  # the randomized range finder is approximate
        _assert_matches_reference(model, X, gauge_free_reference)
    _assert_finite(model)
    assert_allclose(model.singular_values_[2:], 0, atol=1e-8)


@pytest.mark.catalogue(
    "E12",
    input="Objective 2 with ``alpha >= s_1`` (every component cut)",
    outcome=(
        "Correct: zero factors and embeddings, ``objective == ||X||^2``, "
        "projected item embeddings 0 (not NaN)"
    ),
)
@pytest.mark.parametrize("sparse", [False, True])
def test_objective2_alpha_cutting_every_component_gives_the_zero_model(
    small_binary, sparse
):
    """E12: Objective 2 with alpha >= s_1: every component is cut."""
    X = sp.csr_matrix(small_binary) if sparse else small_binary
    s1 = np.linalg.norm(small_binary, 2)
    model = WeightDecayAutoencoder(n_components=3, alpha=s1 * 1.0001).fit(X)
    _assert_finite(model)
    assert_array_equal(model.encoder_, 0)
    assert_array_equal(model.decoder_, 0)
    assert_array_equal(model.transform(X), 0)
    assert_allclose(model.objective(X), np.sum(small_binary**2), rtol=1e-12)
    # Zero rows have no direction: the projected embedding is zero, not NaN.
    assert_array_equal(model.item_embeddings("projected"), 0)


@pytest.mark.catalogue(
    "E13",
    input="Objective 2 with ``alpha`` = 0 or ``1e-300`` on rank-deficient data",
    outcome="Correct: ``A B^T`` is the rank-k projector ``V_k V_k^T``, finite",
)
@pytest.mark.parametrize("alpha", [0.0, 1e-300])
def test_objective2_with_no_decay_is_the_rank_k_projector(
    small_binary, gauge_free_reference, alpha
):
    """E13: Objective 2 with alpha = 0 or 1e-300: A B^T = V_k V_k^T, finite."""
    X = np.hstack([small_binary, small_binary[:, :2]])  # rank-deficient
    model = WeightDecayAutoencoder(n_components=12, alpha=alpha).fit(X)
    _assert_matches_reference(model, X, gauge_free_reference)
    P = _product(model)
    assert_allclose(P @ P, P, atol=1e-9)  # a projector


@pytest.mark.catalogue(
    "E14",
    input="Objective 1 with ``alpha`` in {0, ``1e-300``, ``1e-12``}",
    outcome="Correct: ``A B^T = V_k V_k^T`` (truncated SVD) to ``1e-9``",
)
@pytest.mark.parametrize("alpha", [0.0, 1e-300, 1e-12])
def test_objective1_tiny_alpha_tends_to_the_truncated_svd(
    small_binary, gauge_free_reference, alpha
):
    """E14: Objective 1 with alpha in {0, 1e-300, 1e-12}: A B^T -> V_k V_k^T."""
    model = DropoutAutoencoder(n_components=4, alpha=alpha).fit(small_binary)
    _assert_matches_reference(model, small_binary, gauge_free_reference)
    _, _, Vt = np.linalg.svd(small_binary)
    assert_allclose(_product(model), Vt[:4].T @ Vt[:4], atol=1e-9)


@pytest.mark.catalogue(
    "E15",
    input="``dropout=1e-10``, ``alpha=0``, more items than users (``X^T X`` singular)",
    outcome=(
        "Correct: the loss equals Objective 1's (the SVD tail ``sum_{i>k} "
        "s_i^2``) to ``1e-6``, finite"
    ),
)
def test_tiny_dropout_without_alpha_on_a_singular_gram_tends_to_objective1():
    """E15: dropout = 1e-10, alpha = 0, more items than users (X^T X singular)."""
    rng = np.random.RandomState(2)
    X = (rng.rand(6, 15) < 0.5).astype(float)
    X[0, :] = 1  # no unseen item: every column has a nonzero penalty
    tiny = DropoutAutoencoder(n_components=3, alpha=0.0, dropout=1e-10).fit(X)
    plain = DropoutAutoencoder(n_components=3, alpha=0.0).fit(X)
    _assert_finite(tiny)
    s = np.linalg.svd(X, compute_uv=False)
    # Objective 1 with alpha = 0 is the truncated SVD: loss = sum of s_i^2, i > k.
    assert_allclose(plain.objective(X), np.sum(s[3:] ** 2), rtol=1e-9)
    assert_allclose(tiny.objective(X), plain.objective(X), rtol=1e-6)


@pytest.mark.catalogue(
    "E16",
    input="``dropout=0.999999``",
    outcome=(
        "Correct: heavy shrinkage, equal to the reference, loss at most ``||X||^2``"
    ),
)
def test_dropout_close_to_one_gives_a_finite_near_zero_model(
    small_binary, gauge_free_reference
):
    """E16: dropout = 0.999999: heavy shrinkage, finite, matches the reference."""
    model = DropoutAutoencoder(n_components=3, alpha=0.0, dropout=0.999999)
    model.fit(small_binary)
    _assert_matches_reference(model, small_binary, gauge_free_reference)
    assert np.abs(_product(model)).max() < 1e-3
    assert model.objective(small_binary) <= np.sum(small_binary**2)


@pytest.mark.catalogue(
    "E17",
    input="Negative values (mean-centred ratings), dense and sparse",
    outcome="Correct: equal to the reference",
)
@closed_forms
@pytest.mark.parametrize("sparse", [False, True])
def test_negative_values_are_fitted_exactly(
    estimator, small_binary, gauge_free_reference, sparse
):
    """E17: negative values (mean-centred ratings)."""
    X = small_binary * np.arange(1, 10) - 2.5 * (small_binary > 0)
    model = clone(estimator).fit(sp.csr_matrix(X) if sparse else X)
    _assert_matches_reference(model, X, gauge_free_reference)


@pytest.mark.catalogue(
    "E19",
    input="``X`` times ``1e-100`` or ``1e100`` with ``alpha`` rescaled to match",
    outcome="Correct: the same item cosines (to ``1e-8``)",
)
@closed_forms
@pytest.mark.parametrize("scale", [1e-100, 1e100])
def test_extreme_but_representable_scales_give_the_same_cosines(
    estimator, small_binary, scale
):
    """E19: X times 1e-100 or 1e100, with alpha rescaled to match.

    Objective 2 is equivariant with alpha ~ scale, Objective 1 and dropout
    with alpha ~ scale^2; the item cosines must not change.
    """
    alpha = estimator.get_params()["alpha"]
    power = 1 if isinstance(estimator, WeightDecayAutoencoder) else 2
    ref = clone(estimator).fit(small_binary)
    scaled = clone(estimator).set_params(alpha=alpha * scale**power)
    scaled.fit(small_binary * scale)
    _assert_finite(scaled)

    def cosines(E):
        U = E / np.linalg.norm(E, axis=1, keepdims=True)
        return U @ U.T

    assert_allclose(
        cosines(scaled.item_embeddings("projected")),
        cosines(ref.item_embeddings("projected")),
        atol=1e-8,
    )


@pytest.mark.catalogue(
    "E39",
    input="Zero matrix, one row, one column, all-ones matrix, ``alpha`` 0 or 1",
    outcome=(
        "Correct and silent: no ``RuntimeWarning``, every factor and embedding finite"
    ),
)
@closed_forms
def test_no_runtime_warnings_on_degenerate_fits(estimator, small_binary):
    """E39: zero matrix, one row, one column, alpha = 0: no RuntimeWarning.

    A RuntimeWarning (divide by zero, invalid value) is how a NaN is usually
    born; these fits must not emit one.
    """
    cases = [
        np.zeros((5, 4)),
        small_binary[[0]],
        small_binary[:, [0]],
        np.ones((4, 4)),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for X in cases:
            for alpha in (0.0, 1.0):
                model = clone(estimator).set_params(alpha=alpha).fit(X)
                _assert_finite(model)
                assert np.all(np.isfinite(model.transform(X)))
                for kind in ("decoder", "encoder", "projected"):
                    assert np.all(np.isfinite(model.item_embeddings(kind)))
