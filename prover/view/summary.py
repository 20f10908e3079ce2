"""What the index page shows about a run, computed from its rows."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.passk import PassAtK, pass_at_k_curve

from .data import RunInfo, RunReader

# Parts of a theorem's search time, from its ``stats`` JSON (search/result.py).
TIME_PARTS = (
    ("opening the environment", "seconds_start"),
    ("tactic generator", "seconds_generator"),
    ("proof assistant (tactics)", "seconds_tactics"),
    ("re-checking proofs", "seconds_verify"),
)
COUNTERS = ("tactic_calls", "memo_hits", "generator_calls", "verify_calls", "expansions", "passes")


@dataclass
class RunSummary:
    db_path: str
    run: RunInfo
    run_ids: list[int]
    theorems: list[dict[str, Any]]
    counts: dict[str, int]
    time: list[tuple[str, float]]
    counters: dict[str, int]
    passk: list[PassAtK]
    attempts_note: str
    first_success: dict[str, int]

    @property
    def db_name(self) -> str:
        return Path(self.db_path).name

    @property
    def generator(self) -> str:
        """The run's tactic generator or model, shortened to a label."""
        gen = str(self.run.config.get("generator", "?"))
        if gen.startswith("model:"):
            return "model " + Path(gen.removeprefix("model:")).name
        return gen

    def found_by(self, theorem: dict[str, Any]) -> str:
        if theorem["status"] != "proved":
            return ""
        i = self.first_success.get(theorem["theorem"])
        return self.generator + (f" (attempt {i + 1})" if i is not None else "")


def summarize(reader: RunReader, run_id: int | None) -> RunSummary:
    run = reader.run(run_id)
    theorems = reader.theorems(run.id)
    counts = {"total": len(theorems), "proved": 0, "failed": 0, "open": 0, "start_failed": 0}
    for t in theorems:
        counts[t["status"]] = counts.get(t["status"], 0) + 1
        counts["start_failed"] += int(bool(t["start_failed"]))
    successes = reader.successes(run.id)
    return RunSummary(
        db_path=str(reader.path),
        run=run,
        run_ids=reader.run_ids(),
        theorems=theorems,
        counts=counts,
        time=time_parts(theorems),
        counters={
            k.replace("_", " "): sum(int(t["stats"].get(k) or 0) for t in theorems)
            for k in COUNTERS
        },
        passk=passk_curve(successes),
        attempts_note=attempts_note(successes),
        first_success={name: seq.index(True) for name, seq in successes.items() if any(seq)},
    )


def time_parts(theorems: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """Seconds per part, summed over theorems; the search code's own time is
    what the search's wall clock leaves to the other parts."""
    sums = {key: 0.0 for _, key in TIME_PARTS}
    search_code = 0.0
    for t in theorems:
        stats = t["stats"]
        for key in sums:
            sums[key] += float(stats.get(key) or 0.0)
        search_code += float(stats.get("seconds_search") or 0.0)
    return [(name, sums[key]) for name, key in TIME_PARTS] + [("search code", search_code)]


def passk_curve(successes: dict[str, list[bool]]) -> list[PassAtK]:
    """pass@k at powers of two up to the most attempts of a theorem."""
    if not successes:
        return []
    most = max((len(s) for s in successes.values()), default=0)
    ks = [1]
    while ks[-1] * 2 <= most:
        ks.append(ks[-1] * 2)
    if most > ks[-1]:
        ks.append(most)
    return pass_at_k_curve(successes, ks, strict=False)


def attempts_note(successes: dict[str, list[bool]]) -> str:
    lengths = sorted(len(s) for s in successes.values())
    if not lengths:
        return "none"
    if lengths[0] == lengths[-1]:
        return str(lengths[0])
    return f"{lengths[0]} to {lengths[-1]} (a theorem with fewer than k counts as solved if any succeeded)"
