"""Reliability catalogue, estimators: bad and degenerate inputs and what each gets.

Every test here is one row of the table in ``docs/reliability.rst`` (the case
id, e.g. ``E07``, starts its docstring). A case either gets a correct result,
checked against an independent ``numpy.linalg`` reference
(``conftest._gauge_free_reference``) or an exact property, or a
``ValueError`` / ``TypeError`` whose message names the problem.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

import skcosim
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding

CLOSED_FORMS = [
    WeightDecayAutoencoder(n_components=3, alpha=0.5),
    DropoutAutoencoder(n_components=3, alpha=2.0),
    DropoutAutoencoder(n_components=3, alpha=1.0, dropout=0.3),
]


def _all_estimators():
    """Closed forms plus every other estimator that has landed."""
    estimators = list(CLOSED_FORMS)
    if hasattr(skcosim, "CosineAutoencoder"):
        estimators.append(
            skcosim.CosineAutoencoder(n_components=3, max_iter=20, random_state=0)
        )
    return estimators


ALL_ESTIMATORS = _all_estimators()

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _ids(estimators):
    return [
        f"{type(e).__name__}-{'dropout' if e.get_params().get('dropout') else 'plain'}"
        for e in estimators
    ]


closed_forms = pytest.mark.parametrize(
    "estimator", CLOSED_FORMS, ids=_ids(CLOSED_FORMS)
)
all_estimators = pytest.mark.parametrize(
    "estimator", ALL_ESTIMATORS, ids=_ids(ALL_ESTIMATORS)
)

# Gauge-free products are compared to the dense reference at this tolerance:
# both are exact up to rounding on these tiny, well-separated spectra.
RTOL, ATOL = 1e-7, 1e-9


def _assert_finite(model):
    for name in ("encoder_", "decoder_", "singular_values_"):
        assert np.all(np.isfinite(getattr(model, name))), name


def _assert_matches_reference(model, X, reference):
    """The fitted model's gauge-free products equal the reference's."""
    _assert_finite(model)
    ref = reference(model, X)
    A = model.encoder_.astype(np.float64)
    B = model.decoder_.astype(np.float64)
    assert_allclose(A @ B.T, ref["AB"], rtol=RTOL, atol=ATOL)
    if "BB" in ref:
        assert_allclose(B @ B.T, ref["BB"], rtol=RTOL, atol=ATOL)


def _product(model):
    return model.encoder_.astype(np.float64) @ model.decoder_.T.astype(np.float64)


# -- non-finite values -----------------------------------------------------------


@all_estimators
@pytest.mark.parametrize(
    "value, match", [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]
)
def test_nonfinite_values_in_dense_X_are_rejected(
    estimator, small_binary, value, match
):
    """E01: NaN / +inf / -inf in a dense X."""
    X = small_binary.copy()
    X[3, 2] = value
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(X)


@all_estimators
def test_nan_in_sparse_X_is_rejected(estimator, small_binary):
    """E02: NaN stored in a sparse X."""
    X = sp.csr_matrix(small_binary)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(estimator).fit(X)


@all_estimators
@pytest.mark.parametrize("method", ["transform", "score", "objective"])
def test_nan_at_transform_time_is_rejected(estimator, small_binary, method):
    """E03: NaN in the X given to transform / score / objective."""
    model = clone(estimator).fit(small_binary)
    X = small_binary.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        getattr(model, method)(X)


# -- empty and tiny shapes -------------------------------------------------------


@all_estimators
@pytest.mark.parametrize("shape, match", [((0, 9), "0 sample"), ((5, 0), "0 feature")])
def test_empty_X_is_rejected(estimator, shape, match):
    """E04: X with no users or no items."""
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(np.zeros(shape))


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
        # Exact zeros up to eigensolver rounding (unit-norm columns).
        assert_allclose(factor[[2, 5]], 0, atol=1e-12)
    # The other items' model is the one fitted without the unseen columns.
    rest = np.delete(np.arange(X.shape[1]), [2, 5])
    reduced = clone(estimator).fit(X[:, rest])
    assert_allclose(
        _product(model)[np.ix_(rest, rest)], _product(reduced), rtol=RTOL, atol=ATOL
    )


@closed_forms
def test_items_never_seen_with_alpha_zero_get_zero_rows(estimator, small_binary):
    """E09b: unseen items when alpha = 0 (the dropout Gram system is singular)."""
    X = small_binary.copy()
    X[:, 4] = 0
    model = clone(estimator).set_params(alpha=0.0).fit(X)
    _assert_finite(model)
    assert_allclose(model.encoder_[4], 0, atol=1e-12)
    assert_allclose(model.decoder_[4], 0, atol=1e-12)


# -- n_components against the shape and the rank --------------------------------


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


# -- alpha at the extremes -------------------------------------------------------


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


@pytest.mark.parametrize("alpha", [0.0, 1e-300, 1e-12])
def test_objective1_tiny_alpha_tends_to_the_truncated_svd(
    small_binary, gauge_free_reference, alpha
):
    """E14: Objective 1 with alpha in {0, 1e-300, 1e-12}: A B^T -> V_k V_k^T."""
    model = DropoutAutoencoder(n_components=4, alpha=alpha).fit(small_binary)
    _assert_matches_reference(model, small_binary, gauge_free_reference)
    _, _, Vt = np.linalg.svd(small_binary)
    assert_allclose(_product(model), Vt[:4].T @ Vt[:4], atol=1e-9)


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


def test_dropout_close_to_one_gives_a_finite_near_zero_model(
    small_binary, gauge_free_reference
):
    """E16: dropout = 0.999999: heavy shrinkage, finite, matches the reference."""
    model = DropoutAutoencoder(n_components=3, alpha=0.0, dropout=0.999999)
    model.fit(small_binary)
    _assert_matches_reference(model, small_binary, gauge_free_reference)
    assert np.abs(_product(model)).max() < 1e-3
    assert model.objective(small_binary) <= np.sum(small_binary**2)


# -- values of unusual sign, magnitude and type ----------------------------------


@closed_forms
@pytest.mark.parametrize("sparse", [False, True])
def test_negative_values_are_fitted_exactly(
    estimator, small_binary, gauge_free_reference, sparse
):
    """E17: negative values (mean-centred ratings)."""
    X = small_binary * np.arange(1, 10) - 2.5 * (small_binary > 0)
    model = clone(estimator).fit(sp.csr_matrix(X) if sparse else X)
    _assert_matches_reference(model, X, gauge_free_reference)


@closed_forms
def test_very_large_values_are_rejected_with_a_clear_message(estimator, small_binary):
    """E18: entries so large that X^T X overflows.

    Regression: the Gram matrix became inf and the fit silently returned an
    all-zero model.
    """
    with pytest.raises(ValueError, match="too large to fit in float64"):
        clone(estimator).fit(small_binary * 1e200)
    with pytest.raises(ValueError, match="too large to fit in float32"):
        clone(estimator).fit((small_binary * 1e20).astype(np.float32))


@closed_forms
@pytest.mark.parametrize("method", ["reconstruction_loss", "objective"])
def test_scoring_data_too_large_for_float64_names_the_problem(
    estimator, small_binary, method
):
    """E18b: reconstruction_loss / objective on X * 1e160 (squares overflow).

    Regression: both returned NaN (inf - inf in the expanded error).
    """
    model = clone(estimator).fit(small_binary)
    assert np.isfinite(getattr(model, method)(small_binary * 1e150))
    with pytest.raises(ValueError, match="X is too large: its squared reconstruction"):
        getattr(model, method)(small_binary * 1e160)


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


@closed_forms
@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(bool),
        lambda X: X.astype(np.int64),
        lambda X: X.astype(np.uint8),
        lambda X: X.astype(np.float16),
        lambda X: X.astype(object),
        lambda X: X.astype(str),
        lambda X: pd.DataFrame(X).astype("Int64"),
        lambda X: pd.DataFrame(X).astype("boolean"),
        lambda X: pd.DataFrame(X).astype(pd.SparseDtype(float, 0.0)),
    ],
    ids=[
        "bool",
        "int64",
        "uint8",
        "float16",
        "object",
        "numeric-str",
        "pd-Int64",
        "pd-boolean",
        "pd-sparse",
    ],
)
def test_non_float_numeric_input_is_fitted_as_float64(estimator, small_binary, convert):
    """E20: bool, integer, float16, object, numeric-string and pandas input.

    Converted to float64 (the documented dtypes are float32 and float64): the
    model and the embeddings equal those of the float64 data.
    """
    X = convert(small_binary)
    model = clone(estimator).fit(X)
    ref = clone(estimator).fit(small_binary)
    assert model.encoder_.dtype == np.float64
    assert_allclose(_product(model), _product(ref), rtol=1e-12, atol=1e-14)
    Z = model.transform(X)
    assert Z.dtype == np.float64
    assert_allclose(Z, ref.transform(small_binary), rtol=1e-12, atol=1e-14)


@all_estimators
def test_missing_values_in_object_or_nullable_input_are_rejected(
    estimator, small_binary
):
    """E21: None in an object array, pd.NA in a nullable integer column."""
    X = small_binary.astype(object)
    X[0, 1] = None
    with pytest.raises(ValueError, match="NaN"):
        clone(estimator).fit(X)
    df = pd.DataFrame(small_binary).astype("Int64")
    df.iloc[2, 3] = pd.NA
    with pytest.raises(ValueError, match="NaN"):
        clone(estimator).fit(df)


@all_estimators
def test_non_numeric_strings_are_rejected(estimator, small_binary):
    """E22: words in a string array or in a DataFrame column."""
    with pytest.raises(ValueError, match="could not convert string to float"):
        clone(estimator).fit(np.array([["a", "b"], ["c", "1"]]))
    df = pd.DataFrame(small_binary, columns=[f"item{j}" for j in range(9)])
    df["item3"] = df["item3"].astype(str)
    df.loc[4, "item3"] = "yes"
    with pytest.raises(ValueError, match="could not convert string to float"):
        clone(estimator).fit(df)


@all_estimators
def test_complex_input_is_rejected(estimator, small_binary):
    """E23: complex numbers."""
    with pytest.raises(ValueError, match="Complex data not supported"):
        clone(estimator).fit(small_binary.astype(complex))


@all_estimators
@pytest.mark.parametrize("dtype", ["datetime64[D]", "timedelta64[s]"])
def test_dates_and_durations_are_rejected(estimator, dtype):
    """E45: datetime64 or timedelta64 arrays.

    Regression: numpy cast them to float (days, nanoseconds since 1970)
    and the fit went ahead.
    """
    X = np.arange(12).reshape(4, 3).astype(dtype)
    with pytest.raises(TypeError, match="interactions must be numbers, not dates"):
        clone(estimator).fit(X)


@all_estimators
@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones(9), "Expected 2D array"),
        (np.ones((2, 3, 3)), "dim 3"),
    ],
    ids=["1d", "3d"],
)
def test_wrong_number_of_dimensions_is_rejected(estimator, X, match):
    """E24: 1-D and 3-D arrays."""
    with pytest.raises(ValueError, match=match):
        clone(estimator).fit(X)


# -- sparse formats --------------------------------------------------------------


@closed_forms
@pytest.mark.parametrize(
    "fmt",
    [
        "coo_matrix",
        "dok_matrix",
        "lil_matrix",
        "bsr_matrix",
        "coo_array",
        "dok_array",
        "csc_array",
        "dia_matrix",
    ],
)
def test_every_sparse_format_gives_the_dense_result(estimator, small_binary, fmt):
    """E25: COO, DOK, LIL, BSR, DIA matrices and the sparse-array classes."""
    X = getattr(sp, fmt)(small_binary)
    model = clone(estimator).fit(X)
    ref = clone(estimator).fit(small_binary)
    assert_allclose(_product(model), _product(ref), rtol=1e-10, atol=1e-12)
    assert_allclose(
        model.transform(X), ref.transform(small_binary), rtol=1e-10, atol=1e-12
    )


@closed_forms
def test_sparse_duplicates_explicit_zeros_and_unsorted_indices(estimator, small_binary):
    """E26: COO with duplicate (user, item) entries, stored zeros, unsorted CSR.

    Duplicates are summed (scipy's convention); stored zeros change nothing.
    """
    rows, cols = np.nonzero(small_binary)
    dup = sp.coo_matrix(
        (np.ones(rows.size + 3), (np.r_[rows, rows[:3]], np.r_[cols, cols[:3]])),
        shape=small_binary.shape,
    )
    expected = small_binary.copy()
    expected[rows[:3], cols[:3]] += 1
    assert_allclose(
        _product(clone(estimator).fit(dup)),
        _product(clone(estimator).fit(expected)),
        rtol=1e-10,
        atol=1e-12,
    )
    # Stored zeros and unsorted column indices: each row's entries reversed,
    # plus an explicit zero stored in the last row.
    csr = sp.csr_matrix(small_binary)
    data, indices, indptr = [], [], [0]
    for i in range(csr.shape[0]):
        row = slice(csr.indptr[i], csr.indptr[i + 1])
        data += list(csr.data[row][::-1])
        indices += list(csr.indices[row][::-1])
        if i == csr.shape[0] - 1:
            data.append(0.0)
            indices.append(int(np.flatnonzero(small_binary[i] == 0)[0]))
        indptr.append(len(data))
    messy = sp.csr_matrix((data, indices, indptr), shape=csr.shape)
    messy.has_sorted_indices = False
    assert messy.nnz == csr.nnz + 1
    assert_allclose(
        _product(clone(estimator).fit(messy)),
        _product(clone(estimator).fit(small_binary)),
        rtol=1e-10,
        atol=1e-12,
    )


# -- columns at transform time ---------------------------------------------------


def _frame(X, names=None):
    return pd.DataFrame(X, columns=names or [f"item{j}" for j in range(X.shape[1])])


@all_estimators
def test_dataframe_with_other_columns_at_transform_is_rejected(estimator, small_binary):
    """E27: a DataFrame whose columns differ from those seen in fit."""
    model = clone(estimator).fit(_frame(small_binary))
    other = _frame(small_binary).rename(columns={"item0": "new_item"})
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        model.transform(other)


@all_estimators
def test_dataframe_with_reordered_columns_at_transform_is_rejected(
    estimator, small_binary
):
    """E28: the same columns in another order."""
    df = _frame(small_binary)
    model = clone(estimator).fit(df)
    with pytest.raises(ValueError, match="must be in the same order"):
        model.transform(df[df.columns[::-1]])


@closed_forms
def test_array_at_transform_after_a_dataframe_fit_warns_and_is_correct(
    estimator, small_binary
):
    """E29: fit on a DataFrame, transform a plain array with the same columns."""
    model = clone(estimator).fit(_frame(small_binary))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        Z = model.transform(small_binary)
    assert_allclose(Z, small_binary @ model.encoder_, rtol=1e-12)


@all_estimators
def test_wrong_number_of_items_at_transform_is_rejected(estimator, small_binary):
    """E30: transform with fewer items than fit."""
    model = clone(estimator).fit(small_binary)
    with pytest.raises(ValueError, match="X has 5 features, but"):
        model.transform(small_binary[:, :5])


# -- parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    "scaling, error, match",
    [
        (np.array([1.0, np.nan, 1.0]), ValueError, "finite positive"),
        (np.array([1.0, np.inf, 1.0]), ValueError, "finite positive"),
        (np.array([1.0, -np.inf, 1.0]), ValueError, "finite positive"),
        (np.array([1.0, 0.0, 1.0]), ValueError, "finite positive"),
        (np.array([1.0, -2.0, 1.0]), ValueError, "finite positive"),
        ([1.0, 1.0], ValueError, r"shape \(3,\)"),
        (np.ones((3, 1)), ValueError, r"shape \(3,\)"),
        (np.array(["a", "b", "c"]), TypeError, "array of numbers"),
        (np.array([1e300, 1e-300, 1.0]), ValueError, "between 1e-100 and 1e"),
        ("bogus", ValueError, "'scaling' parameter"),
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "zero",
        "negative",
        "short",
        "2d",
        "strings",
        "extreme",
        "unknown-name",
    ],
)
def test_bad_scaling_arrays_name_the_problem(small_binary, scaling, error, match):
    """E31: non-finite, non-positive, mis-shaped, non-numeric, extreme scaling.

    Regression (extreme): scaling = [1e300, 1e-300, 1] was accepted and the
    objective and projected embeddings came out NaN.
    """
    with pytest.raises(error, match=match):
        DropoutAutoencoder(n_components=3, scaling=scaling).fit(small_binary)


def test_valid_scaling_array_gives_the_requested_split(small_binary):
    """E31b: scaling = d > 0 returns A = A_id diag(d), B = B_id diag(d)^-1."""
    d = np.array([1e-50, 3.0, 1e50])
    ref = DropoutAutoencoder(n_components=3).fit(small_binary)
    model = DropoutAutoencoder(n_components=3, scaling=d).fit(small_binary)
    assert_allclose(model.encoder_, ref.encoder_ * d, rtol=1e-12)
    assert_allclose(model.decoder_, ref.decoder_ / d, rtol=1e-12)
    assert_allclose(
        model.objective(small_binary), ref.objective(small_binary), rtol=1e-9
    )
    assert np.all(np.isfinite(model.item_embeddings("projected")))


@pytest.mark.parametrize("dropout", [1.0, 1.5, -0.1, np.nan, np.inf, "0.5", True])
def test_bad_dropout_values_name_the_parameter(small_binary, dropout):
    """E32: dropout outside [0, 1), NaN, a string, a boolean."""
    with pytest.raises(InvalidParameterError, match="'dropout' parameter"):
        DropoutAutoencoder(n_components=3, dropout=dropout).fit(small_binary)


def test_dropout_zero_is_no_dropout(small_binary):
    """E33: dropout = 0.0 is exactly the model without dropout."""
    a = DropoutAutoencoder(n_components=3, dropout=0.0).fit(small_binary)
    b = DropoutAutoencoder(n_components=3, dropout=None).fit(small_binary)
    assert_array_equal(a.encoder_, b.encoder_)
    assert_array_equal(a.decoder_, b.decoder_)


@all_estimators
@pytest.mark.parametrize(
    "param, value",
    [
        ("n_components", 0),
        ("n_components", 2.5),
        ("n_components", "3"),
        ("alpha", -1.0),
        ("alpha", np.nan),
        ("alpha", np.inf),
    ],
)
def test_bad_n_components_and_alpha_name_the_parameter(
    estimator, small_binary, param, value
):
    """E34: n_components < 1 or not an int; alpha negative, NaN or inf."""
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        clone(estimator).set_params(**{param: value}).fit(small_binary)


# -- dtypes ----------------------------------------------------------------------


@closed_forms
@pytest.mark.parametrize("sparse", [False, True])
def test_float32_input_gives_float32_embeddings_close_to_float64(
    estimator, small_binary, sparse
):
    """E35: float32 data: float32 factors and embeddings, within 1e-4 of float64."""
    X32 = small_binary.astype(np.float32)
    X32 = sp.csr_matrix(X32) if sparse else X32
    m32 = clone(estimator).fit(X32)
    m64 = clone(estimator).fit(small_binary)
    assert m32.encoder_.dtype == m32.decoder_.dtype == np.float32
    Z = m32.transform(X32)
    assert Z.dtype == np.float32
    assert_allclose(_product(m32), _product(m64), atol=1e-4)


# -- misuse of the fitted API ----------------------------------------------------


@all_estimators
@pytest.mark.parametrize(
    "method", ["transform", "score", "objective", "inverse_transform"]
)
def test_using_an_unfitted_model_raises_not_fitted(estimator, small_binary, method):
    """E36: transform / score / objective / inverse_transform before fit."""
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(clone(estimator), method)(small_binary)


@all_estimators
def test_inverse_transform_of_the_wrong_width_is_rejected(estimator, small_binary):
    """E37: inverse_transform given something that is not an embedding."""
    model = clone(estimator).fit(small_binary)
    with pytest.raises(ValueError, match="n_components=3"):
        model.inverse_transform(np.ones((2, 4)))


@all_estimators
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "users"}, "kind must be one of"),
        ({"gauge": np.eye(4)}, r"gauge must have shape \(3, 3\)"),
        ({"gauge": np.full((3, 3), np.nan)}, "NaN"),
        ({"gauge": np.diag([1.0, 0.0, 2.0])}, "gauge must be invertible"),
        ({"gauge": np.ones((3, 3))}, "gauge must be invertible"),
    ],
    ids=["kind", "gauge-shape", "gauge-nan", "gauge-singular-diag", "gauge-singular"],
)
def test_bad_item_embedding_arguments_name_the_problem(
    estimator, small_binary, kwargs, match
):
    """E38: unknown kind; gauge of the wrong shape, non-finite or singular.

    Regression (singular): a zero on the diagonal of the gauge divided the
    decoder by zero and returned inf embeddings.
    """
    model = clone(estimator).fit(small_binary)
    with pytest.raises(ValueError, match=match):
        model.item_embeddings(**kwargs)


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


# -- gradient solvers on degenerate data -----------------------------------------


def _degenerate_cases(small_binary):
    unseen = small_binary.copy()
    unseen[:, 2] = 0
    return {
        "zero": np.zeros((6, 4)),
        "one-user": small_binary[[1]],
        "one-item": small_binary[:, [0]],
        "unseen-item": unseen,
    }


@closed_forms
@pytest.mark.parametrize("case", ["zero", "one-user", "one-item", "unseen-item"])
def test_lbfgs_on_degenerate_data_reaches_the_closed_form_loss(
    estimator, small_binary, case
):
    """E46: solver="lbfgs" (with and without dropout) on degenerate data.

    Finite factors, and the loss of the closed form within 1e-5 of
    ||X||^2 (the loss is a sum over all entries).
    """
    X = _degenerate_cases(small_binary)[case]
    closed = clone(estimator).fit(X)
    trained = clone(estimator).set_params(solver="lbfgs", random_state=0).fit(X)
    _assert_finite(trained)
    scale = max(1.0, float(np.sum(X**2)))
    assert abs(trained.objective(X) - closed.objective(X)) <= 1e-5 * scale


@pytest.mark.parametrize("case", ["zero", "one-user", "one-item", "unseen-item"])
def test_dropout_sgd_on_degenerate_data_is_finite(small_binary, case):
    """E47: solver="dropout-sgd" (real random masks) on the same degenerate data."""
    X = _degenerate_cases(small_binary)[case]
    model = DropoutAutoencoder(
        n_components=3, dropout=0.3, solver="dropout-sgd", max_iter=5, random_state=0
    ).fit(X)
    _assert_finite(model)
    assert np.isfinite(model.objective(X))
    assert np.all(np.isfinite(model.transform(X)))


@pytest.mark.parametrize("solver", ["lbfgs", "dropout-sgd"])
@pytest.mark.parametrize("scaling", ["symmetric", "random", np.ones(3)], ids=str)
def test_a_split_requested_from_a_gradient_solver_names_the_conflict(
    small_binary, solver, scaling
):
    """E48: scaling other than "identity" with a gradient solver."""
    model = DropoutAutoencoder(
        n_components=3, dropout=0.3, scaling=scaling, solver=solver, max_iter=2
    )
    with pytest.raises(ValueError, match="needs a closed-form solver"):
        model.fit(small_binary)


@pytest.mark.parametrize("solver", ["lbfgs", "dropout-sgd"])
@pytest.mark.parametrize("init_scale", [1e100, 1e200])
def test_gradient_solver_overflowing_start_names_init_scale(
    small_binary, solver, init_scale
):
    """E50: init_scale so large that the initial factors overflow float64.

    Regression: solver="lbfgs" blamed X ("X is too large: its squared
    reconstruction error overflows"), dropout-sgd with 1e200 failed inside
    numpy ("Eigenvalues did not converge").
    """
    model = DropoutAutoencoder(
        n_components=3, solver=solver, init_scale=init_scale, random_state=0
    )
    match = rf"init_scale={init_scale:g} makes the initial factors overflow float64"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(small_binary)
    assert "X is too large" not in str(info.value)


@pytest.mark.parametrize(
    "case, learning_rate, max_iter",
    [
        ("zero", 1e6, 5),
        ("one-user", 1e6, 5),
        ("unseen-item", 1e6, 5),
        ("unseen-item", 1e6, 500),
        ("all", 100.0, 500),
    ],
)
def test_dropout_sgd_diverging_learning_rate_names_it(
    small_binary, case, learning_rate, max_iter
):
    """E51: dropout-sgd with a learning_rate that diverges, finite or overflowing.

    Regression: with learning_rate=1e6 and max_iter=5 the run ended at a
    finite loss near 1e107, over 1e100 times its start, with only the
    ConvergenceWarning of max_iter; with learning_rate=100 on the whole
    matrix it stopped as converged after 41 epochs (no warning at all) at a
    loss near 5e122: a growing loss never improves, so the plateau rule ended
    it. Only a loss
    that overflowed raised (a FloatingPointError). All now raise a ValueError
    (still also a FloatingPointError) naming learning_rate.
    """
    X = small_binary if case == "all" else _degenerate_cases(small_binary)[case]
    model = DropoutAutoencoder(
        n_components=3,
        dropout=0.3,
        solver="dropout-sgd",
        learning_rate=learning_rate,
        max_iter=max_iter,
        random_state=0,
    )
    match = rf"diverged: .* lower learning_rate \(now {learning_rate:g}\)"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(X)
    assert isinstance(info.value, FloatingPointError)
    # The default step trains the same data: no error, the loss goes down.
    fitted = clone(model).set_params(learning_rate=0.2).fit(X)
    assert np.isfinite(fitted.objective(X))
    assert fitted.loss_curve_[-1] <= fitted.loss_curve_[0]


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
@pytest.mark.parametrize("init_scale", [1e10, 1e30, 1e50])
def test_lbfgs_from_a_huge_finite_start_names_init_scale(
    small_binary, init_scale, dropout
):
    """E52: solver="lbfgs" from a huge but finite init_scale (1e10, 1e30, 1e50).

    Regression: from 1e30 and 1e50 L-BFGS could not take a first step (its
    line search ended ABNORMAL at iteration 0) and the random start came back
    as the model, loss about 1e123 or 1e203 against ||X||^2 = 87, without any
    warning; from 1e10 it stopped as converged at a loss near 1e31. Now a
    ValueError (a DivergenceError, also a FloatingPointError) names
    init_scale and its value.
    """
    model = DropoutAutoencoder(
        n_components=3,
        dropout=dropout,
        solver="lbfgs",
        init_scale=init_scale,
        random_state=0,
    )
    match = rf"init_scale={init_scale:g} is too large.*lower init_scale"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(small_binary)
    assert isinstance(info.value, FloatingPointError)


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
def test_lbfgs_from_init_scale_1e3_trains_below_the_zero_model(small_binary, dropout):
    """E53: solver="lbfgs" with init_scale=1e3: trains, no early stop.

    Regression: the gradient tolerance was relative to the gradient at the
    start (about 1e12 here), so L-BFGS stopped as converged, without any
    warning, at a loss about 24 times (3 times with dropout) that of the
    all-zero model (||X||^2 = 87). Now the tolerance is capped at the data's
    scale (s_1^2): the fit ends below ||X||^2, though above the closed form
    (training conserves A^T A - B^T B, here of order 1e6: a badly
    conditioned split).
    """
    model = DropoutAutoencoder(
        n_components=3, dropout=dropout, solver="lbfgs", init_scale=1e3, random_state=0
    ).fit(small_binary)
    _assert_finite(model)
    zero_model = float(np.sum(small_binary**2))
    assert model.objective(small_binary) < zero_model
    assert model.loss_curve_[-1] < zero_model
    closed = clone(model).set_params(solver="auto").fit(small_binary)
    assert model.objective(small_binary) >= closed.objective(small_binary) - 1e-9


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
@pytest.mark.parametrize("init_scale", [1e4, 1e30, 1e50])
def test_dropout_sgd_from_a_huge_finite_start_names_init_scale(
    small_binary, init_scale, dropout
):
    """E54: solver="dropout-sgd" from a huge but finite init_scale (1e4 to 1e50).

    Regression: the run went on to max_iter and ended with only a
    ConvergenceWarning ("increase max_iter"), at a loss of 1e16 (1e4) to
    1e201 (1e50) times that of the all-zero model (||X||^2 = 87), which float64
    could not even resolve. Training conserves A^T A - B^T B, so such factors
    do not shrink: more epochs do not help. Now a ValueError (a
    DivergenceError, also a FloatingPointError) names init_scale and its
    value, as with solver="lbfgs" (E52).
    """
    model = DropoutAutoencoder(
        n_components=3,
        dropout=dropout,
        solver="dropout-sgd",
        init_scale=init_scale,
        max_iter=20,
        random_state=0,
    )
    match = rf"init_scale={init_scale:g} is too large.*lower init_scale"
    with pytest.raises(ValueError, match=match.replace("+", r"\+")) as info:
        model.fit(small_binary)
    assert isinstance(info.value, FloatingPointError)
    assert "learning_rate" not in str(info.value)


@pytest.mark.parametrize("dropout", [0.0, 0.3], ids=["objective1", "edlae"])
def test_dropout_sgd_from_init_scale_1e3_warns_then_trains(small_binary, dropout):
    """E55: solver="dropout-sgd" with init_scale=1e3: slow, a warning, not an error.

    Stopped at max_iter=20 far above the all-zero model (about 1e13 times
    ||X||^2 = 87), its loss is still resolved (rounding error about 5e-3
    times ||X||^2) and going down: the ConvergenceWarning, not an error. It
    now says that the model is worse than none and that a smaller init_scale
    trains faster (it only said "increase max_iter"). With random_state=0 the
    run ends below ||X||^2 within 5,000 epochs, as solver="lbfgs" does from
    the same start (E53); other seeds need more.
    """
    model = DropoutAutoencoder(
        n_components=3,
        dropout=dropout,
        solver="dropout-sgd",
        init_scale=1e3,
        max_iter=20,
        random_state=0,
    )
    match = r"increase max_iter.*worse than none.*smaller init_scale \(now 1000\)"
    with pytest.warns(ConvergenceWarning, match=match):
        model.fit(small_binary)
    zero_model = float(np.sum(small_binary**2))
    assert model.loss_curve_[-1] > 1e6 * zero_model
    model.set_params(max_iter=5000).fit(small_binary)
    _assert_finite(model)
    assert model.loss_curve_[-1] < zero_model
    assert model.objective(small_binary) < zero_model


# -- the model trained for cosine (Objective 3) ----------------------------------

needs_cosine = pytest.mark.skipif(
    not hasattr(skcosim, "CosineAutoencoder"), reason="CosineAutoencoder not built"
)


def _cosine(**params):
    params = {"n_components": 3, "max_iter": 15, "random_state": 0, **params}
    return skcosim.CosineAutoencoder(**params)


@needs_cosine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cosine_model_alpha_cutting_its_start_names_the_problem(small_binary):
    """E40: CosineAutoencoder with alpha >= s_1 and the weight-decay start."""
    s1 = np.linalg.norm(small_binary, 2)
    with pytest.raises(ValueError, match="the weight-decay start is zero"):
        _cosine(alpha=2 * s1).fit(small_binary)
    model = _cosine(alpha=2 * s1, init="random").fit(small_binary)
    _assert_finite(model)
    assert np.all(np.isfinite(model.transform(small_binary)))


@needs_cosine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["softmax", "squared"])
@pytest.mark.parametrize("init", ["weight_decay", "random"])
def test_cosine_model_on_all_zero_X_is_finite(loss, init):
    """E41: CosineAutoencoder on a matrix without interactions."""
    X = np.zeros((6, 5))
    model = _cosine(loss=loss, init=init).fit(X)
    _assert_finite(model)
    assert_array_equal(model.transform(X), 0)
    assert np.isfinite(model.objective(X))
    assert np.all(np.isfinite(model.inverse_transform(model.transform(X))))


@needs_cosine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("loss", ["softmax", "squared"])
def test_cosine_model_gives_unseen_items_and_empty_users_zero_rows(small_binary, loss):
    """E42: unseen items get zero decoder rows; empty users zero embeddings.

    The reconstruction of an empty user is defined (cosine 0 with every item:
    a uniform softmax, or zeros), never NaN.
    """
    X = small_binary.copy()
    X[:, 2] = 0
    X[3] = 0
    model = _cosine(loss=loss, max_iter=30).fit(X)
    _assert_finite(model)
    assert_array_equal(model.decoder_[2], 0)
    Z = model.transform(X)
    assert_array_equal(Z[3], 0)
    recon = model.inverse_transform(Z)
    assert np.all(np.isfinite(recon))
    if loss == "softmax":
        assert_allclose(recon[3], 1.0 / X.shape[1], rtol=1e-12)
    else:
        assert_array_equal(recon[3], 0)


@needs_cosine
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("temperature", [1e-8, 1e300])
def test_cosine_model_extreme_temperatures_stay_finite(small_binary, temperature):
    """E43: temperature 1e-8 (logits ~1e8) or 1e300 (all logits ~0)."""
    model = _cosine(temperature=temperature, max_iter=10).fit(small_binary)
    _assert_finite(model)
    assert np.isfinite(model.objective(small_binary))
    assert np.all(np.isfinite(model.inverse_transform(model.transform(small_binary))))


@needs_cosine
@pytest.mark.parametrize(
    "param, value",
    [
        ("loss", "hinge"),
        ("temperature", 0.0),
        ("temperature", np.inf),
        ("max_iter", 0),
        ("tol", -1.0),
        ("init", "pca"),
        ("batch_size", 0),
    ],
)
def test_cosine_model_bad_parameters_are_named(small_binary, param, value):
    """E44: unknown loss or init, temperature 0 or inf, max_iter 0, tol < 0."""
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        _cosine(**{param: value}).fit(small_binary)


@needs_cosine
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_cosine_softmax_loss_rejects_negative_values(small_binary, sparse):
    """E49: negative values with loss="softmax"; the squared loss takes them.

    Regression: the softmax loss (a multinomial likelihood, rows of X are
    counts over items) fitted negative data without complaint.
    """
    negative = small_binary.copy()
    negative[3, 4] = -1e-3  # one small negative entry among the counts
    centred = small_binary - small_binary.mean(axis=0)  # mean-centred ratings
    convert = sp.csr_matrix if sparse else np.asarray
    match = r"Negative values in data passed to CosineAutoencoder\(loss='softmax'\)"
    for X in (negative, centred):
        with pytest.raises(ValueError, match=match):
            _cosine(loss="softmax").fit(convert(X))
    fitted = _cosine(loss="softmax").fit(convert(small_binary))
    for method in (fitted.reconstruction_loss, fitted.objective):
        with pytest.raises(ValueError, match="use loss='squared'"):
            method(convert(centred))
    squared = _cosine(loss="squared").fit(convert(centred))
    assert np.all(np.isfinite(squared.transform(convert(centred))))
    assert 0.0 <= squared.objective(convert(centred)) <= np.sum(centred**2)


# -- preprocessing: PopularityScaler (Remedy 3), ProjectedEmbedding (Remedy 2) ---


@pytest.mark.parametrize("beta", [200.0, -200.0, 1000.0])
def test_popularity_scaler_beta_overflowing_float64_names_beta(beta):
    """P01: |beta| so large that popularity ** -beta is inf or 0.

    Regression: the scale was inf (or 0) with only a RuntimeWarning; a
    following autoencoder then failed with "Input X contains NaN".
    """
    X = np.zeros((200, 3))
    X[0, 0], X[:, 1], X[::2, 2] = 1, 1, 1  # popularity 1/200, 1, 1/2
    with pytest.raises(ValueError, match=f"beta={beta} makes popularity"):
        PopularityScaler(beta=beta).fit(X)


@pytest.mark.parametrize("beta", [np.nan, np.inf, "0.5"])
def test_popularity_scaler_bad_beta_names_the_parameter(small_binary, beta):
    """P02: beta NaN, inf or a string."""
    with pytest.raises(InvalidParameterError, match="'beta' parameter"):
        PopularityScaler(beta=beta).fit(small_binary)


def test_popularity_scaler_on_unseen_items_and_empty_data_is_finite(small_binary):
    """P03: an unseen item counts as one user; an all-zero X scales evenly."""
    X = small_binary.copy()
    X[:, 4] = 0
    scaler = PopularityScaler(beta=1.0).fit(X)
    n = X.shape[0]
    assert_allclose(scaler.popularity_[4], 1 / n)
    assert_allclose(scaler.popularity_, np.maximum((X != 0).sum(0), 1) / n)
    assert_allclose(scaler.transform(X), X / scaler.popularity_)
    zero = PopularityScaler(beta=1.0).fit(np.zeros((5, 3)))
    assert_allclose(zero.scale_, 5.0)
    assert_array_equal(zero.inverse_transform(zero.transform(np.ones((2, 3)))), 1)


@pytest.mark.parametrize("fmt", ["coo_matrix", "dok_matrix", "lil_matrix", "csc_array"])
def test_popularity_scaler_on_any_sparse_format_gives_the_dense_result(
    small_binary, fmt
):
    """P04: COO / DOK / LIL / CSC input: sparse output, values of the dense path."""
    X = getattr(sp, fmt)(small_binary)
    scaler = PopularityScaler().fit(X)
    out = scaler.transform(X)
    assert sp.issparse(out)
    assert_allclose(out.toarray(), PopularityScaler().fit_transform(small_binary))


@pytest.mark.parametrize("beta", [0.5, -0.5])
def test_pipeline_with_popularity_scaler_on_degenerate_data_is_finite(
    small_binary, beta
):
    """P05: scaler + autoencoder on data with unseen items and empty users."""
    X = small_binary.copy()
    X[:, [1, 6]] = 0
    X[[0, 5]] = 0
    for model in CLOSED_FORMS:
        pipe = make_pipeline(PopularityScaler(beta=beta), clone(model)).fit(X)
        Z = pipe.transform(X)
        assert np.all(np.isfinite(Z))
        assert_array_equal(Z[[0, 5]], 0)
        assert np.all(np.isfinite(pipe.inverse_transform(Z)))


def test_projected_embedding_of_a_non_autoencoder_names_the_problem(small_binary):
    """P06: ProjectedEmbedding(PCA()): not a linear autoencoder."""
    with pytest.raises(TypeError, match="has no encoder_ and decoder_"):
        ProjectedEmbedding(PCA(2)).fit(small_binary)


@pytest.mark.parametrize(
    "X",
    [np.zeros((6, 5)), None],
    ids=["zero-X", "every-component-cut"],
)
def test_projected_embedding_of_a_zero_model_is_zero(small_binary, X):
    """P07: the wrapped model is all zero: projected embeddings are 0, no NaN."""
    X = small_binary if X is None else X
    proj = ProjectedEmbedding(WeightDecayAutoencoder(n_components=3, alpha=1e6))
    proj.fit(X)
    assert_array_equal(proj.item_embeddings(), 0)
    assert_array_equal(proj.transform(X), 0)


@all_estimators
def test_projected_embedding_rejects_nan_and_other_columns(estimator, small_binary):
    """P08: NaN at fit; a different number of items at transform."""
    bad = small_binary.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ProjectedEmbedding(clone(estimator)).fit(bad)
    proj = ProjectedEmbedding(clone(estimator)).fit(small_binary)
    with pytest.raises(ValueError, match="X has 4 features"):
        proj.transform(small_binary[:, :4])


@pytest.mark.parametrize(
    "transformer",
    [PopularityScaler(), ProjectedEmbedding()],
    ids=["PopularityScaler", "ProjectedEmbedding"],
)
def test_preprocessing_rejects_dates_at_fit_and_transform(transformer, small_binary):
    """P09: datetime64 input to PopularityScaler and ProjectedEmbedding."""
    dates = np.arange(12).reshape(4, 3).astype("datetime64[D]")
    with pytest.raises(TypeError, match="not dates or durations"):
        clone(transformer).fit(dates)
    fitted = clone(transformer).fit(small_binary[:, :3])
    with pytest.raises(TypeError, match="not dates or durations"):
        fitted.transform(dates)


@pytest.mark.parametrize(
    "fmt", ["csr_matrix", "csc_matrix", "coo_matrix", "csr_array", "coo_array"]
)
def test_popularity_scaler_keeps_the_sparse_format(small_binary, fmt):
    """P10: CSR, CSC, COO in: the same format (and container) out, same values.

    Regression: COO input came back as CSR although the docstring promised
    the sparse format is kept.
    """
    X = getattr(sp, fmt)(small_binary)
    scaler = PopularityScaler(beta=1.0).fit(X)
    dense = PopularityScaler(beta=1.0).fit_transform(small_binary)
    for out, expected in [
        (scaler.transform(X), dense),
        (scaler.fit_transform(X), dense),
        (scaler.inverse_transform(scaler.transform(X)), small_binary),
    ]:
        assert type(out) is type(X)
        assert out.format == X.format
        assert_allclose(out.toarray(), expected, rtol=1e-12)


@pytest.mark.parametrize("beta", [20.0, -20.0])
def test_popularity_scaler_in_float32_refuses_factors_float32_cannot_hold(beta):
    """P11: float32 data, ``beta=20`` (or -20), an item seen by 1 user in 200.

    ``200 ** 20 = 1e46`` overflows float32 (``200 ** -20`` underflows to 0).
    Regression: the output held inf and NaN (or the entry was erased) with
    only RuntimeWarnings; float64 data already got the clear error (P01),
    and so does float32 data transformed by a scaler fitted on float64.
    """
    X = np.zeros((200, 3), dtype=np.float32)
    X[:, 0], X[0, 1], X[:, 2] = 1, 1, 1  # popularity 1, 1/200, 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(ValueError, match="overflow or underflow float32"):
            PopularityScaler(beta=beta).fit(X)
        scaler = PopularityScaler(beta=beta).fit(X.astype(np.float64))
        assert np.all(np.isfinite(scaler.transform(X.astype(np.float64))))
        for method in (scaler.transform, scaler.inverse_transform):
            with pytest.raises(ValueError, match="overflow or underflow float32"):
                method(X)
    assert_allclose(PopularityScaler(beta=5.0).fit_transform(X)[0], [1, 200**5, 1])


@all_estimators
@pytest.mark.parametrize(
    "X",
    [
        np.full((6, 4), 1e-200),
        sp.csr_matrix(np.eye(5) * 1e-170),
        np.full((6, 4), 1e-25, dtype=np.float32),
    ],
    ids=["1e-200", "sparse-1e-170", "float32-1e-25"],
)
def test_entries_whose_squares_underflow_are_rejected(estimator, X):
    """E56: every entry so small that its square underflows (``1e-200``).

    Regression: ``X^T X`` was zero, so the fit was the zero model (every loss
    and stability 0.000 in an audit), without a word.
    """
    dtype = "float32" if X.dtype == np.float32 else "float64"
    with pytest.raises(ValueError, match=f"X is too small to fit in {dtype}.*Rescale"):
        clone(estimator).fit(X)
    scale = 1e200 if dtype == "float64" else 1e25
    scaled = X * scale if sp.issparse(X) else (X * scale).astype(X.dtype)
    _assert_finite(clone(estimator).fit(scaled))


def test_boolean_or_absurd_counts_are_rejected_naming_the_parameter(small_binary):
    """E57: ``n_components=True``; ``n_components=10**7`` on 25 x 9 data;
    ``cosine_neighbors(E, True)`` and the other metrics' counts.

    Regression: booleans are ``Integral``, so they passed validation and
    failed deep inside numpy; ``10**7`` padded the factors with zero columns
    until a 3 GiB allocation failed (MemoryError).
    """
    from skcosim.metrics import cosine_neighbors, gauge_stability

    for est in ALL_ESTIMATORS:
        with pytest.raises(InvalidParameterError, match="'n_components' parameter"):
            clone(est).set_params(n_components=True).fit(small_binary)
        with pytest.raises(ValueError, match=r"n_components=10000000 is far above"):
            clone(est).set_params(n_components=10**7).fit(small_binary)
    with pytest.raises(InvalidParameterError, match="'n_neighbors' parameter"):
        cosine_neighbors(small_binary, True)
    model = WeightDecayAutoencoder(3).fit(small_binary)
    with pytest.raises(InvalidParameterError, match="'n_draws' parameter"):
        gauge_stability(model, 2, n_draws=True)
    # Above the rank but small: padded with zero components, as documented (E10).
    assert WeightDecayAutoencoder(50).fit(small_binary).encoder_.shape == (9, 50)


def test_dataframe_with_a_date_column_is_rejected_naming_it():
    """E58: a DataFrame mixing a datetime (or tz-aware, or duration) column
    with numbers, at ``fit`` (every estimator and transformer).

    Regression: numpy's "DTypePromotionError" text instead of the message
    arrays of dates get (E45).
    """
    days = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])
    for column in (days, days.tz_localize("UTC"), days - days[0]):
        frame = pd.DataFrame({"a": [1.0, 0.0, 1.0], "when": column})
        for est in [*ALL_ESTIMATORS, PopularityScaler(), ProjectedEmbedding()]:
            with pytest.raises(TypeError, match=r"column 'when' of dtype .* not dates"):
                clone(est).fit(frame)


def test_one_arpack_rule_for_every_solver_choice(small_binary, monkeypatch):
    """E59: ``k = m - 1`` with ``solver="arpack"``, with ``"auto"``, and on a
    dask array.

    Regression: ``top_k_spectrum`` sent ``k = m - 1`` to ARPACK, while
    ``"auto"`` and the dask path sent it to the Gram route (``k >= m`` against
    ``k >= m - 1``). One rule now: ARPACK for ``k < m - 1``.
    """
    from skcosim._linalg import _spectrum

    calls = []
    real_eigsh = _spectrum.eigsh

    def spy(*args, **kwargs):
        calls.append(kwargs["k"])
        return real_eigsh(*args, **kwargs)

    monkeypatch.setattr(_spectrum, "eigsh", spy)
    X = small_binary  # m = 9
    s_ref = np.linalg.svd(X, compute_uv=False)
    for k in (8, 7):
        s, _ = _spectrum.top_k_spectrum(X, k, solver="arpack", random_state=0)
        assert_allclose(s, s_ref[:k], rtol=1e-10)
    assert calls == [7]  # k = 8 = m - 1 went to the Gram route
    assert _spectrum._choose_solver(10**4, 2000, 1999) == "gram"
    assert _spectrum._choose_solver(10**4, 2000, 1998) == "arpack"
    da = pytest.importorskip("dask.array")
    from skcosim._linalg import _dask

    dask_calls = []
    monkeypatch.setattr(_dask, "eigsh", lambda *a, **kw: dask_calls.append(1))
    Xd = da.from_array(X, chunks=(10, 9))
    s, _ = _spectrum.top_k_spectrum(Xd, 8, solver="arpack")
    assert_allclose(s, s_ref[:8], rtol=1e-10)
    assert dask_calls == []


@pytest.mark.parametrize("temperature", [5e-324, 1e-308, 1e-307])
def test_cosine_temperature_so_small_that_logits_overflow_is_named(
    small_binary, temperature
):
    """E60: ``CosineAutoencoder(temperature=5e-324)`` (softmax loss).

    Regression: "the loss at the start is nan (it overflows float64)", which
    did not name temperature. ``1e-300`` still trains (finite loss).
    """
    model = skcosim.CosineAutoencoder(3, temperature=temperature, max_iter=5)
    with pytest.raises(ValueError, match=r"temperature=.* is too small.*Raise"):
        model.fit(small_binary)
    fitted = skcosim.CosineAutoencoder(3, temperature=1e-300, max_iter=5)
    assert np.isfinite(fitted.fit(small_binary).objective(small_binary))


@pytest.mark.parametrize(
    "gauge, match",
    [
        (np.zeros((3, 3)), "must be invertible"),
        (np.eye(2), r"must have shape \(3, 3\)"),
        (np.ones((3, 3)), "must be invertible"),
        (np.diag([1.0, 1.0, np.nan]), "NaN"),
    ],
    ids=["zero", "wrong-size", "singular", "nan"],
)
def test_projected_embedding_checks_the_gauge_as_the_autoencoders_do(
    small_binary, gauge, match
):
    """P12: ``ProjectedEmbedding.item_embeddings(gauge=...)`` with a zero, a
    wrongly sized, a singular or a NaN gauge.

    Regression: a ``LinAlgError`` or a broadcast error; it now shares the
    autoencoders' gauge check (E38).
    """
    proj = ProjectedEmbedding(DropoutAutoencoder(3, alpha=1.0)).fit(small_binary)
    with pytest.raises(ValueError, match=match):
        proj.item_embeddings(gauge=gauge)
    with pytest.raises(ValueError, match=match):
        proj.estimator_.item_embeddings(gauge=gauge)


def test_projected_embedding_with_more_components_than_items_keeps_its_shape(
    small_binary,
):
    """P13: ``ProjectedEmbedding`` of a model with ``n_components=12`` on 9
    items (found by the metrics fuzz test).

    Regression: the projection had ``min(n_features, n_components)`` columns,
    against the documented ``(n_features, n_components)``, so the gauge drawn
    by ``gauge_stability`` did not fit the wrapped model (a shape error).
    The added columns are zero; the reconstruction is unchanged.
    """
    from skcosim.metrics import gauge_stability

    proj = ProjectedEmbedding(DropoutAutoencoder(12, alpha=1.0)).fit(small_binary)
    assert proj.projected_encoder_.shape == (9, 12)
    assert proj.transform(small_binary).shape == (25, 12)
    assert_array_equal(proj.projected_encoder_[:, 9:], 0)
    inner = proj.estimator_
    assert_allclose(
        proj.inverse_transform(proj.transform(small_binary)),
        inner.inverse_transform(inner.transform(small_binary)),
        atol=1e-12,
    )
    assert gauge_stability(proj, 3, random_state=0) == 1.0


# -- the catalogue page lists exactly the cases tested ---------------------------


def test_docs_catalogue_lists_every_tested_case():
    """docs/reliability.rst has one row per case id of the reliability tests."""
    import ast
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    page = root / "docs" / "reliability.rst"
    if not page.exists():
        pytest.skip("docs are not part of this installation")
    documented = set(re.findall(r"^   \* - ([EPMLCD]\d\d)b?$", page.read_text(), re.M))
    tested = set()
    for name in ("estimators", "metrics", "cli"):
        tree = ast.parse((root / "tests" / f"test_reliability_{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                match = re.match(r"([EPMLCD]\d\d)b?:", ast.get_docstring(node) or "")
                if match:
                    tested.add(match.group(1))
    assert documented == tested, (
        f"in the docs only: {sorted(documented - tested)}; "
        f"tested only: {sorted(tested - documented)}"
    )
    assert len(tested) >= 30
