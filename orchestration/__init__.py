"""Customer Lifecycle Warehouse: ingestion, orchestration, quality, CLV and alerts."""

import os

# One BLAS thread unless the user chose otherwise. The project does no large linear algebra:
# its BLAS calls are the tiny ones of the CLV fit (L-BFGS-B on 4 parameters, dot products over
# the unique customer rows). With OpenBLAS's default of one thread per core, every such call
# hands work to threads that spin-wait for a core, which on this 2-core machine also runs DuckDB
# and dbt: the BG/NBD fit at tier s took 0.27 s instead of 0.04 s at a load of 11, most of it in
# L-BFGS-B's BLAS calls (benchmarks/README.md, "CLV"). OpenBLAS reads the variable when it is
# loaded (numpy's and scipy's copies both), so it is set here, before either is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
