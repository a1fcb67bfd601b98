"""Gauge transforms of a factorization ``A B^T``.

A gauge transform replaces the encoder ``A`` by ``A R`` and the decoder ``B`` by
``B R^{-T}``; the product ``A B^T`` is unchanged. Which ``R`` leave a model's
objective unchanged depends on the objective (docs/user_guide/gauges.rst); an
autoencoder names its group in the class attribute ``_gauge_group``:

- ``"invertible"``: Objective 1 (penalty on the product, dropout). Every
  invertible ``R`` is admissible; :func:`skcosim.metrics.gauge_stability` draws
  positive diagonal ones, which already move every
  cosine and are what ``DropoutAutoencoder(gauge="random")`` draws.
- ``"orthogonal"``: Objectives 2 and 3. Only orthogonal ``R`` are admissible, and
  they leave every cosine unchanged.

:func:`sample_gauge` draws from three families: ``"diagonal"`` (log-normal
scaling), ``"orthogonal"`` (rotations) and ``"invertible"`` (rotation,
log-normal scaling, rotation; for factors of an external model whose training
leaves every invertible ``R`` admissible,
:func:`skcosim.metrics.factor_gauge_stability`).

This module is the one place that draws such transforms, so that
``DropoutAutoencoder(gauge="random")`` and the gauge-stability metric agree.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import special_ortho_group
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

#: Standard deviation ``t`` of the log of a random diagonal gauge
#: (docs/user_guide/stability.rst: ``R = diag(exp(z))``, ``z ~ N(0, t^2)``).
LOG_NORMAL_SCALE = 1.0

GAUGE_GROUPS = ("diagonal", "orthogonal", "invertible")


def sample_gauge(group, n_components, random_state=None, *, scale=LOG_NORMAL_SCALE):
    """Draw a random admissible gauge transform ``R`` (``n_components`` square).

    Parameters
    ----------
    group : {"diagonal", "orthogonal", "invertible"}
        ``"diagonal"`` draws ``diag(exp(z))`` with ``z ~ N(0, scale^2)``;
        ``"orthogonal"`` draws a Haar-uniform rotation; ``"invertible"``
        draws ``Q_1 diag(exp(z)) Q_2`` with ``Q_1, Q_2`` Haar-uniform
        rotations (singular values log-normal, so ``R`` is invertible).
    n_components : int
        Size of ``R``.
    random_state : int, RandomState instance or None
        Seed of the draw.
    scale : float, default=1.0
        Standard deviation of the log-normal diagonal.

    Returns
    -------
    R : ndarray of shape (n_components, n_components)
    """
    rng = check_random_state(random_state)
    if group == "diagonal":
        return np.diag(np.exp(rng.normal(0.0, scale, size=n_components)))
    if group == "orthogonal":
        return _rotation(n_components, rng)
    if group == "invertible":
        d = np.exp(rng.normal(0.0, scale, size=n_components))
        return (_rotation(n_components, rng) * d) @ _rotation(n_components, rng)
    raise ValueError(f"group must be one of {GAUGE_GROUPS}, got {group!r}.")


def _rotation(n_components, rng):
    """A Haar-uniform rotation of size ``n_components``."""
    if n_components == 1:
        return np.ones((1, 1))
    return special_ortho_group.rvs(n_components, random_state=rng)


def check_gauge(gauge, n_components):
    """``gauge`` as an array, checked: ``n_components`` square, finite and
    invertible (``B R^{-T}`` of a singular ``R`` has inf rows)."""
    gauge = check_array(gauge, input_name="gauge")
    if gauge.shape != (n_components, n_components):
        raise ValueError(
            f"gauge must have shape {(n_components, n_components)}, got {gauge.shape}."
        )
    if np.linalg.matrix_rank(gauge) < n_components:
        raise ValueError("gauge must be invertible (it is singular).")
    return gauge


def apply_gauge(encoder, decoder, R):
    """Return ``(A R, B R^{-T})``: the same product ``A B^T``, another split.

    ``R`` must be invertible; a diagonal or orthogonal ``R`` is inverted
    exactly (no linear solve).
    """
    R = np.asarray(R, dtype=np.float64)
    d = np.diag(R)
    if np.array_equal(R, np.diag(d)):
        return encoder * d.astype(encoder.dtype), decoder / d.astype(decoder.dtype)
    if np.allclose(R @ R.T, np.eye(R.shape[0]), atol=1e-10):
        R = R.astype(encoder.dtype)
        return encoder @ R, decoder @ R
    R_inv_T = np.linalg.inv(R).T
    return (encoder @ R).astype(encoder.dtype), (decoder @ R_inv_T).astype(
        decoder.dtype
    )
