"""The paper's numbers that this project can set its own beside, exactly as
the project recorded them from the paper (nothing else is quoted: numbers
not recorded here are not invented). Everything from this module is labelled
"paper" (or "published") in the report."""

from __future__ import annotations

PAPER = "Chen et al., Rethinking Fine-Tuning when Scaling Test-Time Compute (NeurIPS 2025)"

# Table 1 (MATH, CE fine-tuning): pass@1 rises while pass@256 falls over the epochs.
TABLE1_CE = {"1": (0.044, 0.074), "256": (0.652, 0.445)}

# Table 2 (theorem proving, Qwen2.5-Math-1.5B, pass@4k): CE, the best single
# DCOstep model, and the ensemble of N' in {1, 4, 8, 16, 32}.
TABLE2 = {
    "LeanDojo (random split)": {"CE": 0.556, "best single DCOstep": 0.565, "ensemble": 0.622},
    "MiniF2F": {"CE": 0.374, "best single DCOstep": 0.395, "ensemble": 0.436},
}

# Published results on the Coq standard library (other systems and protocols:
# context only, not a comparison).
COQ_STDLIB_PUBLISHED = {
    "Tactician (k-NN)": 0.393,
    "CoqHammer (about 40 s, 8 CPUs)": 0.408,
    "Tactician + CoqHammer": 0.567,
}
