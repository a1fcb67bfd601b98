"""The gauge transforms, under the estimators' package as well.

They live in :mod:`skcosim._linalg._gauge`, the linear algebra that the
estimators, the metrics and the preprocessing all use; this module re-exports
them for code that reaches them through the estimators.
"""

from .._linalg._gauge import (  # noqa: F401
    GAUGE_GROUPS,
    LOG_NORMAL_SCALE,
    STABILITY_DRAWS,
    apply_gauge,
    check_gauge,
    sample_gauge,
)
