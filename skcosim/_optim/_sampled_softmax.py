"""Objective 3 at scale: the sampled softmax loss and the solvers that use it.

The full softmax loss of Objective 3 normalizes every user's logits
``s_ui = cos(p_u, q_i) / t`` over all ``p`` items: ``O(n p k)`` per pass. The
sampled softmax (Jean et al., 2015; Yi et al., 2019) keeps each user's
positives exactly and estimates the rest of the partition function from ``S``
items drawn with probability ``q_j`` proportional to ``popularity_j^beta``::

    Z_u ~= sum_{i in pos(u)} exp(s_ui)
           + sum_{j in sample, j not in pos(u)} c_j exp(s_uj) / (S q_j)

with ``c_j`` the number of times item ``j`` was drawn; ``log(c_j / (S q_j))``
added to the sampled logits is the "logQ correction", which keeps the
estimate unbiased (docs/user_guide/objectives.rst, "Objective 3 at scale").
A pass over the users costs ``O((nnz(X) + n S) k)`` and the memory is one
``batch_size x S`` block.

A fixed sample is an objective that can be overfitted (the model learns to
push down the items never drawn), so every solver here draws a fresh sample
for every step (:func:`fit_adam`) or every few iterations
(:func:`fit_lbfgs_resampled`, used on Dask arrays, where one evaluation is one
pass over the blocks).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from .._validation import item_popularity
from ._checks import check_progress
from ._lbfgs import minimize_lbfgs
from ._losses import NORMALIZE_EPS, floored_unit_rows, floored_unit_rows_backward
from ._params import pack, unpack
from ._progress import IterationProgress, warn_not_converged

#: Entries of one ``batch_size x n_negatives`` block of logits (2 MB): the
#: passes over a block run from cache.
BLOCK_ENTRIES = 2**18

#: Logits of one Adam minibatch (256 users at 1,024 negatives): a step costs
#: what it touches, so small steps are cheap, yet each carries a fixed cost.
MINIBATCH_ENTRIES = 2**18

#: An epoch that lowers the evaluation loss by less than this share of what
#: the fit has gained since its start halves the learning rate (and, once
#: halved, stops the fit). Measured against the gain, not the loss: most of
#: the loss is entropy no model removes, and its share varies with the data.
ADAM_TOL = 2e-2

#: Adam's steps are noisy estimates: float32 halves their memory traffic,
#: while the evaluation loss that decides convergence stays in float64.
STEP_DTYPE = np.float32

#: Fewest Adam steps per epoch (smaller minibatches on small data).
MIN_STEPS = 32


@dataclass(frozen=True)
class NegativeSample:
    """A draw of negatives: distinct items and their importance weights.

    ``weight[j] = c_j / (S q_j)`` for a sampled item ``j`` drawn ``c_j`` times
    out of ``S`` (zero for the items not drawn); ``log_weight`` holds its log
    at ``items``, the logQ correction of the sampled logits.
    """

    items: np.ndarray
    log_weight: np.ndarray
    weight: np.ndarray

    def restrict(self, rows, dtype=np.float64):
        """The same sample on the sub-catalogue ``rows`` (sorted, holding ``items``)."""
        weight = np.zeros(len(rows), dtype=dtype)
        at = np.searchsorted(rows, self.items)
        weight[at] = np.exp(self.log_weight)
        log_weight = self.log_weight.astype(dtype, copy=False)
        return NegativeSample(items=at, log_weight=log_weight, weight=weight)


class NegativeSampler:
    """Draws negatives with probability proportional to ``popularity^exponent``.

    Items without any interaction are never drawn (their embedding is held at
    zero, see :class:`skcosim.CosineAutoencoder`). ``random_state`` is a
    :class:`numpy.random.Generator` or a legacy ``RandomState``.
    """

    def __init__(self, popularity, n_negatives, exponent, random_state):
        popularity = np.asarray(popularity, dtype=np.float64)
        # Relative to the most popular item: no overflow at any exponent.
        top = max(popularity.max(initial=0.0), 1.0)
        q = np.where(popularity > 0, (popularity / top) ** exponent, 0.0)
        self.q = q / q.sum()
        _check_sampling_weights(self.q, popularity, exponent, n_negatives)
        self.cdf = np.cumsum(self.q)
        self.n_negatives = int(n_negatives)
        self.random_state = random_state

    def draw(self, dense=True):
        """One :class:`NegativeSample` of ``n_negatives`` draws (with replacement).

        With ``dense=False`` its ``weight`` is left out (``None``): call
        :meth:`NegativeSample.restrict` for the sub-catalogue of one step.
        """
        S = self.n_negatives
        u = self.random_state.random(S) * self.cdf[-1]
        draws = np.minimum(np.searchsorted(self.cdf, u, side="right"), len(self.q) - 1)
        items, counts = np.unique(draws, return_counts=True)
        w = counts / (S * self.q[items])
        if dense:
            weight = np.zeros(len(self.q))
            weight[items] = w
        else:
            weight = None  # an O(p) array per Adam step would undo its sparsity
        return NegativeSample(items=items, log_weight=np.log(w), weight=weight)


def _check_sampling_weights(q, popularity, exponent, n_negatives):
    """Refuse an exponent that never draws some item, or whose importance
    weight ``1 / (S q_j)`` overflows the float32 steps: the estimate of the
    partition function would leave the item out, or turn inf/NaN."""
    active = popularity > 0
    if not active.any():
        return
    smallest = float(q[active].min())
    if n_negatives * smallest * float(np.finfo(STEP_DTYPE).max) >= 1.0:
        return
    raise ValueError(
        f"sampling_exponent={exponent:g} gives the least popular items "
        f"(popularity {popularity[active].min():.3g} against "
        f"{popularity.max():.3g}) a sampling probability of {smallest:.3g}: "
        "their importance weight 1 / (n_negatives * probability) overflows "
        f"{STEP_DTYPE.__name__}, or they are never drawn. Use a smaller "
        "sampling_exponent."
    )


def _unique(indices):
    """Sorted distinct values of an integer array, by sorting: numpy's
    ``unique`` hashes integers first, several times slower on a minibatch."""
    values = np.sort(indices)
    keep = np.empty(values.size, dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _rows_of(indptr):
    return np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))


def _exp_floor(dtype):
    """An exponent whose ``exp`` stays a normal number even after scaling by
    the softmax's ratios: 60 % of the way to the smallest normal one."""
    return 0.6 * float(np.log(np.finfo(dtype).tiny))


def _block_loss_grad(Xb, Z, Q, QN_t, sample, t, floor, with_grad=True):
    """Sampled softmax loss of one block of users (CSR float64, ``Z = Xb A``).

    Returns ``(loss, g_pos, dZ, P, dQN)``: the gradient with respect to the
    logits of the block's positives (in the order of ``Xb.data``), to its
    users' ``Z``, their normalized embeddings ``P``, and the gradient with
    respect to the sampled items' normalized embeddings ``QN``
    (``QN_t = QN / t``); ``floor`` smooths the users' normalization. With
    ``with_grad=False``, the loss alone.
    """
    b = Xb.shape[0]
    rows = _rows_of(Xb.indptr)
    cols, vals = Xb.indices, Xb.data
    P, r_p = floored_unit_rows(Z, floor)
    pos = np.einsum("ij,ij->i", P[rows], Q[cols]) / t
    neg = P @ QN_t.T  # QN / t: one pass less over the block
    neg += sample.log_weight
    # Shift each row by its largest logit: exp never overflows.
    m = neg.max(axis=1)
    filled = Xb.indptr[:-1] < Xb.indptr[1:]
    if pos.size:
        # CSR rows are contiguous: one reduceat per block, not a scatter.
        m[filled] = np.maximum(
            m[filled], np.maximum.reduceat(pos, Xb.indptr[:-1][filled])
        )
    # Exponents below the floor would give subnormal numbers, which the CPU
    # handles many times slower; their terms are below the precision anyway.
    exp_floor = _exp_floor(neg.dtype)
    e_pos = np.exp(np.maximum(pos - m[rows], exp_floor))
    e_pos *= 1.0 - sample.weight[cols]
    neg -= m[:, None]
    np.maximum(neg, exp_floor, out=neg)
    np.exp(neg, out=neg)
    Zu = np.bincount(rows, e_pos, minlength=b) + neg.sum(axis=1)
    row_sum = np.bincount(rows, vals, minlength=b)
    loss = float(row_sum @ (m + np.log(Zu)) - vals @ pos)
    if not with_grad:
        return loss
    # dL/ds: rowsum(x_u) softmax - x_u, on the positives and on the sample.
    ratio = row_sum / Zu
    g_pos = ratio[rows] * e_pos - vals
    neg *= ratio[:, None]
    G_pos = sp.csr_matrix((g_pos, cols, Xb.indptr), shape=Xb.shape)
    dP = np.asarray(G_pos @ Q) / t + neg @ QN_t
    return loss, g_pos, floored_unit_rows_backward(P, r_p, dP), P, neg.T @ P / t


def sampled_softmax_loss_grad(
    X, A, B, *, temperature, sample, batch_size, floor=NORMALIZE_EPS, with_grad=True
):
    """Sampled softmax loss of Objective 3 and its gradients ``(loss, dA, dB)``.

    ``X`` is a CSR matrix in float64; the logits are computed ``batch_size``
    users at a time, and the gradients of all blocks go through ``X`` in one
    sparse product each at the end (not one ``p x k`` product per block).
    Memory ``O(batch_size S + nnz + (n + p) k)``, time ``O((nnz + n S) k)``.
    ``floor`` smooths the normalization of both factors' rows
    (:func:`~._losses.floored_unit_rows`). With ``with_grad=False`` only the
    loss is returned (the same value, without the products of the gradient).
    """
    t = float(temperature)
    Q, r_q = floored_unit_rows(B, floor)
    QN_t = Q[sample.items] / t
    Z = np.asarray(X @ A)
    if not with_grad:
        return sum(
            _block_loss_grad(
                X[start : start + batch_size],
                Z[start : start + batch_size],
                Q,
                QN_t,
                sample,
                t,
                floor,
                with_grad=False,
            )
            for start in range(0, X.shape[0], batch_size)
        )
    dZ, P = np.empty_like(Z), np.empty_like(Z)
    g_pos = np.empty(X.nnz)
    loss, dQN = 0.0, np.zeros_like(QN_t)
    for start in range(0, X.shape[0], batch_size):
        stop = min(start + batch_size, X.shape[0])
        lo, hi = X.indptr[start], X.indptr[stop]
        part = _block_loss_grad(X[start:stop], Z[start:stop], Q, QN_t, sample, t, floor)
        loss += part[0]
        g_pos[lo:hi] = part[1]
        dZ[start:stop] = part[2]
        P[start:stop] = part[3]
        dQN += part[4]
    G_pos = sp.csr_matrix((g_pos, X.indices, X.indptr), shape=X.shape)
    dQ = np.asarray(G_pos.T @ P) / t
    dQ[sample.items] += dQN
    dA = np.asarray(X.T @ dZ)
    return loss, dA, floored_unit_rows_backward(Q, r_q, dQ)


def sampled_batch_size(n_negatives, n_samples, batch_size="auto"):
    """Users per block of ``batch_size x n_negatives`` logits: ``batch_size``,
    or for ``"auto"`` a block of about 2 MB."""
    if batch_size == "auto":
        batch_size = BLOCK_ENTRIES // max(n_negatives, 1)
    return int(max(1, min(n_samples, batch_size)))


# -- solvers ------------------------------------------------------------------------


class _Adam:
    """Adam (Kingma & Ba, 2015) on a list of arrays, in place, row by row.

    A step updates only the rows it is given (the items one minibatch
    touches), so its cost follows the minibatch, not the catalogue; each row
    keeps its own step count for the bias correction, which makes a row's
    first update the size of Adam's first step however late it comes. Each
    array's step is ``learning_rate`` times its own root-mean-square at the
    start: the encoder and the decoder live on different scales, and the loss
    depends on their directions only.
    """

    def __init__(self, params, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = params
        self.lr = [
            learning_rate * max(float(np.sqrt(np.mean(p * p))), 1e-12) for p in params
        ]
        # Both moments of a row side by side: one gather and one scatter a step.
        self.moments = [np.zeros((len(p), 2, p.shape[1]), p.dtype) for p in params]
        self.t = [np.zeros(len(p), p.dtype) for p in params]
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.scale = 1.0

    def step(self, rows, grads):
        """Update ``params[i][rows[i]]`` with the gradients ``grads[i]``."""
        for p, r, g, moments, t, lr in zip(
            self.params, rows, grads, self.moments, self.t, self.lr, strict=True
        ):
            t_r = np.take(t, r) + 1
            t[r] = t_r
            c1 = (1 - self.beta1**t_r)[:, None]
            c2 = (1 - self.beta2**t_r)[:, None]
            mv = np.take(moments, r, axis=0)
            m_r, v_r = mv[:, 0], mv[:, 1]
            # In place on the gathered rows and on g: few temporaries per step.
            m_r *= self.beta1
            m_r += (1 - self.beta1) * g
            v_r *= self.beta2
            np.square(g, out=g)
            g *= 1 - self.beta2
            v_r += g
            moments[r] = mv
            np.divide(v_r, c2, out=g)
            np.sqrt(g, out=g)
            g += self.eps
            np.divide(m_r, g, out=g)
            g *= (self.scale * lr) / c1
            p_r = np.take(p, r, axis=0)
            p_r -= g
            p[r] = p_r


def _minibatch_step(X, A, B, sampler, temperature, batch_size, floor):
    """The sampled-softmax gradient of one minibatch, on the rows it touches.

    ``X`` holds the minibatch's users. Its loss involves the encoder rows of
    its positives and the decoder rows of its positives and of the sample
    only, so the problem is solved on that sub-catalogue. Returns
    ``((rows_A, dA), (rows_B, dB))``.
    """
    positives = _unique(X.indices)
    sample = sampler.draw(dense=False)
    rows = _unique(np.concatenate([positives, sample.items]))
    Xr = sp.csr_matrix(
        (X.data, np.searchsorted(rows, X.indices), X.indptr),
        shape=(X.shape[0], len(rows)),
    )
    _, dA, dB = sampled_softmax_loss_grad(
        Xr,
        np.take(A, rows, axis=0),  # take: a faster gather than A[rows]
        np.take(B, rows, axis=0),
        temperature=temperature,
        sample=sample.restrict(rows, A.dtype),
        batch_size=batch_size,
        floor=floor,
    )
    return (positives, dA[np.searchsorted(rows, positives)]), (rows, dB)


@dataclass
class SampledFit:
    """What a sampled-softmax solver returns: factors, iterations, loss curve
    (a run that did not converge has warned)."""

    A: np.ndarray
    B: np.ndarray
    n_iter: int
    loss_curve: list


def _monitor(X, sampler, n_users, random_state):
    """A fixed evaluation set: a sample of users and of negatives.

    Its sampled loss per unit of interaction is a deterministic function of the
    factors, so decreases from one epoch to the next are real, not noise.
    """
    n = X.shape[0]
    users = np.sort(random_state.choice(n, size=min(n, n_users), replace=False))
    Xm = X[users]
    total = float(Xm.sum())
    return Xm, sampler.draw(), max(total, 1e-300)


def fit_adam(
    X,
    A,
    B,
    *,
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
    """Minibatch Adam on the sampled softmax: a fresh negative sample every step.

    One iteration is one epoch (a pass over the users in a random order). After
    each epoch the sampled loss of a fixed evaluation set (:func:`_monitor`) is
    computed; when an epoch lowers it by less than ``tol`` times the decrease
    since the start, the learning rate is halved, and after ``patience``
    halvings without progress the fit has converged. The factors of the epoch
    with the lowest evaluation loss are returned, and the loss curve and the
    number of epochs stop at that epoch (they describe the returned model; a
    run whose every epoch is worse than its start returns its first epoch).
    A step updates only the rows of the items it touches (items without users
    are never touched: their decoder rows stay as given). ``floor`` smooths
    the row normalization (:func:`~._losses.floored_unit_rows`); with
    ``min_gain``, a run that lowers the evaluation loss by less than that
    share of its start's warns (:func:`~._checks.check_progress`). The logits
    are computed ``batch_size`` users at a time (:func:`sampled_batch_size`).
    """
    n = X.shape[0]
    t = float(temperature)
    sampler = NegativeSampler(item_popularity(X), n_negatives, exponent, random_state)
    # At least MIN_STEPS steps per epoch: on small data an epoch of one
    # full batch would make an epoch a single Adam step.
    minibatch = min(max(1, minibatch_entries // n_negatives), -(-n // MIN_STEPS))
    batch = sampled_batch_size(n_negatives, n, batch_size)
    Xm, monitor_sample, monitor_total = _monitor(
        X, sampler, monitor_users, random_state
    )

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
                with_grad=False,  # the evaluation needs the loss only
            )
            / monitor_total
        )

    X32 = X.astype(STEP_DTYPE)
    adam = _Adam([A.astype(STEP_DTYPE), B.astype(STEP_DTYPE)], learning_rate)

    def epoch():
        A, B = adam.params
        order = random_state.permutation(n)
        for start in range(0, n, minibatch):
            users = np.sort(order[start : start + minibatch])
            (rows_A, dA), (rows_B, dB) = _minibatch_step(
                X32[users], A, B, sampler, t, batch, floor
            )
            adam.step([rows_A, rows_B], [dA, dB])

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


def adam_epochs(
    epoch, monitored, adam, *, max_iter, tol, patience, verbose, name, min_gain
):
    """The epochs of :func:`fit_adam` and their stopping rule.

    ``epoch()`` runs one pass over the users, updating ``adam.params``
    (``[A, B]``) in place; ``monitored(A, B)`` is the evaluation loss. After
    each epoch that lowers it by less than ``tol`` times the decrease since
    the start, the learning rate is halved, and after ``patience`` halvings
    without progress the fit has converged. Returns the
    :class:`SampledFit` of the best epoch.
    """
    A, B = adam.params
    curve = [monitored(A, B)]
    best, best_epoch, best_AB = np.inf, 0, None
    progress = IterationProgress(verbose, max_iter, name)
    progress.update(0, curve[0])
    stalls, converged, epoch_number = 0, False, 0
    for epoch_number in range(1, max_iter + 1):
        epoch()
        value = monitored(A, B)
        curve.append(value)
        progress.update(epoch_number, value)
        progressed = min(best, curve[0]) - value > tol * (curve[0] - value)
        if value < best or best_AB is None:
            best, best_epoch, best_AB = value, epoch_number, (A.copy(), B.copy())
        if progressed:
            stalls = 0
            continue
        stalls += 1
        if stalls > patience:
            converged = True
            break
        adam.scale *= 0.5
    progress.close(f"stopped after {epoch_number} epochs")
    # The returned model is the best epoch: the curve and n_iter stop there.
    curve = curve[: best_epoch + 1]
    if not converged:
        warn_not_converged(name, max_iter)
    elif min_gain is not None:
        check_progress(name, curve, min_gain=min_gain, n_iter=best_epoch, unit="epochs")
    A, B = (M.astype(np.float64) for M in best_AB)
    return SampledFit(A, B, n_iter=best_epoch, loss_curve=curve)


def fit_lbfgs_resampled(
    loss_grad,
    A,
    B,
    *,
    popularity,
    active,
    n_negatives,
    exponent,
    max_iter,
    tol,
    random_state,
    resample_every=5,
    verbose=0,
    name="CosineAutoencoder",
):
    """L-BFGS on the sampled softmax, restarted on a fresh sample every few steps.

    Resampling inside one L-BFGS run breaks its line search and its curvature
    pairs (the objective changes under it); each round of ``resample_every``
    iterations is therefore its own L-BFGS run on one sample, started where
    the previous round ended. ``loss_grad(A, B, sample) -> (loss, dA, dB)``
    evaluates the loss over all users (in memory, or summed over the blocks
    of a Dask array). The rounds stop at ``max_iter`` iterations in all, or
    when a round lowers its own sample's loss by less than ``tol`` (relative)
    per iteration.
    """
    p, k = A.shape
    sampler = NegativeSampler(popularity, n_negatives, exponent, random_state)
    theta = pack(A, B)
    curve, n_iter, converged = [], 0, False
    while n_iter < max_iter:
        sample = sampler.draw()

        def fun(theta, sample=sample):
            loss, dA, dB = loss_grad(*unpack(theta, p, k), sample)
            dB[~active] = 0.0
            return loss, pack(dA, dB)

        with warnings.catch_warnings():
            # Every round but the last ends at its iteration cap by design.
            warnings.simplefilter("ignore", ConvergenceWarning)
            theta, nit, losses = minimize_lbfgs(
                fun,
                theta,
                max_iter=min(resample_every, max_iter - n_iter),
                tol=0.0,
                verbose=verbose,
                name=name,
            )
        n_iter += nit
        curve.append(losses[-1])
        decrease = (losses[0] - losses[-1]) / max(abs(losses[0]), 1e-300)
        if decrease < tol * max(nit, 1):
            converged = True
            break
    if not converged:
        warn_not_converged(name, max_iter)
    A, B = unpack(theta, p, k)
    return SampledFit(A.copy(), B.copy(), n_iter=max(n_iter, 1), loss_curve=curve)


#: ``loss="auto"`` samples when ``n_samples * n_features`` reaches this: one
#: exact evaluation of the softmax costs ``O(n_samples n_features k)``, and
#: full-batch L-BFGS needs hundreds of them, where the sampled softmax's Adam
#: needs a few epochs of ``O((nnz + n_samples S) k)`` each.
SAMPLED_MIN_ENTRIES = 5 * 10**7


def use_sampled_softmax(n_samples, n_features):
    """Whether ``loss="auto"`` takes the sampled softmax for data of this shape:
    when ``n_samples * n_features >= SAMPLED_MIN_ENTRIES``, whatever the number
    of items (a catalogue of a few thousand items is no cheaper to normalize
    exactly when the users are many)."""
    return n_samples * n_features >= SAMPLED_MIN_ENTRIES
