"""A stored proof tree as the compact JSON a theorem page draws.

The search graph is a DAG (a state reached along two paths is one node), the
page shows a tree: every node is drawn once, under its *owning* edge: the
edge of the verified proof for the nodes on the proof path, else the edge it
was discovered by. The other edges into a node are drawn as links to it.

Size limit: a page embeds at most ``max_nodes`` nodes (default
:data:`MAX_NODES`): the proof path and the nodes closest to the root (by
depth, then discovery order), with their ancestors. Edges into the nodes left
out are drawn as "not shown" leaves, and the page says how many were left out;
the whole tree stays in the database. Goal text is cut at
:data:`MAX_GOAL_CHARS` characters per node. The page draws only expanded
nodes, so its cost grows with what is open, not with the tree's size.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lean_env.coq.tactic_check import FOCUS_PREFIX

from .data import Tree

MAX_NODES = 20_000
MAX_GOAL_CHARS = 4_000

# Positions in a node's and an edge's JSON array (the page's script reads
# them by the same names).
NODE_FIELDS = (
    "id",
    "kind",
    "status",
    "depth",
    "num_goals",
    "goals",
    "message",
    "cycle_to",
    "expanded",
    "logprob",
)
EDGE_FIELDS = ("src", "dst", "tactic", "logprob", "result", "seconds", "own", "path", "shown")


def proof_path(edges: list[dict[str, Any]], root: int, proof: list[str] | None) -> list[int]:
    """Indices of the edges the verified proof follows from the root (as far
    as the tree has them: a proof re-found by a different text stops early).
    A stored Coq proof carries the ``1: `` focusing the environment added
    where several goals were open; the edge holds the tactic as proposed."""
    if not proof:
        return []
    by_src: dict[int, dict[str, int]] = defaultdict(dict)
    for i, e in enumerate(edges):
        by_src[e["src"]].setdefault(e["tactic"], i)
    path, node = [], root
    for tactic in proof:
        i = by_src[node].get(tactic)
        if i is None:
            i = by_src[node].get(tactic.removeprefix(FOCUS_PREFIX))
        if i is None:
            break
        path.append(i)
        node = edges[i]["dst"]
    return path


def owners(tree: Tree, path: list[int]) -> dict[int, int]:
    """Node -> index of the edge it is drawn under."""
    owner: dict[int, int] = {}
    parent = {n["node"]: (n["parent"], n["tactic"]) for n in tree.nodes}
    for i, e in enumerate(tree.edges):
        p = parent.get(e["dst"])
        if p is None or e["src"] != p[0]:
            continue
        # Prefer the edge whose tactic discovered the node (merged tactics
        # share an edge's endpoints).
        if e["dst"] not in owner or e["tactic"] == p[1]:
            owner[e["dst"]] = i
    for i in path:
        owner[tree.edges[i]["dst"]] = i
    return owner


def kept_nodes(tree: Tree, path: list[int], owner: dict[int, int], max_nodes: int) -> set[int]:
    """The nodes a page embeds: the proof path, then the shallowest nodes, and
    every kept node's owning chain up to the root."""
    order = sorted(tree.nodes, key=lambda n: (n["depth"] or 0, n["node"]))
    keep = {tree.nodes[0]["node"]} | {tree.edges[i]["dst"] for i in path}
    for n in order:
        if len(keep) >= max_nodes:
            break
        keep.add(n["node"])
    for node in list(keep):
        while node in owner:
            node = tree.edges[owner[node]]["src"]
            if node in keep:
                break
            keep.add(node)
    return keep


def payload(tree: Tree, proof: list[str] | None, max_nodes: int = MAX_NODES) -> dict[str, Any]:
    """The JSON a theorem page embeds (see the module docstring)."""
    if not tree.nodes:
        return {
            "nodes": [],
            "edges": [],
            "root": None,
            "total": 0,
            "shown": 0,
            "path": [],
            "path_complete": not proof,
            "goals_cut": 0,
        }
    root = tree.nodes[0]["node"]
    path = proof_path(tree.edges, root, proof)
    owner = owners(tree, path)
    keep = kept_nodes(tree, path, owner, max_nodes)
    on_path = set(path)
    owning = set(owner.values())
    nodes, cut = [], 0
    for n in tree.nodes:
        if n["node"] not in keep:
            continue
        goals = n["goals"] or ""
        if len(goals) > MAX_GOAL_CHARS:
            goals, cut = goals[:MAX_GOAL_CHARS] + "\n[... cut]", cut + 1
        nodes.append(
            [
                n["node"],
                n["kind"],
                n["status"],
                n["depth"],
                n["num_goals"],
                goals,
                n["message"],
                n["cycle_to"],
                n["expanded"],
                _round(n["logprob"]),
            ]
        )
    edges = [
        [
            e["src"],
            e["dst"],
            e["tactic"],
            _round(e["logprob"]),
            e["result"],
            _round(e["seconds"]),
            int(i in owning),
            int(i in on_path),
            int(e["dst"] in keep),
        ]
        for i, e in enumerate(tree.edges)
        if e["src"] in keep
    ]
    return {
        "nodes": nodes,
        "edges": edges,
        "root": root,
        "total": len(tree.nodes),
        "shown": len(nodes),
        "path": [tree.edges[i]["tactic"] for i in path],
        "path_complete": not proof or len(path) == len(proof),
        "goals_cut": cut,
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
