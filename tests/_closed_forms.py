"""The estimators the edge-case tests fit, and the checks they share.

A fitted model is compared with the independent ``numpy.linalg`` reference
of ``conftest._gauge_free_reference`` through its gauge-free products.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import skcosim
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder

CLOSED_FORMS = [
    WeightDecayAutoencoder(n_components=3, alpha=0.5),
    DropoutAutoencoder(n_components=3, alpha=2.0),
    DropoutAutoencoder(n_components=3, alpha=1.0, dropout=0.3),
]


def _all_estimators():
    """Closed forms plus the gradient-trained cosine model."""
    return [
        *CLOSED_FORMS,
        skcosim.CosineAutoencoder(n_components=3, max_iter=20, random_state=0),
    ]


ALL_ESTIMATORS = _all_estimators()


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
