"""
==========================================================
Which split does dropout training pick? The initialization
==========================================================

Objective 1 and the expected loss of input dropout depend on the product
:math:`AB^\\top` only, so every split :math:`AR, BR^{-\\top}` is equally
optimal, and the cosine similarities of the item embeddings change with
:math:`R` (the paper's point). A closed form has to pick a split by
convention (``gauge``). But which split does *training* land on?

Gradient flow conserves the imbalance :math:`A^\\top A - B^\\top B`
(:ref:`gauges`), so the random start decides: a small
start keeps the factors balanced and ends near the ``"symmetric"`` split; an
ordinary start carries a random imbalance to the end, and the item neighbours
depend on the seed. This example trains
:class:`~skcosim.DropoutAutoencoder` with ``solver="dropout-sgd"``: plain
minibatch SGD with real random dropout masks on the input, the way a
practitioner would train it, at several init scales.
"""

# %%
# Data whose neighbours depend on every dimension
# -----------------------------------------------
# A noisy rank-8 matrix with a gently decaying spectrum: all 8 components
# matter for the item neighbours. (On the package's clustered data the top-10
# neighbours of an item are mostly the other items of its cluster whatever
# the split, which hides the effect.)
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skcosim import DropoutAutoencoder
from skcosim.metrics import neighbor_overlap

rng = np.random.RandomState(0)
n_users, n_items, k = 1000, 100, 8
V = np.linalg.qr(rng.randn(n_items, k))[0]
X = rng.randn(n_users, k) @ np.diag(np.linspace(2.0, 1.0, k)) @ V.T
X += 0.3 * rng.randn(n_users, n_items)

params = dict(n_components=k, alpha=1.0, dropout=0.5)
closed = DropoutAutoencoder(**params).fit(X)
symmetric = DropoutAutoencoder(**params, gauge="symmetric").fit(X)
print(f"closed-form expected loss: {closed.objective(X):.1f}")

# %%
# Train with real dropout, two seeds per init scale
# -------------------------------------------------
# ``init_scale`` is the standard deviation of each entry of the random start.
init_scales = [0.001, 0.01, 0.03, 0.1, 0.2]
results = []
for scale in init_scales:
    with warnings.catch_warnings():
        # Reported below through n_iter_ (max_iter=500 epochs).
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = [
            DropoutAutoencoder(
                **params, solver="dropout-sgd", init_scale=scale, random_state=seed
            ).fit(X)
            for seed in (0, 1)
        ]
    excess = max(m.objective(X) / closed.objective(X) - 1 for m in fits)
    between = neighbor_overlap(fits[0].decoder_, fits[1].decoder_)
    to_symmetric = np.mean(
        [neighbor_overlap(m.decoder_, symmetric.decoder_) for m in fits]
    )
    A, B = fits[0].encoder_, fits[0].decoder_
    imbalance = np.linalg.norm(A.T @ A - B.T @ B) / np.linalg.norm(B.T @ B)
    results.append((excess, between, to_symmetric, imbalance))
    print(
        f"init scale {scale:<6}: loss +{100 * excess:.2f} % over the closed form, "
        f"Jaccard@10 between seeds {between:.2f}, with 'symmetric' "
        f"{to_symmetric:.2f}, relative imbalance {imbalance:.2f}, "
        f"epochs {[m.n_iter_ for m in fits]}"
    )

# %%
# Same loss, different neighbours
# -------------------------------
# The small and moderate init scales reach the closed-form expected loss
# within a fraction of a percent (the scales printed below), yet only the
# small starts agree on the neighbours, and they agree with the balanced
# ``"symmetric"`` split. Larger starts land on a seed-dependent split: the
# cosine similarities of their item embeddings are an accident of the
# initialization. The largest start is also slow: its step is scaled down by
# the factor norms, and after ``max_iter`` epochs its loss can still be
# percents above the optimum (the table above), so its neighbours differ for
# both reasons.
excess, between, to_symmetric, imbalance = np.array(results).T
near = [s for s, e in zip(init_scales, excess, strict=True) if e < 0.01]
print(f"init scales whose runs end within 1 % of the closed-form loss: {near}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
ax1.semilogx(init_scales, between, "o-", label="between two seeds")
ax1.semilogx(init_scales, to_symmetric, "s--", label='with the "symmetric" split')
ax1.set_xlabel("init scale (std of each entry)")
ax1.set_ylabel("Jaccard@10 of item neighbours")
ax1.set_ylim(0, 1.05)
ax1.legend()
ax1.set_title("Item neighbours after dropout training")
ax2.semilogx(init_scales, 100 * excess, "o-", label="loss over closed form (%)")
ax2.semilogx(init_scales, imbalance, "s--", label="relative imbalance")
ax2.set_xlabel("init scale (std of each entry)")
ax2.legend()
ax2.set_title("Same loss, different imbalance")
fig.tight_layout()
plt.show()

# %%
# What this means
# ---------------
# Weight decay on both factors (:class:`~skcosim.WeightDecayAutoencoder`)
# makes the balanced split optimal, and training for cosine similarity
# (:class:`~skcosim.CosineAutoencoder`) removes the diagonal freedom; with
# plain dropout the split is whatever the optimizer's start left behind.
# The minibatch and mask noise only approximately conserve the imbalance,
# and momentum or Adam would break the conservation outright.
