"""CosineAutoencoder on degenerate data and with extreme or bad parameters."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

import skcosim

from .._closed_forms import _assert_finite

# The cosine model runs few iterations here: it is the input handling that is
# tested, not convergence.


def _cosine(**params):
    params = {"n_components": 3, "max_iter": 15, "random_state": 0, **params}
    return skcosim.CosineAutoencoder(**params)


@pytest.mark.catalogue(
    "E40",
    input=(
        "``CosineAutoencoder`` with ``init_alpha >= s_1`` and the default "
        "weight-decay start"
    ),
    outcome=(
        '``ValueError``: "the weight-decay start is zero. Lower init_alpha or '
        'use init=\'random\'"; with ``init="random"`` a finite fit'
    ),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cosine_model_alpha_cutting_its_start_names_the_problem(small_binary):
    """E40: CosineAutoencoder with init_alpha >= s_1 and the weight-decay start."""
    s1 = np.linalg.norm(small_binary, 2)
    with pytest.raises(ValueError, match="the weight-decay start is zero"):
        _cosine(init_alpha=2 * s1).fit(small_binary)
    model = _cosine(init_alpha=2 * s1, init="random").fit(small_binary)
    _assert_finite(model)
    assert np.all(np.isfinite(model.transform(small_binary)))


@pytest.mark.catalogue(
    "E41",
    input="``CosineAutoencoder`` on an all-zero ``X`` (both losses, both inits)",
    outcome="Correct: zero embeddings, finite loss and reconstruction",
)
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


@pytest.mark.catalogue(
    "E42",
    input="``CosineAutoencoder`` with unseen items and empty users",
    outcome=(
        "Correct: unseen items get zero decoder rows, empty users zero "
        "embeddings; their reconstruction is uniform (softmax) or 0 "
        "(squared)"
    ),
)
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


@pytest.mark.catalogue(
    "E43",
    input="``temperature`` ``1e-8`` or ``1e300``",
    outcome="Correct: finite fit, loss and reconstruction",
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("temperature", [1e-8, 1e300])
def test_cosine_model_extreme_temperatures_stay_finite(small_binary, temperature):
    """E43: temperature 1e-8 (logits ~1e8) or 1e300 (all logits ~0)."""
    model = _cosine(temperature=temperature, max_iter=10).fit(small_binary)
    _assert_finite(model)
    assert np.isfinite(model.objective(small_binary))
    assert np.all(np.isfinite(model.inverse_transform(model.transform(small_binary))))


@pytest.mark.catalogue(
    "E44",
    input=(
        "Unknown ``loss`` or ``init``, ``temperature`` 0 or inf, "
        "``max_iter`` 0, ``tol`` < 0, ``batch_size`` 0"
    ),
    outcome="``InvalidParameterError`` naming the parameter",
)
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


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E49",
    input=(
        '``CosineAutoencoder(loss="softmax")`` on ``X`` with a negative '
        "entry (one ``-1e-3``, or mean-centred ratings), dense and sparse, "
        "at ``fit``, ``score`` and ``objective``"
    ),
    outcome=(
        '``ValueError``: "Negative values in data passed to '
        "CosineAutoencoder(loss='softmax'), whose loss treats each row of X as counts "
        'over items; use loss=\'squared\' ...". ``loss="squared"`` fits the same data '
        "(finite, loss at most ``||X||^2``)."
    ),
)
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


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E60",
    input="``CosineAutoencoder(temperature=5e-324)`` (or ``1e-307``), softmax loss",
    outcome=(
        '``ValueError``: "temperature=4.94066e-324 is too small for these data: the '
        "logits cosine / temperature, summed over the interactions, overflow float64. "
        'Raise temperature"; ``1e-300`` trains.'
    ),
)
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
