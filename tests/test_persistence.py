"""Persistence: pickle and skops round trips give the same model, bit for bit.

For every estimator (and pipelines of them once the preprocessing transformers
exist), a fitted model saved and loaded again must transform, embed items and
score exactly as before, keep its dtype (float32 stays float32) and still
reject inputs it rejected before.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skops.io as sio
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

import skcosim
from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.preprocessing import PopularityScaler, ProjectedEmbedding

# The cosine model runs few iterations here: convergence is not what is tested.


def _models():
    models = [
        WeightDecayAutoencoder(n_components=3, alpha=0.5),
        WeightDecayAutoencoder(n_components=3, solver="randomized", random_state=0),
        DropoutAutoencoder(n_components=3, alpha=2.0),
        DropoutAutoencoder(n_components=3, gauge="random", random_state=1),
        DropoutAutoencoder(
            n_components=3, dropout=0.3, gauge=np.array([0.5, 1.0, 2.0])
        ),
    ]
    models += [
        skcosim.CosineAutoencoder(n_components=3, max_iter=10, random_state=0),
        make_pipeline(PopularityScaler(), WeightDecayAutoencoder(n_components=3)),
        ProjectedEmbedding(
            DropoutAutoencoder(n_components=3, gauge="random", random_state=2)
        ),
        make_pipeline(
            PopularityScaler(beta=0.3),
            ProjectedEmbedding(DropoutAutoencoder(n_components=3, dropout=0.2)),
        ),
    ]
    return models


MODELS = _models()


def _id(i, model):
    steps = [s for _, s in model.steps] if hasattr(model, "steps") else [model]
    return "-".join(type(s).__name__ for s in steps) + f"-{i}"


IDS = [_id(i, m) for i, m in enumerate(MODELS)]


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def X(request):
    rng = np.random.RandomState(0)
    return sp.csr_matrix((rng.rand(40, 12) < 0.3).astype(request.param))


def _final(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _assert_same_model(loaded, original, X):
    """Loaded and original agree bit for bit on everything a user can call."""
    assert type(loaded) is type(original)
    assert repr(loaded.get_params()) == repr(original.get_params())
    Z = original.transform(X)
    Z_loaded = loaded.transform(X)
    assert Z_loaded.dtype == Z.dtype == X.dtype
    assert_array_equal(Z_loaded, Z)
    final, final_loaded = _final(original), _final(loaded)
    if hasattr(final, "encoder_"):
        assert final_loaded.encoder_.dtype == final.encoder_.dtype
        for kind in ("decoder", "encoder", "projected"):
            assert_array_equal(
                final_loaded.item_embeddings(kind), final.item_embeddings(kind)
            )
        assert loaded.score(X) == original.score(X)
    else:  # ProjectedEmbedding: one item embedding, no score
        assert_array_equal(final_loaded.item_embeddings(), final.item_embeddings())
        assert_array_equal(final_loaded.projected_encoder_, final.projected_encoder_)


def _skops_round_trip(model, path):
    sio.dump(model, path)
    untrusted = sio.get_untrusted_types(file=path)
    # Only skcosim's own classes need trusting: no numpy or scipy internals,
    # nothing that could run arbitrary code.
    assert all(name.startswith("skcosim.") for name in untrusted), untrusted
    return sio.load(path, trusted=untrusted)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_pickle_round_trip_gives_identical_transforms(model, X):
    fitted = clone(model).fit(X)
    loaded = pickle.loads(pickle.dumps(fitted))
    _assert_same_model(loaded, fitted, X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_skops_round_trip_gives_identical_transforms(model, X, tmp_path):
    fitted = clone(model).fit(X)
    loaded = _skops_round_trip(fitted, tmp_path / "model.skops")
    _assert_same_model(loaded, fitted, X)


def test_float32_model_loads_and_transforms_the_same_in_float32(tmp_path):
    """A model fitted in float32 stays float32 after both round trips."""
    rng = np.random.RandomState(3)
    X = (rng.rand(30, 10) < 0.3).astype(np.float32)
    model = DropoutAutoencoder(n_components=4, gauge="symmetric").fit(X)
    assert model.encoder_.dtype == np.float32
    for loaded in (
        pickle.loads(pickle.dumps(model)),
        _skops_round_trip(model, tmp_path / "f32.skops"),
    ):
        assert loaded.encoder_.dtype == loaded.decoder_.dtype == np.float32
        Z = loaded.transform(X)
        assert Z.dtype == np.float32
        assert_array_equal(Z, model.transform(X))


def test_skops_refuses_skcosim_types_unless_trusted(tmp_path):
    """skops' safe default holds for our classes: no silent trust."""
    X = np.eye(5)
    path = tmp_path / "model.skops"
    sio.dump(WeightDecayAutoencoder(n_components=2).fit(X), path)
    with pytest.raises(Exception, match="Untrusted types found"):
        sio.load(path)


@pytest.mark.parametrize("round_trip", ["pickle", "skops"])
def test_loaded_model_keeps_feature_names_and_still_rejects_other_columns(
    round_trip, tmp_path
):
    """A model fitted on a DataFrame still checks the columns after loading."""
    rng = np.random.RandomState(4)
    df = pd.DataFrame(
        (rng.rand(20, 6) < 0.4).astype(float), columns=[f"item{j}" for j in range(6)]
    )
    model = WeightDecayAutoencoder(n_components=2).fit(df)
    if round_trip == "pickle":
        loaded = pickle.loads(pickle.dumps(model))
    else:
        loaded = _skops_round_trip(model, tmp_path / "df.skops")
    assert_array_equal(loaded.feature_names_in_, df.columns)
    assert_array_equal(loaded.get_feature_names_out(), model.get_feature_names_out())
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        loaded.transform(df.rename(columns={"item0": "other"}))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_loaded_model_refits_to_the_same_result(model, X):
    """Loading does not leave state behind that changes a later fit."""
    fitted = clone(model).fit(X)
    loaded = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(loaded.fit(X).transform(X), clone(model).fit(X).transform(X))
