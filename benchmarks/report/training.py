"""The tactic models' training results: ``dco report --models DIR`` copies
what the report needs from each model's training_meta.json and
metrics.jsonl (models/ is not committed) into results/training/<name>.json;
the section renders those files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.report import figures
from benchmarks.report.markdown import DASH, command, num, pct, table
from benchmarks.report.sources import Result
from lean_env.errors import UserError

META = "training_meta.json"


def reconstruct_command(meta: dict[str, Any], model_dir: str) -> list[str]:
    """The `dco train` command that gives this model: the flags that decide
    the result (defaults left out), rebuilt from its training_meta.json."""
    from training.model import ModelConfig
    from training.trainer import TrainConfig, default_prompt_loss

    cfg = meta.get("config", {})
    cmd = [
        "dco",
        "train",
        "--benchmark",
        str(meta.get("benchmark", cfg.get("benchmark"))),
        "--loss",
        str(meta["loss"]),
    ]
    if meta["loss"] != "ce":
        cmd += ["--n", f"{meta['n']:g}", "--epsilon", f"{meta['epsilon']:g}"]
    if meta["loss"] == "dcoa" and meta.get("samples"):
        cmd += ["--samples", str(meta["samples"])]
    prompt_loss = meta.get("prompt_loss", 0.0)
    if prompt_loss != default_prompt_loss(str(meta["loss"]), meta.get("base_model")):
        cmd += ["--prompt-loss", f"{prompt_loss:g}"]
    cmd += ["--out", model_dir]
    if meta.get("base_model"):
        cmd += ["--base-model", str(meta["base_model"])]
    defaults = TrainConfig()
    for key in (
        "epochs",
        "max_steps",
        "batch_size",
        "lr",
        "warmup_steps",
        "schedule",
        "seed",
        "eval_every",
    ):
        value = cfg.get(key)
        if value is not None and value != getattr(defaults, key):
            cmd += [
                f"--{key.replace('_', '-')}",
                f"{value:g}" if isinstance(value, float) else str(value),
            ]
    for key, value in (meta.get("prompt_format") or {}).items():
        if key != "separator" and value != getattr(defaults.prompt, key, value):
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    size = ModelConfig()
    for key, value in (meta.get("model_config") or {}).items():
        if key in ("hidden", "layers", "heads", "mlp", "vocab_size") and value != getattr(
            size, key
        ):
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    return cmd


def _evals(metrics: Path) -> list[dict[str, Any]]:
    out = []
    if metrics.is_file():
        for line in metrics.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "eval" in row:
                e = row["eval"]
                out.append(
                    {
                        "step": row["step"],
                        "accuracy": e["accuracy"],
                        "mean_max_confidence": e["max_confidence"]["mean"],
                        "nll": e.get("nll"),
                    }
                )
    return out


def collect(models: Path, out: Path) -> list[Path]:
    """One results/training/<name>.json per model directory under ``models``."""
    if not models.is_dir():
        raise UserError(f"--models {models} is not a directory")
    metas = sorted(p for p in models.rglob(META) if "checkpoints" not in p.parts)
    if not metas:
        raise UserError(f"no trained model (no {META}) under {models}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for meta_path in metas:
        directory = meta_path.parent
        rel = directory.relative_to(models).as_posix()
        name = rel.replace("/", "-") if rel != "." else directory.name
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{meta_path}: malformed JSON ({exc.msg})") from None
        model_dir = (models / rel).as_posix() if rel != "." else models.as_posix()
        final = meta.get("final_eval") or {}
        conf = final.get("max_confidence") or {}
        payload = {
            "kind": "training",
            "name": name,
            "model_dir": model_dir,
            "command": reconstruct_command(meta, model_dir),
            "command_note": "reconstructed from training_meta.json",
            **{
                k: meta.get(k)
                for k in (
                    "loss",
                    "n",
                    "n_prime",
                    "epsilon",
                    "samples",
                    "benchmark",
                    "train_units",
                    "steps",
                    "base_model",
                    "model_config",
                )
            },
            "epochs": meta.get("config", {}).get("epochs"),
            "seed": meta.get("config", {}).get("seed"),
            "totals": meta.get("totals"),
            "final_eval": {
                "steps": final.get("steps"),
                "accuracy": final.get("accuracy"),
                "nll": final.get("nll"),
                "max_confidence": {
                    k: conf.get(k) for k in ("n", "mean", "median", "p90", "histogram")
                },
            },
            "evals": _evals(directory / "metrics.jsonl"),
        }
        path = out / f"{name}.json"
        path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _order(m: dict[str, Any]) -> tuple[Any, ...]:
    return (-(m.get("epochs") or 0), m.get("n_prime") or 0, m["name"])


def section(results: list[Result], fig_dir: Path, base: Path) -> tuple[str, list[Path]]:
    lines = ["## Training the coq-stdlib tactic models", ""]
    if not results:
        lines += [
            "*Not yet run.* No results under `results/training/`. Train models with "
            "`dco train` and copy their numbers with `dco report --models models`.",
            "",
        ]
        return "\n".join(lines), []
    models = sorted((r.data for r in results), key=_order)
    rows = []
    for m in models:
        f, t = m["final_eval"], m.get("totals") or {}
        conf = f["max_confidence"]
        rows.append(
            [
                m["name"],
                m["loss"],
                num(m.get("n_prime"), 0),
                num(m.get("epsilon"), 3),
                f"{num(m.get('epochs'), 0)} ({m.get('steps')})",
                str(t.get("discarded", DASH)),
                pct(f.get("accuracy")),
                num(f.get("nll"), 1) if f.get("nll") is not None else DASH,
                pct(conf.get("mean"), 2),
                pct(conf.get("median"), 3),
                f"{t['seconds'] / 60:.0f} min" if t.get("seconds") else DASH,
            ]
        )
    headers = [
        "model",
        "loss",
        "N′",
        "ε",
        "epochs (steps)",
        "discarded",
        "val next-tactic accuracy",
        "val NLL per tactic (nats)",
        "val mean max-confidence",
        "median",
        "training time",
    ]
    path = fig_dir / "training_models.png"
    figures.training_confidence(models, path)
    steps = models[0]["final_eval"].get("steps")
    lines += [
        f"Validation: {steps} steps of the val split (a fixed seeded subset); accuracy = the greedy "
        "tactic equals the human one; max-confidence = the probability of the greedy tactic.",
        "",
        table(headers, rows, right=range(2, len(headers))),
        "",
        f"![tactic models]({path.relative_to(base).as_posix()})",
        "",
        "Commands (reconstructed from each model's training_meta.json): "
        + "; ".join(command(m["command"]) for m in models)
        + ".",
        "",
    ]
    return "\n".join(lines), [path]
