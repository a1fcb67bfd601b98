"""
=============================================================
Gauge, resample and restart stability of the three objectives
=============================================================

Three questions about one model's item neighbours, each a mean Jaccard@10
(:ref:`stability`):

- **gauge stability** (:func:`~skcosim.metrics.gauge_stability`): do they
  survive a change of split that leaves the loss unchanged?
- **resample stability** (:func:`~skcosim.metrics.resample_stability`): do
  they survive a fit on other users?
- **restart stability** (:func:`~skcosim.metrics.restart_stability`): do
  they survive another run of the optimizer, from another random start, on
  the same users?

The paper's first remedy, training for cosine
(:class:`~skcosim.CosineAutoencoder`), answers the first question: a rescaling
of the factors changes its loss, so only rotations, which keep every cosine,
are left. It says nothing about the third: its losses are non-convex, and
different starts can end at near-equal losses with different neighbours.
"""

# %%
# Data and models
# ---------------
# Simulated interactions with 5 clusters of items and power-law popularity.
# Each model scores its default item embedding (:ref:`default-embedding`),
# except the first row, which names Objective 1's raw decoder.
import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skcosim import CosineAutoencoder, DropoutAutoencoder, WeightDecayAutoencoder
from skcosim.datasets import make_clustered_interactions
from skcosim.metrics import gauge_stability, resample_stability, restart_stability

data = make_clustered_interactions(
    n_users=2000, n_items=200, n_clusters=5, random_state=0
)
X = data.data
k = 16
rows = {
    "Objective 1, decoder": (
        DropoutAutoencoder(k, alpha=100.0, gauge="random"),
        "decoder",
    ),
    "Objective 1, projected": (DropoutAutoencoder(k, alpha=100.0), None),
    "Objective 2": (WeightDecayAutoencoder(k, alpha=10.0), None),
    "Objective 3 (softmax)": (
        CosineAutoencoder(k, loss="softmax", init_alpha=10.0, max_iter=200),
        None,
    ),
}

# %%
# The three stabilities
# ---------------------
# ``restart_stability`` fits three clones that differ only in
# ``random_state``; an estimator that offers ``init="random"`` (the cosine
# model) is started at random, since its default start, the Objective 2
# closed form, is deterministic and would hide the dependence on the start.
# The closed forms do not depend on ``random_state`` at all (their restart
# stability is exactly 1), except Objective 1's ``gauge="random"``, whose
# split is drawn from it.
table = []
with warnings.catch_warnings():
    # Some random starts stop at max_iter: what they reach is what is measured.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name, (model, embedding) in rows.items():
        fitted = model.set_params(random_state=0).fit(X)
        table.append(
            {
                "model": name,
                "gauge": gauge_stability(fitted, embedding=embedding, random_state=0),
                "resample": resample_stability(
                    model, X, n_resamples=2, embedding=embedding, random_state=0
                ),
                "restart": restart_stability(
                    model, X, n_restarts=3, embedding=embedding, random_state=0
                ),
            }
        )
table = pd.DataFrame(table).set_index("model")
print(table.round(3).to_string())

# %%
# Reading the table
# -----------------
# Objective 1's decoder fails the gauge question: its neighbours belong to
# the split, not to the data. The projection and Objective 2 answer all three
# the same way every time: their gauge and restart stabilities are 1 by
# construction, and only resampling the users moves them. The cosine-trained
# model passes the gauge question too (rotations only), but its restart
# stability, below 1, is what non-convexity leaves: fits from different
# starts that the loss cannot tell apart disagree on part of the neighbours.
# Training for cosine removes the diagonal gauge, not the dependence on the
# optimizer and its start, a point the paper does not make. Report restart
# stability next to the other two for any model trained by a non-convex
# loss.
