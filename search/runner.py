"""Search many theorems: in this process or in worker processes, reusing one
proof-assistant session per source file.

Theorems are sorted by (file, offset) and each worker opens them through its
own :class:`~lean_env.sessions.FileSessions`, which keeps the file's session
open and moves forward through it. Work is handed out in groups of consecutive
theorems of one file; each theorem's record comes back as soon as it is done,
so the caller can commit it at once.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import queue
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from lean_env.process import die_with_parent
from lean_env.sessions import FileSessions
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


def theorem_seed(seed: int, theorem: Theorem) -> int:
    """A per-theorem seed that does not depend on the order of the work."""
    return (seed * 1_000_003 + zlib.crc32(theorem.name.encode())) % 2**32


def theorem_for(theorem: Theorem, generator: TacticGenerator) -> Theorem:
    """The theorem as a search with ``generator`` opens it. A generator whose
    tactics need a plugin in scope (CoqHammer) names the import as its
    ``preamble``; the theorem runs it after its context, before its statement
    (the re-check too, but it is not the theorem's own context)."""
    preamble = getattr(generator, "preamble", "")
    if not preamble or theorem.backend is not Backend.COQ:
        return theorem
    return dataclasses.replace(
        theorem, preamble="\n".join(filter(None, (theorem.preamble, preamble)))
    )


def prepare_generator(generator: TacticGenerator, theorem: Theorem, seed: int) -> None:
    """Before each theorem: reseed the generator's sampling (so results do not
    depend on which worker searched what before) and tell a retrieving policy
    which theorem it proves (it must not see that theorem itself or what
    follows it in its file)."""
    reseed = getattr(generator, "reseed", None)
    if callable(reseed):
        reseed(theorem_seed(seed, theorem))
    set_theorem = getattr(generator, "set_theorem", None)
    if callable(set_theorem):
        set_theorem(theorem)


def search_one(
    job: Job,
    searcher: TreeSearch,
    generator: TacticGenerator,
    environments: FileSessions,
    budget: Budget,
    store_tree: bool,
    seed: int,
) -> TheoremRecord:
    prepare_generator(generator, job.theorem, seed)
    result = searcher.search(theorem_for(job.theorem, generator), environments, generator, budget)
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


@dataclass(frozen=True)
class _Plan:
    """What every worker needs to search (picklable: sent to worker processes)."""

    config: SearchConfig
    budget: Budget
    generator_factory: Callable[[int], TacticGenerator]
    store_tree: bool
    seed: int

    def records(self, jobs: Iterable[Job], index: int) -> Iterator[TheoremRecord]:
        """Search ``jobs`` in order as worker ``index``, keeping one file's
        session open at a time."""
        environments = FileSessions()
        try:
            generator, searcher = self.generator_factory(index), TreeSearch(self.config)
            for job in jobs:
                yield search_one(
                    job, searcher, generator, environments, self.budget, self.store_tree, self.seed
                )
        finally:
            environments.close()


def _take(tasks: mp.Queue) -> Iterator[Job]:
    """The jobs of the groups handed out, until the queue says stop (None)."""
    while (group := tasks.get()) is not None:
        yield from group


def _worker(tasks: mp.Queue, results: mp.Queue, plan: _Plan, index: int) -> None:
    # A kill -9 of the run must not leave its workers searching on their own.
    die_with_parent()
    try:
        for record in plan.records(_take(tasks), index):
            results.put(("record", record))
        results.put(("done", index))
    except BaseException as exc:  # sent to the parent, which re-raises it
        results.put(("error", exc))


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
    plan = _Plan(config, budget, generator_factory, store_tree, seed)
    if workers <= 1:
        yield from plan.records((job for group in groups for job in group), 0)
    else:
        yield from _run_workers(groups, plan, workers)


def _run_workers(groups: list[list[Job]], plan: _Plan, workers: int) -> Iterator[TheoremRecord]:
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
        ctx.Process(target=_worker, args=(tasks, results, plan, i), daemon=True)
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    try:
        yield from _collect(results, procs)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=10)


def _collect(results: mp.Queue, procs: list[mp.process.BaseProcess]) -> Iterator[TheoremRecord]:
    """The workers' records until every worker is done; a worker's error is
    re-raised here, and a worker that died is an error."""
    done = 0
    while done < len(procs):
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
