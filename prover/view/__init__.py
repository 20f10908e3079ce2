"""``dco view``: a static, self-contained site for one search run.

The site is an index of the run (config, counts, pass@k plot, where the time
went, a sortable theorem table) and one page per theorem with its proof tree.
It is built from the search database only, opened read-only
(:mod:`prover.view.data`), into a temporary directory that replaces ``--out``
in one rename (:mod:`prover.view.site`); ``--serve`` renders the same pages
per request on 127.0.0.1 (:mod:`prover.view.serve`).
"""
