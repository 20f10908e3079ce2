"""``--generator hybrid`` and ``hybrid:MODEL_DIR``: the hybrid policy of
search/hybrid.py built from what is available here.

Sources, in this order (the tie-break order of the ranking):

- ``lm``: the model of ``hybrid:MODEL_DIR``; plain ``hybrid`` uses the model
  in ``$DCO_HYBRID_MODEL`` or, failing that, ``models/ce`` (where ``dco train``
  is told to write the CE model) when it exists; ``hybrid:none`` runs without
  a model on purpose (the ablation that asks what the model adds; its
  results' label is ``hybrid-no-lm``);
- ``knn``: the k-NN generator, when ``--generator knn`` exists and can be
  built here;
- ``automation``: always. Beside a learned source (the model or the k-NN) it
  is the closing tactics of ``--generator symbolic-arith``
  (:data:`search.automation.CLOSERS`: ``lia``, ``auto``, ``easy``, ...,
  each ends the goal or fails), tried at every expanded state on top of the
  learned sources' ``k`` candidates; alone it is that whole list, steps
  included, within the ``k``.

Why closers only: with the list's steps (``intros``, ``simpl``,
``destruct x``, ...) in the mixture, every expansion added some forty
automation children at about the k-NN's mid-rank probability, and
best-first spent its budget on them instead of the k-NN's deeper paths; and
the automation list took the places of the k-NN's tail, which over a quarter
of the k-NN's own proofs need (on the 300-theorem test sample, 36 of the
125 proofs of the k-NN alone use a tactic it ranked 17th or lower; the
hybrid without a model, which asked it for 16, proved 116).

The model is asked for at most :data:`LM_CANDIDATES` tactics per state,
whatever ``--num-candidates`` is: a beam of width 8 took about 0.5 s per
state on one CPU thread, a beam of 64 several seconds, which a 30 s budget
cannot afford at every expansion. (Not re-measured since: in the 300-theorem
``lm-best-first`` run, 2 workers, a beam of 64 took about 0.6 s per
expanded state, 15.8 s of model time over 26 expansions a theorem.) The k-NN (which costs no time to ask) is
asked for the whole ``k``; the mixture keeps the ``k`` best of the two.

A source that is not available (no model trained yet, no k-NN generator) is
left out, with one line on stderr saying so: the hybrid then runs on what
remains, down to the automation list alone. A named ``hybrid:MODEL_DIR``
that cannot be loaded is an error, as for ``model:DIR``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from lean_env.errors import UserError
from search.automation import arith_generator, closer_generator
from search.hybrid import HybridGenerator, Source

DEFAULT_MODEL = Path("models") / "ce"
NO_MODEL = "none"  # hybrid:none
LM_CANDIDATES = 8


def default_model() -> str | None:
    path = os.environ.get("DCO_HYBRID_MODEL") or (
        str(DEFAULT_MODEL) if (DEFAULT_MODEL / "config.json").is_file() else None
    )
    return path or None


def is_hybrid(spec: str) -> bool:
    """Whether ``--generator`` value ``spec`` names the hybrid."""
    return spec == "hybrid" or spec.startswith("hybrid:")


def hybrid_model(spec: str) -> str | None:
    """The model directory the hybrid of ``--generator`` value ``spec`` uses
    (None: not a hybrid, or a hybrid that runs without a model)."""
    if not is_hybrid(spec):
        return None
    named = spec.removeprefix("hybrid").removeprefix(":")
    if named == NO_MODEL:
        return None
    return named or default_model()


def hybrid_label(spec: str) -> str:
    """The results' label of a hybrid: ``hybrid``, or ``hybrid-no-lm`` for
    the ablation without a model."""
    return "hybrid-no-lm" if spec == f"hybrid:{NO_MODEL}" else "hybrid"


def make_hybrid(
    path: str | None, seed: int, worker: int = 0, *, model_wanted: bool = True
) -> HybridGenerator:
    """The hybrid over the model at ``path`` (:func:`hybrid_model`; None:
    without a model), the k-NN and the automation list. ``model_wanted``
    False (``hybrid:none``): no model is not worth a warning."""
    from prover.generators import load_model_generator, make_generator

    sources: list[Source] = []
    missing: dict[str, str] = {}
    if path:
        if not Path(path).is_dir():
            raise UserError(f"hybrid: model directory {path} does not exist")
        sources.append(Source("lm", load_model_generator(path, seed), max_candidates=LM_CANDIDATES))
    elif model_wanted:
        missing["lm"] = f"no model (give hybrid:MODEL_DIR, or train one into {DEFAULT_MODEL})"
    try:
        sources.append(Source("knn", make_generator("knn", seed, worker)))
    except UserError as exc:
        missing["knn"] = str(exc)
    # With a learned source to steer, the automation list only closes goals
    # (see above).
    if any(s.learned for s in sources):
        sources.append(
            Source("automation", closer_generator(seed=seed), learned=False, closing=True)
        )
    else:
        sources.append(Source("automation", arith_generator(seed=seed), learned=False))
    if missing and worker == 0:
        left = ", ".join(f"{name} ({why})" for name, why in missing.items())
        print(f"hybrid: running without {left}", file=sys.stderr)
    return HybridGenerator(sources, missing=missing)
