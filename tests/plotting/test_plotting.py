"""Tests of skcosim.plotting (matplotlib's Agg backend)."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim._linalg._gauge import sample_gauge
from skcosim.datasets import make_clustered_interactions
from skcosim.plotting import (
    NeighborStabilityDisplay,
    SimilarityMatrixDisplay,
    cluster_order,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _require_stability_metrics():
    # skcosim.metrics is written in parallel; these tests run once it has them.
    metrics = pytest.importorskip("skcosim.metrics")
    for name in ("gauge_stability", "resample_stability"):
        if not hasattr(metrics, name):
            pytest.skip(f"skcosim.metrics.{name} is not there yet")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sim():
    return make_clustered_interactions(400, 60, 3, random_state=0)


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, skcosim.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_cluster_order_sorts_by_label_then_descending_popularity():
    labels = np.array([2, 0, 2, 0, 1])
    popularity = np.array([1.0, 5.0, 3.0, 7.0, 2.0])
    assert_array_equal(cluster_order(labels, popularity), [3, 1, 4, 2, 0])
    assert_array_equal(cluster_order(labels), [1, 3, 4, 0, 2])
    with pytest.raises(ValueError, match="one value per item"):
        cluster_order(labels, popularity[:3])


def test_similarity_display_plot_returns_self_and_sets_attributes():
    S = np.array([[1.0, -0.2], [-0.2, 1.0]])
    fig, ax = plt.subplots()
    disp = SimilarityMatrixDisplay(S, title="t")
    assert disp.plot(ax=ax) is disp
    assert disp.ax_ is ax and disp.figure_ is fig
    assert_array_equal(disp.im_.get_array(), S)
    assert disp.im_.get_clim() == (-1.0, 1.0)
    assert ax.get_title() == "t"


def test_similarity_display_creates_axes_when_none_given():
    disp = SimilarityMatrixDisplay(np.eye(3)).plot(colorbar=False)
    assert disp.ax_ in disp.figure_.axes
    assert len(disp.figure_.axes) == 1


def test_similarity_display_rejects_non_square_matrix():
    with pytest.raises(ValueError, match="square"):
        SimilarityMatrixDisplay(np.ones((2, 3))).plot()


def test_from_embeddings_shows_cosines_in_order_with_zero_rows_at_zero():
    E = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0], [0.0, 2.0]])
    disp = SimilarityMatrixDisplay.from_embeddings(E, order=[3, 1, 2])
    r = np.sqrt(0.5)
    expected = np.array([[1.0, r, 0.0], [r, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert_allclose(disp.similarities, expected, atol=1e-12)
    assert not np.isnan(disp.similarities).any()


def test_from_embeddings_draws_boundaries_between_label_groups():
    E = np.random.RandomState(0).normal(size=(6, 3))
    labels = np.array([0, 1, 0, 2, 1, 2])
    order = cluster_order(labels)
    disp = SimilarityMatrixDisplay.from_embeddings(E, order=order, labels=labels)
    assert_array_equal(disp.labels, [0, 0, 1, 1, 2, 2])
    # two cuts between three groups, one horizontal and one vertical line each
    assert len(disp.ax_.lines) == 4


def test_from_embeddings_rejects_bad_order():
    E = np.ones((3, 2))
    with pytest.raises(ValueError, match="outside"):
        SimilarityMatrixDisplay.from_embeddings(E, order=[0, 5])
    with pytest.raises(ValueError, match="indices"):
        SimilarityMatrixDisplay.from_embeddings(E, order=[0.5, 1.0])


def test_from_estimator_objective1_heatmap_depends_on_scaling_but_projection_not(sim):
    X = sim.data
    a = DropoutAutoencoder(8, alpha=100.0).fit(X)
    b = DropoutAutoencoder(8, alpha=100.0, gauge="random", random_state=0).fit(X)
    dec_a = SimilarityMatrixDisplay.from_estimator(a, embedding="decoder").similarities
    dec_b = SimilarityMatrixDisplay.from_estimator(b, embedding="decoder").similarities
    assert np.abs(dec_a - dec_b).max() > 0.1
    proj_a = SimilarityMatrixDisplay.from_estimator(a, embedding="projected")
    proj_b = SimilarityMatrixDisplay.from_estimator(b, embedding="projected")
    assert_allclose(proj_a.similarities, proj_b.similarities, atol=1e-8)


def test_from_estimator_objective2_heatmap_is_rotation_invariant(sim):
    model = WeightDecayAutoencoder(6, alpha=2.0).fit(sim.data)
    R = sample_gauge("orthogonal", 6, random_state=0)
    plain = SimilarityMatrixDisplay.from_estimator(model)
    rotated = SimilarityMatrixDisplay.from_estimator(model, gauge=R)
    assert_allclose(plain.similarities, rotated.similarities, atol=1e-10)
    assert plain.ax_.get_title() == "WeightDecayAutoencoder (decoder)"


def test_from_estimator_recovers_clusters_in_weight_decay_heatmap(sim):
    model = WeightDecayAutoencoder(3, alpha=1.0).fit(sim.data)
    order = cluster_order(sim.item_labels, sim.item_popularity)
    S = SimilarityMatrixDisplay.from_estimator(model, order=order).similarities
    same = sim.item_labels[order][:, None] == sim.item_labels[order][None, :]
    assert S[same].mean() > S[~same].mean() + 0.5


def test_from_estimator_needs_a_fitted_autoencoder():
    with pytest.raises(NotFittedError):
        SimilarityMatrixDisplay.from_estimator(WeightDecayAutoencoder())
    from sklearn.decomposition import PCA

    pca = PCA(2).fit(np.random.RandomState(0).normal(size=(10, 4)))
    with pytest.raises(TypeError, match="item_embeddings"):
        SimilarityMatrixDisplay.from_estimator(pca)


def test_stability_display_plots_mean_and_band():
    scores = np.array([[0.1, 0.3], [0.5, 0.7], [0.9, 0.9]])
    disp = NeighborStabilityDisplay(
        param_name="alpha", param_range=[1.0, 10.0, 1000.0], scores=scores
    )
    assert disp.plot() is disp
    assert_allclose(disp.line_.get_ydata(), [0.2, 0.6, 0.9])
    assert disp.fill_between_ is not None
    assert disp.ax_.get_xscale() == "log"  # gaps differ by more than 5x
    assert disp.ax_.get_xlabel() == "alpha"


def test_stability_display_single_draw_has_no_band_and_linear_scale():
    disp = NeighborStabilityDisplay(
        param_name="n_components", param_range=[2, 4, 6], scores=[0.5, 0.6, 0.7]
    ).plot()
    assert disp.fill_between_ is None
    assert disp.ax_.get_xscale() == "linear"


def test_stability_display_rejects_scores_of_wrong_shape():
    disp = NeighborStabilityDisplay(
        param_name="alpha", param_range=[1, 2], scores=np.ones((3, 2))
    )
    with pytest.raises(ValueError, match="n_values"):
        disp.plot()


def test_stability_from_estimator_rejects_unknown_kind(sim):
    with pytest.raises(ValueError, match="kind"):
        NeighborStabilityDisplay.from_estimator(
            WeightDecayAutoencoder(3),
            sim.data,
            param_name="alpha",
            param_range=[1.0],
            kind="bootstrap",
        )


def test_stability_from_estimator_sweeps_clones_with_each_value(sim, monkeypatch):
    import skcosim.plotting._stability_curve as module

    seen = []

    def fake_draw(kind, estimator, X, n_neighbors, embedding, seed):
        seen.append((kind, estimator.alpha, hasattr(estimator, "decoder_")))
        return estimator.alpha / 10

    monkeypatch.setattr(module, "_stability_draw", fake_draw)
    model = WeightDecayAutoencoder(3, alpha=0.5)
    disp = NeighborStabilityDisplay.from_estimator(
        model, sim.data, param_name="alpha", param_range=[1.0, 2.0], n_draws=2
    )
    assert_allclose(disp.scores, [[0.1, 0.1], [0.2, 0.2]])
    assert seen == [("gauge", 1.0, True)] * 2 + [("gauge", 2.0, True)] * 2
    assert model.alpha == 0.5 and not hasattr(model, "decoder_")


def test_stability_from_estimator_gauge_separates_objectives(sim):
    _require_stability_metrics()
    X = sim.data
    wd = NeighborStabilityDisplay.from_estimator(
        WeightDecayAutoencoder(6),
        X,
        param_name="alpha",
        param_range=[1.0, 5.0],
        n_draws=2,
        random_state=0,
    )
    assert_allclose(wd.scores, 1.0, atol=1e-12)
    do = NeighborStabilityDisplay.from_estimator(
        DropoutAutoencoder(6),
        X,
        param_name="alpha",
        param_range=[10.0, 100.0],
        embedding="decoder",
        n_draws=2,
        random_state=0,
    )
    assert do.scores.max() < 1.0


def test_stability_from_estimator_resample_runs(sim):
    _require_stability_metrics()
    disp = NeighborStabilityDisplay.from_estimator(
        WeightDecayAutoencoder(3),
        sim.data,
        param_name="alpha",
        param_range=[1.0, 3.0],
        kind="resample",
        n_draws=2,
        random_state=0,
    )
    assert disp.scores.shape == (2, 2)
    assert np.all((disp.scores >= 0) & (disp.scores <= 1))
