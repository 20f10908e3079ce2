"""The models of an expert-iteration run: the starting model of each N' and
how each round retrains it.

A round trains with the recipe of the N' model it started from (loss, N',
epsilon, prompt format, model size, batch size, learning rate, schedule,
seed, all read from the starting model's ``training_meta.json``), on the
round's augmented benchmark, either continuing from the previous round's
weights (the default) or from scratch (a fresh model, or the starting model's
own base checkpoint if it was fine-tuned from one). Only ``--epochs``,
``--max-steps`` and ``--lr`` change it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.training_data import load_train_data
from lean_env.errors import UserError
from prover.ensemble import find_models, train_command  # noqa: F401  (find_models re-exported)
from training.data import PromptFormat
from training.generator import META_FILE, read_meta
from training.losses import LossConfig
from training.model import ModelConfig
from training.trainer import TrainConfig, train

from .config import ExpertConfig, label, model_dir_name


def missing_models_error(models: Path | None, benchmark: str, missing: list[float]) -> UserError:
    where = models if models is not None else Path("MODELS")
    commands = "; ".join(train_command(benchmark, n, where / model_dir_name(n)) for n in missing)
    return UserError(
        f"no model for {', '.join(label(n) for n in missing)} in {where}: "
        f"train with `{commands}` or pass --train-missing"
    )


def _epochs(config: ExpertConfig, start: float) -> float:
    if config.epochs is not None:
        return config.epochs
    return 1.0 if config.continue_training else start


def start_model_config(config: ExpertConfig, n_prime: float, out: Path) -> TrainConfig:
    """A round-0 model trained here (``--train-missing``): ``dco train``'s
    defaults with the loss of this N'."""
    loss = LossConfig(name="ce") if n_prime == 1 else LossConfig(name="dcostep", n=n_prime)
    return TrainConfig(
        benchmark=config.benchmark,
        out=str(out),
        loss=loss,
        epochs=config.epochs or TrainConfig.epochs,
        max_steps=config.max_steps,
        lr=config.lr,
        seed=config.seed,
        resume=True,
        progress=config.progress,
    )


def round_model_config(
    config: ExpertConfig, start: Path, previous: Path, benchmark_dir: Path, out: Path
) -> TrainConfig:
    """How a round retrains the model that started as ``start`` and was
    ``previous`` after the last round."""
    meta = read_meta(start)
    if meta.get("loss") not in ("ce", "dcostep"):
        raise UserError(
            f"{start}: expert iteration retrains CE or DCOstep models, not {meta.get('loss')!r}"
        )
    c: dict[str, Any] = meta.get("config") or {}
    loss = LossConfig(
        name=meta["loss"],
        n=float(meta.get("n_prime") or 1),
        epsilon=meta.get("epsilon"),
        length_normalize=bool(meta.get("length_normalize")),
    )
    recipe = TrainConfig(
        benchmark=str(benchmark_dir),
        out=str(out),
        loss=loss,
        base_model=meta.get("base_model"),
        model=ModelConfig.from_dict(meta.get("model_config") or {}),
        prompt=PromptFormat.from_dict(meta.get("prompt_format") or {}),
        **{
            k: c[k]
            for k in (
                "batch_size",
                "grad_accum",
                "weight_decay",
                "warmup_steps",
                "schedule",
                "max_grad_norm",
                "eval_limit",
                "seed",
                "mixed_precision",
                "group_by_length",
            )
            if k in c
        },
    )
    # The starting model's effective peak learning rate (its own default
    # depends on whether it was fine-tuned), kept when continuing: a round is
    # the same recipe run for more epochs on more data.
    lr = config.lr if config.lr is not None else replace(recipe, lr=c.get("lr")).learning_rate
    recipe = replace(
        recipe,
        lr=lr,
        epochs=_epochs(config, float(c.get("epochs") or 1.0)),
        max_steps=config.max_steps,
        eval_every=0,
        resume=True,  # an interrupted round's training continues from its checkpoint
        progress=config.progress,
    )
    if config.continue_training:
        recipe = replace(recipe, base_model=str(previous))
    return recipe


def train_model(train_config: TrainConfig) -> Path:
    """Train unless the model is already there (its metadata is written last)."""
    out = Path(train_config.out)
    if (out / META_FILE).is_file():
        return out
    return train(train_config, load_train_data(train_config.benchmark))
