"""
============================================================
Auditing the item embeddings of models you trained elsewhere
============================================================

The paper's lesson is about any model that scores a user and an item by an
inner product, :math:`\\hat X = U V^\\top`: every invertible :math:`R` gives
the same scores with :math:`U R` and :math:`V R^{-\\top}`, and only the
training recipe decides which :math:`R` also keep the loss. This example asks
the question of three models that skcosim did not train:

- scikit-learn's :class:`~sklearn.decomposition.TruncatedSVD`: a plain
  low-rank least-squares fit, nothing on the factors, so every invertible
  :math:`R` is admissible (``group="invertible"``);
- scikit-learn's :class:`~sklearn.decomposition.NMF` without regularization:
  non-negative factors, which a positive diagonal :math:`R` keeps
  non-negative (``group="diagonal"``);
- implicit's ``AlternatingLeastSquares`` when the ``implicit`` package is
  installed (it is not a dependency of skcosim): weight decay on both factors,
  so only rotations are admissible (``group="orthogonal"``).

For each, :func:`~skcosim.metrics.factor_gauge_stability` measures how much
an admissible :math:`R` moves the item neighbours, and
:func:`~skcosim.preprocessing.project_factors` gives the item embedding that
no :math:`R` can move. The user guide's :ref:`external-gauges` explains which
group fits which recipe.
"""

# %%
# Data with a known answer
# ------------------------
# Simulated interactions with five item clusters: a neighbour in the same
# cluster is a right answer.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import NMF, TruncatedSVD

from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import (
    apply_gauge,
    factor_gauge_stability,
    neighbor_label_agreement,
    neighbor_overlap,
    sample_gauge,
)
from skcosim.preprocessing import project_factors

data = make_clustered_interactions(
    n_users=3000, n_items=300, n_clusters=5, random_state=0
)
X, labels = data.data, data.item_labels
k = 20

# %%
# The factors of each model
# -------------------------
# ``U`` are the user factors and ``V`` the item factors, with scores
# ``U @ V.T``.
svd = TruncatedSVD(n_components=k, random_state=0).fit(X)
nmf = NMF(n_components=k, init="nndsvda", tol=1e-3, max_iter=1000, random_state=0)
W = nmf.fit_transform(X)
models = {
    "TruncatedSVD": (svd.transform(X), svd.components_.T, "invertible"),
    "NMF": (W, nmf.components_.T, "diagonal"),
}

try:
    from implicit.als import AlternatingLeastSquares
except ImportError:
    print("implicit is not installed: its ALS is left out.")
else:
    als = AlternatingLeastSquares(
        factors=k, regularization=0.1, iterations=15, random_state=0
    )
    als.fit(X.tocsr(), show_progress=False)
    factors = [als.user_factors, als.item_factors]
    # implicit's GPU models keep factors on the device: bring them to numpy.
    U_als, V_als = (
        np.asarray(getattr(f, "to_numpy", lambda f=f: f)()) for f in factors
    )
    models["implicit ALS"] = (U_als, V_als, "orthogonal")

# %%
# Gauge stability of the item factors
# -----------------------------------
# 1 means the loss determines the neighbours; well below 1 means they are an
# accident of one admissible split.
rows = []
for name, (_, V, group) in models.items():
    stability = factor_gauge_stability(
        V, group=group, n_neighbors=10, n_draws=5, random_state=0
    )
    rows.append((name, group, stability))
    print(f"{name:>13s}  group={group:<10s}  gauge stability {stability:.3f}")

# %%
# The projected embedding no admissible R can move
# ------------------------------------------------
# ``project_factors(U, V)`` has the cosines of the columns of ``U V^T``: how
# alike the model scores two items across all users. Re-split each model with
# a random ``R`` its training admits and project again: the neighbours are the
# same, while those of the raw item factors move unless ``R`` is a rotation.
for name, (U, V, group) in models.items():
    U_R, V_R = apply_gauge(U, V, sample_gauge(group, k, random_state=1))
    moved_raw = neighbor_overlap(V, V_R, n_neighbors=10)
    moved_projected = neighbor_overlap(
        project_factors(U, V), project_factors(U_R, V_R), n_neighbors=10
    )
    print(
        f"{name:>13s}  overlap after R: raw factors {moved_raw:.3f}, "
        f"projected {moved_projected:.3f}"
    )

# %%
# Which embedding finds the clusters?
# -----------------------------------
# The share of each item's 10 nearest neighbours in its own cluster, for the
# raw item factors and for the projected embedding.
names = list(models)
raw = [neighbor_label_agreement(models[n][1], labels, n_neighbors=10) for n in names]
projected = [
    neighbor_label_agreement(project_factors(*models[n][:2]), labels, n_neighbors=10)
    for n in names
]
stability = [s for _, _, s in rows]
for name, r, p in zip(names, raw, projected, strict=True):
    print(f"{name:>13s}  label agreement: raw factors {r:.3f}, projected {p:.3f}")

fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
x = np.arange(len(names))
ax0.bar(x, stability, color="tab:gray")
ax0.set_xticks(x, [f"{n}\n({models[n][2]})" for n in names])
ax0.set_ylim(0, 1.05)
ax0.set_ylabel("gauge stability of V")
ax0.set_title("Do admissible splits move the neighbours?")
ax1.bar(x - 0.2, raw, width=0.4, label="item factors V")
ax1.bar(x + 0.2, projected, width=0.4, label="project_factors(U, V)")
ax1.set_xticks(x, names)
ax1.set_ylim(0, 1.05)
ax1.set_ylabel("neighbours in the same cluster")
ax1.set_title("Label agreement")
ax1.legend(loc="lower right")
plt.show()

# %%
# Reading the result: TruncatedSVD's ``components_`` are orthonormal by the
# algorithm's convention, not by anything the least-squares fit chose, so
# their cosines move under an admissible ``R``; NMF's move already under a
# rescaling of its dimensions. The projected embedding is the same for every
# admissible split. A model trained with weight decay on both factors (ALS)
# keeps every cosine under the rotations its loss allows.
