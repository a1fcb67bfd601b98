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
one such split. This example trains word2vec on the Lee news corpus that
ships with gensim, re-splits it at random, and audits it with the tools of
:ref:`auditing-your-model`; a generated corpus with known topics then adds
label agreement and resampling. gensim is an optional dependency (the
``docs`` extra), never one of skcosim.
"""

# %%
# Training word2vec
# -----------------
# Skip-gram (``sg=1``) with negative sampling, one worker and a fixed seed.
# gensim seeds each word's start from Python's ``hash``, which changes from
# run to run; a fixed hash makes the run reproducible.
import hashlib

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from gensim.models import Word2Vec
from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

from skcosim.metrics import (
    apply_gauge,
    factor_gauge_stability,
    neighbor_label_agreement,
    neighbor_overlap,
    resample_stability,
    sample_gauge,
)
from skcosim.preprocessing import project_factors


def stable_hash(text):
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


def word2vec(sentences, **params):
    """gensim's skip-gram: the model, its input vectors W and output vectors C."""
    model = Word2Vec(
        sentences, sg=1, negative=5, workers=1, seed=0, hashfxn=stable_hash, **params
    )
    return model, model.wv.vectors, model.syn1neg


with open(datapath("lee_background.cor"), encoding="utf-8") as corpus:
    lee = [simple_preprocess(line) for line in corpus]
model, W, C = word2vec(lee, vector_size=50, window=5, min_count=5, epochs=10)
print(f"{len(lee)} documents, {len(W)} words, {W.shape[1]} dimensions")

# %%
# A random re-split keeps the loss and moves the neighbours
# ---------------------------------------------------------
# :func:`~skcosim.metrics.sample_gauge` draws a random positive diagonal
# :math:`D`; :func:`~skcosim.metrics.apply_gauge` returns :math:`C D` and
# :math:`W D^{-1}`. Every dot product :math:`c_j^\top w_i`, and so the loss,
# is the same; the words' top-10 cosine neighbours are not.
C_D, W_D = apply_gauge(C, W, sample_gauge("diagonal", 50, random_state=1))
scores = C.astype(np.float64) @ W.T
change = np.abs(C_D @ W_D.T - scores).max() / np.abs(scores).max()
print(f"largest change of a score c.w, relative: {change:.1e} (float32 rounding)")
kept = neighbor_overlap(W, W_D, n_neighbors=10)
print(f"top-10 neighbours kept (Jaccard over all words): {kept:.3f}")

# %%
# The "most similar" words of a few words, under the trained split, an
# equally good re-split, and the projected embedding (below):
P = project_factors(C, W)


def most_similar(E, word, n=5):
    unit = E / np.linalg.norm(E, axis=1, keepdims=True)
    i = model.wv.key_to_index[word]
    order = np.argsort(-(unit @ unit[i]))
    return ", ".join(model.wv.index_to_key[j] for j in order[1 : n + 1])


for word in ("fire", "police", "government"):
    for name, E in [("trained", W), ("re-split", W_D), ("projected", P)]:
        print(f"{word:>10s} {name:>9s}: {most_similar(E, word)}")

# %%
# The audit
# ---------
# :func:`~skcosim.metrics.factor_gauge_stability` averages that overlap over
# random transforms of a group. The loss admits every invertible :math:`R`
# (``group="invertible"``); already a diagonal one moves most neighbours.
# :func:`~skcosim.preprocessing.project_factors`, with the output vectors in
# the role of the users, gives the embedding whose cosines are those of the
# columns of the score matrix :math:`C W^\top`: which words the model scores
# alike across all contexts. No :math:`R` moves it. It answers a different
# question than the input vectors do, and not always more to a reader's
# taste (above), but its answer does not depend on the split.
gauge = {
    group: factor_gauge_stability(W, group=group, n_draws=3, random_state=0)
    for group in ("invertible", "diagonal")
}
for group, value in gauge.items():
    print(f"gauge stability of the input vectors, {group:>10s} group: {value:.3f}")
C_R, W_R = apply_gauge(C, W, sample_gauge("invertible", 50, random_state=2))
projected_kept = neighbor_overlap(P, project_factors(C_R, W_R), n_neighbors=10)
print(f"projected embedding, neighbours kept after a re-split: {projected_kept:.3f}")

# %%
# The same audit from the command line, with the vectors saved as ``.npy``
# and the words one per line:
#
# .. code-block:: console
#
#    $ skcosim audit-factors --item-factors input_vectors.npy \
#        --item-ids words.txt --user-factors output_vectors.npy \
#        --group invertible
#
# With known topics: label agreement and resampling
# -------------------------------------------------
# A generated corpus: eight topics of 30 words, each sentence drawn from one
# topic (Zipf-like frequencies) with 40 % of its words from anywhere. A
# word's topic is a label its neighbours should share. The sentences are
# kept as a sentence x word count matrix ``X``, so that
# :func:`~skcosim.metrics.resample_stability` can split them in halves and
# train word2vec on each through a callable ``fit_item_factors(X) -> V``.
# A window as long as the sentence (not shrunk at random) makes a sentence
# a bag of words, so that it can be rebuilt from its row of ``X``.
rng = np.random.RandomState(0)
n_topics, per_topic, length = 8, 30, 8
vocab = [f"t{t}_w{j}" for t in range(n_topics) for j in range(per_topic)]
topic = np.repeat(np.arange(n_topics), per_topic)
freq = 1.0 / np.arange(1, per_topic + 1) ** 0.8
freq /= freq.sum()
words = rng.choice(per_topic, size=(3000, length), p=freq)
words += per_topic * rng.randint(n_topics, size=(3000, 1))
noise = rng.rand(*words.shape) < 0.4
words[noise] = rng.randint(len(vocab), size=noise.sum())
X = sp.csr_matrix(
    (np.ones(words.size), (np.repeat(np.arange(len(words)), length), words.ravel())),
    shape=(len(words), len(vocab)),
)


def train(rows):
    """word2vec on the sentences of rows of ``X``: W and C, one row per word
    of ``vocab`` (zeros for a word no sentence has)."""
    rows = sp.csr_matrix(rows)
    sentences = [
        [vocab[j] for j in np.repeat(rows.indices[a:b], rows.data[a:b].astype(int))]
        for a, b in zip(rows.indptr[:-1], rows.indptr[1:], strict=True)
    ]
    m, W_m, C_m = word2vec(
        sentences,
        vector_size=32,
        window=length,
        shrink_windows=False,
        min_count=1,
        epochs=5,
    )
    index = [m.wv.key_to_index.get(word) for word in vocab]
    seen = np.array([i is not None for i in index])
    W_out, C_out = np.zeros((2, len(vocab), 32))
    W_out[seen] = W_m[[i for i in index if i is not None]]
    C_out[seen] = C_m[[i for i in index if i is not None]]
    return W_out, C_out


W_t, C_t = train(X)
P_t = project_factors(C_t, W_t)
# A random other word shares the topic with this probability.
chance = (per_topic - 1) / (len(vocab) - 1)
agreement = {
    "input vectors": neighbor_label_agreement(W_t, topic, n_neighbors=10),
    "re-split": neighbor_label_agreement(
        apply_gauge(C_t, W_t, sample_gauge("diagonal", 32, random_state=1))[1],
        topic,
        n_neighbors=10,
    ),
    "projected": neighbor_label_agreement(P_t, topic, n_neighbors=10),
}
print(
    "topic agreement: "
    + ", ".join(f"{k} {v:.3f}" for k, v in agreement.items())
    + f" (random neighbours: {chance:.3f})"
)

# %%
# On this corpus every split keeps a word's neighbours inside its topic;
# which topic-mates are nearest is what the split decides. Would they
# survive another corpus? Each callable below trains on a random half of the
# sentences and returns one embedding of the words.


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
# What it shows: the loss leaves the split free, and the split decides a
# large share of each word's "most similar" words; the projected embedding
# answers its question (which words does the model score alike?) without
# depending on it. Neither fixes a lack of data: the resample stabilities
# are what the corpus supports.
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
x = np.arange(3)
raw = [gauge["invertible"], agreement["input vectors"], resample["input"]]
ax.bar(x - 0.2, raw, 0.4, label="input vectors W")
projected = [projected_kept, agreement["projected"], resample["projected"]]
ax.bar(x + 0.2, projected, 0.4, label="project_factors(C, W)")
ax.axhline(chance, color="gray", lw=0.8, ls="--", label="topic agreement by chance")
ax.set_xticks(
    x,
    [
        "gauge stability\n(Lee corpus, invertible)",
        "topic agreement\n(generated)",
        "resample stability\n(generated)",
    ],
)
ax.set_ylim(0, 1.22)
ax.set_yticks(np.linspace(0, 1, 6))
ax.set_title("word2vec (skip-gram): neighbours of its word vectors")
ax.legend(loc="upper center", ncols=3, fontsize=8)
plt.show()
