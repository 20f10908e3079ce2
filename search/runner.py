"""Search many theorems: in this process or in worker processes, reusing one
proof-assistant session per source file.

Opening a Coq theorem loads its file's text up to the theorem; doing that anew
for every theorem is quadratic in the file's length, so theorems are sorted by
(file, offset) and each worker keeps its file's :class:`CoqSession` open and
moves forward through it. Work is handed out in groups of consecutive
theorems of one file; each theorem's record comes back as soon as it is done,
so the caller can commit it at once.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from lean_env.environment import Environment, open_environment
from lean_env.types import Backend, Theorem

from .budget import Budget
from .config import SearchConfig
from .db import TheoremRecord, record_of
from .generator import TacticGenerator
from .tree_search import TreeSearch

GROUP_SIZE = 8  # theorems of one file handed to a worker at once


@dataclass(frozen=True)
class Job:
    theorem: Theorem
    benchmark_id: int | None = None
    split: str | None = None


class FileSessions:
    """An environment factory that keeps the last file's Coq session open and
    opens each Coq theorem in it; other backends go to ``open_environment``."""

    def __init__(self) -> None:
        self._key: tuple[Path, tuple[str, ...]] | None = None
        self._session = None
        self._closed_restarts = 0

    @property
    def restarts(self) -> int:
        """Proof-assistant restarts (timeouts, crashes) in all sessions so far."""
        return self._closed_restarts + (self._session.restarts if self._session else 0)

    def __call__(self, theorem: Theorem, *, tactic_timeout: float) -> Environment:
        if theorem.backend is not Backend.COQ:
            return open_environment(theorem, tactic_timeout=tactic_timeout)
        from lean_env.coq.environment import CoqEnvironment
        from lean_env.coq.session import CoqSession

        key = (Path(theorem.file).resolve(), tuple(theorem.coq_args))
        if key != self._key or self._session is None:
            self.close()
            self._session = CoqSession(theorem.file, theorem.coq_args)
            self._key = key
        return CoqEnvironment(theorem, tactic_timeout=tactic_timeout, session=self._session)

    def close(self) -> None:
        if self._session is not None:
            self._closed_restarts += self._session.restarts
            self._session.close()
        self._session, self._key = None, None


def theorem_seed(seed: int, theorem: Theorem) -> int:
    """A per-theorem seed that does not depend on the order of the work."""
    return (seed * 1_000_003 + zlib.crc32(theorem.name.encode())) % 2**32


def search_one(
    job: Job,
    searcher: TreeSearch,
    generator: TacticGenerator,
    environments: FileSessions,
    budget: Budget,
    store_tree: bool,
    seed: int,
) -> TheoremRecord:
    reseed = getattr(generator, "reseed", None)
    if callable(reseed):
        reseed(theorem_seed(seed, job.theorem))
    # A retrieving policy must not see the theorem itself or what follows it.
    set_theorem = getattr(generator, "set_theorem", None)
    if callable(set_theorem):
        set_theorem(job.theorem)
    result = searcher.search(job.theorem, environments, generator, budget)
    return record_of(result, benchmark_id=job.benchmark_id, split=job.split, store_tree=store_tree)


def _groups(jobs: Sequence[Job]) -> list[list[Job]]:
    ordered = sorted(jobs, key=lambda j: (j.theorem.file, j.theorem.offset or 0))
    groups: list[list[Job]] = []
    for job in ordered:
        if (
            groups
            and groups[-1][-1].theorem.file == job.theorem.file
            and len(groups[-1]) < GROUP_SIZE
        ):
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def _worker(
    tasks: mp.Queue,
    results: mp.Queue,
    config: SearchConfig,
    budget: Budget,
    generator_factory: Callable[[int], TacticGenerator],
    index: int,
    store_tree: bool,
    seed: int,
) -> None:
    from lean_env.coq.coqtop import _die_with_parent

    # A kill -9 of the run must not leave its workers searching on their own.
    _die_with_parent()
    environments = FileSessions()
    try:
        generator = generator_factory(index)
        searcher = TreeSearch(config)
        while (group := tasks.get()) is not None:
            for job in group:
                record = search_one(
                    job, searcher, generator, environments, budget, store_tree, seed
                )
                results.put(("record", record))
        results.put(("done", index))
    except BaseException as exc:  # sent to the parent, which re-raises it
        results.put(("error", exc))
    finally:
        environments.close()


def run_jobs(
    jobs: Sequence[Job],
    config: SearchConfig,
    budget: Budget,
    generator_factory: Callable[[int], TacticGenerator],
    *,
    workers: int = 1,
    store_tree: bool = True,
    seed: int = 0,
) -> Iterator[TheoremRecord]:
    """Search every job; yield each theorem's record as soon as it is done.
    ``generator_factory(worker_index)`` builds each worker's generator (it
    must be picklable when ``workers > 1``); generators with a ``reseed``
    method are reseeded per theorem from ``seed``."""
    groups = _groups(jobs)
    if workers <= 1:
        environments = FileSessions()
        try:
            generator, searcher = generator_factory(0), TreeSearch(config)
            for group in groups:
                for job in group:
                    yield search_one(
                        job, searcher, generator, environments, budget, store_tree, seed
                    )
        finally:
            environments.close()
        return
    # spawn, not fork: the parent may hold threads (a progress bar, a model).
    ctx = mp.get_context("spawn")
    tasks: mp.Queue = ctx.Queue()
    results: mp.Queue = ctx.Queue()
    for group in groups:
        tasks.put(group)
    workers = min(workers, max(1, len(groups)))
    for _ in range(workers):
        tasks.put(None)
    procs = [
        ctx.Process(
            target=_worker,
            args=(tasks, results, config, budget, generator_factory, i, store_tree, seed),
            daemon=True,
        )
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    done = 0
    try:
        while done < workers:
            try:
                kind, payload = results.get(timeout=1.0)
            except queue.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(
                        f"search worker {dead[0].pid} died (exit code {dead[0].exitcode}); "
                        "re-run the same command to resume"
                    ) from None
                continue
            if kind == "record":
                yield payload
            elif kind == "done":
                done += 1
            else:
                raise payload
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)
