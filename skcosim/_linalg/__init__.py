"""The numerical layer: spectra, Dask reductions, top-k selection, shared maths.

- :mod:`._eigen`: top eigenpairs of a symmetric matrix, rank and sign rules
  (the leaf both :mod:`._spectrum` and :mod:`._dask` import);
- :mod:`._spectrum`: the top-k spectrum of an interaction matrix in memory;
- :mod:`._dask`: the same on a row-chunked dask array;
- :mod:`._matrix`: norms, reconstruction error, projection factor, unit rows
  and the Gram overflow bound;
- :mod:`._topk`: the top-k entries per row, and the hits and NDCG of
  ranked lists;
- :mod:`._neighbors`: exact top-k cosine neighbours (``cosine_neighbors``
  and ``similar_items``);
- :mod:`._gauge`: gauge transforms ``A R, B R^{-T}`` of a factorization
  (drawn, checked, applied), shared by the estimators, the metrics and the
  preprocessing.
"""
