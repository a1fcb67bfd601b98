"""The README example: the same loss, different neighbours."""

import numpy as np
import scipy.sparse as sp

from skcosim import DropoutAutoencoder, WeightDecayAutoencoder

rng = np.random.RandomState(0)
X = sp.random(2000, 300, density=0.05, format="csr", random_state=rng)
X.data[:] = 1.0  # binary interactions: users x items

for scaling in ["identity", "symmetric", "random"]:
    model = DropoutAutoencoder(
        n_components=20, alpha=50.0, scaling=scaling, random_state=0
    ).fit(X)
    B = model.item_embeddings()  # one row per item
    B = B / np.linalg.norm(B, axis=1, keepdims=True)
    top = np.argsort(-(B @ B[0]))[1:6]  # item 0's nearest items by cosine
    print(f"{scaling:>9}: loss {model.objective(X):.6f}, neighbours of item 0: {top}")

wd = WeightDecayAutoencoder(n_components=20, alpha=5.0).fit(X)
print(f"weight decay: user embeddings {wd.transform(X).shape}, unique cosines")
