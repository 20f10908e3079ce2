"""Re-check many proofs of one file with one ``coqc`` run.

Checking each theorem with its own ``coqc`` of the whole prefix (what
:func:`~lean_env.coq.verify.verify_proof` does for one proof) is quadratic in
the file's length. Here the file is written out once with every given proof
replaced by its tactics and ``Qed.``, each followed by ``Print Assumptions``
between markers, and compiled once. Proofs that are not given keep their
original text, so every theorem sees exactly its original context; the file
is cut after the last proof checked. If coqc stops inside a proof, that proof
failed: it goes back to its original text and coqc runs again. If coqc stops
in the file's own text, the proof before that point goes back to its original
text for one more run: if coqc then gets further, that proof is blamed (it
changed what later text sees, e.g. which section variables it uses), else the
text fails by itself and every proof after it fails. Failures are rare, so
this is close to one run per file.

Each proof passes if coqc accepts it, ``Print Assumptions`` shows nothing
unsafe, and the theorem itself is not among the assumptions. Reasons start
with a fixed phrase and put details after the first colon. Unlike the single
check, the assumptions need no second lookup in the context: they are printed
right after the theorem, where the only names the tactics could have added are
the theorem itself and its auxiliary constants (the tactics passed
``check_tactic``, so none declares an axiom); every other name comes from the
context.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..types import Theorem, Verification
from .coqc import (
    between_markers,
    compile_script,
    error_text,
    judge_assumptions,
    marker_command,
    new_marker,
)
from .sentences import split_sentences
from .source import Declaration
from .tactic_check import RejectedTactic, check_tactic

# One coqc run may compile a large file; the limit scales with its proofs.
BASE_TIMEOUT = 600.0
PER_PROOF_TIMEOUT = 10.0

# (declaration, tactics, the `Proof using ...` sentence to keep or None)
Proof = tuple[Declaration, Sequence[str], str | None]


def verify_file_proofs(
    path: Path | str, coq_args: tuple[str, ...], proofs: Sequence[Proof]
) -> list[Verification]:
    """A Verification for each proof, in the order given. ``proofs`` must be
    theorems of ``path`` (declarations from :func:`parse_declarations`)."""
    t0 = time.perf_counter()
    path = Path(path).resolve()
    text = path.read_text(encoding="utf-8")
    order = sorted(range(len(proofs)), key=lambda k: proofs[k][0].theorem.offset or 0)
    spans = _proof_spans(text, {k: proofs[k][0] for k in order})
    final: dict[int, Verification] = {}
    bodies: dict[int, str] = {}
    for k in order:
        body = _proof_body(proofs[k])
        if isinstance(body, Verification):
            final[k] = body
        else:
            bodies[k] = body
    anchor = Theorem(name="", statement="", file=str(path), coq_args=tuple(coq_args))
    run = _Run(text, spans, bodies, proofs, anchor)
    passed, output = run.rounds([k for k in order if k in bodies], order, final)
    for k in order:
        if k not in final:
            final[k] = passed.get(k) or _fail(
                f"coqc failed in the file's text before it: {error_text(output)}"
            )
    seconds = time.perf_counter() - t0
    per_proof = seconds / max(len(proofs), 1)
    return [
        Verification(final[k].ok, final[k].reason, final[k].axioms, per_proof, "")
        for k in range(len(proofs))
    ]


@dataclass(frozen=True)
class _Run:
    """What every coqc run of one file shares."""

    text: str
    spans: dict[int, tuple[int, int]]
    bodies: dict[int, str]
    proofs: Sequence[Proof]
    anchor: Theorem

    def once(
        self, active: list[int]
    ) -> tuple[int | None, str, dict[int, Verification], tuple[int, str] | None]:
        """One coqc run with the ``active`` proofs traced: its exit code,
        output, verdicts and where it stopped (see :func:`_read_run`)."""
        markers = {k: (new_marker(), new_marker(), new_marker()) for k in active}
        script = _script(self.text, self.spans, active, self.bodies, markers, self.proofs)
        timeout = BASE_TIMEOUT + PER_PROOF_TIMEOUT * len(active)
        code, output = compile_script(script, self.anchor, timeout)
        passed, failure = _read_run(output, active, markers, self.proofs)
        return code, output, passed, failure

    def rounds(
        self, active: list[int], order: list[int], final: dict[int, Verification]
    ) -> tuple[dict[int, Verification], str]:
        """Run coqc until it gets through (``active``: the proofs written as
        traced proofs, in file order); settle ``final`` for the proofs that
        failed or were blamed. Returns the last run's verdicts and output."""
        passed: dict[int, Verification] = {}  # verdicts read from the latest run
        output = ""
        # A proof taken back to its original text to see whether it made coqc fail
        # in later text, and the proof that later text preceded.
        suspect: tuple[int, int, Verification] | None = None
        # Each round either finishes or takes one proof out of `active`.
        while active:
            timeout = BASE_TIMEOUT + PER_PROOF_TIMEOUT * len(active)
            code, output, passed, failure = self.once(active)
            if code is None:
                # Out of time: what finished stands, the rest is not verified.
                for k in active:
                    final[k] = passed.get(k) or _fail(
                        f"coqc did not finish in time: {timeout:.0f} s"
                    )
                if suspect is not None:
                    final[suspect[0]] = suspect[2]
                break
            if suspect is not None:
                blamed, stuck_at, earlier_verdict = suspect
                suspect = None
                moved_on = (
                    failure is None
                    or order.index(failure[0]) > order.index(stuck_at)
                    or (failure[0] == stuck_at and failure[1] == "proof")
                )
                if moved_on:
                    final[blamed] = _fail(
                        "its traced proof makes later text of the file fail in coqc"
                    )
                else:
                    # Reverting did not help: the file's text fails there by itself.
                    final[blamed] = earlier_verdict
                    break
            if failure is None:
                break
            k, where = failure
            if where == "proof":
                final[k] = _fail(f"coqc rejected the proof: {error_text(output)}")
                active.remove(k)
                continue
            # coqc failed in the file's own text just before proof k: test whether
            # the traced proof before it caused that by running it in original text.
            earlier = active[: active.index(k)]
            if not earlier:
                break
            suspect = (earlier[-1], k, passed[earlier[-1]])
            active.remove(earlier[-1])
        return passed, output


def _fail(reason: str) -> Verification:
    return Verification(False, reason)


def _proof_spans(text: str, declarations: dict[int, Declaration]) -> dict[int, tuple[int, int]]:
    """For each declaration: the span from its statement to the end of its
    ``Qed.``, which the traced proof replaces."""
    sentences = split_sentences(text)
    starts = [s.start for s in sentences]
    spans = {}
    for k, declaration in declarations.items():
        offset = declaration.theorem.offset
        i = bisect.bisect_left(starts, offset)
        if i >= len(starts) or starts[i] != offset:
            raise ValueError(f"{declaration.theorem.name}: no sentence at offset {offset}")
        ending = sentences[i + len(declaration.proof) + 1]
        if not ending.text.startswith("Qed"):
            raise ValueError(f"{declaration.theorem.name}: proof does not end in Qed")
        spans[k] = (offset, ending.end)
    return spans


def _proof_body(proof: Proof) -> str | Verification:
    """The statement, ``Proof using`` if kept, the tactics and ``Qed.``."""
    declaration, tactics, using = proof
    if not tactics:
        return _fail("empty proof")
    lines = [declaration.theorem.statement]
    if using:
        # Kept so that the theorem's section variables, and thus every later
        # use of it after the section closes, stay as in the file.
        lines.append(using)
    for tactic in tactics:
        try:
            lines.append(check_tactic(tactic, declaration.theorem.name).text)
        except RejectedTactic as exc:
            return _fail(f"rejected tactic: {tactic!r}: {exc}")
    lines.append("Qed.")
    return "\n".join(lines)


def _script(
    text: str,
    spans: dict[int, tuple[int, int]],
    active: list[int],
    bodies: dict[int, str],
    markers: dict[int, tuple[str, str, str]],
    proofs: Sequence[Proof],
) -> str:
    """The file up to its last active proof, each active proof replaced."""
    pieces = []
    cursor = 0
    for k in active:
        start, end = spans[k]
        begin, after, done = markers[k]
        short = proofs[k][0].theorem.short_name
        pieces += [
            text[cursor:start],
            f"\n{marker_command(begin)}\n{bodies[k]}\n{marker_command(after)}\n"
            f"Print Assumptions {short}.\n{marker_command(done)}\n",
        ]
        cursor = end
    return "".join(pieces)


def _read_run(
    output: str,
    active: list[int],
    markers: dict[int, tuple[str, str, str]],
    proofs: Sequence[Proof],
) -> tuple[dict[int, Verification], tuple[int, str] | None]:
    """Verdicts of the proofs coqc got through, and where it stopped:
    ``(k, "proof")`` inside proof k, ``(k, "text")`` in the file's own text
    before it, or None if it went through every proof."""
    verdicts: dict[int, Verification] = {}
    for k in active:
        begin, after, done = markers[k]
        if begin not in output:
            return verdicts, (k, "text")
        if after not in output or done not in output:
            return verdicts, (k, "proof")
        verdicts[k] = _judge(proofs[k][0].theorem, between_markers(output, after, done))
    return verdicts, None


def _judge(theorem: Theorem, block: str) -> Verification:
    reason, names = judge_assumptions(theorem, block)
    if reason is not None:
        return _fail(reason)
    return Verification(True, "", tuple(names))
