"""
======================================================================
Training for cosine similarity: what it fixes and what it leaves
======================================================================

The paper's first remedy is to train the embeddings for cosine similarity
directly (:class:`~skcosim.CosineAutoencoder`, Objective 3 of the user
guide): with the rows normalized inside the loss, a rescaling
:math:`AD, BD^{-1}` changes the loss, so the exact gauge of Objective 1 is
gone. But both losses are non-convex, and random starts can end at
near-equal losses with different neighbours: a softer, seed-dependent
freedom. This example measures both, next to the closed forms, on the
package's clustered data:

- **label agreement**: the share of each item's top-10 cosine neighbours in
  its own cluster (higher: neighbours that mean something);
- **seed-to-seed overlap**: the Jaccard@10 of the item neighbours between
  fits that differ only in ``random_state`` (1: the neighbours are a
  property of the data, not of the run).
"""

# %%
# Data and models
# ---------------
import itertools
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import neighbor_label_agreement, neighbor_overlap

data = make_clustered_interactions(
    n_users=2000, n_items=300, n_clusters=5, random_state=0
)
X, labels = data.data, data.item_labels
k, seeds = 16, (0, 1, 2)

# Each entry: a function of the seed that returns a fitted model.
families = {
    "Objective 1 closed form\n(random split)": lambda seed: DropoutAutoencoder(
        k, alpha=100.0, gauge="random", random_state=seed
    ),
    "Objective 2 closed form": lambda seed: WeightDecayAutoencoder(
        k, alpha=10.0, random_state=seed
    ),
    "cosine, softmax\n(Objective 2 start)": lambda seed: CosineAutoencoder(
        k, loss="softmax", init_alpha=10.0, random_state=seed
    ),
    "cosine, softmax\n(random starts)": lambda seed: CosineAutoencoder(
        k, loss="softmax", init="random", random_state=seed
    ),
    "cosine, squared\n(Objective 2 start)": lambda seed: CosineAutoencoder(
        k, loss="squared", init_alpha=10.0, random_state=seed
    ),
    "cosine, squared\n(random starts)": lambda seed: CosineAutoencoder(
        k, loss="squared", init="random", random_state=seed
    ),
}

results, capped = {}, {}
for name, make in families.items():
    with warnings.catch_warnings():
        # Reported below through n_iter_ rather than as warnings.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fits = [make(seed).fit(X) for seed in seeds]
    # The decoders: Objective 1's raw factor is the point of its row (its
    # default item embedding is the gauge-free projected one).
    embeddings = [m.item_embeddings("decoder") for m in fits]
    agreement = [neighbor_label_agreement(E, labels) for E in embeddings]
    overlap = [
        neighbor_overlap(E1, E2) for E1, E2 in itertools.combinations(embeddings, 2)
    ]
    losses = [m.objective(X) for m in fits]
    results[name] = (np.mean(agreement), np.mean(overlap))
    iterations = [getattr(m, "n_iter_", 1) for m in fits]
    # Closed forms have no n_iter_: never counted as stopped at max_iter.
    capped[name] = sum(getattr(m, "n_iter_", 0) >= m.max_iter for m in fits)
    print(
        f"{name.replace(chr(10), ' '):<40} label agreement {np.mean(agreement):.3f}"
        f"  seed-to-seed Jaccard@10 {np.mean(overlap):.2f}"
        f"  loss spread {np.ptp(losses) / np.mean(losses):.1e}"
        f"  iterations {iterations}"
    )

# %%
# What training for cosine fixes, and what it leaves
# --------------------------------------------------
# Objective 1 has the exact gauge: equally optimal splits (here random
# diagonal ones) give different neighbours at an identical loss. Objective 2
# and the cosine models with the default start are deterministic, so their
# overlap is 1 by construction. Random starts of the cosine losses show what
# non-convexity leaves: near-equal losses (the "loss spread" column) with
# neighbours that overlap only partly. The default start from the Objective
# 2 closed form removes that run-to-run variation, but it is a choice, not a
# property of the data: the stability metrics exist to measure what remains.
#
# Two more things to read in the table. First, whether training for cosine
# improves on the Objective 2 closed form: on this simulated data the closed
# form's neighbours are nearly all in-cluster already, and the cosine
# losses, which also weigh popularity, can move some neighbours out (on
# MovieLens-100k the softmax loss matched the closed form, see the user
# guide). Second, how many of the cosine fits stop at ``max_iter`` before
# L-BFGS's tolerance: such a fit is not at a minimum of its loss, and its
# neighbours can still move with more iterations.
closed_form = results["Objective 2 closed form"][0]
for name, (agreement, _) in results.items():
    if name.startswith("cosine"):
        print(
            f"{name.replace(chr(10), ' '):<40} label agreement {agreement:.3f} "
            f"({agreement - closed_form:+.3f} vs the Objective 2 closed form), "
            f"{capped[name]} of {len(seeds)} fits stopped at max_iter"
        )

# %%
# The same numbers as bars.
names = list(results)
agreement, overlap = np.array([results[n] for n in names]).T
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
ax1.barh(names, agreement, color="tab:blue")
ax1.set_xlabel("label agreement of top-10 neighbours")
ax1.set_xlim(0, 1)
ax2.barh(names, overlap, color="tab:orange")
ax2.set_xlabel("seed-to-seed Jaccard@10")
ax2.set_xlim(0, 1)
ax1.invert_yaxis()
fig.suptitle(f"Item neighbours over {len(seeds)} seeds, k = {k}")
fig.tight_layout()
plt.show()
