"""What models fitted in one ``shared_spectra`` block share: the spectrum and
the column moments of each matrix, keyed by its contents."""

import numpy as np
import pytest

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg import _matrix, _spectrum
from skcosim._linalg._spectrum import shared_spectra

from .._long_tailed import long_tailed_interactions


def _fitted(X):
    return [
        WeightDecayAutoencoder(4, alpha=1.0).fit(X),
        DropoutAutoencoder(4, alpha=3.0, gauge="symmetric").fit(X),
        DropoutAutoencoder(4, alpha=3.0, gauge="random", random_state=0).fit(X),
    ]


@pytest.mark.catalogue(
    "M72",
    input=(
        "Closed forms fitted in one ``shared_spectra`` block (as ``skcosim audit`` "
        "fits its rows): on one matrix, and on equal random halves built "
        "separately; long-tailed data with unseen items, an empty user and "
        "single-interaction users"
    ),
    outcome=(
        "Each matrix's column moments and digest computed once; every fitted "
        "attribute equal to the fit outside the block (exactly)"
    ),
)
def test_shared_block_computes_moments_once_and_changes_nothing(monkeypatch):
    """M72: shared column moments and digests, the same models."""
    X = long_tailed_interactions()
    # Stored zeros would make each fit validate a new matrix object.
    X.eliminate_zeros()
    rows = np.sort(np.random.RandomState(0).permutation(X.shape[0])[:150])
    alone = [*_fitted(X), *_fitted(X[rows])]
    calls = {"moments": 0, "digest": 0}
    moments, digest = _matrix.column_moments, _spectrum._digest

    def counted_moments(Y):
        calls["moments"] += 1
        return moments(Y)

    def counted_digest(Y):
        calls["digest"] += 1
        return digest(Y)

    monkeypatch.setattr(_spectrum, "column_moments", counted_moments)
    monkeypatch.setattr(_spectrum, "_digest", counted_digest)
    with shared_spectra():
        shared = [*_fitted(X), *_fitted(X[rows]), *_fitted(X[rows])]
    assert calls["moments"] == 2  # X and its half (built twice)
    assert calls["digest"] == 3  # once per matrix object
    for a, b in zip(alone + alone[3:], shared, strict=True):
        for name in (
            "encoder_",
            "decoder_",
            "loss_curve_",
            "components_",
            "explained_variance_",
            "explained_variance_ratio_",
        ):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
