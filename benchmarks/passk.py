"""pass@k from recorded attempts: the unbiased estimator and a cross-check.

For one theorem with ``n`` recorded attempts of which ``c`` succeeded, the
unbiased estimate of pass@k (k <= n) is ``1 - C(n-c, k) / C(n, k)`` (Chen et
al. 2021). The binomials overflow floats long before n = 10^5, so it is
computed as a product, in log space::

    C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k/i)

which needs only ``c`` terms and no large numbers. A benchmark's pass@k is the
mean over theorems. A theorem with no attempts at all (its environment failed
to start) counts 0 for every k: it is never dropped from the denominator.

The disjoint-chunks estimate cuts each theorem's attempts, in recorded order,
into ``n // k`` chunks of ``k`` and counts the chunks with a success; it is
also unbiased but noisier, and it agrees with the estimator only in
expectation, which is what makes it a useful independent check.

    python -m benchmarks.passk out.sqlite [--run ID] [--k 1,8,64]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lean_env.errors import UserError


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of one theorem from ``n`` attempts with ``c`` successes."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got n={n}, k={k}")
    if n - c < k:
        # Every k-subset contains a success.
        return 1.0
    if c == 0:
        return 0.0
    i = np.arange(n - c + 1, n + 1, dtype=np.float64)
    return float(-np.expm1(np.sum(np.log1p(-k / i))))


def chunked_pass_at_k(successes: Sequence[bool], k: int) -> float:
    """Fraction of the ``len // k`` disjoint chunks of ``k`` consecutive
    attempts that contain a success (attempts past the last full chunk unused)."""
    chunks = len(successes) // k
    if k < 1 or chunks == 0:
        raise ValueError(f"need 1 <= k <= n, got n={len(successes)}, k={k}")
    arr = np.asarray(successes[: chunks * k], dtype=bool).reshape(chunks, k)
    return float(arr.any(axis=1).mean())


@dataclass(frozen=True)
class PassAtK:
    k: int
    estimate: float  # mean of the unbiased estimator over theorems
    chunked: float | None  # mean of the disjoint-chunks estimate (None if no theorem has n >= k)
    theorems: int  # theorems averaged over
    short: int  # theorems with 0 < n < k, counted as 1 if any attempt succeeded


def pass_at_k_curve(
    attempts: Mapping[str, Sequence[bool]], ks: Iterable[int], *, strict: bool = True
) -> list[PassAtK]:
    """pass@k for each k, averaged over the theorems of ``attempts`` (theorem ->
    success of each attempt, in order). A theorem with no attempts counts 0.

    With ``strict`` a theorem with fewer than k attempts is an error; otherwise
    it counts 1 if one of its attempts succeeded, else 0 (an unbiased estimate
    of its pass@n, n < k, hence a lower bound in expectation) and is counted in
    ``short``."""
    if not attempts:
        raise ValueError("no theorems")
    results = []
    for k in ks:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        values, chunk_values, short = [], [], 0
        for name, seq in attempts.items():
            n, c = len(seq), int(sum(bool(s) for s in seq))
            if n == 0:
                values.append(0.0)
            elif n < k:
                if strict:
                    raise ValueError(f"{name}: {n} attempts, fewer than k={k}")
                short += 1
                values.append(1.0 if c else 0.0)
            else:
                values.append(pass_at_k(n, c, k))
                chunk_values.append(chunked_pass_at_k(seq, k))
        results.append(
            PassAtK(
                k=k,
                estimate=math.fsum(values) / len(values),
                chunked=math.fsum(chunk_values) / len(chunk_values) if chunk_values else None,
                theorems=len(values),
                short=short,
            )
        )
    return results


def load_attempts(db_path: str | Path, run_id: int | None = None) -> dict[str, list[bool]]:
    """Theorem -> success of each attempt (by attempt index) of one run of a
    search database (``search.db``); the latest run if ``run_id`` is None.
    Every finished theorem of the run appears, those with no attempts too."""
    from search.db import SearchDB

    path = Path(db_path)
    if not path.is_file():
        raise UserError(f"no such database: {path}")
    with SearchDB(path) as db:
        if run_id is None:
            run_id = db.latest_run_id()
            if run_id is None:
                raise UserError(f"{path} holds no runs")
        return db.attempt_successes(run_id)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.passk", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("db", help="a search database written by `dco search`")
    parser.add_argument("--run", type=int, default=None, help="run id (default: the latest)")
    parser.add_argument("--k", default="1,2,4,8,16,32,64", help="comma-separated k values")
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="allow theorems with fewer than k attempts (counted 1 if any succeeded)",
    )
    args = parser.parse_args(argv)
    try:
        ks = [int(x) for x in args.k.split(",") if x.strip()]
        attempts = load_attempts(args.db, args.run)
        curve = pass_at_k_curve(attempts, ks, strict=not args.lenient)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{'k':>6}  {'pass@k':>8}  {'chunks':>8}  theorems  short")
    for p in curve:
        chunked = f"{p.chunked:8.4f}" if p.chunked is not None else f"{'-':>8}"
        print(f"{p.k:>6}  {p.estimate:8.4f}  {chunked}  {p.theorems:>8}  {p.short:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
