"""Training checkpoints: ``OUT/checkpoints/step-NNNNNNN/``.

Each holds Accelerate's state (model, optimizer, scheduler, the RNG states of
every process) and ``trainer_state.json``: the optimizer step, the data
stream's position, running totals and the run's *fingerprint* (everything a
resumed run must share with the original for the resume to be exact). A
checkpoint directory is written under a temporary name and renamed when
complete, so a crash mid-write never leaves a half checkpoint that looks whole.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from lean_env.errors import UserError

STATE_FILE = "trainer_state.json"
PREFIX = "step-"


def checkpoint_dir(out: Path, step: int) -> Path:
    return out / "checkpoints" / f"{PREFIX}{step:07d}"


def list_checkpoints(out: Path) -> list[Path]:
    root = out / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX)]
    return sorted(found, key=lambda p: p.name)


def save(accelerator: Any, out: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    final = checkpoint_dir(out, step)
    tmp = final.with_name(final.name + ".tmp")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    # The models tie lm_head to the embeddings; Accelerate drops the tied copy
    # from the safetensors file and says so at every checkpoint ("Removed
    # shared tensor ..."). Loading re-ties it: the resume tests check that a
    # resumed run continues exactly.
    logging.getLogger("accelerate.utils.other").setLevel(logging.ERROR)
    accelerator.save_state(str(tmp))
    if accelerator.is_main_process:
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        tmp.rename(final)
        for old in list_checkpoints(out)[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads((path / STATE_FILE).read_text(encoding="utf-8"))
        int(state["step"])
        state["fingerprint"]  # noqa: B018 - presence check
        return state
    except FileNotFoundError:
        raise UserError(f"checkpoint {path} is corrupt: no {STATE_FILE}") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserError(f"checkpoint {path} is corrupt: unreadable {STATE_FILE} ({exc})") from None


def check_fingerprint(path: Path, saved: dict[str, Any], current: dict[str, Any]) -> None:
    """A resumed run must be the same run: the first difference is the error."""
    for key in sorted(set(saved) | set(current)):
        if saved.get(key) != current.get(key):
            raise UserError(
                f"checkpoint {path} does not match this run: {key} was {saved.get(key)!r}, "
                f"now {current.get(key)!r} (resume with the original flags, or use a new --out)"
            )


def load(accelerator: Any, path: Path, fingerprint: dict[str, Any]) -> dict[str, Any]:
    """Restore Accelerate's state from ``path`` after checking its
    fingerprint; returns its trainer state. Any unreadable part -> UserError."""
    state = read_state(path)
    check_fingerprint(path, state["fingerprint"], fingerprint)
    try:
        accelerator.load_state(str(path))
    except Exception as exc:  # noqa: BLE001 - any failure here means the files are bad
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"checkpoint {path} is corrupt or incompatible: {first[:300]}") from None
    return state
