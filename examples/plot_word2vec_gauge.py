"""
========================================================
The free gauge of word2vec, and an audit of its vectors
========================================================

Skip-gram with negative sampling (word2vec, here gensim's) learns two vectors
per word, an input vector :math:`w_i` and an output (context) vector
:math:`c_j`, and its loss sees them only through the dot products
:math:`c_j^\\top w_i`:

.. math::

   \\ell = -\\sum_{(i, j)} \\Big[\\log \\sigma(c_j^\\top w_i)
       + \\sum_{n} \\log \\sigma(-c_n^\\top w_i)\\Big].

So the input vectors :math:`W R` and output vectors :math:`C R^{-\\top}` have
exactly the same loss for every invertible :math:`R`: the paper's
Objective 1 situation, with nothing (no weight decay) to pick one split. The
"most similar words" that people read off the input vectors are cosines of
one such split. This example trains word2vec on a small generated corpus
with known topics, re-splits it at random, and audits it with the tools of
:ref:`auditing-your-model`. gensim is an optional dependency (the ``docs``
extra), never one of skcosim.
"""

# %%
# A corpus with known topics
# --------------------------
# Eight topics of 30 words each; a sentence draws its words from one topic
# (Zipf-like frequencies) with some words from anywhere. A word's topic is a
# label its neighbours should share. The sentences are also kept as a
# sentence x word count matrix ``X``, the form the resampling below splits.
import hashlib

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp

from skcosim.metrics import (
    apply_gauge,
    factor_gauge_stability,
    neighbor_label_agreement,
    neighbor_overlap,
    resample_stability,
    sample_gauge,
)
from skcosim.preprocessing import project_factors

rng = np.random.RandomState(0)
n_topics, per_topic, length = 8, 30, 8
vocab = [f"t{t}_w{j}" for t in range(n_topics) for j in range(per_topic)]
topic = np.repeat(np.arange(n_topics), per_topic)
freq = 1.0 / np.arange(1, per_topic + 1) ** 0.8
freq /= freq.sum()
words = []
for _ in range(3000):
    w = rng.choice(per_topic, size=length, p=freq) + rng.randint(n_topics) * per_topic
    noise = rng.rand(length) < 0.4
    w[noise] = rng.randint(len(vocab), size=noise.sum())
    words.append(w)
words = np.array(words)
X = sp.csr_matrix(
    (np.ones(words.size), (np.repeat(np.arange(len(words)), length), words.ravel())),
    shape=(len(words), len(vocab)),
)

# %%
# Training word2vec
# -----------------
# Skip-gram (``sg=1``) with negative sampling, one worker and a fixed seed.
# gensim seeds each word's start from Python's ``hash``, which changes from
# run to run; a fixed hash makes the run reproducible. A window as long as
# the sentence (not shrunk at random) makes a sentence a bag of words, so
# that it can be rebuilt from its row of ``X`` (the resampling needs that).
from gensim.models import Word2Vec  # noqa: E402


def stable_hash(text):
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


def train(sentence_rows):
    """word2vec on the sentences of the rows of a count matrix: the input
    and output vectors, one row per word of ``vocab`` (zeros if unseen)."""
    rows = sp.csr_matrix(sentence_rows)
    sentences = [
        [vocab[j] for j in np.repeat(rows.indices[a:b], rows.data[a:b].astype(int))]
        for a, b in zip(rows.indptr[:-1], rows.indptr[1:], strict=True)
    ]
    model = Word2Vec(
        sentences,
        vector_size=32,
        window=length,
        shrink_windows=False,
        min_count=1,
        sg=1,
        negative=5,
        epochs=5,
        workers=1,
        seed=0,
        hashfxn=stable_hash,
    )
    W, C = np.zeros((2, len(vocab), 32))
    for j, word in enumerate(vocab):
        if word in model.wv.key_to_index:
            k = model.wv.key_to_index[word]
            W[j], C[j] = model.wv.vectors[k], model.syn1neg[k]
    return W, C


W, C = train(X)

# %%
# A random re-split keeps the loss and moves the neighbours
# ---------------------------------------------------------
# :func:`~skcosim.metrics.sample_gauge` draws a random positive diagonal
# :math:`D`; :func:`~skcosim.metrics.apply_gauge` returns :math:`C D` and
# :math:`W D^{-1}`. Every dot product :math:`c_j^\top w_i`, and so the loss,
# is the same; the words' top-10 cosine neighbours are not.
D = sample_gauge("diagonal", 32, random_state=1)
C_D, W_D = apply_gauge(C, W, D)
print(f"largest change of a score c.w: {np.abs(C_D @ W_D.T - C @ W.T).max():.1e}")
kept = neighbor_overlap(W, W_D, n_neighbors=10)
print(f"share of the top-10 neighbours kept (Jaccard): {kept:.3f}")

# %%
# A word and its neighbours under the two splits, equally good for word2vec:
target = vocab[0]
for name, E in [("trained split", W), ("re-split", W_D)]:
    unit = E / np.linalg.norm(E, axis=1, keepdims=True)
    nearest = np.argsort(-(unit @ unit[0]))[1:6]
    print(f"{name:>13s}: {target} ~ {', '.join(vocab[j] for j in nearest)}")

# %%
# The audit
# ---------
# :func:`~skcosim.metrics.factor_gauge_stability` averages that overlap over
# random transforms of a group. The loss admits every invertible :math:`R`
# (``group="invertible"``); already a diagonal one moves the neighbours.
# :func:`~skcosim.preprocessing.project_factors` with the output vectors as
# the "users" gives the embedding whose cosines are those of the columns of
# the score matrix :math:`C W^\top`, which no :math:`R` moves.
for group in ("invertible", "diagonal"):
    stability = factor_gauge_stability(W, group=group, n_draws=5, random_state=0)
    print(f"gauge stability of the input vectors, {group:>10s} group: {stability:.3f}")
P = project_factors(C, W)
C_R, W_R = apply_gauge(C, W, sample_gauge("invertible", 32, random_state=2))
print(
    "projected embedding, neighbours kept after an invertible re-split: "
    f"{neighbor_overlap(P, project_factors(C_R, W_R), n_neighbors=10):.3f}"
)

# %%
# Do the neighbours share the word's topic, and would they survive another
# corpus? :func:`~skcosim.metrics.resample_stability` takes any training
# code as a callable ``fit_item_factors(X) -> V``: it trains word2vec on two
# random halves of the sentences, and compares the neighbours.
# A random other word shares the topic with this probability.
chance = (per_topic - 1) / (len(vocab) - 1)
raw_labels = neighbor_label_agreement(W, topic, n_neighbors=10)
projected_labels = neighbor_label_agreement(P, topic, n_neighbors=10)
resplit_labels = neighbor_label_agreement(W_D, topic, n_neighbors=10)
print(
    f"topic agreement: input vectors {raw_labels:.3f}, re-split "
    f"{resplit_labels:.3f}, projected {projected_labels:.3f} (random "
    f"neighbours: {chance:.3f})"
)

# %%
# On this corpus the topics are strong enough that every split keeps a
# word's neighbours inside its topic; which topic-mates are nearest is what
# the split decides, and what a "most similar words" list shows.


def input_vectors(X_half):
    return train(X_half)[0]


def projected_vectors(X_half):
    W_half, C_half = train(X_half)
    return project_factors(C_half, W_half)


resample = {
    name: resample_stability(func, X, n_neighbors=10, n_resamples=2, random_state=0)
    for name, func in [("input", input_vectors), ("projected", projected_vectors)]
}
print(
    f"resample stability: input vectors {resample['input']:.3f}, projected "
    f"{resample['projected']:.3f}"
)

# %%
# The same audit from the command line, with the vectors saved as ``.npy``:
#
# .. code-block:: console
#
#    $ skcosim audit-factors --item-factors input_vectors.npy \
#        --user-factors output_vectors.npy --item-ids words.txt \
#        --group invertible --item-labels topics.csv --label-item-col word
#
# What it shows here: the loss leaves the split free, and a split already
# decides a large share of each word's "most similar" words; the projected
# embedding answers the same question (which words does the model score
# alike?) without depending on it.
gauge = [
    factor_gauge_stability(W, group="invertible", n_draws=5, random_state=0),
    1.0,
]
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
x = np.arange(3)
ax.bar(x - 0.2, [gauge[0], raw_labels, resample["input"]], 0.4, label="input vectors")
ax.bar(
    x + 0.2,
    [gauge[1], projected_labels, resample["projected"]],
    0.4,
    label="project_factors(C, W)",
)
ax.axhline(chance, color="gray", lw=0.8, ls="--", label="topic agreement by chance")
ax.set_xticks(x, ["gauge stability\n(invertible)", "topic agreement", "resample"])
ax.set_ylim(0, 1.05)
ax.set_title("word2vec (skip-gram): neighbours of its word vectors")
ax.legend(loc="upper right", fontsize=8)
plt.show()
