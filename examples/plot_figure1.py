"""
====================================================
Figure 1 of the paper: same loss, other similarities
====================================================

Steck, Ekanadham & Kallus (2024) fit a linear autoencoder to simulated
interactions whose items fall into clusters, and show the item-item cosine
similarities under several equally optimal solutions. This example
reproduces their Figure 1 with skcosim: the ground-truth cluster structure,
Objective 1 (:class:`~skcosim.DropoutAutoencoder`) under three of its named
splits and a random one, Objective 2
(:class:`~skcosim.WeightDecayAutoencoder`), and the projected embedding of
the paper's second remedy.
"""

# %%
# Simulated interactions
# ----------------------
# Users and items fall into 5 clusters; users interact mostly (80 %) with items
# of their own cluster, and item popularity follows a power law. Items are
# numbered by cluster, then by descending popularity, so a heatmap of
# item-item similarities in this order shows the clusters as blocks along the
# diagonal, with the popular items in the top-left corner of each block.
import matplotlib.pyplot as plt
import numpy as np

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import gauge_stability, neighbor_label_agreement, neighbor_overlap
from skcosim.plotting import SimilarityMatrixDisplay, cluster_order

data = make_clustered_interactions(
    n_users=5000, n_items=500, n_clusters=5, random_state=0
)
X = data.data
print(f"{X.shape[0]} users x {X.shape[1]} items, {X.nnz} interactions")

# %%
# Equally optimal models
# ----------------------
# Objective 1, :math:`\|X - XAB^\top\|^2 + \alpha\|AB^\top\|^2`, only sees the
# product :math:`AB^\top`: every split :math:`AD, BD^{-1}` has the same loss.
# ``gauge`` names the split (see :ref:`objective-1`).
n_components, alpha = 50, 1000.0
models = {
    f'Objective 1, gauge="{s}"': DropoutAutoencoder(
        n_components=n_components, alpha=alpha, gauge=s, random_state=0
    ).fit(X)
    for s in ["identity", "symmetric", "encoder", "random"]
}
losses = [model.objective(X) for model in models.values()]
for name, loss in zip(models, losses, strict=True):
    print(f"{name:>32}: loss {loss:.6f}")
print(f"relative spread of the losses: {np.ptp(losses) / np.mean(losses):.1e}")

# %%
# The losses agree to rounding error (their relative spread, printed above,
# is of the order of float64's precision). Objective 2 has its own loss and a
# unique solution up to rotations; its ``alpha`` is in units of singular
# values, not squared singular values.
models["Objective 2 (weight decay)"] = WeightDecayAutoencoder(
    n_components=n_components, alpha=np.sqrt(alpha)
).fit(X)

# %%
# Item-item cosine similarities
# -----------------------------
# The ground truth is 1 for two items of the same cluster. Each model's item
# embeddings are the rows of its decoder :math:`B`;
# :class:`~skcosim.plotting.SimilarityMatrixDisplay` draws their cosines in the
# order of the paper's figure (:func:`~skcosim.plotting.cluster_order`: by
# cluster, then by descending popularity). The last two panels use the
# gauge-free projection of Objective 1 (``embedding="projected"``), from two of the
# splits.
order = cluster_order(data.item_labels, data.item_popularity)
ground_truth = (data.item_labels[:, None] == data.item_labels).astype(float)

fig, axes = plt.subplots(2, 4, figsize=(13, 7), layout="constrained")
SimilarityMatrixDisplay(
    ground_truth[np.ix_(order, order)],
    labels=data.item_labels[order],
    title="ground truth",
).plot(ax=axes[0, 0], colorbar=False)
axes[0, 0].title.set_fontsize(9)
panels = [(name, model, "decoder") for name, model in models.items()]
panels += [
    (f'Objective 1, "{s}", projected', models[f'Objective 1, gauge="{s}"'], embedding)
    for s, embedding in [("identity", "projected"), ("random", "projected")]
]
for ax, (name, model, embedding) in zip(axes.ravel()[1:], panels, strict=True):
    display = SimilarityMatrixDisplay.from_estimator(
        model, order=order, embedding=embedding, title=name, ax=ax, colorbar=False
    )
    ax.title.set_fontsize(9)
fig.colorbar(display.im_, ax=axes, shrink=0.6, label="cosine similarity")
plt.show()

# %%
# The four Objective 1 panels have the same loss, yet show different pictures:
# the ``"identity"`` split shows the clusters faintly, the ``"encoder"`` split
# sharply, the random split hardly at all. Objective 2 and the projection do
# not depend on a split: the projected panels of the ``"identity"`` and the
# random split are the same picture.
#
# How much the neighbours change
# ------------------------------
# Label agreement is the share of each item's 10 nearest neighbours (by cosine)
# in its own cluster; the overlap is the Jaccard@10 of each model's neighbours
# with those of the ``"identity"`` split; gauge stability is the expected
# overlap of a model's neighbours with those after a random, equally optimal
# re-split (see :ref:`stability`). Every score here is of the decoder ``B``,
# named explicitly: a DropoutAutoencoder's default item embedding is the
# gauge-free ``"projected"`` one (:ref:`default-embedding`).
reference = models['Objective 1, gauge="identity"'].item_embeddings("decoder")
print(f"{'':>32}  agreement  overlap  gauge stability")
for name, model in models.items():
    E = model.item_embeddings("decoder")
    agreement = neighbor_label_agreement(E, data.item_labels, n_neighbors=10)
    overlap = neighbor_overlap(E, reference, n_neighbors=10)
    stability = gauge_stability(
        model, n_neighbors=10, n_draws=5, embedding="decoder", random_state=0
    )
    print(f"{name:>32}  {agreement:9.2f}  {overlap:7.2f}  {stability:15.2f}")

# %%
# Every split of Objective 1 has a gauge stability well below 1: its
# neighbours are a convention of the split. Objective 2 scores 1.
