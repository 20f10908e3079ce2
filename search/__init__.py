"""Proof search: best-first and pass@N rollouts, budgets, the SQLite proof-tree log.

Usage: ``TreeSearch(SearchConfig(strategy="best-first")).search(theorem,
open_environment, FixedTacticGenerator(), Budget(wall_clock=60))`` returns a
:class:`SearchResult`.
"""

from .budget import Budget
from .config import SearchConfig, Strategy
from .generator import Candidate, FixedTacticGenerator, TacticGenerator
from .result import Attempt, Outcome, SearchResult, SearchStats
from .tree import EdgeResult, Kind, Node, ProofTree, Status
from .tree_search import TreeSearch

__all__ = [
    "Attempt",
    "Budget",
    "Candidate",
    "EdgeResult",
    "FixedTacticGenerator",
    "Kind",
    "Node",
    "Outcome",
    "ProofTree",
    "SearchConfig",
    "SearchResult",
    "SearchStats",
    "Status",
    "Strategy",
    "TacticGenerator",
    "TreeSearch",
]
