"""Autoencoders: what each kind of bad or unusual input ``X`` gets.

An error names the problem; a correct result is checked against the dense
reference or an exact property.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.base import clone

from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding

from .._closed_forms import (
    ALL_ESTIMATORS,
    _assert_finite,
    _product,
    all_estimators,
    closed_forms,
)

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.


@pytest.mark.catalogue(
    "E01",
    input="NaN, ``+inf`` or ``-inf`` in a dense ``X`` (all estimators)",
    outcome='``ValueError``: "Input X contains NaN" / "contains infinity"',
)
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


@pytest.mark.catalogue(
    "E02",
    input="NaN stored in a sparse ``X``",
    outcome='``ValueError``: "Input X contains NaN"',
)
@all_estimators
def test_nan_in_sparse_X_is_rejected(estimator, small_binary):
    """E02: NaN stored in a sparse X."""
    X = sp.csr_matrix(small_binary)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(estimator).fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E03",
    input="NaN in the ``X`` given to ``transform``, ``score`` or ``objective``",
    outcome='``ValueError``: "Input X contains NaN"',
)
@all_estimators
@pytest.mark.parametrize("method", ["transform", "score", "objective"])
def test_nan_at_transform_time_is_rejected(estimator, small_binary, method):
    """E03: NaN in the X given to transform / score / objective."""
    model = clone(estimator).fit(small_binary)
    X = small_binary.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        getattr(model, method)(X)


@pytest.mark.catalogue(
    "E04",
    input="``X`` with 0 users or 0 items, dense or sparse, to any method",
    outcome='``ValueError``: "Found array with 0 sample(s)" / "0 feature(s)"',
)
@all_estimators
@pytest.mark.parametrize("method", ["transform", "score", "objective"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_empty_X_is_rejected(estimator, small_binary, method, sparse):
    """E04: X with no users, at transform, score and objective time, dense or
    sparse (scikit-learn's common checks cover a dense X given to fit)."""
    model = clone(estimator).fit(small_binary)
    X = np.zeros((0, small_binary.shape[1]))
    with pytest.raises(ValueError, match="0 sample"):
        getattr(model, method)(sp.csr_matrix(X) if sparse else X)


@pytest.mark.catalogue(
    "E18",
    input=(
        "Entries so large that ``X^T X`` overflows (``1e200`` in float64, "
        "``1e20`` in float32)"
    ),
    outcome=(
        '``ValueError``: "X is too large to fit in float64: its Frobenius norm ... '
        'makes X^T X overflow. Rescale X".'
    ),
)
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


@pytest.mark.catalogue(
    "E18b",
    input=(
        "``score`` / ``objective`` of a fitted model on data near ``1e160`` "
        "(squares overflow float64)"
    ),
    outcome=(
        '``ValueError``: "X is too large: its squared reconstruction error overflows '
        'float64".'
    ),
)
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


@pytest.mark.catalogue(
    "E20",
    input=(
        'bool, int64, uint8, float16, object, numeric strings (``"1.0"``), '
        "pandas ``Int64`` / ``boolean`` / sparse columns"
    ),
    outcome=(
        "Correct: converted to float64 (the preserved dtypes are float32 "
        "and float64); the model equals that of the float64 data to "
        "``1e-12``"
    ),
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


@pytest.mark.catalogue(
    "E21",
    input="``None`` in an object array, ``pd.NA`` in a nullable column",
    outcome='``ValueError``: "Input X contains NaN"',
)
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


@pytest.mark.catalogue(
    "E22",
    input="Words in a string array or in a DataFrame column",
    outcome="``ValueError``: \"could not convert string to float: 'yes'\"",
)
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


@pytest.mark.catalogue(
    "E23",
    input="Complex numbers, in a sparse ``X`` or given to ``transform``",
    outcome='``ValueError``: "Complex data not supported"',
)
@all_estimators
def test_complex_input_is_rejected(estimator, small_binary):
    """E23: complex numbers in a sparse X, and at transform time
    (scikit-learn's common checks cover a dense X given to fit)."""
    with pytest.raises(ValueError, match="Complex data not supported"):
        clone(estimator).fit(sp.csr_matrix(small_binary.astype(complex)))
    model = clone(estimator).fit(small_binary)
    with pytest.raises(ValueError, match="Complex data not supported"):
        model.transform(small_binary.astype(complex))


@pytest.mark.catalogue(
    "E45",
    input="A ``datetime64`` or ``timedelta64`` array",
    outcome=(
        '``TypeError``: "X has dtype datetime64[D]: interactions must be numbers, not '
        'dates or durations".'
    ),
)
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


@pytest.mark.catalogue(
    "E24",
    input="A 1-D or a 3-D array",
    outcome='``ValueError``: "Expected 2D array" / "Found array with dim 3"',
)
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


@pytest.mark.catalogue(
    "E25",
    input=(
        "COO, DOK, LIL, BSR, DIA matrices, ``coo_array``, ``dok_array``, ``csc_array``"
    ),
    outcome="Correct: converted; the model and embeddings equal the dense ones",
)
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


@pytest.mark.catalogue(
    "E26",
    input=(
        "COO with duplicate (user, item) entries; CSR with stored zeros and "
        "unsorted indices"
    ),
    outcome=(
        "Correct: duplicates are summed (scipy's convention), stored zeros "
        "change nothing"
    ),
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


def _frame(X, names=None):
    return pd.DataFrame(X, columns=names or [f"item{j}" for j in range(X.shape[1])])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E27",
    input=(
        "A DataFrame whose columns differ from ``fit``, to ``score``, "
        "``objective`` or ``recommend``"
    ),
    outcome='``ValueError``: "Feature names unseen at fit time: ..."',
)
@all_estimators
@pytest.mark.parametrize("method", ["score", "objective", "recommend"])
def test_dataframe_with_other_columns_at_transform_is_rejected(
    estimator, small_binary, method
):
    """E27: a DataFrame whose columns differ from those seen in fit, to the
    methods scikit-learn's common checks do not call (they check transform)."""
    model = clone(estimator).fit(_frame(small_binary))
    other = _frame(small_binary).rename(columns={"item0": "new_item"})
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        getattr(model, method)(other)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E28",
    input=(
        "The same columns in another order, to ``score``, ``objective`` or "
        "``recommend``"
    ),
    outcome=(
        '``ValueError``: "Feature names must be in the same order as they were in fit"'
    ),
)
@all_estimators
@pytest.mark.parametrize("method", ["score", "objective", "recommend"])
def test_dataframe_with_reordered_columns_at_transform_is_rejected(
    estimator, small_binary, method
):
    """E28: the same columns in another order, to the methods scikit-learn's
    common checks do not call (they check transform)."""
    df = _frame(small_binary)
    model = clone(estimator).fit(df)
    with pytest.raises(ValueError, match="must be in the same order"):
        getattr(model, method)(df[df.columns[::-1]])


@pytest.mark.catalogue(
    "E29",
    input="Fit on a DataFrame, ``transform`` a plain array",
    outcome=(
        "Correct result, with scikit-learn's ``UserWarning`` \"X does not "
        'have valid feature names"'
    ),
)
@closed_forms
def test_array_at_transform_after_a_dataframe_fit_warns_and_is_correct(
    estimator, small_binary
):
    """E29: fit on a DataFrame, transform a plain array with the same columns."""
    model = clone(estimator).fit(_frame(small_binary))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        Z = model.transform(small_binary)
    assert_allclose(Z, small_binary @ model.encoder_, rtol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E30",
    input=(
        "Fewer items than at ``fit``, dense or sparse, to ``score``, "
        "``objective``, ``reconstruction_loss`` or ``recommend``"
    ),
    outcome='``ValueError``: "X has 5 features, but ... is expecting 9"',
)
@all_estimators
@pytest.mark.parametrize(
    "method", ["score", "objective", "reconstruction_loss", "recommend"]
)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_wrong_number_of_items_at_transform_is_rejected(
    estimator, small_binary, method, sparse
):
    """E30: fewer items than at fit, to the methods scikit-learn's common
    checks do not call (they check transform), dense or sparse."""
    model = clone(estimator).fit(small_binary)
    X = small_binary[:, :5]
    with pytest.raises(ValueError, match="X has 5 features, but"):
        getattr(model, method)(sp.csr_matrix(X) if sparse else X)


@pytest.mark.catalogue(
    "E35",
    input="float32 data, dense and sparse",
    outcome="Correct: float32 factors and embeddings, within ``1e-4`` of float64",
)
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


@pytest.mark.catalogue(
    "E56",
    input=(
        "Every entry so small that its square underflows: ``1e-200`` "
        "(dense), ``1e-170`` (sparse), ``1e-25`` in float32 (all "
        "estimators)"
    ),
    outcome=(
        '``ValueError``: "X is too small to fit in float64: its largest entry 1e-200 '
        "squares to below 2.23e-308 (the smallest normal float64), so X^T X "
        'underflows. Rescale X"; the rescaled data fits.'
    ),
)
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


@pytest.mark.catalogue(
    "E58",
    input=(
        "A DataFrame mixing a datetime, tz-aware or duration column with "
        "numbers, at ``fit`` (all estimators, ``PopularityScaler``, "
        "``ProjectedEmbedding``)"
    ),
    outcome=(
        "``TypeError``: \"X has column 'when' of dtype datetime64[us]: interactions "
        'must be numbers, not dates or durations".'
    ),
)
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
