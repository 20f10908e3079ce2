"""``dco train``: train a tactic generator with CE, DCO, DCOstep or DCOa.

    dco train --benchmark coq-stdlib --loss ce --out models/ce
    dco train --benchmark coq-stdlib --loss dcostep --n 8 --out models/n8
    dco train --benchmark coq-stdlib --loss dcostep --n 8 --out models/n8 --resume
    accelerate launch --config_file training/configs/accelerate_deepspeed.yaml \\
        -m prover.cli train --base-model PATH --loss dcostep --n 8 --out models/n8

Without --base-model a small model and a byte-level BPE tokenizer are trained
from scratch on the benchmark's train split. The output directory is a
Hugging Face model directory (plus metrics.jsonl and checkpoints/) that
``dco search --model`` and ``dco confidence --model`` load.
"""

from __future__ import annotations

import argparse
import sys

from training.data import PromptFormat
from training.losses import LOSSES, LossConfig
from training.model import ModelConfig
from training.trainer import (
    RECIPE_PROMPT_LOSS,
    SCHEDULES,
    TrainConfig,
    default_prompt_loss,
    train,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d, m = TrainConfig(), ModelConfig()
    p = d.prompt
    parser.add_argument(
        "--benchmark", default=d.benchmark, help="coq-stdlib or a benchmark directory"
    )
    parser.add_argument("--out", required=True, help="output model directory")
    loss = parser.add_argument_group("loss")
    loss.add_argument("--loss", choices=LOSSES, default="ce")
    loss.add_argument("--n", type=float, default=1.0, help="N of pass@N (N' for dcostep)")
    loss.add_argument(
        "--epsilon",
        type=float,
        default=None,
        help="refill threshold on the factor F (default 1e-3; dcoa 0.01; 0 disables the refill)",
    )
    loss.add_argument("--samples", type=int, default=16, help="dcoa: completions per example")
    loss.add_argument(
        "--length-normalize",
        action="store_true",
        help="divide each example's NLL by its number of target tokens (off: the paper's loss)",
    )
    loss.add_argument(
        "--prompt-loss",
        type=float,
        default=None,
        metavar="WEIGHT",
        help="weight of an auxiliary next-token loss on the prompt tokens, per token "
        f"relative to a target token (default {RECIPE_PROMPT_LOSS:g} from scratch, 0 with "
        "--base-model or dcoa; 0: the paper's loss alone)",
    )
    model = parser.add_argument_group("model")
    model.add_argument(
        "--base-model", metavar="PATH", help="start from a HF checkpoint dir (or GGUF)"
    )
    model.add_argument("--hidden", type=int, default=m.hidden)
    model.add_argument("--layers", type=int, default=m.layers)
    model.add_argument("--heads", type=int, default=m.heads)
    model.add_argument("--mlp", type=int, default=m.mlp)
    model.add_argument("--vocab-size", type=int, default=m.vocab_size, help="BPE vocabulary size")
    model.add_argument(
        "--attention", default=m.attention, help="attention implementation: sdpa or eager"
    )
    model.add_argument("--max-prompt-tokens", type=int, default=p.max_prompt_tokens)
    model.add_argument("--max-tactic-tokens", type=int, default=p.max_tactic_tokens)
    model.add_argument(
        "--retrieval-tokens",
        type=int,
        default=p.retrieval_tokens,
        help="token budget of the retrieved tactics in the prompt (0: no retrieval)",
    )
    model.add_argument(
        "--retrieved", type=int, default=p.retrieved, help="at most this many retrieved tactics"
    )
    opt = parser.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=d.batch_size, help="units per micro-batch")
    opt.add_argument("--grad-accum", type=int, default=d.grad_accum)
    opt.add_argument(
        "--lr", type=float, default=None, help="default 2e-3 from scratch, 2e-5 fine-tuning"
    )
    opt.add_argument("--weight-decay", type=float, default=d.weight_decay)
    opt.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    opt.add_argument("--schedule", choices=SCHEDULES, default=d.schedule)
    opt.add_argument("--epochs", type=float, default=d.epochs)
    opt.add_argument(
        "--max-steps", type=int, default=None, help="optimizer steps (overrides --epochs)"
    )
    opt.add_argument("--mixed-precision", choices=("no", "bf16", "fp16"), default=d.mixed_precision)
    opt.add_argument("--seed", type=int, default=d.seed)
    opt.add_argument("--no-group-by-length", action="store_true")
    run_ = parser.add_argument_group("run")
    run_.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every)
    run_.add_argument(
        "--keep-checkpoints", type=int, default=d.keep_checkpoints, help="0 keeps them all"
    )
    run_.add_argument("--eval-every", type=int, default=d.eval_every, help="0: at the end only")
    run_.add_argument(
        "--eval-limit", type=int, default=d.eval_limit, help="validation steps per evaluation"
    )
    run_.add_argument(
        "--resume", action="store_true", help="continue from the latest checkpoint in --out"
    )
    run_.add_argument("--no-progress", action="store_true")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        benchmark=args.benchmark,
        out=args.out,
        loss=LossConfig(
            name=args.loss,
            n=args.n,
            epsilon=args.epsilon,
            samples=args.samples,
            length_normalize=args.length_normalize,
            prompt_weight=(
                default_prompt_loss(args.loss, args.base_model)
                if args.prompt_loss is None
                else args.prompt_loss
            ),
        ),
        base_model=args.base_model,
        model=ModelConfig(
            hidden=args.hidden,
            layers=args.layers,
            heads=args.heads,
            mlp=args.mlp,
            vocab_size=args.vocab_size,
            attention=args.attention,
        ),
        prompt=PromptFormat(
            max_prompt_tokens=args.max_prompt_tokens,
            max_tactic_tokens=args.max_tactic_tokens,
            retrieval_tokens=args.retrieval_tokens,
            retrieved=args.retrieved,
        ),
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        schedule=args.schedule,
        epochs=args.epochs,
        max_steps=args.max_steps,
        checkpoint_every=args.checkpoint_every,
        keep_checkpoints=args.keep_checkpoints,
        eval_every=args.eval_every,
        eval_limit=args.eval_limit,
        seed=args.seed,
        mixed_precision=args.mixed_precision,
        group_by_length=not args.no_group_by_length,
        resume=args.resume,
        progress=not args.no_progress,
    )


def run(args: argparse.Namespace) -> int:
    from benchmarks.training_data import load_train_data

    config = config_from_args(args)
    out = train(config, load_train_data(config.benchmark))
    from training.generator import read_meta

    meta = read_meta(out)
    ev = meta.get("final_eval") or {}
    line = f"model written to {out} ({meta.get('steps')} steps, loss {meta.get('loss')}"
    if ev:
        line += (
            f"; val next-tactic accuracy {ev['accuracy']:.3f}, mean max-confidence "
            f"{ev['max_confidence'].get('mean', float('nan')):.3f} on {ev['steps']} steps"
        )
    print(line + ")", file=sys.stdout)
    return 0
