"""``dco report``: benchmarks/REPORT.md and its figures, regenerated from the
stored results under benchmarks/results only (nothing is trained or searched).

sources.py loads the results, one module per section renders it (direct.py,
proving.py, training.py, perf.py, provenance.py), claims.py derives the
verdicts on the paper's five claims with explicit criteria, figures.py draws
the PNGs and build.py puts the report together. Same inputs, same bytes.
"""
