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
# ``scaling`` names the split (see :ref:`objective-1`).
n_components, alpha = 50, 1000.0
models = {
    f'Objective 1, scaling="{s}"': DropoutAutoencoder(
        n_components=n_components, alpha=alpha, scaling=s, random_state=0
    ).fit(X)
    for s in ["identity", "symmetric", "encoder", "random"]
}
for name, model in models.items():
    print(f"{name:>32}: loss {model.objective(X):.6f}")

# %%
# The losses agree to about twelve digits. Objective 2 has its own loss and a
# unique solution up to rotations; its ``alpha`` is in units of singular
# values, not squared singular values.
models["Objective 2 (weight decay)"] = WeightDecayAutoencoder(
    n_components=n_components, alpha=np.sqrt(alpha)
).fit(X)

# %%
# Item-item cosine similarities
# -----------------------------
# The ground truth is 1 for two items of the same cluster. Each model's item
# embeddings are the rows of its decoder :math:`B`; the last panel uses the
# gauge-free projection of Objective 1 (``kind="projected"``), from two of the
# splits.


def cosine_matrix(E):
    """Cosine similarities between the rows of E (zero rows give 0)."""
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    E = E / np.where(norms > 0, norms, 1.0)
    return E @ E.T


panels = {"ground truth": (data.item_labels[:, None] == data.item_labels).astype(float)}
for name, model in models.items():
    panels[name] = cosine_matrix(model.item_embeddings())
for s in ["identity", "random"]:
    panels[f'Objective 1, "{s}", projected'] = cosine_matrix(
        models[f'Objective 1, scaling="{s}"'].item_embeddings(kind="projected")
    )

fig, axes = plt.subplots(2, 4, figsize=(13, 7), layout="constrained")
for ax, (name, S) in zip(axes.ravel(), panels.items(), strict=True):
    im = ax.imshow(S, vmin=-1, vmax=1, cmap="RdBu_r", interpolation="nearest")
    ax.set_title(name, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(im, ax=axes, shrink=0.6, label="cosine similarity")
plt.show()

# %%
# The four Objective 1 panels have the same loss, yet show different pictures:
# the random split blurs the clusters, and the named splits disagree most on
# the unpopular items (bottom-right of each block). Objective 2 and the
# projection do not depend on a split: the projected panels of the
# ``"identity"`` and the random split are the same picture.
#
# How much the neighbours change
# ------------------------------
# The share of each item's 10 nearest neighbours (by cosine) that belong to its
# own cluster, and how many of them it shares with the ``"identity"`` split.


def top_neighbors(E, k=10):
    S = cosine_matrix(E)
    np.fill_diagonal(S, -np.inf)
    return np.argsort(-S, axis=1, kind="stable")[:, :k]


reference = top_neighbors(models['Objective 1, scaling="identity"'].item_embeddings())
for name, model in models.items():
    nn = top_neighbors(model.item_embeddings())
    agreement = np.mean(data.item_labels[nn] == data.item_labels[:, None])
    shared = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(nn, reference, strict=True)]
    )
    print(
        f"{name:>32}: same cluster {agreement:.2f}, shared with identity {shared:.2f}"
    )
