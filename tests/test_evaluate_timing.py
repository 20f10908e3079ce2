"""Equal-compute reporting with real coqtop and a real SQLite file: each
proved theorem's proof time (search seconds) in the database and in
results.json, proved-within-t, seconds used per theorem, a database written
before the proof time existed, and provers side by side with paired tests."""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from helpers import make_bench, query

from benchmarks.paired import mcnemar_exact
from prover.cli import main
from prover.compare import proved_at, side_by_side, side_by_side_table
from search.db import SearchDB


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bench(tmp_path_factory.mktemp("timing"))[0]


def evaluate(bench: Path, out: Path, *extra: str) -> dict:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(
            [
                "evaluate",
                "--benchmark",
                str(bench),
                "--out",
                str(out),
                "--quiet",
                "--no-tree",
                "--generator",
                "symbolic",
                *extra,
            ]
        )
    assert rc == 0, buf.getvalue()
    return json.loads((out / "results.json").read_text())


@pytest.mark.parametrize("strategy", ["best-first", "rollouts"])
def test_proof_times_in_the_database_and_results(bench, tmp_path, strategy) -> None:
    extra = ["--passes", "16"] if strategy == "rollouts" else []
    results = evaluate(bench, tmp_path / strategy, "--strategy", strategy, "--budget", "6", *extra)
    (m,) = results["models"]
    # the contract keys of today, and the generator that made the run
    assert {"label", "generator", "proved", "total"} <= set(m) and m["generator"] == "symbolic"
    rows = query(Path(results["db"]), "SELECT * FROM theorems WHERE run_id = ?", (m["run_id"],))
    proved = {r["theorem"]: json.loads(r["stats"]) for r in rows if r["status"] == "proved"}
    assert len(proved) == m["proved"] >= 3
    assert set(m["proved_at"]) == set(proved)
    for name, stats in proved.items():
        at = stats["seconds_to_proof"]
        assert 0 < at <= stats["seconds_total"] and m["proved_at"][name] == round(at, 3)
    assert all(
        json.loads(r["stats"])["seconds_to_proof"] is None for r in rows if r["status"] != "proved"
    )
    # proved within t: non-decreasing in t, everything by the budget
    counts = list(m["proved_within"].values())
    assert list(m["proved_within"])[-1] == "6" and counts[-1] == m["proved"]
    assert counts == sorted(counts)
    used = [r["seconds_search"] for r in rows]
    assert m["seconds_per_theorem"] == pytest.approx(sum(used) / len(used), abs=1e-3)
    assert m["budget_per_theorem_s"] == 6.0


def test_a_database_without_proof_times_still_reads(bench, tmp_path) -> None:
    """Rows written before ``seconds_to_proof`` existed: the search's wall
    clock stands in for the proof time."""
    results = evaluate(bench, tmp_path / "old", "--strategy", "best-first", "--budget", "6")
    db_path = Path(results["db"])
    con = sqlite3.connect(db_path)
    with con:
        for theorem, stats in con.execute("SELECT theorem, stats FROM theorems").fetchall():
            d = json.loads(stats)
            d.pop("seconds_to_proof")
            con.execute("UPDATE theorems SET stats = ? WHERE theorem = ?", (json.dumps(d), theorem))
    con.close()
    run_id = results["models"][0]["run_id"]
    with SearchDB(db_path) as db:
        at = proved_at(db, run_id)
    searched = {
        r["theorem"]: r["seconds_search"]
        for r in query(
            db_path, "SELECT theorem, seconds_search FROM theorems WHERE status = 'proved'"
        )
    }
    assert at == {k: round(v, 3) for k, v in searched.items()} and len(at) >= 3


def test_side_by_side_at_the_smallest_budget() -> None:
    members = [
        {
            "label": "symbolic",
            "budget_per_theorem_s": 30.0,
            "proved_at": {"a": 1.0, "b": 3.0, "c": 25.0, "d": 29.0},
        },
        {"label": "lm", "budget_per_theorem_s": 20.0, "proved_at": {"a": 0.5, "e": 19.0, "f": 4.0}},
        {"label": "no-times", "budget_per_theorem_s": 5.0},  # an old results.json: left out
    ]
    s = side_by_side([*members[:2], {**members[2], "proved_at": None}], "abcdefgh")
    assert s["grid"] == [1, 2, 5, 10, 15, 20.0] and s["seconds"] == 20.0
    assert s["proved_within"]["symbolic"] == {"1": 1, "2": 1, "5": 2, "10": 2, "15": 2, "20": 2}
    assert s["proved_within"]["lm"]["5"] == 2 and s["proved_within"]["lm"]["20"] == 3
    (p,) = s["paired"]
    # at 20 s: symbolic {a, b}, lm {a, e, f}; c and d came too late to count
    assert (p["only_a"], p["only_b"], p["both"]) == (["b"], ["e", "f"], 1)
    assert p["mcnemar_p"] == mcnemar_exact(1, 2) and p["theorems"] == 8
    text = side_by_side_table(s)
    assert "only symbolic: 1, only lm: 2" in text and "McNemar" in text


def test_evaluate_the_hybrid_without_a_model(bench, tmp_path, monkeypatch, capsys) -> None:
    """`--generator hybrid` where no model is trained yet: the documented
    fallback (the automation list) with one line on stderr, not an error."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DCO_HYBRID_MODEL", raising=False)
    out = tmp_path / "hybrid"
    rc = main(
        [
            "evaluate",
            "--benchmark",
            str(bench),
            "--out",
            str(out),
            "--quiet",
            "--no-tree",
            "--generator",
            "hybrid",
            "--strategy",
            "best-first",
            "--budget",
            "6",
            "--theorem",
            "t_or",
            "--theorem",
            "t_and",
        ]
    )
    assert rc == 0
    (m,) = json.loads((out / "results.json").read_text())["models"]
    assert (m["label"], m["generator"], m["proved"], m["total"]) == ("hybrid", "hybrid", 2, 2)
    assert set(m["proved_at"]) == {"Ev.t_or", "Ev.t_and"}
    assert "hybrid: running without lm" in capsys.readouterr().err
