"""The sampled softmax's minibatch Adam on a row-chunked dask array.

The same algorithm as :func:`~._sampled_softmax.fit_adam`, with the users
where they live: an epoch visits the row blocks in a random order, and on
each one a task runs Adam's minibatch steps over that block's users (in a
random order, a fresh sample of negatives every step). The factors and
Adam's moments (``O(p k)``, small) travel from block to block; the blocks
never move. The evaluation set (a random sample of users) is brought to the
client once, and the stopping rule is :func:`~._sampled_softmax.adam_epochs`.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp

from .._linalg import _dask
from .._validation import drop_stored_zeros
from ._losses import NORMALIZE_EPS
from ._sampled_softmax import (
    MIN_STEPS,
    MINIBATCH_ENTRIES,
    STEP_DTYPE,
    NegativeSampler,
    _Adam,
    _minibatch_step,
    adam_epochs,
    sampled_batch_size,
    sampled_softmax_loss_grad,
)


def _block_epoch(adam, block, sampler, seed, minibatch, batch, temperature, floor):
    """Adam's steps over the users of one row block; returns ``adam``."""
    rng = np.random.RandomState(seed)
    sampler = copy.copy(sampler)
    sampler.random_state = rng
    X = drop_stored_zeros(sp.csr_matrix(block, dtype=STEP_DTYPE))
    A, B = adam.params
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], minibatch):
        users = np.sort(order[start : start + minibatch])
        (rows_A, dA), (rows_B, dB) = _minibatch_step(
            X[users], A, B, sampler, temperature, batch, floor
        )
        adam.step([rows_A, rows_B], [dA, dB])
    return adam


def _copy_into(adam, new):
    """Adam's state of ``new`` written into the arrays of ``adam``."""
    for old_list, new_list in (
        (adam.params, new.params),
        (adam.moments, new.moments),
        (adam.t, new.t),
    ):
        for old, value in zip(old_list, new_list, strict=True):
            np.copyto(old, value)


def fit_adam_blocks(
    X,
    A,
    B,
    *,
    popularity,
    temperature,
    n_negatives,
    exponent,
    learning_rate,
    max_iter,
    tol,
    random_state,
    verbose=0,
    name="CosineAutoencoder",
    monitor_users=10_000,
    patience=1,
    minibatch_entries=MINIBATCH_ENTRIES,
    floor=NORMALIZE_EPS,
    min_gain=None,
    batch_size="auto",
):
    """Minibatch Adam on the sampled softmax of a row-chunked dask array ``X``
    (``popularity``: users per item, counted over its blocks).

    The parameters and the result are those of
    :func:`~._sampled_softmax.fit_adam`; ``random_state`` is a
    ``RandomState``. An epoch is one Dask computation: a chain of one task
    per block.
    """
    import dask

    n = X.shape[0]
    t = float(temperature)
    sampler = NegativeSampler(popularity, n_negatives, exponent, random_state)
    minibatch = min(max(1, minibatch_entries // n_negatives), -(-n // MIN_STEPS))
    batch = sampled_batch_size(n_negatives, n, batch_size)
    blocks = _dask.row_blocks(X)
    monitor_rows = np.sort(random_state.choice(n, min(n, monitor_users), False))
    (Xm,) = dask.compute(_dask.take_rows(X, monitor_rows))
    Xm = drop_stored_zeros(sp.csr_matrix(Xm, dtype=np.float64))
    monitor_sample = sampler.draw()
    monitor_total = max(float(Xm.sum()), 1e-300)

    def monitored(A, B):
        A, B = A.astype(np.float64), B.astype(np.float64)
        return (
            sampled_softmax_loss_grad(
                Xm,
                A,
                B,
                temperature=t,
                sample=monitor_sample,
                batch_size=batch,
                floor=floor,
            )[0]
            / monitor_total
        )

    adam = _Adam([A.astype(STEP_DTYPE), B.astype(STEP_DTYPE)], learning_rate)
    step = dask.delayed(_block_epoch, pure=False)

    def epoch():
        order = random_state.permutation(len(blocks))
        seeds = random_state.randint(np.iinfo(np.int32).max, size=len(blocks))
        state = adam
        for i, seed in zip(order, seeds, strict=True):
            state = step(state, blocks[i], sampler, seed, minibatch, batch, t, floor)
        (new,) = dask.compute(state)
        _copy_into(adam, new)

    return adam_epochs(
        epoch,
        monitored,
        adam,
        max_iter=max_iter,
        tol=tol,
        patience=patience,
        verbose=verbose,
        name=name,
        min_gain=min_gain,
    )
