"""Items nobody interacted with, and stored zeros, on a long-tailed matrix.

Zero means zero: an item whose column holds no nonzero value (none at all, or
only stored 0.0 entries) has exactly zero rows in every item embedding of
every estimator and solver, and a stored 0.0 changes no result. The unseen
items are found here by brute force on the dense matrix.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder

from .._stored_zeros import (
    NEVER,
    ONLY_ZEROS,
    long_tailed,
    unseen_by_brute_force,
    with_cancelling_duplicates,
)

ESTIMATORS = [
    WeightDecayAutoencoder(5, alpha=0.5, solver="gram"),
    WeightDecayAutoencoder(5, alpha=0.5, solver="arpack", random_state=0),
    WeightDecayAutoencoder(5, alpha=0.5, solver="randomized", random_state=0),
    WeightDecayAutoencoder(5, alpha=0.5, solver="lbfgs", max_iter=30, random_state=0),
    DropoutAutoencoder(5, alpha=2.0, solver="gram"),
    DropoutAutoencoder(5, alpha=2.0, solver="arpack", random_state=0),
    DropoutAutoencoder(5, alpha=2.0, solver="randomized", random_state=0),
    DropoutAutoencoder(5, alpha=2.0, gauge="random", random_state=0),
    DropoutAutoencoder(5, alpha=2.0, solver="lbfgs", max_iter=30, random_state=0),
    DropoutAutoencoder(5, alpha=2.0, dropout=0.3),
    DropoutAutoencoder(5, alpha=0.0, dropout=0.3, gauge="symmetric"),
    DropoutAutoencoder(
        5, alpha=2.0, dropout=0.3, solver="lbfgs", max_iter=30, random_state=0
    ),
    DropoutAutoencoder(
        5, alpha=2.0, dropout=0.3, solver="dropout-sgd", max_iter=3, random_state=0
    ),
    CosineAutoencoder(5, loss="softmax", max_iter=15),
    CosineAutoencoder(5, loss="squared", max_iter=15),
    CosineAutoencoder(5, loss="softmax", init="random", max_iter=5, random_state=0),
    CosineAutoencoder(
        5, loss="sampled_softmax", n_negatives=8, max_iter=3, random_state=0
    ),
]


def _id(estimator):
    params = estimator.get_params()
    parts = [
        f"{key}={params[key]}"
        for key in ("solver", "dropout", "gauge", "loss", "init")
        if key in params and params[key] not in (None, "auto", "identity")
    ]
    return f"{type(estimator).__name__}({','.join(parts)})"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E70",
    input=(
        "A long-tailed sparse log with items nobody interacted with and an "
        "item whose only entries are stored 0.0, float64 and float32: every "
        "estimator and solver (Gram, ARPACK, randomized, L-BFGS, dropout "
        "closed form and SGD, random split, cosine softmax, squared, "
        "sampled softmax, random start)"
    ),
    outcome=(
        "Correct: those items' rows of the encoder, decoder and projected embeddings "
        "are exactly 0.0."
    ),
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_unseen_items_get_exactly_zero_rows_everywhere(estimator, dtype):
    """E70: unseen items (incl. only stored zeros), every estimator x solver."""
    X = long_tailed(dtype=dtype)
    unseen = unseen_by_brute_force(X)
    assert unseen[[*NEVER, ONLY_ZEROS]].all()
    model = clone(estimator).fit(X)
    for kind in ("encoder", "decoder", "projected"):
        E = np.asarray(model.item_embeddings(kind))
        assert_array_equal(E[unseen], 0.0, err_msg=kind)
        assert np.any(E[~unseen] != 0), kind  # the model is not the zero model
    # The reconstruction's components do not load on them either.
    assert_array_equal(model.components_[:, unseen], 0.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E72",
    input=(
        "``similar_items`` of an item nobody interacted with, and of every "
        "other item, on the long-tailed log of E70"
    ),
    outcome=(
        "Correct: the unseen item has cosine exactly 0 with every item, so its "
        "neighbours are the smallest indices (the documented zero-row rule), and it "
        "has cosine 0 in every other item's list."
    ),
)
@pytest.mark.parametrize("embedding", ["projected", "decoder", "encoder"])
@pytest.mark.parametrize(
    "estimator",
    [
        WeightDecayAutoencoder(5, alpha=0.5, solver="gram"),
        DropoutAutoencoder(5, alpha=2.0, solver="lbfgs", max_iter=30, random_state=0),
        CosineAutoencoder(5, loss="softmax", max_iter=15),
    ],
    ids=_id,
)
def test_similar_items_of_an_unseen_item_follow_the_zero_row_rule(estimator, embedding):
    """E72: similar_items for an unseen item: cosine 0 with all, index ties."""
    X = long_tailed()
    unseen = unseen_by_brute_force(X)
    model = clone(estimator).fit(X)
    p = X.shape[1]
    for item in np.flatnonzero(unseen):
        ids, scores = model.similar_items(item, n_neighbors=5, embedding=embedding)
        assert_array_equal(scores, 0.0)
        assert_array_equal(ids[0], [j for j in range(6) if j != item][:5])
    ids, scores = model.similar_items(
        np.arange(p), n_neighbors=p - 1, embedding=embedding
    )
    assert_array_equal(scores[unseen[ids]], 0.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E74",
    input=(
        "``CosineAutoencoder(loss='sampled_softmax')`` on a log where an "
        "item's only entries are stored 0.0"
    ),
    outcome=(
        "Correct: that item is unseen (zero decoder row, never a positive), and the "
        "fit is bit-identical to the fit on the log without its stored zeros."
    ),
)
def test_sampled_softmax_ignores_stored_zeros():
    """E74: the sampled softmax treats stored zeros as no interaction."""
    X = long_tailed()
    clean = X.copy()
    clean.eliminate_zeros()
    params = dict(loss="sampled_softmax", n_negatives=8, max_iter=3, random_state=0)
    model = CosineAutoencoder(5, **params).fit(X)
    reference = CosineAutoencoder(5, **params).fit(clean)
    assert_array_equal(model.decoder_[ONLY_ZEROS], 0.0)
    assert_array_equal(model.decoder_, reference.decoder_)
    assert_array_equal(model.encoder_, reference.encoder_)


@pytest.mark.catalogue(
    "E75",
    input=(
        "Stored 0.0 entries (and duplicate entries summing to 0) in a "
        "sparse ``X``: ``fit`` of every estimator, ``transform``, "
        "``objective``, ``score``, ``recommend``"
    ),
    outcome=(
        "Correct: the same results, bit for bit, as on ``X`` without them: a stored "
        "zero is not an interaction."
    ),
)
@pytest.mark.parametrize("estimator", ESTIMATORS[::3], ids=_id)
def test_stored_zeros_change_nothing(estimator):
    """E75: stored zeros and cancelling duplicates are no interaction."""
    X = long_tailed()
    clean = X.copy()
    clean.eliminate_zeros()
    dirty = with_cancelling_duplicates(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = clone(estimator).fit(dirty)
        b = clone(estimator).fit(clean)
    for name in ("encoder_", "decoder_", "singular_values_", "components_"):
        assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert_array_equal(a.transform(dirty), b.transform(clean))
    assert a.objective(dirty) == b.objective(clean)
    assert a.score(dirty) == b.score(clean)
    for left, right in zip(a.recommend(dirty, 8), b.recommend(clean, 8), strict=True):
        assert_array_equal(left, right)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.catalogue(
    "E77",
    input=(
        "Gradient solvers (``solver='lbfgs'``, ``'dropout-sgd'``) on a log "
        "with items nobody interacted with"
    ),
    outcome=(
        "Correct: training starts those items at zero rows and keeps them there, so "
        "the last entry of ``loss_curve_`` is the ``objective`` of the returned model "
        "(to ``1e-12``)."
    ),
)
@pytest.mark.parametrize(
    "estimator",
    [
        WeightDecayAutoencoder(5, alpha=0.5, solver="lbfgs", random_state=0),
        DropoutAutoencoder(5, alpha=2.0, solver="lbfgs", random_state=0),
        DropoutAutoencoder(
            5, alpha=2.0, dropout=0.3, solver="dropout-sgd", max_iter=20, random_state=0
        ),
    ],
    ids=_id,
)
def test_gradient_solvers_loss_curve_describes_the_returned_model(estimator):
    """E77: loss_curve_[-1] is the objective of the model with zero rows."""
    X = long_tailed()
    model = clone(estimator).fit(X)
    assert model.loss_curve_[-1] == pytest.approx(model.objective(X), rel=1e-12)
