"""Proof search: best-first and pass@N rollouts, budgets, the SQLite proof-tree log."""
