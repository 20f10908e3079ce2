"""The proof tree of one search: typed :class:`Node` records, linked by the
edges of a :class:`networkx.DiGraph`.

Nodes are integers (0 is the root), ``tree[n]`` is node n's :class:`Node`. A ``STATE`` node is a proof state; the
other kinds are terminal results of one tactic: ``FINISHED`` (no goals left),
``ERROR``, ``TIMEOUT``, and ``CYCLE`` (the tactic led back to a state from
which its own source is reachable, e.g. a tactic that changed nothing). Edges
are tactics, with their log-prob, result (:class:`EdgeResult`) and seconds.

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
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

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


class EdgeResult(StrEnum):
    """What a tactic led to: a new node of that kind, or (TRANSPOSITION) a
    STATE node that already existed."""

    STATE = "state"
    FINISHED = "finished"
    ERROR = "error"
    TIMEOUT = "timeout"
    CYCLE = "cycle"
    TRANSPOSITION = "transposition"


MESSAGE_CHARS = 1000  # error messages are truncated: a tree has thousands


class InvariantError(AssertionError):
    pass


@dataclass(slots=True, eq=False)
class Node:
    """One node of the tree. ``logprob`` is cumulative along the discovery
    path; ``expanded``: no more tactics will be tried (always true for the
    terminal kinds); ``tried``: tactic -> child, the memo table; ``to``: the
    state a CYCLE points back to."""

    id: int
    kind: Kind
    status: Status
    depth: int
    parent: int | None
    tactic: str | None
    logprob: float
    state: ProofState | None
    goals: str
    message: str
    expanded: bool
    tried: dict[str, int] = field(default_factory=dict)
    to: int | None = None
    verification: Verification | None = None


class Added(NamedTuple):
    """What :meth:`ProofTree.add` did: the child and the edge's result."""

    node: int
    result: EdgeResult

    @property
    def new(self) -> bool:
        """Whether the child is a node created by this tactic."""
        return self.result is not EdgeResult.TRANSPOSITION


_TERMINAL: dict[type, Kind] = {
    ProofFinished: Kind.FINISHED,
    TacticError: Kind.ERROR,
    TacticTimeout: Kind.TIMEOUT,
}


class ProofTree:
    def __init__(self, root: ProofState, *, transposition: bool = True) -> None:
        self.graph = nx.DiGraph()  # node ids and edges; the nodes' data is in ``nodes``
        self.nodes: list[Node] = []
        self.transposition = transposition
        self._by_key: dict[str, int] = {}
        self.root = self._new_node(Kind.STATE, depth=0, parent=None, tactic=None, state=root)

    # -- reading ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, node: int) -> Node:
        return self.nodes[node]

    @property
    def status(self) -> Status:
        return self.nodes[self.root].status

    def state(self, node: int) -> ProofState:
        state = self.nodes[node].state
        if state is None:
            raise ValueError(f"node {node} is a {self.nodes[node].kind}, not a state")
        return state

    def lookup(self, node: int, tactic: str) -> int | None:
        """The child ``tactic`` led to from ``node``, if it was run before."""
        return self.nodes[node].tried.get(tactic)

    def resolve(self, node: int) -> int:
        """The state a rollout continues from after reaching ``node``: the
        state a CYCLE points back to, else the node itself."""
        data = self.nodes[node]
        return data.to if data.kind is Kind.CYCLE and data.to is not None else node

    def path(self, node: int) -> list[str]:
        """Tactics from the root to ``node`` along its discovery path."""
        tactics: list[str] = []
        while True:
            data = self.nodes[node]
            if data.parent is None or data.tactic is None:
                return tactics[::-1]
            tactics.append(data.tactic)
            node = data.parent

    def edges(self) -> list[dict[str, Any]]:
        """Every tactic tried, one dict each (also those merged into an edge)."""
        rows = []
        for src, dst, data in self.graph.edges(data=True):
            for tactic, logprob, seconds in [
                (data["tactic"], data["logprob"], data["seconds"]),
                *data["also"],
            ]:
                rows.append(
                    {
                        "src": src,
                        "dst": dst,
                        "tactic": tactic,
                        "logprob": logprob,
                        "result": str(data["result"]),
                        "seconds": seconds,
                    }
                )
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
        to: int | None = None,
    ) -> int:
        node = len(self.nodes)
        self.graph.add_node(node)
        self.nodes.append(
            Node(
                id=node,
                kind=kind,
                status=status,
                depth=depth,
                parent=parent,
                tactic=tactic,
                logprob=logprob,
                state=state,
                goals=state.goals if state is not None else "",
                message=message[:MESSAGE_CHARS],
                expanded=kind is not Kind.STATE,
                to=to,
            )
        )
        if state is not None and kind is Kind.STATE:
            self._by_key[self._key(state)] = node
        return node

    def _key(self, state: ProofState) -> str:
        return state.goals if self.transposition else f"#{state.id}"

    def add(
        self, node: int, tactic: str, logprob: float, result: TacticResult, seconds: float
    ) -> Added:
        """Record that ``tactic`` applied to ``node`` gave ``result``; return the
        child and the edge's result. A FINISHED child stays OPEN until
        :meth:`verified`."""
        data = self.nodes[node]
        if data.kind is not Kind.STATE:
            raise ValueError(f"node {node} is a {data.kind}, not a state")
        if tactic in data.tried:
            raise ValueError(f"tactic {tactic!r} was already tried on node {node}")
        child, kind = self._child(data, tactic, data.logprob + logprob, result)
        data.tried[tactic] = child
        if self.graph.has_edge(node, child):
            # Another tactic to the same existing state: one edge, both tactics kept.
            self.graph.edges[node, child]["also"].append((tactic, logprob, seconds))
        else:
            self.graph.add_edge(
                node, child, tactic=tactic, logprob=logprob, result=kind, seconds=seconds, also=[]
            )
        if kind is EdgeResult.TRANSPOSITION and self.nodes[child].status is Status.PROVED:
            self._propagate_proved(node)
        return Added(child, kind)

    def _child(
        self, parent: Node, tactic: str, logprob: float, result: TacticResult
    ) -> tuple[int, EdgeResult]:
        """The node ``result`` leads to from ``parent``: a new one, or an
        existing state."""
        common: dict[str, Any] = {
            "depth": parent.depth + 1,
            "parent": parent.id,
            "tactic": tactic,
            "logprob": logprob,
        }
        if isinstance(result, ProofState):
            existing = self._by_key.get(self._key(result))
            if existing is None:
                return self._new_node(Kind.STATE, state=result, **common), EdgeResult.STATE
            if existing == parent.id or nx.has_path(self.graph, existing, parent.id):
                # has_path searches from both ends, smaller fringe first: cheap
                # when node has few ancestors, as in a search tree. (Keeping an
                # incremental topological order instead was measured slower on
                # back edges to shallow states, the common kind.)
                child = self._new_node(Kind.CYCLE, status=Status.FAILED, to=existing, **common)
                return child, EdgeResult.CYCLE
            return existing, EdgeResult.TRANSPOSITION
        kind = _TERMINAL.get(type(result))
        if kind is None:
            raise TypeError(f"not a tactic result: {result!r}")
        if isinstance(result, TacticTimeout):
            message, status = f"timed out after {result.seconds:g} s", Status.FAILED
        else:
            assert isinstance(result, ProofFinished | TacticError)
            message = result.message
            status = Status.OPEN if kind is Kind.FINISHED else Status.FAILED
        child = self._new_node(kind, status=status, message=message, **common)
        return child, EdgeResult(kind.value)

    def verified(self, node: int, verification: Verification) -> None:
        """The re-check of a FINISHED node's proof: PROVED or FAILED, propagated."""
        data = self.nodes[node]
        if data.kind is not Kind.FINISHED or data.status is not Status.OPEN:
            raise ValueError(f"node {node} is not an unverified finished node")
        data.verification = verification
        if verification.ok:
            data.status = Status.PROVED
            self._propagate_proved(data.parent)
        else:
            data.status = Status.FAILED
            data.message = f"verification failed: {verification.reason}"[:MESSAGE_CHARS]
            self._propagate_failed(data.parent)

    def expanded(self, node: int) -> None:
        """No more tactics will be tried on ``node``: it may now be FAILED."""
        self.nodes[node].expanded = True
        self._propagate_failed(node)

    def fail(self, node: int, reason: str) -> None:
        """Give up on an unexpanded state (e.g. at the depth cap)."""
        data = self.nodes[node]
        if data.kind is not Kind.STATE or self.graph.out_degree(node):
            raise ValueError(f"node {node} is not an untried state")
        data.message = reason
        self.expanded(node)

    def _propagate_proved(self, node: int | None) -> None:
        queue = deque([node] if node is not None else [])
        while queue:
            current = queue.popleft()
            data = self.nodes[current]
            if data.status is not Status.OPEN:
                continue  # PROVED already (FAILED cannot have a PROVED child)
            data.status = Status.PROVED
            queue.extend(self.graph.predecessors(current))

    def _propagate_failed(self, node: int | None) -> None:
        queue = deque([node] if node is not None else [])
        while queue:
            current = queue.popleft()
            data = self.nodes[current]
            if data.status is not Status.OPEN or not data.expanded:
                continue
            if all(self.nodes[c].status is Status.FAILED for c in self.graph.successors(current)):
                data.status = Status.FAILED
                queue.extend(self.graph.predecessors(current))

    # -- checking --------------------------------------------------------------
    def check_invariants(self) -> None:
        """Raise :class:`InvariantError` if the tree is inconsistent."""
        g = self.graph
        if not nx.is_directed_acyclic_graph(g):
            raise InvariantError("the live graph has a cycle")
        reachable = nx.descendants(g, self.root) | {self.root}
        if len(reachable) != len(g) or len(g) != len(self.nodes):
            unreachable = sorted(set(g) - reachable)[:5]
            raise InvariantError(f"nodes unreachable from the root: {unreachable}")
        keys: dict[str, int] = {}
        for data in self.nodes:
            self._check_discovery(data)
            if data.kind is Kind.STATE:
                self._check_state(data, keys)
            else:
                self._check_terminal(data)

    def _check_discovery(self, data: Node) -> None:
        if data.parent is None:
            return
        parent = self.nodes[data.parent]
        if data.depth != parent.depth + 1:
            raise InvariantError(f"node {data.id}: depth {data.depth} is not its parent's + 1")
        if data.tactic is None or parent.tried.get(data.tactic) != data.id:
            raise InvariantError(f"node {data.id}: not its parent's child by its tactic")

    def _check_terminal(self, data: Node) -> None:
        node, kind, status = data.id, data.kind, data.status
        if self.graph.out_degree(node):
            raise InvariantError(f"terminal node {node} ({kind}) has children")
        if kind is Kind.FINISHED:
            verification = data.verification
            if status is Status.OPEN or verification is None:
                raise InvariantError(f"finished node {node} was never verified")
            if (status is Status.PROVED) != verification.ok:
                raise InvariantError(
                    f"finished node {node}: status {status} but verification {verification.ok}"
                )
        elif status is not Status.FAILED:
            raise InvariantError(f"{kind} node {node} is {status}, not failed")
        if kind is Kind.CYCLE and data.to not in self.graph:
            raise InvariantError(f"cycle node {node} points to no node")

    def _check_state(self, data: Node, keys: dict[str, int]) -> None:
        node = data.id
        assert data.state is not None
        key = self._key(data.state)
        if key in keys:
            raise InvariantError(f"nodes {keys[key]} and {node} are the same state")
        keys[key] = node
        children = list(self.graph.successors(node))
        if set(data.tried.values()) != set(children):
            raise InvariantError(f"node {node}: memo table and edges disagree")
        child_status = [self.nodes[c].status for c in children]
        any_proved = Status.PROVED in child_status
        all_failed = data.expanded and all(s is Status.FAILED for s in child_status)
        expected = Status.PROVED if any_proved else Status.FAILED if all_failed else Status.OPEN
        if data.status is not expected:
            raise InvariantError(f"node {node} is {data.status}, its children say {expected}")
