"""The proof tree of one search: a :class:`networkx.DiGraph`.

Nodes are integers (0 is the root). A ``STATE`` node is a proof state; the
other kinds are terminal results of one tactic: ``FINISHED`` (no goals left),
``ERROR``, ``TIMEOUT``, and ``CYCLE`` (the tactic led back to a state from
which its own source is reachable, e.g. a tactic that changed nothing). Edges
are tactics, with their log-prob, result and seconds.

Transposition: STATE nodes are deduplicated by their goal text, so a state
reached along two paths is one node (the graph is a DAG, not a tree) and
every (state, tactic) pair is run once: ``lookup`` is the memo table that the
rollouts share. Tactics are always run on a node's first-found state, so a
node's discovery path (``path``) is the sequence of tactics that really
produced it in the proof assistant. That equal goal text means equal states
is an assumption (Coq keeps a little that it does not print, e.g. the bullet
stack); every proof is re-checked from scratch before it counts, so the
assumption can cost completeness, never soundness.

Statuses (monotone: a node leaves OPEN once and never changes again):

- FINISHED: PROVED once its proof is verified, FAILED if verification fails.
- ERROR, TIMEOUT, CYCLE: FAILED.
- STATE: PROVED if some child is PROVED; FAILED if it is fully expanded (no
  tactic will be added) and all its children are FAILED; else OPEN.

An edge into an existing node from which the source is reachable would close
a cycle; it becomes a CYCLE terminal instead, so the live graph stays acyclic
and both statuses are well-founded. No proof is lost by this: a proof through
a cycle contains a shorter one without it.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import Any

import networkx as nx

from lean_env.types import (
    ProofFinished,
    ProofState,
    TacticError,
    TacticResult,
    TacticTimeout,
    Verification,
)


class Status(StrEnum):
    PROVED = "proved"
    FAILED = "failed"
    OPEN = "open"


class Kind(StrEnum):
    STATE = "state"
    FINISHED = "finished"
    ERROR = "error"
    TIMEOUT = "timeout"
    CYCLE = "cycle"


# Edge results: the child's kind, or "transposition" for a STATE edge that
# found an existing node.
TRANSPOSITION = "transposition"

MESSAGE_CHARS = 1000  # error messages are truncated: a tree has thousands


class InvariantError(AssertionError):
    pass


class ProofTree:
    def __init__(self, root: ProofState, *, transposition: bool = True) -> None:
        self.graph = nx.DiGraph()
        self.transposition = transposition
        self._by_key: dict[str, int] = {}
        self.root = self._new_node(Kind.STATE, depth=0, parent=None, tactic=None, state=root)

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def __getitem__(self, node: int) -> dict[str, Any]:
        return self.graph.nodes[node]

    @property
    def status(self) -> Status:
        return self.graph.nodes[self.root]["status"]

    def state(self, node: int) -> ProofState:
        return self.graph.nodes[node]["state"]

    def lookup(self, node: int, tactic: str) -> int | None:
        """The child ``tactic`` led to from ``node``, if it was run before."""
        return self.graph.nodes[node]["tried"].get(tactic)

    def resolve(self, node: int) -> int:
        """The state a rollout continues from after reaching ``node``: the
        state a CYCLE points back to, else the node itself."""
        data = self.graph.nodes[node]
        return data["to"] if data["kind"] is Kind.CYCLE else node

    def path(self, node: int) -> list[str]:
        """Tactics from the root to ``node`` along its discovery path."""
        tactics: list[str] = []
        while True:
            data = self.graph.nodes[node]
            if data["parent"] is None:
                return tactics[::-1]
            tactics.append(data["tactic"])
            node = data["parent"]

    def edges(self) -> list[dict[str, Any]]:
        """Every tactic tried, one dict each (also those merged into an edge)."""
        rows = []
        for src, dst, data in self.graph.edges(data=True):
            for tactic, logprob, seconds in [
                (data["tactic"], data["logprob"], data["seconds"]),
                *data["also"],
            ]:
                rows.append(
                    {"src": src, "dst": dst, "tactic": tactic, "logprob": logprob,
                     "result": data["result"], "seconds": seconds}
                )  # fmt: skip
        return rows

    # -- growing ---------------------------------------------------------------
    def _new_node(
        self,
        kind: Kind,
        *,
        depth: int,
        parent: int | None,
        tactic: str | None,
        state: ProofState | None = None,
        status: Status = Status.OPEN,
        message: str = "",
        logprob: float = 0.0,
    ) -> int:
        node = self.graph.number_of_nodes()
        self.graph.add_node(
            node,
            kind=kind,
            status=status,
            depth=depth,
            parent=parent,
            tactic=tactic,
            logprob=logprob,  # cumulative, along the discovery path
            state=state,
            goals=state.goals if state is not None else "",
            message=message[:MESSAGE_CHARS],
            expanded=kind is not Kind.STATE,
            tried={},
            to=None,
        )
        if state is not None and kind is Kind.STATE:
            self._by_key[self._key(state)] = node
        return node

    def _key(self, state: ProofState) -> str:
        return state.goals if self.transposition else f"#{state.id}"

    def add(
        self, node: int, tactic: str, logprob: float, result: TacticResult, seconds: float
    ) -> tuple[int, str]:
        """Record that ``tactic`` applied to ``node`` gave ``result``; return the
        child and the edge's result. A FINISHED child stays OPEN until
        :meth:`verified`."""
        data = self.graph.nodes[node]
        if data["kind"] is not Kind.STATE:
            raise ValueError(f"node {node} is a {data['kind']}, not a state")
        if tactic in data["tried"]:
            raise ValueError(f"tactic {tactic!r} was already tried on node {node}")
        depth = data["depth"] + 1
        common = {
            "depth": depth,
            "parent": node,
            "tactic": tactic,
            "logprob": data["logprob"] + logprob,
        }
        if isinstance(result, ProofState):
            existing = self._by_key.get(self._key(result))
            if existing is None:
                child = self._new_node(Kind.STATE, state=result, **common)
                kind = str(Kind.STATE)
            elif existing == node or nx.has_path(self.graph, existing, node):
                # has_path searches from both ends, smaller fringe first: cheap
                # when node has few ancestors, as in a search tree. (Keeping an
                # incremental topological order instead was measured slower on
                # back edges to shallow states, the common kind.)
                child = self._new_node(Kind.CYCLE, status=Status.FAILED, **common)
                self.graph.nodes[child]["to"] = existing
                kind = str(Kind.CYCLE)
            else:
                child, kind = existing, TRANSPOSITION
        elif isinstance(result, ProofFinished):
            child = self._new_node(Kind.FINISHED, message=result.message, **common)
            kind = str(Kind.FINISHED)
        elif isinstance(result, TacticError):
            child = self._new_node(
                Kind.ERROR, status=Status.FAILED, message=result.message, **common
            )
            kind = str(Kind.ERROR)
        elif isinstance(result, TacticTimeout):
            message = f"timed out after {result.seconds:g} s"
            child = self._new_node(Kind.TIMEOUT, status=Status.FAILED, message=message, **common)
            kind = str(Kind.TIMEOUT)
        else:
            raise TypeError(f"not a tactic result: {result!r}")
        data["tried"][tactic] = child
        if self.graph.has_edge(node, child):
            # Another tactic to the same existing state: one edge, both tactics kept.
            self.graph.edges[node, child]["also"].append((tactic, logprob, seconds))
        else:
            self.graph.add_edge(
                node, child, tactic=tactic, logprob=logprob, result=kind, seconds=seconds, also=[]
            )
        if kind == TRANSPOSITION:
            child_status = self.graph.nodes[child]["status"]
            if child_status is Status.PROVED:
                self._propagate_proved(node)
        return child, kind

    def verified(self, node: int, verification: Verification) -> None:
        """The re-check of a FINISHED node's proof: PROVED or FAILED, propagated."""
        data = self.graph.nodes[node]
        if data["kind"] is not Kind.FINISHED or data["status"] is not Status.OPEN:
            raise ValueError(f"node {node} is not an unverified finished node")
        data["verification"] = verification
        if verification.ok:
            data["status"] = Status.PROVED
            self._propagate_proved(data["parent"])
        else:
            data["status"] = Status.FAILED
            data["message"] = f"verification failed: {verification.reason}"[:MESSAGE_CHARS]
            self._propagate_failed(data["parent"])

    def expanded(self, node: int) -> None:
        """No more tactics will be tried on ``node``: it may now be FAILED."""
        self.graph.nodes[node]["expanded"] = True
        self._propagate_failed(node)

    def fail(self, node: int, reason: str) -> None:
        """Give up on an unexpanded state (e.g. at the depth cap)."""
        data = self.graph.nodes[node]
        if data["kind"] is not Kind.STATE or self.graph.out_degree(node):
            raise ValueError(f"node {node} is not an untried state")
        data["message"] = reason
        self.expanded(node)

    def _propagate_proved(self, node: int | None) -> None:
        queue = deque([node] if node is not None else [])
        while queue:
            current = queue.popleft()
            data = self.graph.nodes[current]
            if data["status"] is not Status.OPEN:
                continue  # PROVED already (FAILED cannot have a PROVED child)
            data["status"] = Status.PROVED
            queue.extend(self.graph.predecessors(current))

    def _propagate_failed(self, node: int | None) -> None:
        queue = deque([node] if node is not None else [])
        while queue:
            current = queue.popleft()
            data = self.graph.nodes[current]
            if data["status"] is not Status.OPEN or not data["expanded"]:
                continue
            if all(
                self.graph.nodes[c]["status"] is Status.FAILED
                for c in self.graph.successors(current)
            ):
                data["status"] = Status.FAILED
                queue.extend(self.graph.predecessors(current))

    # -- checking --------------------------------------------------------------
    def check_invariants(self) -> None:
        """Raise :class:`InvariantError` if the tree is inconsistent."""
        g = self.graph

        def fail(message: str) -> None:
            raise InvariantError(message)

        if not nx.is_directed_acyclic_graph(g):
            fail("the live graph has a cycle")
        reachable = nx.descendants(g, self.root) | {self.root}
        if len(reachable) != len(g):
            fail(f"nodes unreachable from the root: {sorted(set(g) - reachable)[:5]}")
        keys: dict[str, int] = {}
        for node, data in g.nodes(data=True):
            kind, status = data["kind"], data["status"]
            children = list(g.successors(node))
            child_status = [g.nodes[c]["status"] for c in children]
            parent = data["parent"]
            if parent is not None:
                if data["depth"] != g.nodes[parent]["depth"] + 1:
                    fail(f"node {node}: depth {data['depth']} is not its parent's + 1")
                if g.nodes[parent]["tried"].get(data["tactic"]) != node:
                    fail(f"node {node}: not its parent's child by its tactic")
            if kind is not Kind.STATE:
                if children:
                    fail(f"terminal node {node} ({kind}) has children")
                if kind is Kind.FINISHED:
                    verification = data.get("verification")
                    if status is Status.OPEN or verification is None:
                        fail(f"finished node {node} was never verified")
                    elif (status is Status.PROVED) != verification.ok:
                        fail(
                            f"finished node {node}: status {status} but verification {verification.ok}"
                        )
                elif status is not Status.FAILED:
                    fail(f"{kind} node {node} is {status}, not failed")
                if kind is Kind.CYCLE and data["to"] not in g:
                    fail(f"cycle node {node} points to no node")
                continue
            key = self._key(data["state"])
            if key in keys:
                fail(f"nodes {keys[key]} and {node} are the same state")
            keys[key] = node
            tried = set(data["tried"].values())
            if tried != set(children):
                fail(f"node {node}: memo table and edges disagree")
            any_proved = Status.PROVED in child_status
            all_failed = data["expanded"] and all(s is Status.FAILED for s in child_status)
            expected = Status.PROVED if any_proved else Status.FAILED if all_failed else Status.OPEN
            if status is not expected:
                fail(f"node {node} is {status}, its children say {expected}")
