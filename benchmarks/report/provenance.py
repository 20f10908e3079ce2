"""Where every stored result came from: the exact command, seed, date,
machine and versions, as stored in each result file (a command not stored
is rebuilt from the stored flags and marked so)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.report.expert import stored_command
from benchmarks.report.markdown import DASH, command, link, table
from benchmarks.report.sources import Result, Stored


def evaluate_command(data: dict[str, Any]) -> tuple[list[str] | None, bool]:
    """The stored command, or one rebuilt from ``config.flags`` (True: rebuilt)."""
    if data.get("command"):
        return list(data["command"]), False
    flags = data.get("config", {}).get("flags")
    if not flags:
        return None, False
    cmd = ["dco", "evaluate"]
    for key, value in flags.items():
        flag = "--" + key.replace("_", "-")
        if key in ("config", "quiet") or value is None or value is False or value == []:
            continue
        if value is True:
            cmd.append(flag)
        elif isinstance(value, list):
            for v in value:
                cmd += [flag, str(v)]
        else:
            cmd += [flag, str(value)]
    return cmd, True


def _machine(m: dict[str, Any]) -> str:
    parts = [
        f"{m['cpus']} CPUs" if m.get("cpus") else "",
        m.get("cpu_model", ""),
        m.get("platform", ""),
        f"GPU {m['gpu']}" if m.get("gpu") else "",
    ]
    return ", ".join(p for p in parts if p) or DASH


def _versions(v: dict[str, Any]) -> str:
    keys = ("python", "torch", "transformers", "numpy", "coq", "git")
    return ", ".join(f"{k} {v[k]}" for k in keys if v.get(k)) or DASH


def rows(stored: Stored, base: Path) -> list[list[str]]:
    out: list[list[str]] = []

    def add(r: Result, cmd: Any, seed: Any, date: str, machine: str, versions: str) -> None:
        out.append(
            [
                link(r.path, base),
                cmd,
                DASH if seed is None else str(seed),
                date or DASH,
                machine,
                versions,
            ]
        )

    for r in stored.direct:
        d = r.data
        add(
            r,
            command(d.get("command")),
            d.get("seed"),
            DASH,
            _machine(d.get("machine", {})) + f", {d['machine'].get('processes', 1)} processes x "
            f"{d['machine'].get('torch_threads_per_process', '?')} threads, "
            f"{d['wall_seconds']['total']:.0f} s",
            _versions(d.get("versions", {})),
        )
    if stored.direct_aggregate:
        d = stored.direct_aggregate.data
        add(
            stored.direct_aggregate,
            command(d.get("command")),
            ", ".join(map(str, d.get("seeds", []))),
            DASH,
            DASH,
            DASH,
        )
    for r in stored.proving:
        cmd, rebuilt = evaluate_command(r.data)
        add(
            r,
            command(cmd) + (" (rebuilt from the stored flags)" if rebuilt else ""),
            r.data.get("config", {}).get("flags", {}).get("seed"),
            f"{r.data.get('started', DASH)} – {r.data.get('finished', DASH)}",
            _machine(r.data.get("machine", {})),
            _versions(r.data.get("machine", {})),
        )
    for r in stored.training:
        add(
            r,
            command(r.data.get("command")) + " (rebuilt from training_meta.json)",
            r.data.get("seed"),
            DASH,
            DASH,
            DASH,
        )
    for r in stored.expert:
        add(
            r,
            command(stored_command(r.data["config"])) + " (rebuilt from the stored config)",
            r.data["config"].get("seed"),
            f"{r.data.get('started', DASH)} – {r.data.get('updated', DASH)}",
            DASH,
            DASH,
        )
    for r in stored.perf.values():
        m = r.data["machine"]
        add(
            r,
            command(r.data.get("command")),
            r.data["config"].get("seed"),
            f"{r.data['started']} – {r.data['finished']}",
            _machine(m),
            _versions(m),
        )
    return out


def section(stored: Stored, base: Path) -> str:
    lines = ["## Reproducing: commands, seeds, machines and versions", ""]
    found = rows(stored, base)
    if not found:
        return "\n".join([*lines, "No stored results.", ""])
    lines += [
        "Every stored result and the command that produced it (run from the repository root). "
        "The report itself: `dco report` (reads only these files).",
        "",
        table(["result", "command", "seed", "date (UTC)", "machine", "versions"], found),
        "",
    ]
    return "\n".join(lines)
