"""`dco view` without a browser: the files of the site for a real run, the
tree's size limit, the server on 127.0.0.1 picking up new theorems, the hint
`dco search` prints, and bad input (one line, exit 2, nothing written).
The browser checks are in test_view_browser.py."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from view_helpers import SCRIPT, rollout_records, search_records, write_run

from benchmarks.format import Benchmark, BenchmarkTheorem, write_benchmark
from lean_env.coq.source import parse_declarations
from prover.cli import main
from prover.view.data import RunReader
from prover.view.serve import make_server
from prover.view.site import MARKER, page_name
from prover.view.tree import payload


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    return search_records(tmp_path_factory.mktemp("view-search"))


@pytest.fixture
def db(tmp_path, records) -> Path:
    path = tmp_path / "run.sqlite"
    write_run(path, list(records.values()))
    return path


def view(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["view", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_site_has_an_index_and_a_page_per_theorem(tmp_path, db, records, capsys) -> None:
    code, out, err = view(capsys, "--db", str(db), "--out", str(tmp_path / "site"))
    assert code == 0, err
    assert "2 proved, 1 failed, 0 open of 3" in out
    site = tmp_path / "site"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<tr data-status=", index)) == 3
    for record in records.values():
        page = site / page_name(record.name)
        assert page.is_file()
        assert f'href="{page_name(record.name)}"' in index
    # Self-contained: no file is fetched from anywhere.
    for path in site.rglob("*.html"):
        assert not re.search(r'(src|href)="(https?:)?//', path.read_text(encoding="utf-8"))
    # The verified proof, as a script to paste.
    proved = (site / page_name(records["and_intro"].name)).read_text(encoding="utf-8")
    proof = json.loads(records["and_intro"].theorem["proof"])
    assert re.search(
        r"Proof\.\n" + "".join(rf"\s+{re.escape(t)}\.\n" for t in proof) + "Qed.", proved
    )


def test_a_rollouts_run_gets_a_pass_at_k_plot(tmp_path, capsys) -> None:
    records = rollout_records(tmp_path, passes=4)
    db = tmp_path / "roll.sqlite"
    write_run(db, records, {"strategy": "rollouts", "generator": "symbolic"})
    assert view(capsys, "--db", str(db), "--out", str(tmp_path / "site"))[0] == 0
    png = (tmp_path / "site" / "passk.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<img class="plot" src="passk.png"' in index
    (row,) = re.findall(r'<table class="passk"><tr><th>k</th>(.*?)</tr>', index)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["1", "2", "4"]
    attempts = {r.name: [a["success"] for a in r.attempts] for r in records}
    assert all(len(a) == 4 for a in attempts.values())


def test_a_script_in_a_statement_is_escaped_everywhere(tmp_path, db, records, capsys) -> None:
    assert view(capsys, "--db", str(db), "--out", str(tmp_path / "site"))[0] == 0
    page = (tmp_path / "site" / page_name(records["script_text"].name)).read_text(encoding="utf-8")
    assert SCRIPT not in page
    assert "&lt;script&gt;window.dcoPwned = 1&lt;/script&gt;" in page  # the statement, as text
    assert "\\u003cscript\\u003ewindow.dcoPwned" in page  # the goals, inside the tree's JSON


def test_a_second_view_replaces_the_site_and_foreign_directories_are_refused(
    tmp_path, db, capsys
) -> None:
    site = tmp_path / "site"
    assert view(capsys, "--db", str(db), "--out", str(site))[0] == 0
    (site / "stale.html").write_text("old", encoding="utf-8")
    assert view(capsys, "--db", str(db), "--out", str(site))[0] == 0
    assert not (site / "stale.html").exists() and (site / MARKER).is_file()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    code, _, err = view(capsys, "--db", str(db), "--out", str(mine))
    assert code == 2 and "did not write" in err
    assert (mine / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_the_tree_payload_keeps_the_proof_path_and_cuts_at_the_limit(db, records) -> None:
    with RunReader(db) as reader:
        row = reader.theorem(1, records["and_intro"].name)
        tree = reader.tree(1, row["theorem"])
    full = payload(tree, row["proof"])
    assert full["shown"] == full["total"] == len(records["and_intro"].nodes)
    # The edges hold the tactics as proposed; the stored proof adds `1: `
    # where several goals were open.
    as_proposed = [t.removeprefix("1: ") for t in row["proof"]]
    assert full["path"] == as_proposed and full["path_complete"]
    on_path = [e for e in full["edges"] if e[7]]
    assert [e[2] for e in on_path] == as_proposed
    cut = payload(tree, row["proof"], max_nodes=2)
    kept = {n[0] for n in cut["nodes"]}
    assert cut["total"] == full["total"] and cut["shown"] == len(kept) < full["total"]
    assert {e[1] for e in cut["edges"] if e[7]} <= kept  # the proof path survives the cut
    assert any(not e[8] for e in cut["edges"])  # edges into dropped nodes are marked
    assert all(e[0] in kept for e in cut["edges"])


@pytest.mark.parametrize(
    "case",
    ["missing", "directory", "not sqlite", "other sqlite", "unknown run", "empty run", "locked"],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, db, case, capsys) -> None:
    target = {
        "missing": tmp_path / "nope.sqlite",
        "directory": tmp_path,
        "not sqlite": tmp_path / "notes.sqlite",
        "other sqlite": tmp_path / "other.sqlite",
        "unknown run": db,
        "empty run": db,
        "locked": db,
    }[case]
    argv = ["--db", str(target), "--out", str(tmp_path / "site")]
    holder = None
    if case == "not sqlite":
        target.write_text("theorem, status\n", encoding="utf-8")
    elif case == "other sqlite":
        sqlite3.connect(target).execute("CREATE TABLE t (x)").connection.commit()
    elif case == "unknown run":
        argv += ["--run", "42"]
    elif case == "empty run":
        write_run(db, [], {"another": "run"})
    elif case == "locked":
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM runs").fetchall()

    def listing() -> list[str]:  # SQLite's own -wal/-shm files come and go: not ours
        return sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm")))

    before = listing()
    try:
        code, out, err = view(capsys, *argv)
    finally:
        if holder is not None:
            holder.close()
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert listing() == before  # no site, no temporary directory
    expected = {
        "missing": "no such file",
        "directory": "is a directory",
        "not sqlite": "not a search log",
        "other sqlite": "not a search log",
        "unknown run": "no run 42",
        "empty run": "no finished theorem",
        "locked": "locked",
    }[case]
    assert expected in err


def test_flags_are_checked(tmp_path, db, capsys) -> None:
    assert "--out DIR" in view(capsys, "--db", str(db))[2]
    assert "choose one" in view(capsys, "--db", str(db), "--serve", "--out", str(tmp_path))[2]
    assert "not a port" in view(capsys, "--db", str(db), "--serve", "--port", "70000")[2]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_answers_on_loopback_and_a_refresh_shows_new_theorems(tmp_path, records) -> None:
    path = tmp_path / "live.sqlite"
    first, *rest = records.values()
    write_run(path, [first])
    server = make_server(path, None, 0)
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        status, index = _get(base + "/")
        assert status == 200 and index.count("<tr data-status=") == 1
        write_run(path, rest)  # the same config: the same run, resumed, gains two theorems
        status, index = _get(base + "/index.html")
        assert status == 200 and index.count("<tr data-status=") == 3
        status, page = _get(base + "/" + page_name(rest[0].name))
        assert status == 200 and rest[0].theorem["statement"].split()[1] in page
        for bad in ("/t/nothing.html", "/../../etc/passwd", "/run.sqlite", "/passk.png"):
            assert _get(base + bad)[0] == 404  # only the site's own paths (no plot: 1 attempt each)
    finally:
        server.shutdown()
        server.server_close()


GOOD = "Theorem and_intro : forall A B : Prop, A -> B -> A /\\ B.\nProof. Admitted.\n"


def test_dco_search_prints_the_view_command_and_it_works(tmp_path, capsys) -> None:
    (tmp_path / "Good.v").write_text(GOOD, encoding="utf-8")
    theorems = [
        BenchmarkTheorem(0, d.theorem, "test", ()) for d in parse_declarations(tmp_path / "Good.v")
    ]
    write_benchmark(tmp_path / "bench", Benchmark("tiny", theorems, [], {"library": "tiny"}))
    db = tmp_path / "out.sqlite"
    code = main(
        [
            "search",
            "--benchmark",
            str(tmp_path / "bench"),
            "--split",
            "test",
            "--budget",
            "20",
            "--db",
            str(db),
            "--quiet",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    (line,) = [x for x in out.splitlines() if "dco view" in x]
    argv = shlex.split(line.split(": ", 1)[1])
    assert argv[:2] == ["dco", "view"]
    assert main(argv[1:]) == 0
    site = Path(argv[argv.index("--out") + 1])
    assert (site / "index.html").is_file() and (site / page_name("Good.and_intro")).is_file()
