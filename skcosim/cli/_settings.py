"""The settings of ``skcosim reproduce`` and ``skcosim audit``, in one place.

The commands (``_reproduce``, ``_audit``, ``_report``) read them as module
attributes at run time (``_settings.X``), so that one assignment here, such as
a test's ``monkeypatch.setattr``, changes what they run. Names imported with
``from ._settings import X`` (the parser's defaults and help texts, the file
names of ``_run``) are bound once at import: changing them here afterwards
does not change the parser.
"""

import math

PROG = "skcosim"

#: Settings of ``reproduce``: the full run and ``--quick``. ``alpha`` is in
#: units of singular values (Objective 2; Objective 1 gets alpha**2) and
#: scales with sqrt(n_users), as the singular values of the data do.
#: ``max_iter`` bounds the L-BFGS iterations of the cosine-trained model,
#: the one iterative fit (it starts from the Objective 2 solution), and is set
#: for it to converge. Its ``temperature`` is 1: the cosines then encode the
#: clusters; at the default 0.1 they must also encode each item's popularity
#: (logits spanning log(n_items)), which the model does by turning rare items
#: towards directions no user takes, and the panel loses its blocks.
REPRODUCE_SETTINGS = {
    "full": dict(
        n_users=20000,
        n_items=1000,
        n_clusters=5,
        n_components=50,
        alpha=100.0,
        n_draws=5,
        resample_draws=3,
        iterative_resample_draws=1,
        max_iter=300,
        temperature=0.5,
    ),
    "quick": dict(
        n_users=4000,
        n_items=400,
        n_clusters=5,
        n_components=20,
        alpha=100.0 * math.sqrt(4000 / 20000),
        n_draws=3,
        resample_draws=2,
        iterative_resample_draws=1,
        max_iter=300,
        temperature=0.5,
    ),
}

#: Files written by each command, inside --out.
REPRODUCE_FILES = {"figure": "figure1.png", "md": "report.md", "json": "report.json"}
AUDIT_FILES = {
    "figure": "similarities.png",
    "md": "audit.md",
    "json": "audit.json",
    # The per-item file, one of the two (--format): a run removes the other.
    "items_csv": "items.csv",
    "items_parquet": "items.parquet",
}
#: audit-factors' own names: its report and the audit's can share a directory.
AUDIT_FACTORS_FILES = {
    "figure": "factor_similarities.png",
    "md": "audit_factors.md",
    "json": "audit_factors.json",
    # The per-item file, one of the two (--format): a run removes the other.
    "items_csv": "factor_items.csv",
    "items_parquet": "factor_items.parquet",
}

N_NEIGHBORS = 10
N_SHOWN_ITEMS = 10  # popular items whose neighbours the audit lists
N_SHOWN_NEIGHBORS = 5
MAX_HEATMAP_ITEMS = 300  # the audit's heatmaps show the most popular items
# L-BFGS iterations of the cosine-trained model on small logs: its own default,
# which the preconditioned fit reaches tol within (MovieLens-100k, k = 50).
AUDIT_MAX_ITER = 500
# Epochs of the cosine-trained model when it samples its softmax (large logs):
# a cap its stopping rule is meant to reach first.
AUDIT_MAX_EPOCHS = 20
# Processes fitting the cosine-trained model's two halves side by side: its
# steps are small and single-threaded, so one half per core.
AUDIT_ITERATIVE_JOBS = 2
AUDIT_GAUGE_DRAWS = 5
AUDIT_RESAMPLE_DRAWS = 3  # 1 for the cosine-trained model (iterative, costly)
# Fits from random starts behind the cosine-trained row's restart stability
# (one pair, side by side in AUDIT_ITERATIVE_JOBS processes); 0: not measured.
AUDIT_RESTARTS = 2
# Stabilities average over a random sample of this many items on larger catalogues.
AUDIT_MAX_ITEMS = 2000
#: users x items above which the audit says up front that it will be slow.
AUDIT_LARGE_CELLS = 10**7
