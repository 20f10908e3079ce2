"""Trace a library into a benchmark directory (the engine of ``dco trace``).

Files are traced in parallel by a process pool (each worker drives its own
coqtop and coqc), largest first so that the pool stays busy. Each finished
file's result is cached in ``OUT/files/<relative path>.json`` under a key of
the file's content and the tracing settings, so an interrupted or repeated run
skips the files already done (a file is not re-traced when only a file it
Requires changed). When every file is done the benchmark is assembled from
the cache: ids in file order, the seeded split, the report in ``meta.json``,
and the theorems kept out with their reasons in ``failures.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lean_env.coq.sentences import Sentence
from lean_env.coq.trace import DEFAULT_TRACE_TACTIC_TIMEOUT, FileTrace, trace_file
from search.fsutil import write_jsonl_atomic, write_text_atomic

from .format import Benchmark, BenchmarkTheorem, Step, write_benchmark
from .library import Library
from .splits import SplitConfig, assign_splits

# Bump when the traced content changes, so that old caches are not reused.
TRACE_FORMAT = 1


@dataclass(frozen=True)
class TraceConfig:
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    tactic_timeout: float = DEFAULT_TRACE_TACTIC_TIMEOUT
    recheck: bool = True
    split: SplitConfig = field(default_factory=SplitConfig)
    progress: bool = True


@dataclass(frozen=True)
class _Job:
    path: Path
    rel: str
    coq_args: tuple[str, ...]
    key: str


def cache_path(out: Path, rel: str) -> Path:
    return out / "files" / f"{rel}.json"


def _key(path: Path, coq_args: tuple[str, ...], config: TraceConfig) -> str:
    h = hashlib.sha256(path.read_bytes())
    settings = [TRACE_FORMAT, list(coq_args), config.tactic_timeout, config.recheck]
    h.update(json.dumps(settings).encode())
    return h.hexdigest()


def _load_cached(out: Path, job: _Job) -> FileTrace | None:
    path = cache_path(out, job.rel)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if data.get("key") != job.key:
        return None
    return FileTrace.from_dict(data["trace"])


def _store(out: Path, job: _Job, trace: FileTrace) -> None:
    path = cache_path(out, job.rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic: an interrupted run never leaves half a cache entry.
    write_text_atomic(path, json.dumps({"key": job.key, "trace": trace.to_dict()}))


def _trace_job(job: _Job, tactic_timeout: float, recheck: bool) -> dict[str, Any]:
    # Runs in a worker process; a dict crosses the process boundary cheaply.
    return trace_file(
        job.path, job.coq_args, tactic_timeout=tactic_timeout, recheck=recheck
    ).to_dict()


def trace_library(
    library: Library,
    out: Path | str,
    config: TraceConfig | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Trace ``library`` into ``out`` and return the meta (the report)."""
    config = config or TraceConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    jobs = [
        _Job(p, library.relative(p), args, _key(p, args, config))
        for p in library.files
        for args in [library.args_for(p)]
    ]
    traces: dict[str, FileTrace] = {}
    todo = []
    for job in jobs:
        cached = _load_cached(out, job)
        if cached is None:
            todo.append(job)
        else:
            traces[job.rel] = cached
    if traces:
        log(f"resuming: {len(traces)} of {len(jobs)} files already traced in {out / 'files'}")
    todo.sort(key=lambda j: j.path.stat().st_size, reverse=True)
    crashed = _run_pool(todo, out, config, traces)
    wall = time.perf_counter() - t0
    meta = assemble(
        library,
        out,
        config,
        [traces[j.rel] for j in jobs if j.rel in traces],
        crashed,
        wall,
        _previous_wall(out) if len(todo) < len(jobs) else 0.0,
    )
    return meta


def _previous_wall(out: Path) -> float:
    """Wall time of the earlier runs whose cached files this run reuses."""
    try:
        meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
        return float(meta["time"]["wall_seconds_all_runs"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def _run_pool(
    todo: list[_Job], out: Path, config: TraceConfig, traces: dict[str, FileTrace]
) -> dict[str, str]:
    """Trace ``todo``, caching each result as it arrives; returns the files
    whose worker raised (not cached, so a re-run retries them)."""
    crashed: dict[str, str] = {}
    if not todo:
        return crashed
    progress = _progress(len(todo), config.progress)
    workers = max(1, min(config.workers, len(todo)))
    # spawn: workers start clean instead of forking a parent with threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures: dict[Future[dict[str, Any]], _Job] = {
            pool.submit(_trace_job, job, config.tactic_timeout, config.recheck): job for job in todo
        }
        try:
            for future in as_completed(futures):
                job = futures[future]
                try:
                    trace = FileTrace.from_dict(future.result())
                except Exception as exc:  # a bug in one file must not lose the others
                    crashed[job.rel] = f"{type(exc).__name__}: {exc}"
                else:
                    _store(out, job, trace)
                    traces[job.rel] = trace
                progress.update(1)
                progress.set_postfix_str(job.rel[-40:], refresh=False)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        finally:
            progress.close()
    return crashed


class _NoProgress:
    def update(self, n: int) -> None: ...
    def set_postfix_str(self, s: str, refresh: bool = True) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="tracing", dynamic_ncols=True)


def assemble(
    library: Library,
    out: Path,
    config: TraceConfig,
    traces: Iterable[FileTrace],
    crashed: dict[str, str],
    wall_seconds: float,
    earlier_wall_seconds: float = 0.0,
) -> dict[str, Any]:
    """Write theorems.jsonl, steps.jsonl and meta.json from the file traces."""
    traces = sorted(traces, key=lambda t: t.file)
    traced = sorted(
        ((library.relative(Path(ft.file)), tt) for ft in traces for tt in ft.theorems),
        key=lambda r: (r[0], r[1].theorem.offset or 0),
    )
    splits = assign_splits(
        [(tt.theorem.name, rel, tt.theorem.offset or 0) for rel, tt in traced], config.split
    )
    theorems: list[BenchmarkTheorem] = []
    steps: list[Step] = []
    for i, ((_, tt), split) in enumerate(zip(traced, splits, strict=True)):
        theorems.append(BenchmarkTheorem(i, tt.theorem, split, tt.tactics))
        steps += [Step(i, j, s.state, s.tactic, split) for j, s in enumerate(tt.steps)]
    meta = _meta(library, config, traces, theorems, steps, crashed, wall_seconds)
    meta["time"]["wall_seconds_all_runs"] = round(wall_seconds + earlier_wall_seconds, 1)
    write_benchmark(out, Benchmark(library.name, theorems, steps, meta))
    _write_failures(out / "failures.jsonl", library, traces)
    return meta


def _write_failures(path: Path, library: Library, traces: list[FileTrace]) -> None:
    """Every theorem kept out of the benchmark, with why (for inspection)."""
    rows = (
        {
            "name": f.name,
            "file": library.relative(Path(t.file)),
            "reason": f.reason,
            "detail": f.detail,
        }
        for t in traces
        for f in t.failures
    )
    write_jsonl_atomic(path, rows)


def _meta(
    library: Library,
    config: TraceConfig,
    traces: list[FileTrace],
    theorems: list[BenchmarkTheorem],
    steps: list[Step],
    crashed: dict[str, str],
    wall_seconds: float,
) -> dict[str, Any]:
    from .stdlib import coq_version

    skipped: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for t in traces:
        skipped.update(t.skipped)
        failures.update(t.failure_counts())
    per_file = {library.relative(Path(t.file)): round(t.seconds, 3) for t in traces}
    seconds = sorted(per_file.values())
    tactic_proved = sum(t.tactic_proved for t in traces)
    verified = len(theorems)
    counts = {
        "files": len(library.files),
        "files_traced": len(traces),
        "theorems_found": sum(t.found for t in traces),
        "tactic_proved": tactic_proved,
        "traced": sum(t.traced for t in traces),
        "verified": verified,
        "verified_fraction": round(verified / tactic_proved, 4) if tactic_proved else 0.0,
        "steps": len(steps),
        "tactic_steps": sum(1 for s in steps if not Sentence(s.tactic, 0, 0).is_structural),
        "skipped": dict(sorted(skipped.items())),
        "failures": dict(failures.most_common()),
    }
    split_counts = Counter(t.split for t in theorems)
    return {
        "library": library.name,
        "root": str(library.root),
        "directories": list(library.directories),
        "coq_version": coq_version(),
        "seed": config.split.seed,
        "split_config": {"test_size": config.split.test_size, "val_size": config.split.val_size},
        "splits": {s: split_counts.get(s, 0) for s in ("train", "val", "test")},
        "counts": counts,
        "tactic_timeout": config.tactic_timeout,
        "recheck": config.recheck,
        "time": {
            "wall_seconds_this_run": round(wall_seconds, 1),
            "workers": config.workers,
            "file_seconds_total": round(sum(seconds), 1),
            "file_seconds_median": round(statistics.median(seconds), 3) if seconds else 0.0,
            "file_seconds_p90": round(seconds[int(0.9 * (len(seconds) - 1))], 3)
            if seconds
            else 0.0,
            "file_seconds_max": seconds[-1] if seconds else 0.0,
            "per_file": per_file,
        },
        "file_errors": {
            **{library.relative(Path(t.file)): t.error for t in traces if t.error},
            **crashed,
        },
        "format": "theorems.jsonl, steps.jsonl, meta.json (see benchmarks/format.py)",
    }


def format_report(meta: dict[str, Any]) -> str:
    c, t = meta["counts"], meta["time"]
    lines = [
        f"library {meta['library']} ({meta['root']}), Coq {meta['coq_version']}",
        f"directories: {', '.join(meta['directories']) or 'all'}",
        f"files: {c['files']} ({c['files_traced']} traced)",
        f"theorems found: {c['theorems_found']}  (not Qed tactic proofs, skipped: "
        + (", ".join(f"{k} {v}" for k, v in c["skipped"].items()) or "none")
        + ")",
        f"tactic proofs (Qed): {c['tactic_proved']}",
        f"traced (replayed in the Environment): {c['traced']}",
        (
            "verified (replayed and re-checked by coqc): "
            if meta["recheck"]
            else "kept (replayed; the coqc re-check was skipped): "
        )
        + f"{c['verified']}"
        f" = {100 * c['verified_fraction']:.1f}% of tactic proofs",
        f"steps: {c['steps']} ({c['tactic_steps']} tactics, the rest bullets and braces)",
        "failures by reason:" + ("" if c["failures"] else " none"),
        *(f"  {n:6d}  {reason}" for reason, n in c["failures"].items()),
        f"splits (seed {meta['seed']}): "
        + ", ".join(f"{k} {v}" for k, v in meta["splits"].items()),
        f"time: {t['wall_seconds_this_run']:.0f} s wall this run "
        f"({t['wall_seconds_all_runs']:.0f} s over all runs) with {t['workers']} workers; "
        f"per file median {t['file_seconds_median']:.1f} s, p90 {t['file_seconds_p90']:.1f} s, "
        f"max {t['file_seconds_max']:.1f} s, total {t['file_seconds_total']:.0f} s",
    ]
    if meta["file_errors"]:
        lines.append("files with errors:")
        lines += [f"  {f}: {e[:200]}" for f, e in meta["file_errors"].items()]
    return "\n".join(lines)
