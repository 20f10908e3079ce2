"""Search theorems as Ray tasks, one task per theorem, on a Ray cluster
(``address``) or a local one (``"local"``).

Each task runs the same :func:`~search.runner.search_one` as the local
runner, with the same per-theorem budget and seed, so a theorem's result does
not depend on where it ran. A Ray worker process keeps its generator (a model
is loaded once per worker, not once per theorem) and its current file's Coq
session between tasks. Records come back as tasks finish, so the caller
commits each at once and a stopped run resumes like a local one. Ray is
imported only here, and only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lean_env.sessions import FileSessions

from .budget import Budget
from .config import SearchConfig
from .db import TheoremRecord
from .generator import TacticGenerator
from .runner import Job, search_one
from .tree_search import TreeSearch

# Per Ray worker process: the generator of the factory last used, and one
# file's Coq session (tasks of one file tend to follow each other).
_WORKER: dict[str, Any] = {}


def _search_task(
    job: Job,
    config: SearchConfig,
    budget: Budget,
    generator_factory: Callable[[int], TacticGenerator],
    store_tree: bool,
    seed: int,
) -> TheoremRecord:
    key = repr(generator_factory)
    if _WORKER.get("key") != key:
        _WORKER.update(key=key, generator=generator_factory(0))
        _WORKER.setdefault("environments", FileSessions())
    return search_one(
        job,
        TreeSearch(config),
        _WORKER["generator"],
        _WORKER["environments"],
        budget,
        store_tree,
        seed,
    )


def init_ray(address: str) -> None:
    """Connect to the cluster at ``address``, or start a local one for
    ``"local"``; once per process."""
    try:
        import ray
    except ImportError:
        from lean_env.errors import UserError

        raise UserError("--ray needs the ray package: pip install 'ray[default]'") from None
    if ray.is_initialized():
        return
    if address == "local":
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False)


def run_jobs_ray(
    jobs: Sequence[Job],
    config: SearchConfig,
    budget: Budget,
    generator_factory: Callable[[int], TacticGenerator],
    *,
    address: str = "local",
    store_tree: bool = True,
    seed: int = 0,
    max_in_flight: int | None = None,
) -> Iterator[TheoremRecord]:
    """Like :func:`~search.runner.run_jobs`, on Ray: one CPU per task; at most
    ``max_in_flight`` tasks submitted at once (default: the cluster's CPUs),
    so an interrupted run leaves little work queued."""
    import ray

    init_ray(address)
    task = ray.remote(num_cpus=1, max_retries=0)(_search_task)
    limit = max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
    ordered = sorted(jobs, key=lambda j: (j.theorem.file, j.theorem.offset or 0))
    shared = [ray.put(x) for x in (config, budget, generator_factory)]
    pending: list[Any] = []
    queue = list(reversed(ordered))
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                pending.append(task.remote(queue.pop(), *shared, store_tree, seed))
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
