"""One default item embedding per estimator, shared by every API (issue 18)."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import (
    gauge_stability,
    make_stability_scorer,
    neighbor_label_agreement,
    resample_stability,
)
from skcosim.plotting import SimilarityMatrixDisplay
from skcosim.preprocessing import ProjectedEmbedding

from ..metrics._reference import _brute_force

#: The lead's decision, per estimator.
EXPECTED = {
    DropoutAutoencoder: "projected",
    WeightDecayAutoencoder: "decoder",
    CosineAutoencoder: "decoder",
    ProjectedEmbedding: "projected",
}


@pytest.fixture(scope="module")
def data():
    return make_clustered_interactions(
        n_users=400, n_items=60, n_clusters=4, random_state=0
    )


def _models():
    yield DropoutAutoencoder(6, alpha=30.0, gauge="symmetric")
    yield WeightDecayAutoencoder(6, alpha=2.0)
    yield CosineAutoencoder(6, loss="softmax", max_iter=15, random_state=0)


@pytest.mark.catalogue(
    "E80",
    input=(
        "``item_embeddings()``, ``similar_items``, ``gauge_stability``, "
        "``resample_stability``, the stability scorer, "
        "``neighbor_label_agreement(item_embeddings())`` and "
        "``SimilarityMatrixDisplay.from_estimator`` without a named embedding, "
        "for each autoencoder"
    ),
    outcome=(
        'Each uses the estimator\'s one default (``_default_embedding``: "projected" '
        'for DropoutAutoencoder, "decoder" for WeightDecay and Cosine), the same '
        "neighbours as an explicit call and a numpy reference."
    ),
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", list(_models()), ids=lambda m: type(m).__name__)
def test_every_api_uses_the_estimators_default_embedding(data, model):
    """E80: one default embedding, everywhere."""
    X = data.data
    kind = EXPECTED[type(model)]
    assert type(model)._default_embedding == kind
    model.fit(X)
    E = model.item_embeddings(kind)
    assert_array_equal(model.item_embeddings(), E)
    # similar_items: the neighbours of a numpy brute force on that embedding.
    ids, _ = model.similar_items(np.arange(X.shape[1]), n_neighbors=5)
    assert_array_equal(ids, _brute_force(E, 5)[0])
    assert_array_equal(
        ids,
        model.similar_items(np.arange(X.shape[1]), n_neighbors=5, embedding=kind)[0],
    )
    kw = {"n_draws": 3, "random_state": 0}
    assert gauge_stability(model, 5, **kw) == gauge_stability(
        model, 5, embedding=kind, **kw
    )
    if isinstance(model, DropoutAutoencoder):
        # The default is the gauge-free one: 1; the raw decoder is not.
        assert gauge_stability(model, 5, **kw) == 1.0
        assert gauge_stability(model, 5, embedding="decoder", **kw) < 0.9
    kw = {"n_resamples": 1, "random_state": 0}
    assert resample_stability(model, X, 5, **kw) == resample_stability(
        model, X, 5, embedding=kind, **kw
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # constant gauge scorer
        scorer, named = make_stability_scorer(), make_stability_scorer(embedding=kind)
        assert scorer(model, X) == named(model, X)
    labels = data.item_labels
    assert neighbor_label_agreement(model.item_embeddings(), labels, 5) == (
        neighbor_label_agreement(E, labels, 5)
    )
    display = SimilarityMatrixDisplay.from_estimator(model)
    explicit = SimilarityMatrixDisplay.from_estimator(model, embedding=kind)
    assert_array_equal(display.similarities, explicit.similarities)
    assert display.ax_.get_title() == f"{type(model).__name__} ({kind})"


def test_projected_embedding_declares_its_only_kind(data):
    proj = ProjectedEmbedding(DropoutAutoencoder(5, alpha=10.0)).fit(data.data)
    assert proj._default_embedding == EXPECTED[ProjectedEmbedding]
    assert_array_equal(proj.item_embeddings(), proj.item_embeddings("projected"))
