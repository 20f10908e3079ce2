"""The HTML of the site: the run's index and one page per theorem.

Pages are self-contained (inline CSS and script, no network) and every
string from the database goes through :func:`html.escape` (the tree's JSON is
embedded with ``<``, ``>`` and ``&`` as ``\\u`` escapes and drawn with
``textContent``), so a statement or an error message that contains
``<script>`` is shown as text.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from .summary import RunSummary
from .tree import MAX_NODES

ATTEMPTS_SHOWN = 200  # a rollout run has up to thousands; the page lists the first ones


@cache
def asset(name: str) -> str:
    return resources.files("prover.view").joinpath("static", name).read_text(encoding="utf-8")


def h(value: Any) -> str:
    return escape("" if value is None else str(value))


def page(title: str, header: str, body: str, script: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{h(title)}</title><style>{asset('view.css')}</style></head>\n"
        f"<body><header>{header}</header>\n<main>{body}</main>\n"
        f"<script>{asset(script)}</script></body></html>\n"
    )


def embed_json(value: Any) -> str:
    """JSON safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, esc in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, esc)
    return text


def badge(status: str) -> str:
    return f'<span class="badge {h(status)}">{h(status)}</span>'


def seconds(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


# -- the index ----------------------------------------------------------------
def index_html(s: RunSummary, plot: str | None, page_of: dict[str, str]) -> str:
    """The run's index; ``plot`` is the pass@k image's relative path, if any."""
    c = s.counts
    header = (
        f"<h1>run {s.run.id}</h1><span>{h(s.db_name)}</span>"
        f"<span>{c['proved']}/{c['total']} proved</span>"
        f"<span>{h(s.run.config.get('benchmark', ''))} {h(s.run.config.get('split', ''))}"
        f"</span><span>{h(s.generator)}</span>"
    )
    parts = [
        _counts(s),
        '<div class="two">',
        _time_table(s),
        _passk(s, plot),
        "</div>",
        _theorem_table(s, page_of),
        _run_facts(s),
    ]
    return page(f"run {s.run.id}: {s.db_name}", header, "\n".join(parts), "index.js")


def _counts(s: RunSummary) -> str:
    c = s.counts
    total = s.run.total
    done = f"{c['total']} of {total} theorems done" if total else f"{c['total']} theorems"
    state = "finished" if s.run.ended_at else "in progress, or interrupted"
    cards = "".join(
        f'<div class="card {k}"><b>{c[k]}</b>{label}</div>'
        for k, label in (
            ("proved", "proved"),
            ("failed", "failed"),
            ("open", "open (budget spent)"),
        )
    )
    return (
        f'<h2>Result</h2><div class="cards">{cards}'
        f'<div class="card"><b>{c["start_failed"]}</b>environment did not start</div></div>'
        f'<p class="note">{done}; run {state}. The failed count includes the theorems '
        "whose environment did not start: every theorem is in the denominator.</p>"
    )


def _time_table(s: RunSummary) -> str:
    total = sum(v for _, v in s.time) or 1.0
    rows = "".join(
        f'<tr><td>{h(name)}</td><td class="num">{seconds(v)}</td>'
        f'<td class="num">{100 * v / total:.0f}%</td>'
        f'<td><span class="bar" style="width:{int(160 * v / total)}px"></span></td></tr>'
        for name, v in s.time
    )
    counters = ", ".join(f"{h(k)} {v:,}" for k, v in s.counters.items())
    return (
        f'<section><h2>Where the time went</h2><table class="time"><tr><th>part</th>'
        f'<th class="num">seconds</th><th class="num">share</th><th></th></tr>{rows}'
        f'</table><p class="note">Summed over theorems. {counters}.</p></section>'
    )


def _passk(s: RunSummary, plot: str | None) -> str:
    if not s.passk:
        return '<section><h2>pass@k</h2><p class="note">No attempts recorded yet.</p></section>'
    ks = "".join(f'<td class="num">{p.k}</td>' for p in s.passk)
    values = "".join(f'<td class="num">{p.estimate:.4f}</td>' for p in s.passk)
    img = f'<img class="plot" src="{h(plot)}" alt="pass@k plot">' if plot else ""
    return (
        f'<section><h2>pass@k</h2>{img}<table class="passk"><tr><th>k</th>{ks}</tr>'
        f'<tr><th>pass@k</th>{values}</tr></table><p class="note">Unbiased estimator '
        f"over {s.passk[0].theorems} theorems; attempts per theorem: {h(s.attempts_note)}."
        "</p></section>"
    )


_COLUMNS = (
    ("theorem", ""),
    ("status", ""),
    ("reason", ""),
    ("seconds", "num"),
    ("expansions", "num"),
    ("nodes", "num"),
    ("tactic calls", "num"),
    ("proof length", "num"),
    ("found by", ""),
)


def _theorem_table(s: RunSummary, page_of: dict[str, str]) -> str:
    heads = "".join(f'<th class="{cls}">{name}</th>' for name, cls in _COLUMNS)
    rows = []
    for t in s.theorems:
        proof = t["proof"]
        cells = [
            f'<td data-v="{h(t["theorem"])}"><a href="{h(page_of[t["theorem"]])}">'
            f"{h(t['theorem'])}</a></td>",
            f'<td data-v="{h(t["status"])}">{badge(t["status"])}</td>',
            f'<td class="note">{h(t["reason"])}</td>',
            _num(t["seconds_search"], seconds(t["seconds_search"])),
            _num(t["expansions"]),
            _num(t["nodes"]),
            _num(t["tactic_calls"]),
            _num(len(proof) if proof else None),
            f'<td class="nowrap">{h(s.found_by(t))}</td>',
        ]
        rows.append(f'<tr data-status="{h(t["status"])}">{"".join(cells)}</tr>')
    filters = "".join(
        f'<button type="button" data-status="{k}" aria-pressed="{str(k == "all").lower()}">'
        f"{k} ({s.counts['total'] if k == 'all' else s.counts[k]})</button> "
        for k in ("all", "proved", "failed", "open")
    )
    return (
        f'<h2>Theorems</h2><p class="filters">{filters}<span class="note">click a '
        f'column to sort</span></p><table id="theorems" class="sortable"><thead><tr>'
        f"{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _num(value: float | int | None, text: str | None = None) -> str:
    if value is None:
        return '<td class="num" data-v="">-</td>'
    return f'<td class="num" data-v="{value}">{h(text if text is not None else value)}</td>'


def _run_facts(s: RunSummary) -> str:
    others = [i for i in s.run_ids if i != s.run.id]
    other = (
        (
            f'<p class="note">Other runs in this file: {", ".join(map(str, others))} '
            f"(<code>dco view --db {h(s.db_name)} --run ID</code>).</p>"
        )
        if others
        else ""
    )
    return (
        f"<h2>Run</h2><table><tr><td>database</td><td>{h(s.db_path)}</td></tr>"
        f"<tr><td>code version</td><td>{h(s.run.code_version)}</td></tr>"
        f"<tr><td>started</td><td>{h(s.run.started_at)}</td></tr>"
        f"<tr><td>ended</td><td>{h(s.run.ended_at or '(not ended)')}</td></tr></table>{other}"
        f'<p class="note">Config:</p><pre>{h(json.dumps(s.run.config, indent=2))}</pre>'
    )


# -- a theorem ----------------------------------------------------------------
def theorem_html(
    s: RunSummary,
    row: dict[str, Any],
    tree: dict[str, Any],
    attempts: list,
    proofs: list,
    script: str | None,
    index: str,
) -> str:
    header = (
        f'<a href="{h(index)}">run {s.run.id}</a><h1>{h(row["theorem"])}</h1>{badge(row["status"])}'
    )
    parts = [
        _theorem_facts(row),
        _proof_box(script),
        _tree_section(tree),
        _attempts_table(attempts),
        _proofs_table(proofs),
        f'<script type="application/json" id="tree-data">{embed_json(tree)}</script>',
    ]
    return page(f"{row['theorem']} (run {s.run.id})", header, "\n".join(parts), "tree.js")


def _theorem_facts(row: dict[str, Any]) -> str:
    stats = row["stats"] or {}
    facts = [
        ("reason", row["reason"]),
        ("search", seconds(row["seconds_search"]) + " s"),
        ("environment start", seconds(row["seconds_start"]) + " s"),
        ("generator", seconds(stats.get("seconds_generator")) + " s"),
        ("proof assistant", seconds(stats.get("seconds_tactics")) + " s"),
        ("expansions", row["expansions"]),
        ("nodes", row["nodes"]),
        ("tactic calls", row["tactic_calls"]),
        ("memo hits", row["memo_hits"]),
        ("attempts", f"{row['attempts']} ({row['successes']} succeeded)"),
        ("file", row["file"]),
    ]
    cells = "".join(f"<div><dt>{h(k)}</dt><dd>{h(v)}</dd></div>" for k, v in facts)
    return (
        f'<h2>Statement</h2><pre class="statement">{h(row["statement"])}</pre>'
        f'<dl class="facts">{cells}</dl>'
    )


def _proof_box(script: str | None) -> str:
    if script is None:
        return '<h2>Verified proof</h2><p class="note">None: the theorem was not proved.</p>'
    return (
        '<h2>Verified proof</h2><p class="note">Re-checked from scratch by the proof '
        'assistant. <button type="button" class="copy" id="copy-proof">copy</button></p>'
        f'<textarea class="proof" id="proof-script" readonly spellcheck="false" '
        f'rows="{min(script.count(chr(10)) + 2, 24)}">{h(script)}'
        "</textarea>"
    )


def _tree_section(tree: dict[str, Any]) -> str:
    if tree["root"] is None:
        return (
            '<h2>Search tree</h2><p class="note">No tree stored (the environment did not '
            'start, or the run used --no-tree).</p><div id="tree-root"></div>'
            '<div id="panel" hidden></div>'
        )
    limit = (
        f"Showing {tree['shown']:,} of {tree['total']:,} nodes: a page holds at most "
        f"{MAX_NODES:,} (the proof path and the nodes nearest the root); the rest are in "
        "the database."
        if tree["shown"] < tree["total"]
        else f"{tree['total']:,} nodes."
    )
    if tree["goals_cut"]:
        limit += f" Goal text of {tree['goals_cut']} nodes cut to its first 4,000 characters."
    if not tree["path_complete"]:
        limit += (
            " The verified proof's steps are not all edges of the tree (shown as far as they are)."
        )
    legend = "".join(
        f'<span><i style="background:var(--{c})"></i>{label}</span>'
        for c, label in (
            ("proved", "proved / on the proof"),
            ("failed", "failed or error"),
            ("timeout", "timeout"),
            ("cycle", "cycle"),
            ("open", "open"),
        )
    )
    return (
        '<h2>Search tree</h2><p class="legend">' + legend + "</p>"
        f'<p class="note">{limit} States are nodes, tactics edges; the proof path is open '
        "and the rest collapsed: ▸ expands, a click shows a state's goals or a tactic's "
        'details.</p><p class="controls"><button type="button" id="expand-all">expand '
        'more</button> <button type="button" id="collapse">collapse to the proof path'
        '</button> <span class="note" id="expand-status">expand more opens closed states '
        'breadth-first, up to 3,000 tactics per click</span></p><div class="tree-wrap"><div id="tree"><div id="tree-root"></div>'
        '</div><aside id="panel"><p class="note">Click a state or a tactic.</p></aside>'
        "</div>"
    )


def _attempts_table(attempts: list[dict[str, Any]]) -> str:
    if not attempts:
        return ""
    rows = "".join(
        f'<tr><td class="num">{a["idx"]}</td><td>{badge("proved" if a["success"] else "failed")}'
        f'</td><td>{h(a["outcome"])}</td><td class="num">{a["steps"]}</td>'
        f'<td class="num">{seconds(a["seconds"])}</td><td><code>{h(" ".join(a["tactics"]))}'
        "</code></td></tr>"
        for a in attempts[:ATTEMPTS_SHOWN]
    )
    more = (
        f'<p class="note">First {ATTEMPTS_SHOWN} of {len(attempts)} attempts.</p>'
        if len(attempts) > ATTEMPTS_SHOWN
        else ""
    )
    return (
        '<h2>Attempts</h2><table><tr><th class="num">#</th><th>result</th><th>outcome</th>'
        '<th class="num">steps</th><th class="num">seconds</th><th>tactics</th></tr>'
        f"{rows}</table>{more}"
    )


def _proofs_table(proofs: list[dict[str, Any]]) -> str:
    if not proofs:
        return ""
    rows = "".join(
        f"<tr><td>{badge('proved' if p['verified'] else 'failed')}</td>"
        f"<td><code>{h(' '.join(p['tactics']))}</code></td><td>{h(p['reason'])}</td>"
        f'<td>{h(", ".join(p["axioms"]) or "-")}</td><td class="num">{seconds(p["seconds"])}</td></tr>'
        for p in proofs
    )
    return (
        "<h2>Proofs re-checked</h2><table><tr><th>verified</th><th>tactics</th><th>reason"
        '</th><th>axioms</th><th class="num">seconds</th></tr>' + rows + "</table>"
    )
