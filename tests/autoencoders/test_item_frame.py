"""``item_embeddings(as_frame=True)``: the embeddings indexed by item id."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import load_interactions
from skcosim.preprocessing import ProjectedEmbedding
from tests._long_tailed import long_tailed_interactions

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # CosineAutoencoder, max_iter=5
)

MODELS = [
    WeightDecayAutoencoder(4),
    DropoutAutoencoder(4, gauge="random", random_state=0),
    CosineAutoencoder(4, max_iter=5),
    ProjectedEmbedding(DropoutAutoencoder(4)),
]


def _kinds(model):
    if isinstance(model, ProjectedEmbedding):
        return [None, "projected"]
    return [None, "decoder", "encoder", "projected"]


@pytest.mark.catalogue(
    "E94",
    input=(
        "``item_embeddings(embedding, as_frame=True)`` of every estimator fitted on "
        "a DataFrame with unsorted string item ids (unseen items included), on "
        "a ``load_interactions(as_frame=True)`` frame, and on an array"
    ),
    outcome=(
        "Correct: a DataFrame indexed by the item ids in the fitted column "
        "order (positions for an array), columns ``get_feature_names_out()``, "
        "values exactly the array's"
    ),
)
@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_item_embeddings_as_frame_is_indexed_by_item_id(model):
    """E94: the frame's rows are the items the model was fitted with."""
    X = long_tailed_interactions(n=150, p=40)
    ids = [f"sku-{j}" for j in np.random.RandomState(0).permutation(40)]
    frame = pd.DataFrame.sparse.from_spmatrix(X, columns=ids)
    fitted = clone(model).fit(frame)
    R = np.diag(np.linspace(0.5, 2.0, 4))
    for kind in _kinds(model):
        for gauge in (None, R):
            E = fitted.item_embeddings(kind, gauge=gauge, as_frame=True)
            assert isinstance(E, pd.DataFrame)
            assert E.index.tolist() == ids
            assert E.columns.tolist() == fitted.get_feature_names_out().tolist()
            assert_array_equal(E.to_numpy(), fitted.item_embeddings(kind, gauge=gauge))
    on_array = clone(model).fit(X)
    E = on_array.item_embeddings(as_frame=True)
    assert E.index.equals(pd.RangeIndex(40, name="item"))
    assert_array_equal(E.to_numpy(), on_array.item_embeddings())


def test_item_embeddings_as_frame_after_load_interactions():
    """The loader's frame: the index is its columns, the item ids as strings."""
    rng = np.random.RandomState(0)
    log = pd.DataFrame(
        {"user": rng.randint(0, 60, 600), "item": rng.randint(0, 40, 600) * 3}
    )
    data = load_interactions(log, "user", "item", as_frame=True)
    E = WeightDecayAutoencoder(3).fit(data.data).item_embeddings(as_frame=True)
    assert E.index.tolist() == data.data.columns.tolist()
    assert E.index.tolist() == [str(i) for i in data.item_ids]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_as_frame_must_be_a_bool(model):
    fitted = clone(model).fit(long_tailed_interactions(n=60, p=40))
    with pytest.raises(TypeError, match="as_frame"):
        fitted.item_embeddings(as_frame="yes")
