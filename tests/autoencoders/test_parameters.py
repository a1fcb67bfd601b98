"""Autoencoders: bad parameters are named, and the edge values of valid ones
(scaling arrays, ``dropout=0``, ``k = m - 1``) give the documented model.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder

from .._closed_forms import ALL_ESTIMATORS, all_estimators

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.


@pytest.mark.catalogue(
    "E31",
    input=(
        "``gauge`` array with NaN, ``inf``, ``-inf``, 0 or a negative "
        "entry; wrong length or 2-D; strings; entries outside ``[1e-100, "
        "1e100]``; an unknown name"
    ),
    outcome=(
        '``ValueError``: "gauge must hold finite positive numbers" / "must have '
        'shape (3,)" / "between 1e-100 and 1e+100"; ``TypeError``: "an array of '
        'numbers"; ``InvalidParameterError`` for the name.'
    ),
)
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
        ("bogus", ValueError, "'gauge' parameter"),
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
        DropoutAutoencoder(n_components=3, gauge=scaling).fit(small_binary)


@pytest.mark.catalogue(
    "E31b",
    input="A valid ``gauge`` array ``d`` (``1e-50``, 3, ``1e50``)",
    outcome=(
        "Correct: ``A = A_id diag(d)``, ``B = B_id diag(d)^-1``, same "
        "objective, finite projected embeddings"
    ),
)
def test_valid_scaling_array_gives_the_requested_split(small_binary):
    """E31b: scaling = d > 0 returns A = A_id diag(d), B = B_id diag(d)^-1."""
    d = np.array([1e-50, 3.0, 1e50])
    ref = DropoutAutoencoder(n_components=3).fit(small_binary)
    model = DropoutAutoencoder(n_components=3, gauge=d).fit(small_binary)
    assert_allclose(model.encoder_, ref.encoder_ * d, rtol=1e-12)
    assert_allclose(model.decoder_, ref.decoder_ / d, rtol=1e-12)
    assert_allclose(
        model.objective(small_binary), ref.objective(small_binary), rtol=1e-9
    )
    assert np.all(np.isfinite(model.item_embeddings("projected")))


@pytest.mark.catalogue(
    "E32",
    input='``dropout`` = 1.0, 1.5, -0.1, NaN, inf, ``"0.5"``, ``True``',
    outcome=(
        "``InvalidParameterError``: \"The 'dropout' parameter ... must be a "
        'float in the range [0.0, 1.0) or None"'
    ),
)
@pytest.mark.parametrize("dropout", [1.0, 1.5, -0.1, np.nan, np.inf, "0.5", True])
def test_bad_dropout_values_name_the_parameter(small_binary, dropout):
    """E32: dropout outside [0, 1), NaN, a string, a boolean."""
    with pytest.raises(InvalidParameterError, match="'dropout' parameter"):
        DropoutAutoencoder(n_components=3, dropout=dropout).fit(small_binary)


@pytest.mark.catalogue(
    "E33",
    input="``dropout=0.0``",
    outcome="Correct: bit-identical to ``dropout=None``",
)
def test_dropout_zero_is_no_dropout(small_binary):
    """E33: dropout = 0.0 is exactly the model without dropout."""
    a = DropoutAutoencoder(n_components=3, dropout=0.0).fit(small_binary)
    b = DropoutAutoencoder(n_components=3, dropout=None).fit(small_binary)
    assert_array_equal(a.encoder_, b.encoder_)
    assert_array_equal(a.decoder_, b.decoder_)


@pytest.mark.catalogue(
    "E34",
    input='``n_components`` 0, 2.5 or ``"3"``; ``alpha`` negative, NaN or inf',
    outcome="``InvalidParameterError`` naming the parameter",
)
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
    if param == "alpha" and "alpha" not in estimator.get_params():
        param = "init_alpha"  # CosineAutoencoder's start weight decay
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        clone(estimator).set_params(**{param: value}).fit(small_binary)


@pytest.mark.catalogue(
    "E36",
    input=(
        "``transform``, ``score``, ``objective``, ``inverse_transform`` before ``fit``"
    ),
    outcome='``NotFittedError``: "... is not fitted yet"',
)
@all_estimators
@pytest.mark.parametrize(
    "method", ["transform", "score", "objective", "inverse_transform"]
)
def test_using_an_unfitted_model_raises_not_fitted(estimator, small_binary, method):
    """E36: transform / score / objective / inverse_transform before fit."""
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(clone(estimator), method)(small_binary)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E37",
    input="``inverse_transform`` of an array of the wrong width",
    outcome='``ValueError``: "X has 4 columns, but ... has n_components=3"',
)
@all_estimators
def test_inverse_transform_of_the_wrong_width_is_rejected(estimator, small_binary):
    """E37: inverse_transform given something that is not an embedding."""
    model = clone(estimator).fit(small_binary)
    with pytest.raises(ValueError, match="n_components=3"):
        model.inverse_transform(np.ones((2, 4)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E38",
    input=(
        "``item_embeddings`` with an unknown ``embedding``; a ``gauge`` of the "
        "wrong shape, with NaN, or singular"
    ),
    outcome=(
        '``ValueError``: "embedding must be one of" / "gauge must have shape (3, 3)" / '
        '"NaN" / "gauge must be invertible".'
    ),
)
@all_estimators
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"embedding": "users"}, "embedding must be one of"),
        ({"gauge": np.eye(4)}, r"gauge must have shape \(3, 3\)"),
        ({"gauge": np.full((3, 3), np.nan)}, "NaN"),
        ({"gauge": np.diag([1.0, 0.0, 2.0])}, "gauge must be invertible"),
        ({"gauge": np.ones((3, 3))}, "gauge must be invertible"),
    ],
    ids=[
        "embedding",
        "gauge-shape",
        "gauge-nan",
        "gauge-singular-diag",
        "gauge-singular",
    ],
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


@pytest.mark.catalogue(
    "E57",
    input=(
        "``n_components=True``; ``n_components=10**7`` on 25 x 9 data (all "
        "estimators); ``cosine_neighbors(E, True)``, ``gauge_stability(..., "
        "n_draws=True)``"
    ),
    outcome=(
        "``InvalidParameterError`` naming the parameter; ``ValueError``: "
        '"n_components=10000000 is far above min(n_samples, n_features)=9, the most '
        "components that can be nonzero; the zero ones would take 0.671 GiB per "
        'factor" (padding above the rank stays allowed below 256 MiB, E10).'
    ),
)
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


@pytest.mark.catalogue(
    "E59",
    input=(
        '``k = m - 1`` components with ``solver="arpack"``, ``"auto"``, and '
        "on a dask array"
    ),
    outcome=(
        "Correct: one rule (ARPACK for ``k < m - 1``, else the Gram route), the "
        "singular values of a dense SVD."
    ),
)
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
