"""One ``lean_dojo.check_proof`` in a process of its own.

    echo '{"repo": ..., "commit": ..., "file": ..., "name": ..., "script": ...}' \\
        | python -m lean_env.lean_check

Prints one JSON line: ``{"ok": true|false}``, or ``{"error": "why"}`` when the
check could not run. LeanDojo's check compiles the whole file with ``lake env
lean`` and no time limit; :func:`lean_env.leandojo.check_proof_bounded` runs
this module in a process group it kills past its limit. A repository that is
not traced is an error here, never traced on the spot.
"""

from __future__ import annotations

import json
import sys

from .leandojo import TRACE_HINT, import_lean_dojo, is_traced, lean_theorem
from .types import Backend, Theorem


def check(request: dict[str, str | None]) -> dict[str, object]:
    theorem = Theorem(
        name=str(request["name"]),
        statement="",
        backend=Backend.LEAN,
        file=str(request["file"]),
        repo=request["repo"],
        commit=request.get("commit"),
    )
    try:
        ld = import_lean_dojo()
        if not is_traced(theorem):
            return {"error": f"{theorem.repo} is not traced in LeanDojo's cache; {TRACE_HINT}"}
        return {"ok": bool(ld.check_proof(lean_theorem(theorem), str(request["script"])))}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"}


def main() -> int:
    try:
        request = json.loads(sys.stdin.read())
    except json.JSONDecodeError as exc:
        print(json.dumps({"error": f"bad request: {exc}"}))
        return 2
    print(json.dumps(check(request)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
