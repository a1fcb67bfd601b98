"""CosineAutoencoder with the sampled softmax: what objective() reports, the
inputs its loss methods accept, and the parameters its sampling can take."""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder
from skcosim._optim._losses import floored_unit_rows

from .._long_tailed import long_tailed_interactions

T = 0.2


@pytest.fixture(scope="module")
def X():
    return long_tailed_interactions()


@pytest.fixture(scope="module")
def sampled(X):
    model = CosineAutoencoder(
        4,
        loss="sampled_softmax",
        temperature=T,
        n_negatives=16,
        max_iter=5,
        random_state=0,
    )
    with warnings.catch_warnings():
        # Five epochs: the factors, not convergence, are what the tests use.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X)


def _dense_softmax_loss(model, X):
    """``- sum_ui x_ui log softmax_i(N(X A) N(B)^T / t)``, all at once.

    Dense numpy and scipy's ``log_softmax``; only ``N`` is the model's own
    (it defines the cosine)."""
    D = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    P = floored_unit_rows(D @ model.encoder_)[0]
    Q = floored_unit_rows(model.decoder_.astype(np.float64))[0]
    return -float(np.sum(D * log_softmax(P @ Q.T / model.temperature, axis=1)))


def _with_loss(model, loss):
    """A model of the same factors with another ``loss_used_``."""
    other = CosineAutoencoder(**{**model.get_params(), "loss": loss})
    fitted = {k: v for k, v in vars(model).items() if k.endswith("_")}
    other.__dict__.update(fitted)
    other.loss_used_ = loss
    return other


@pytest.mark.catalogue(
    "E89",
    input=(
        '``CosineAutoencoder(loss="sampled_softmax").objective(X)`` and '
        "``reconstruction_loss(X)`` on long-tailed data, in memory and on Dask"
    ),
    outcome=(
        "Correct: the exact softmax loss of the fitted factors, its log-partition "
        "blocks in float32 like the fit's steps (dense numpy reference and the "
        "exact-loss model's objective, rtol 1e-8), a sum over users."
    ),
)
def test_sampled_model_objective_is_the_exact_softmax_loss(X, sampled):
    """E89: objective() of the sampled-softmax model is the exact loss.

    Regression: a deterministic estimate on one sample of negatives, which
    differed from the exact loss and was not additive over users.
    """
    reference = _dense_softmax_loss(sampled, X)
    # float32 log-partition blocks: about 1e-7 / t per unit of X at worst,
    # and the users' roundings mostly cancel (measured 6e-10 relative).
    assert_allclose(sampled.objective(X), reference, rtol=1e-8)
    exact = _with_loss(sampled, "softmax")
    assert_allclose(exact.objective(X), reference, rtol=1e-10)
    assert_allclose(sampled.objective(X), exact.objective(X), rtol=1e-8)
    assert_allclose(sampled.reconstruction_loss(X), reference / X.shape[0], rtol=1e-8)
    bounds = [0, 7, 8, 150, X.shape[0]]
    parts = [sampled.objective(X[a:b]) for a, b in itertools.pairwise(bounds)]
    assert_allclose(sum(parts), reference, rtol=1e-8)


def test_sampled_model_objective_on_dask_is_the_exact_loss(X, sampled):
    """E89: the same exact loss, summed over the blocks of a dask array."""
    da = pytest.importorskip("dask.array")
    Xd = da.from_array(X, chunks=(70, -1), asarray=False)
    assert_allclose(sampled.objective(Xd), _dense_softmax_loss(sampled, X), rtol=1e-8)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E85",
    input=(
        '``CosineAutoencoder(loss="sampled_softmax")``: ``objective`` and '
        "``reconstruction_loss`` on a dense array, a DataFrame or a list"
    ),
    outcome=(
        "Correct: the same loss as on the CSR matrix (rtol 1e-12), as the other models "
        "accept them."
    ),
)
@pytest.mark.parametrize("container", ["dense", "frame", "list"])
@pytest.mark.parametrize("loss", ["sampled_softmax", "softmax", "squared"])
def test_cosine_loss_methods_take_what_fit_takes(X, loss, container):
    """E85: objective and reconstruction_loss on dense, DataFrame and list X.

    Regression: with the sampled softmax both raised ``AttributeError:
    'numpy.ndarray' object has no attribute 'nnz'``, and
    ``reconstruction_loss`` on a list raised ``AttributeError`` for every
    loss.
    """
    model = CosineAutoencoder(
        4, loss=loss, n_negatives=16, max_iter=3, random_state=0
    ).fit(X)
    D = X.toarray()
    data = {"dense": D, "frame": pd.DataFrame(D), "list": D.tolist()}[container]
    if container == "frame":
        model = CosineAutoencoder(
            4, loss=loss, n_negatives=16, max_iter=3, random_state=0
        ).fit(pd.DataFrame(D))
    assert_allclose(model.objective(data), model.objective(X), rtol=1e-12)
    assert_allclose(
        model.reconstruction_loss(data), model.objective(X) / X.shape[0], rtol=1e-12
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E86",
    input=(
        '``CosineAutoencoder(loss="sampled_softmax", sampling_exponent=300)`` '
        "(long-tailed popularity), in memory and on Dask"
    ),
    outcome=(
        '``ValueError``: "sampling_exponent=300 gives the least popular items '
        "(popularity 1 against ...) a sampling probability of 0: their importance "
        "weight ... overflows float32, or they are never drawn. Use a smaller "
        'sampling_exponent"; ``3`` trains (finite loss curve).'
    ),
)
@pytest.mark.parametrize("on_dask", [False, True], ids=["memory", "dask"])
def test_sampling_exponent_beyond_float_range_is_named(X, on_dask):
    """E86: sampling_exponent=300 overflowed popularity ** exponent.

    Regression: inf / inf sampling probabilities, a NaN loss curve, no error.
    """
    data = X
    if on_dask:
        da = pytest.importorskip("dask.array")
        data = da.from_array(X, chunks=(100, -1), asarray=False)
    params = dict(loss="sampled_softmax", n_negatives=16, max_iter=3, random_state=0)
    with pytest.raises(ValueError, match=r"sampling_exponent=300 .*smaller"):
        CosineAutoencoder(4, sampling_exponent=300, **params).fit(data)
    model = CosineAutoencoder(4, sampling_exponent=3, **params).fit(data)
    assert np.all(np.isfinite(model.loss_curve_))
    assert np.isfinite(model.objective(X))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E87",
    input=(
        '``CosineAutoencoder(loss="sampled_softmax", temperature=1e-300)`` '
        "(or ``1e-17``, ``1e-6``), in memory and on Dask"
    ),
    outcome=(
        "``ValueError``: \"temperature=1e-300 is too small for loss='sampled_softmax': "
        "its float32 steps round the logits ... Raise temperature, or use "
        "loss='softmax' (exact, in float64)\"; ``1e-4`` trains (finite loss curve), "
        "and the exact softmax still trains at ``1e-300`` (E60)."
    ),
)
@pytest.mark.parametrize("on_dask", [False, True], ids=["memory", "dask"])
@pytest.mark.parametrize("temperature", [1e-300, 1e-17, 1e-6])
def test_sampled_softmax_refuses_temperatures_it_cannot_represent(
    X, temperature, on_dask
):
    """E87: temperature 1e-300 on the sampled path.

    Regression: the exact softmax trained at 1e-300, the sampled one gave a
    NaN loss curve (the logQ correction rounded away from logits of 1e300).
    """
    data = X
    if on_dask:
        da = pytest.importorskip("dask.array")
        data = da.from_array(X, chunks=(100, -1), asarray=False)
    params = dict(loss="sampled_softmax", n_negatives=16, max_iter=3, random_state=0)
    with pytest.raises(ValueError, match=r"temperature=.* too small for loss='samp"):
        CosineAutoencoder(4, temperature=temperature, **params).fit(data)
    model = CosineAutoencoder(4, temperature=1e-4, **params).fit(data)
    assert np.all(np.isfinite(model.loss_curve_))
    assert np.isfinite(model.objective(X))
