"""One training loop for every loss (CE, DCO, DCOstep, DCOa).

Accelerate runs the same code on a CPU, one GPU, or several (``accelerate
launch --config_file training/configs/accelerate_deepspeed.yaml``, ZeRO-2 with
``training/configs/deepspeed_zero2.json``). Per optimizer step: ``grad_accum``
micro-batches, each a full refilled batch of ``batch_size`` units per process;
linear warm-up then constant or cosine learning rate; gradient clipping.

``OUT/`` receives ``metrics.jsonl`` (one line per optimizer step: loss, NLL,
mean factor, discards, tokens/s, learning rate; and one line per evaluation:
next-tactic accuracy and max-confidence on the validation split),
``checkpoints/step-N/`` every ``checkpoint_every`` steps (resumed exactly with
``resume=True``), and at the end a Hugging Face model directory: weights,
config, tokenizer and ``training_meta.json`` (loss, N, N', epsilon, data,
prompt format, totals, final evaluation).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, get_scheduler

from lean_env.errors import UserError

from . import checkpoint
from .confidence import evaluate_steps
from .data import PromptFormat, build_units, collate, corpus_texts, normalize_tactic, pad_id
from .dataset import TrainData
from .generator import META_FILE
from .losses import Loss, LossConfig, Verifier, make_loss
from .model import ModelConfig, build_model, load_pretrained
from .refill import AllConfident, UnitStream, next_batch
from .retrieval import retriever_for
from .sampling import text_sampler
from .tokenizer import train_tokenizer

SCHEDULES = ("cosine", "constant")


# The default recipe's auxiliary prompt loss (``--prompt-loss``) for a model
# trained from scratch: on coq-stdlib it reached a given val NLL in ~1.7x
# fewer optimizer steps at ~1.7x the cost per step (a tie per CPU-second over
# the first epochs, ahead per step; benchmarks/results/tactic_accuracy/recipe.json).
# Off for a pretrained base model (it already knows the language) and for
# DCOa (whose loss is estimated by sampling).
RECIPE_PROMPT_LOSS = 0.1


def default_prompt_loss(loss: str, base_model: str | None) -> float:
    return 0.0 if base_model or loss == "dcoa" else RECIPE_PROMPT_LOSS


@dataclass
class TrainConfig:
    benchmark: str = "coq-stdlib"
    out: str = "models/default"
    loss: LossConfig = field(default_factory=LossConfig)
    base_model: str | None = None  # a HF checkpoint directory (or GGUF); None: from scratch
    model: ModelConfig = field(default_factory=ModelConfig)
    # The default recipe: the state in up to 192 tokens (truncation keeps the
    # goal) after up to 8 retrieved tactics in 96 tokens.
    prompt: PromptFormat = field(
        default_factory=lambda: PromptFormat(max_prompt_tokens=192, retrieval_tokens=96)
    )
    batch_size: int = 32  # units per micro-batch per process
    grad_accum: int = 1
    lr: float | None = None  # None: 2e-3 from scratch, 2e-5 from a base model
    weight_decay: float = 0.01
    warmup_steps: int = 100
    schedule: str = "cosine"  # or "constant" (after the warm-up)
    epochs: float = 6.0  # sets max_steps when that is None (nominal: discards also consume data)
    max_steps: int | None = None
    max_grad_norm: float = 1.0
    checkpoint_every: int = 250
    keep_checkpoints: int = 2
    eval_every: int = 250  # 0: only at the end
    eval_limit: int = 300  # validation steps used by an evaluation (a fixed seeded subset)
    seed: int = 0
    mixed_precision: str = "no"  # "bf16" / "fp16" on a GPU
    group_by_length: bool = True
    resume: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise UserError(f"--schedule must be one of {', '.join(SCHEDULES)}")
        for name in ("batch_size", "grad_accum", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be >= 1")
        for name in ("warmup_steps", "keep_checkpoints", "eval_every", "eval_limit"):
            if getattr(self, name) < 0:
                raise UserError(f"--{name.replace('_', '-')} must not be negative")
        if self.weight_decay < 0 or self.max_grad_norm < 0:
            raise UserError("--weight-decay and the gradient clipping norm must not be negative")
        if self.max_steps is not None and self.max_steps < 1:
            raise UserError("--max-steps must be >= 1")
        if self.max_steps is None and not self.epochs > 0:
            raise UserError("--epochs must be positive")
        if self.lr is not None and not self.lr > 0:
            raise UserError("--lr must be positive")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (2e-5 if self.base_model else 2e-3)


def reference_verifier(steps: list[Any]) -> Verifier:
    """For DCOa on traced proofs: a completion is correct when it is one of the
    human tactics recorded for that state (whitespace-normalised)."""
    answers: dict[str, set[str]] = {}
    for s in steps:
        answers.setdefault(s.state, set()).add(normalize_tactic(s.tactic))
    return lambda state, completion: normalize_tactic(completion) in answers.get(state, ())


class MetricsLog:
    """``metrics.jsonl``: appended line by line; a resumed run first drops the
    lines of steps after its checkpoint, so the file reads as one run."""

    def __init__(self, path: Path, enabled: bool, resume_step: int | None) -> None:
        self.path, self.enabled = path, enabled
        if enabled and resume_step is not None and path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            kept = [
                ln for ln in lines if ln.strip() and json.loads(ln).get("step", 0) <= resume_step
            ]
            path.write_text("".join(ln + "\n" for ln in kept), encoding="utf-8")
        elif enabled and resume_step is None:
            path.write_text("", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        if self.enabled:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")


def _optimizer(model: Any, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    # No decay on norms and biases (1-d parameters), as usual for transformers.
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr)


class Trainer:
    """Trains on ``data`` (loaded by the caller: the trainer reads no
    benchmark itself); ``config.benchmark`` only labels the run."""

    def __init__(
        self,
        config: TrainConfig,
        data: TrainData,
        *,
        verify: Verifier | None = None,
        on_log: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        from accelerate import Accelerator

        self.config = config
        self.out = Path(config.out)
        self.on_log = on_log
        existing = checkpoint.list_checkpoints(self.out)
        if existing and not config.resume:
            raise UserError(
                f"{self.out} already has checkpoints; pass --resume to continue that run "
                "or choose another --out"
            )
        self.resume_from = existing[-1] if existing and config.resume else None
        self.accelerator = Accelerator(
            gradient_accumulation_steps=config.grad_accum, mixed_precision=config.mixed_precision
        )
        self.benchmark_name = data.name
        train_steps = list(data.train)
        if not train_steps:
            raise UserError(f"benchmark {data.name!r} has no training steps")
        val_steps = list(data.val)
        random.Random(config.seed).shuffle(val_steps)
        self.val_steps = val_steps[: config.eval_limit]
        self.out.mkdir(parents=True, exist_ok=True)
        self.retriever = (
            retriever_for(data, config.prompt.retrieved, data.index_path)
            if config.prompt.retrieval_tokens
            else None
        )
        self.model, self.tokenizer = self._model_and_tokenizer(train_steps)
        self.loss: Loss = make_loss(
            config.loss,
            sample=text_sampler(self.tokenizer, config.prompt),
            verify=verify or reference_verifier(train_steps),
        )
        self._setup_data(train_steps)
        self._setup_optimisation()
        self.step = 0
        self.totals = {"tokens": 0, "discarded": 0, "probed": 0, "units": 0, "seconds": 0.0}

    # -- setup -------------------------------------------------------------

    def _setup_data(self, train_steps: list[Any]) -> None:
        config, acc = self.config, self.accelerator
        retrieve = None
        if self.retriever is not None:
            self.retriever.for_steps([*train_steps, *self.val_steps])  # computed once, kept
            retrieve = self.retriever.for_step
        units = build_units(
            train_steps,
            self.tokenizer,
            config.prompt,
            by_proof=self.loss.by_proof,
            retrieve=retrieve,
        )
        if not units.units:
            raise UserError("every training step's tactic is longer than --max-tactic-tokens")
        self.num_units, self.skipped_steps = len(units.units), units.skipped_steps
        per_step = config.batch_size * config.grad_accum * acc.num_processes
        self.max_steps = config.max_steps or max(
            1, math.ceil(config.epochs * self.num_units / per_step)
        )
        # Each process walks its own shard, so processes never train on the same unit.
        shard = units.units[acc.process_index :: acc.num_processes]
        self.stream = UnitStream(shard, config.seed, config.batch_size, config.group_by_length)
        self.pad = pad_id(self.tokenizer)

    def _setup_optimisation(self) -> None:
        config, acc = self.config, self.accelerator
        self.optimizer = _optimizer(self.model, config.learning_rate, config.weight_decay)
        self.scheduler = get_scheduler(
            "cosine" if config.schedule == "cosine" else "constant_with_warmup",
            self.optimizer,
            num_warmup_steps=min(config.warmup_steps, self.max_steps),
            num_training_steps=self.max_steps,
        )
        self._configure_deepspeed()
        self.model, self.optimizer = acc.prepare(self.model, self.optimizer)
        # The scheduler steps once per optimizer step whatever the number of
        # processes (Accelerate's wrapper would step it once per process).
        acc.register_for_checkpointing(self.scheduler)

    def _model_and_tokenizer(self, train_steps: list[Any]) -> tuple[Any, Any]:
        config = self.config
        max_positions = config.prompt.max_positions
        if config.base_model:
            model, tokenizer = load_pretrained(config.base_model)
        elif self.resume_from and (self.out / "tokenizer.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(self.out)  # the run's own tokenizer
            model = build_model(config.model, tokenizer, max_positions, config.seed)
        else:
            tokenizer = train_tokenizer(corpus_texts(train_steps), config.model.vocab_size)
            model = build_model(config.model, tokenizer, max_positions, config.seed)
        if self.accelerator.is_main_process:
            tokenizer.save_pretrained(self.out)
        return model, tokenizer

    def _configure_deepspeed(self) -> None:
        # We feed our own batches (no DataLoader to prepare), so DeepSpeed's
        # "auto" micro-batch size must be filled in here.
        plugin = getattr(self.accelerator.state, "deepspeed_plugin", None)
        if plugin is not None:
            ds = plugin.deepspeed_config
            ds["train_micro_batch_size_per_gpu"] = self.config.batch_size
            ds["gradient_accumulation_steps"] = self.config.grad_accum
            ds["train_batch_size"] = (
                self.config.batch_size * self.config.grad_accum * self.accelerator.num_processes
            )
            if ds.get("gradient_clipping") == "auto":
                ds["gradient_clipping"] = self.config.max_grad_norm

    def fingerprint(self) -> dict[str, Any]:
        c = self.config
        return {
            "loss": c.loss.to_dict(),
            "base_model": c.base_model,
            "model": None if c.base_model else c.model.to_dict(),
            "prompt": c.prompt.to_dict(),
            "benchmark": self.benchmark_name,
            "train_units": self.num_units,
            "batch_size": c.batch_size,
            "grad_accum": c.grad_accum,
            "processes": self.accelerator.num_processes,
            "lr": c.learning_rate,
            "weight_decay": c.weight_decay,
            "schedule": c.schedule,
            "warmup_steps": c.warmup_steps,
            "max_steps": self.max_steps,
            "seed": c.seed,
            "group_by_length": c.group_by_length,
        }

    # -- the loop ----------------------------------------------------------

    def _probe(self, units: list[Any]) -> torch.Tensor:
        self.model.eval()
        try:
            return self.loss.probe(self.model, collate(units, self.pad).to(self.accelerator.device))
        finally:
            self.model.train()

    def _train_step(self) -> dict[str, Any]:
        """One optimizer step (grad_accum refilled micro-batches)."""
        acc, loss_fn = self.accelerator, self.loss
        probe = self._probe if loss_fn.needs_probe else None
        stats = {"loss": 0.0, "nll": 0.0, "factor": 0.0, "discarded": 0, "probed": 0, "tokens": 0}
        t0 = time.perf_counter()
        probe_seconds = 0.0
        for _ in range(self.config.grad_accum):
            tp = time.perf_counter()
            got = next_batch(self.stream, self.config.batch_size, probe, self.config.loss.threshold)
            probe_seconds += time.perf_counter() - tp if probe else 0.0
            batch = collate(got.units, self.pad).to(acc.device)
            batch.factors = got.factors.to(acc.device) if got.factors is not None else None
            with acc.accumulate(self.model):
                out = loss_fn.compute_loss(self.model, batch)
                acc.backward(out.loss)
                if acc.sync_gradients and self.config.max_grad_norm > 0:
                    acc.clip_grad_norm_(self.model.parameters(), self.config.max_grad_norm)
                self.optimizer.step()
                self.optimizer.zero_grad()
            stats["loss"] += out.loss.item() / self.config.grad_accum
            stats["nll"] += float(-out.logp.mean()) / self.config.grad_accum
            stats["factor"] += float(out.factors.float().mean()) / self.config.grad_accum
            stats["discarded"] += got.discarded
            stats["probed"] += got.probed
            stats["tokens"] += batch.num_tokens()
        self.scheduler.step()
        stats["seconds"] = time.perf_counter() - t0
        stats["probe_seconds"] = probe_seconds
        return stats

    def _log_row(self, stats: dict[str, Any]) -> dict[str, Any]:
        train_seconds = max(stats["seconds"] - stats["probe_seconds"], 1e-9)
        return {
            "step": self.step,
            "epoch": round(self.stream.epochs_done, 4),
            "loss": stats["loss"],
            "nll": stats["nll"],
            "mean_factor": stats["factor"],
            "discards": stats["discarded"],
            "probed": stats["probed"],
            "tokens_per_s": stats["tokens"] / train_seconds,
            "lr": self.scheduler.get_last_lr()[0],
            "seconds": stats["seconds"],
            "probe_seconds": stats["probe_seconds"],
        }

    def evaluate(self) -> dict[str, Any]:
        model = self.accelerator.unwrap_model(self.model)
        retrieved = [self.retriever.for_step(s) for s in self.val_steps] if self.retriever else None
        return evaluate_steps(
            model, self.tokenizer, self.config.prompt, self.val_steps, retrieved=retrieved
        )

    def _state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "stream": self.stream.state_dict(),
            "totals": self.totals,
            "fingerprint": self.fingerprint(),
        }

    def train(self) -> Path:
        acc, config = self.accelerator, self.config
        main = acc.is_main_process
        metrics = MetricsLog(self.out / "metrics.jsonl", main, self._resume())
        self._announce()
        from tqdm.auto import tqdm

        bar = tqdm(
            total=self.max_steps,
            initial=self.step,
            disable=not (config.progress and main),
            unit="step",
            dynamic_ncols=True,
        )
        stopped: str | None = None
        self.model.train()
        while self.step < self.max_steps:
            try:
                stats = self._train_step()
            except AllConfident as exc:
                stopped = str(exc)
                break
            self.step += 1
            row = self._record_step(stats, metrics)
            bar.update(1)
            bar.set_postfix(
                loss=f"{row['loss']:.3f}",
                F=f"{row['mean_factor']:.3f}",
                tok_s=f"{row['tokens_per_s']:.0f}",
                refresh=False,
            )
            if not (config.progress and main) and main and self.step % 100 == 0:
                self._print_eta()
            if (
                config.eval_every
                and self.step % config.eval_every == 0
                and self.step < self.max_steps
            ):
                self._write_eval(metrics)
            if self.step % config.checkpoint_every == 0 or self.step == self.max_steps:
                checkpoint.save(acc, self.out, self.step, self._state(), config.keep_checkpoints)
        bar.close()
        if stopped and main:
            print(f"stopped early at step {self.step}: {stopped}", file=sys.stderr)
        final_eval = self._write_eval(metrics) if self.val_steps else None
        self._save_final(final_eval, stopped)
        return self.out

    def _resume(self) -> int | None:
        """Restore the state of ``resume_from`` (the step it reached), if any."""
        if self.resume_from is None:
            return None
        state = checkpoint.load(self.accelerator, self.resume_from, self.fingerprint())
        self.step = int(state["step"])
        self.stream.load_state_dict(state["stream"])
        self.totals = state["totals"]
        return self.step

    def _record_step(self, stats: dict[str, Any], metrics: MetricsLog) -> dict[str, Any]:
        """Add one optimizer step to the totals and the metrics log; its row."""
        for key in ("tokens", "discarded", "probed"):
            self.totals[key] += stats[key]
        self.totals["seconds"] += stats["seconds"]
        c = self.config
        self.totals["units"] += c.batch_size * c.grad_accum * self.accelerator.num_processes
        row = self._log_row(stats)
        metrics.write(row)
        if self.on_log:
            self.on_log(row)
        return row

    def _announce(self) -> None:
        if self.accelerator.is_main_process:
            c = self.config
            print(
                f"training {'from ' + c.base_model if c.base_model else 'from scratch'} with "
                f"{c.loss.name} (N={c.loss.effective_n:g}, epsilon={c.loss.threshold:g}) on "
                f"{self.num_units} {'proofs' if self.loss.by_proof else 'steps'} of "
                f"{self.benchmark_name}: {self.max_steps} optimizer steps of "
                f"{c.batch_size * c.grad_accum * self.accelerator.num_processes} units "
                f"(from step {self.step}); output in {self.out}",
                file=sys.stderr,
            )

    def _print_eta(self) -> None:
        per_step = self.totals["seconds"] / max(self.step, 1)
        left = (self.max_steps - self.step) * per_step
        print(
            f"step {self.step}/{self.max_steps}: {per_step:.2f} s/step, ETA {left / 60:.1f} min",
            file=sys.stderr,
        )

    def _write_eval(self, metrics: MetricsLog) -> dict[str, Any] | None:
        if not self.accelerator.is_main_process or not self.val_steps:
            return None
        result = self.evaluate()
        metrics.write({"step": self.step, "eval": result})
        if self.on_log:
            self.on_log({"step": self.step, "eval": result})
        return result

    def _save_final(self, final_eval: dict[str, Any] | None, stopped: str | None) -> None:
        acc = self.accelerator
        acc.wait_for_everyone()
        model = acc.unwrap_model(self.model)
        if not acc.is_main_process:
            return
        model.save_pretrained(self.out, state_dict=acc.get_state_dict(self.model))
        self.tokenizer.save_pretrained(self.out)
        c = self.config
        meta = {
            "loss": c.loss.name,
            "n": c.loss.effective_n,
            # N' labels ensemble members: the per-step N of dcostep, 1 for CE.
            "n_prime": {"ce": 1, "dcostep": c.loss.n}.get(c.loss.name),
            "epsilon": c.loss.threshold,
            "samples": c.loss.samples if c.loss.name == "dcoa" else None,
            "length_normalize": c.loss.length_normalize,
            "prompt_loss": c.loss.prompt_weight,
            "benchmark": c.benchmark,
            "benchmark_name": self.benchmark_name,
            "train_units": self.num_units,
            "unit": "proof" if self.loss.by_proof else "step",
            "skipped_steps": self.skipped_steps,
            "steps": self.step,
            "max_steps": self.max_steps,
            "stopped_early": stopped,
            "base_model": c.base_model,
            "model_config": None if c.base_model else c.model.to_dict(),
            "prompt_format": c.prompt.to_dict(),
            "config": {k: v for k, v in asdict(c).items() if k not in ("loss", "model", "prompt")},
            "totals": self.totals,
            "final_eval": final_eval,
        }
        (self.out / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def train(config: TrainConfig, data: TrainData, **kwargs: Any) -> Path:
    return Trainer(config, data, **kwargs).train()
