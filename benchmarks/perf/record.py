"""One perf result file: ``OUT/<benchmark>.json`` with the measurements, the
command that produced them, the configuration, the machine (load average at
the start and at the end: the machine is shared) and the dates."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.perf.machine import load_average, machine_info
from search.fsutil import now, write_json_atomic

KIND = "perf"


def distribution_ms(samples: Sequence[float]) -> dict[str, float]:
    """Median, 95th percentile, mean and count of latencies given in seconds."""
    xs = sorted(samples)
    if not xs:
        raise ValueError("no samples")
    # Nearest-rank p95: an observed latency, not an interpolation.
    p95 = xs[min(len(xs) - 1, max(0, -(-95 * len(xs) // 100) - 1))]
    return {
        "median_ms": round(1000 * statistics.median(xs), 4),
        "p95_ms": round(1000 * p95, 4),
        "mean_ms": round(1000 * statistics.fmean(xs), 4),
        "n": len(xs),
    }


class Recorder:
    """Times one benchmark and wraps its measurements in the result envelope."""

    def __init__(self, name: str, command: Sequence[str], config: dict[str, Any]) -> None:
        self.name = name
        self.command = list(command)
        self.config = config
        self.machine = machine_info()
        self.started = now()

    def finish(self, results: dict[str, Any], seconds: float) -> dict[str, Any]:
        machine = dict(self.machine)
        machine["load_average_start"] = machine.pop("load_average")
        machine["load_average_end"] = load_average()
        return {
            "kind": KIND,
            "benchmark": self.name,
            "command": self.command,
            "config": self.config,
            "machine": machine,
            "started": self.started,
            "finished": now(),
            "seconds": round(seconds, 1),
            "results": results,
        }


def write(out: Path, payload: dict[str, Any]) -> Path:
    """Write atomically (a reader never sees half a file)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{payload['benchmark']}.json"
    write_json_atomic(path, payload, indent=1)
    return path
