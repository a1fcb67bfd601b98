"""The cosine-trained model and the resample halves on a row-chunked dask
array, on a 2-worker LocalCluster, against the in-memory fits.

The sampled softmax runs its minibatch Adam block by block: not the same
random steps as in memory, so the comparison is with the spread of the
in-memory fits over seeds.
"""

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import resample_stability

from .._stored_zeros import long_tailed

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def X():
    return sp.csr_matrix(make_clustered_interactions(1500, 120, 4, random_state=0).data)


def _fit(X, seed, **extra):
    params = dict(
        n_components=6,
        loss="sampled_softmax",
        n_negatives=32,
        max_iter=6,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CosineAutoencoder(**{**params, **extra}).fit(X)


@pytest.mark.slow  # five fits, three of them on the cluster
@pytest.mark.catalogue(
    "D06",
    input=(
        "``CosineAutoencoder(loss='sampled_softmax')`` on a dask array of 4 row "
        "blocks (minibatch Adam block by block, seeds 0-1) and in memory (seeds 0-2)"
    ),
    outcome=(
        "Correct: the same seed gives the same model twice on Dask; its exact "
        "loss is below the Objective 2 start's and within the in-memory fits' "
        "seed-to-seed range widened by that range"
    ),
)
def test_sampled_softmax_runs_adam_block_by_block(client, X):
    """D06: the sampled softmax on Dask reaches the in-memory losses."""
    Xd = da.from_array(X, chunks=(400, -1), asarray=False)
    memory = [_fit(X, seed).objective(X) for seed in range(3)]
    on_dask = [_fit(Xd, seed) for seed in range(2)]
    again = _fit(Xd, 0)
    assert_array_equal(again.decoder_, on_dask[0].decoder_)
    start = _fit(X, 0, max_iter=1, learning_rate=1e-12).objective(X)
    spread = max(memory) - min(memory)
    for model in on_dask:
        loss = model.objective(X)
        assert loss < start - 10 * spread
        assert min(memory) - spread <= loss <= max(memory) + spread
        assert model.loss_curve_.size == model.n_iter_ + 1


@pytest.mark.catalogue(
    "D07",
    input=(
        "A random half of the users of a dask array of 5 row blocks (sparse "
        "chunks with stored zeros, unseen items)"
    ),
    outcome=(
        "Correct: the rows of the in-memory matrix, in order, each output block "
        "taken from one input block (chunk sizes known, no block merged)"
    ),
)
def test_resample_halves_are_user_subsets_of_the_blocks(client):
    """D07: a resample half of a dask array is taken block by block."""
    from skcosim._linalg._dask import take_rows

    X = long_tailed()
    Xd = da.from_array(X, chunks=(50, -1), asarray=False)
    rows = np.sort(np.random.RandomState(0).permutation(X.shape[0])[: X.shape[0] // 2])
    half = take_rows(Xd, rows)
    bounds = np.cumsum((0, *Xd.chunks[0]))
    expected_chunks = tuple(
        int(np.count_nonzero((rows >= lo) & (rows < hi)))
        for lo, hi in itertools.pairwise(bounds)
    )
    assert half.chunks[0] == tuple(c for c in expected_chunks if c)
    stacked = sp.vstack([b.compute() for b in half.blocks]).tocsr()
    assert_array_equal(stacked.toarray(), X[rows].toarray())


@pytest.mark.catalogue(
    "D08",
    input=(
        "``resample_stability`` of Objective 2 on a dask array and on the same "
        "matrix in memory (2 draws of random halves)"
    ),
    outcome="Correct: the same halves, the same models: equal stability (1e-12)",
)
def test_resample_stability_on_dask_equals_the_in_memory_one(client, X):
    """D08: resample stability on Dask: same halves, same value."""
    Xd = da.from_array(X, chunks=(400, -1), asarray=False)
    model = WeightDecayAutoencoder(6, alpha=2.0)
    expected = resample_stability(model, X, 5, n_resamples=2, random_state=0)
    got = resample_stability(model, Xd, 5, n_resamples=2, random_state=0)
    assert_allclose(got, expected, atol=1e-12)


@pytest.mark.catalogue(
    "D09",
    input=(
        "Inside ``shared_spectra()``: two closed forms fitted on one dask array, "
        "and twice on the same random half of it (taken twice), as the audit does"
    ),
    outcome=(
        "Correct: one top-k spectrum per distinct (re)sample (2 Dask "
        "decompositions, not 4), and the same models as without the cache"
    ),
)
def test_shared_spectra_serve_dask_arrays_once_per_sample(client, X, monkeypatch):
    """D09: a dask array's spectrum is shared like an in-memory one's."""
    from skcosim._linalg import _dask, _spectrum
    from skcosim.autoencoders import DropoutAutoencoder

    Xd = da.from_array(X, chunks=(400, -1), asarray=False)
    rows = np.sort(np.random.RandomState(0).permutation(X.shape[0])[:700])
    calls = []
    original = _dask.top_k_spectrum

    def counted(*args, **kwargs):
        calls.append(args[0].name)
        return original(*args, **kwargs)

    monkeypatch.setattr(_dask, "top_k_spectrum", counted)
    models = [WeightDecayAutoencoder(6, alpha=2.0), DropoutAutoencoder(6, alpha=4.0)]
    with _spectrum.shared_spectra():
        shared = [m.fit(Xd).decoder_.copy() for m in models]
        halves = [
            WeightDecayAutoencoder(6, alpha=2.0).fit(_dask.take_rows(Xd, rows)).decoder_
            for _ in range(2)
        ]
    assert len(calls) == 2
    alone = [m.fit(Xd).decoder_ for m in models]
    assert len(calls) == 4  # without the cache, every fit decomposes again
    for got, expected in zip(shared, alone, strict=True):
        assert_array_equal(got, expected)
    assert_array_equal(halves[0], halves[1])
