"""`dco view` in a real browser: the site of a real coqtop run (one theorem
proved, one failed, one whose statement holds a ``<script>``) loaded from
``file://`` in headless Chromium (driven through chromedriver), with its
rendered DOM checked and screenshots taken."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from view_helpers import SCRIPT, search_records, write_run

from benchmarks.perf.browser import Browser
from prover.cli import main
from prover.view.site import page_name


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("view-browser")
    records = search_records(root)
    write_run(root / "run.sqlite", list(records.values()))
    assert main(["view", "--db", str(root / "run.sqlite"), "--out", str(root / "site")]) == 0
    return root / "site", records


@pytest.fixture(scope="module")
def browser():
    with Browser(width=1280, height=1000) as b:
        yield b


def open_page(browser: Browser, site: Path, name: str | None) -> None:
    path = site / (page_name(name) if name else "index.html")
    browser.get(path.as_uri())
    browser.wait_for("document.body.dataset.treeReady || document.body.dataset.tableReady")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_proof_path_is_open_highlighted_and_lists_the_proof(browser, site, tmp_path) -> None:
    root, records = site
    record = records["and_intro"]
    proof = json.loads(record.theorem["proof"])
    open_page(browser, root, record.name)
    on_path = browser.find_all("li.edge.on-path > .erow code.tac")
    assert [browser.text(e) for e in on_path] == [t.removeprefix("1: ") for t in proof]
    # Highlighted: the proof's rows are drawn in the "proved" colour.
    colours = browser.run(
        "return Array.from(document.querySelectorAll('li.edge.on-path > .erow'))"
        ".map(e => getComputedStyle(e).backgroundColor);"
    )
    assert colours and set(colours) == {"rgb(218, 251, 225)"}
    # Failed branches off the path are drawn collapsed: only the path's states are open.
    assert browser.run("return document.querySelectorAll('ul.kids').length;") == len(proof)
    # The verified proof, ready to copy.
    script = browser.run("return document.getElementById('proof-script').value;")
    assert script.startswith(record.theorem["statement"]) and script.rstrip().endswith("Qed.")
    shot = browser.screenshot(tmp_path / "proved.png")
    assert list(png_size(shot)) == browser.run("return [innerWidth, innerHeight];")


def test_a_failed_tactic_shows_the_proof_assistants_error(browser, site) -> None:
    root, records = site
    record = records["not_succ"]
    errors = {n["message"] for n in record.nodes if n["kind"] == "error"}
    open_page(browser, root, record.name)
    shown = [browser.text(e) for e in browser.find_all("li.edge.r-error .msg")]
    assert shown and all(any(line in m for m in errors) for line in shown)
    # A click on the tactic puts its full message in the side panel.
    browser.click(browser.find("li.edge.r-error > .erow"))
    panel = browser.text(browser.find("#panel"))
    assert any(m.splitlines()[-1] in panel for m in errors) and "log-prob" in panel
    # A click on a state shows its goals.
    browser.click(browser.find("li.node > .row"))
    goals = browser.text(browser.find("#panel pre.goals"))
    assert "n = S n" in goals
    # A link to a state (#nID) opens the way to it and selects it.
    deep = max(n["node"] for n in record.nodes if n["kind"] == "state")
    browser.get((root / page_name(record.name)).as_uri() + f"#n{deep}")
    browser.wait_for(f"document.querySelector('li.node[data-node=\"{deep}\"] > .row.sel')")
    assert browser.text(browser.find("#panel h3")).startswith(f"State #{deep} ")


def test_expand_more_opens_a_small_tree_in_one_click_and_collapse_returns(browser, site) -> None:
    root, records = site
    record = records["not_succ"]
    open_page(browser, root, record.name)
    opened = lambda: browser.run("return document.querySelectorAll('ul.kids').length;")  # noqa: E731
    assert opened() == 1  # not proved: only the root is open
    browser.click(browser.find("#expand-all"))
    states = {n["node"] for n in record.nodes if n["kind"] == "state"}
    assert len(browser.find_all("li.node")) == len(states)
    assert opened() == len({e["src"] for e in record.edges})
    assert browser.text(browser.find("#expand-status")) == "every state is open"
    browser.click(browser.find("#collapse"))
    assert opened() == 1


def test_a_script_in_the_statement_is_inert_text(browser, site) -> None:
    root, records = site
    open_page(browser, root, records["script_text"].name)
    assert browser.run("return window.dcoPwned === undefined;")
    assert SCRIPT in browser.text(browser.find("pre.statement"))
    # The page's own two scripts (the tree's JSON and its code), nothing more.
    assert browser.run("return document.scripts.length;") == 2
    browser.click(browser.find("li.node > .row"))
    assert SCRIPT in browser.text(browser.find("#panel pre.goals"))
    assert browser.run("return window.dcoPwned === undefined;")


def test_the_index_sorts_filters_and_links(browser, site, tmp_path) -> None:
    root, records = site
    open_page(browser, root, None)

    def names() -> list[str]:
        rows = browser.find_all("#theorems tbody tr:not([hidden]) td:first-child")
        return [browser.text(e) for e in rows]

    assert sorted(names()) == sorted(r.name for r in records.values())
    heads = browser.find_all("#theorems th")
    nodes_col = [browser.text(h) for h in heads].index("nodes")
    browser.click(heads[nodes_col])
    browser.click(heads[nodes_col])  # descending
    by_nodes = sorted(records.values(), key=lambda r: -len(r.nodes))
    assert names() == [r.name for r in by_nodes]
    browser.click(browser.find('.filters button[data-status="failed"]'))
    assert names() == [records["not_succ"].name]
    assert browser.text(browser.find(".card.proved b")) == "2"
    shot = browser.screenshot(tmp_path / "index.png")
    width, height = png_size(shot)
    assert [width, height] == browser.run("return [innerWidth, innerHeight];")
    assert shot.stat().st_size > 20_000  # a page, not a blank
    browser.click(browser.find("#theorems tbody tr:not([hidden]) a"))
    browser.wait_for("document.body.dataset.treeReady")
    assert records["not_succ"].name in browser.text(browser.find("header h1"))
