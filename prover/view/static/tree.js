// dco view: the proof tree of one theorem page. Reads the JSON embedded in
// #tree-data (see prover/view/tree.py for its fields) and draws only the
// nodes that are expanded, so a tree of thousands of nodes opens at once.
// Every string from the proof assistant goes through textContent: never HTML.
(function () {
  "use strict";
  const started = performance.now();
  const copy = document.getElementById("copy-proof");
  if (copy) copy.addEventListener("click", () => {
    const text = document.getElementById("proof-script");
    text.select();
    const done = () => { copy.textContent = "copied"; };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text.value).then(done, () => { document.execCommand("copy"); done(); });
    else { document.execCommand("copy"); done(); }
  });
  const data = JSON.parse(document.getElementById("tree-data").textContent);
  const NODE = ["id", "kind", "status", "depth", "num_goals", "goals", "message", "cycle_to",
                "expanded", "logprob"];
  const EDGE = ["src", "dst", "tactic", "logprob", "result", "seconds", "own", "path", "shown"];
  const obj = (names, a) => Object.fromEntries(names.map((k, i) => [k, a[i]]));
  const N = new Map();
  for (const a of data.nodes) N.set(a[0], Object.assign(obj(NODE, a), { out: [], owner: null }));
  const E = data.edges.map((a, i) => Object.assign(obj(EDGE, a), { i: i }));
  for (const e of E) {
    N.get(e.src).out.push(e);
    if (e.own && N.has(e.dst)) N.get(e.dst).owner = e;
  }
  for (const n of N.values()) n.out.sort((a, b) => b.path - a.path);  // proof step first

  const treeEl = document.getElementById("tree-root");
  const panel = document.getElementById("panel");
  const items = new Map();  // node id -> its <li>, for the nodes drawn so far
  const open = new Set();   // node ids to draw expanded
  let selected = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(x, digits) { return x === null || x === undefined ? "-" : Number(x).toFixed(digits); }
  function conclusion(goals) {
    // The line after the first "=====" separator (Coq) or the first "⊢" line (Lean).
    const lines = (goals || "").split("\n");
    const sep = lines.findIndex(l => /^\s*={3,}/.test(l));
    let line = sep >= 0 && sep + 1 < lines.length ? lines[sep + 1] : lines.find(l => l.trim().startsWith("⊢"));
    if (line === undefined) line = lines.find(l => l.trim()) || "(no goals)";
    line = line.trim();
    return line.length > 140 ? line.slice(0, 140) + "…" : line;
  }
  function firstLines(text, k) {
    let lines = (text || "").split("\n").filter(l => l.trim());
    // Coq prefixes many errors with the hypotheses ("In environment", then
    // "x : T" lines): skip them to show the error itself.
    if (lines.length && lines[0].trim() === "In environment") {
      let i = 1;
      while (i < lines.length - 1 && (/^\s/.test(lines[i]) || /^[\w'.,\s]+ :[ =]/.test(lines[i]))) i++;
      lines = lines.slice(i);
    }
    return lines.slice(0, k).join("\n") + (lines.length > k ? " …" : "");
  }

  function nodeItem(n) {
    const li = el("li", "node st-" + n.status + " k-" + n.kind);
    li.dataset.node = n.id;
    const row = el("div", "row");
    const tog = el("button", "tog", n.out.length ? "▸" : "·");
    tog.type = "button";
    tog.disabled = !n.out.length;
    tog.title = n.out.length ? "expand / collapse" : "no tactic tried here";
    const count = n.out.length + (n.out.length === 1 ? " tactic" : " tactics");
    const goals = n.num_goals > 1 ? n.num_goals + " goals · " : "";
    row.append(tog, el("span", "nid", "#" + n.id), el("span", "goal", conclusion(n.goals)),
               el("span", "cnt", goals + n.status + " · " + count));
    li.append(row);
    items.set(n.id, li);
    if (open.has(n.id)) expand(n);
    return li;
  }

  function edgeItem(e) {
    const dst = N.get(e.dst);
    let cls = "edge r-" + e.result + (e.path ? " on-path" : "");
    if (dst && (e.result === "state" || e.result === "transposition")) cls += " st-" + dst.status;
    const li = el("li", cls);
    li.dataset.edge = e.i;
    const row = el("div", "erow");
    const res = e.result === "state" || e.result === "transposition"
      ? (dst ? dst.status : e.result) + (e.result === "transposition" ? " (seen)" : "")
      : e.result;
    row.append(el("code", "tac", e.tactic), el("span", "res", res),
               el("span", "meta", "log-prob " + num(e.logprob, 3) + " · " + num(e.seconds, 3) + " s"));
    li.append(row);
    if (!e.shown) {
      li.append(el("div", "link note", "subtree not shown: beyond this page's node limit"));
    } else if (dst.kind !== "state") {
      if (dst.message) li.append(el("div", "msg", firstLines(dst.message, 2)));
      if (dst.kind === "cycle" && dst.cycle_to !== null) li.append(linkTo(dst.cycle_to, "↺ back to state"));
    } else if (e.own) {
      const sub = el("ul", "sub");
      sub.append(nodeItem(dst));
      li.append(sub);
    } else {
      li.append(linkTo(dst.id, "→ state reached first by another path:"));
    }
    return li;
  }

  function linkTo(id, label) {
    const div = el("div", "link");
    const a = el("a", null, "#" + id);
    a.href = "#n" + id;
    div.append(label + " ", a);
    return div;
  }

  function expand(n) {
    open.add(n.id);
    const li = items.get(n.id);
    if (!li || li.querySelector(":scope > ul.kids")) return;
    const ul = el("ul", "kids");
    for (const e of n.out) ul.append(edgeItem(e));
    li.append(ul);
    li.querySelector(":scope > .row > .tog").textContent = "▾";
  }
  function collapse(n) {
    open.delete(n.id);
    const li = items.get(n.id);
    const ul = li && li.querySelector(":scope > ul.kids");
    if (!ul) return;
    for (const x of ul.querySelectorAll("li.node")) items.delete(Number(x.dataset.node));
    ul.remove();
    li.querySelector(":scope > .row > .tog").textContent = "▸";
  }
  function toggle(n) { (open.has(n.id) ? collapse : expand)(n); }

  // One listener for the whole tree (not one per row: a big tree has many).
  treeEl.addEventListener("click", ev => {
    const tog = ev.target.closest("button.tog");
    const row = ev.target.closest(".row, .erow");
    if (!row || ev.target.closest("a")) return;
    const li = row.parentElement;
    if (li.dataset.node !== undefined) {
      const n = N.get(Number(li.dataset.node));
      if (tog) toggle(n); else showNode(n, row);
    } else if (li.dataset.edge !== undefined) {
      showEdge(E[Number(li.dataset.edge)], row);
    }
  });

  // "expand more": open the closed states breadth-first, at most
  // EXPAND_ROWS tactic rows per click, so one click never freezes the page.
  const EXPAND_ROWS = 3000;
  function expandMore() {
    let rows = 0;
    const queue = [N.get(data.root)];
    for (let i = 0; i < queue.length; i++) {
      const n = queue[i];
      if (!open.has(n.id) && n.out.length) {
        if (rows > 0 && rows + n.out.length > EXPAND_ROWS) break;
        expand(n);
        rows += n.out.length;
      }
      for (const e of n.out) if (e.own && e.shown && N.has(e.dst) && N.get(e.dst).kind === "state") queue.push(N.get(e.dst));
    }
    const closed = Array.from(N.values()).filter(n => n.out.length && !open.has(n.id)).length;
    const status = document.getElementById("expand-status");
    if (status) status.textContent = closed ? closed + " states still closed: click again for more" : "every state is open";
  }

  function ancestors(id) {
    const chain = [];
    let n = N.get(id);
    while (n && n.owner) { n = N.get(n.owner.src); chain.push(n); }
    return chain.reverse();
  }
  function pathTactics(id) {
    const out = [];
    let n = N.get(id);
    while (n && n.owner) { out.push(n.owner.tactic); n = N.get(n.owner.src); }
    return out.reverse();
  }
  function reveal(id) {
    if (!N.has(id)) return;
    for (const a of ancestors(id)) expand(a);
    const li = items.get(id);
    if (!li) return;
    const row = li.querySelector(":scope > .row");
    showNode(N.get(id), row);
    row.scrollIntoView({ block: "center" });
  }

  function select(row) {
    if (selected) selected.classList.remove("sel");
    selected = row;
    if (row) row.classList.add("sel");
  }
  function field(dl, name, value) { dl.append(el("dt", null, name), el("dd", null, value)); }
  function showNode(n, row) {
    select(row);
    panel.replaceChildren();
    panel.append(el("h3", null, "State #" + n.id + " (" + n.status + ")"));
    const dl = el("dl", "facts");
    field(dl, "depth", n.depth);
    field(dl, "goals", n.num_goals === null ? "-" : n.num_goals);
    field(dl, "cumulative log-prob", num(n.logprob, 3));
    field(dl, "tactics tried", n.out.length + (n.expanded ? " (fully expanded)" : ""));
    panel.append(dl, el("div", "note", "goals:"), el("pre", "goals", n.goals || "(none)"));
    if (n.message) panel.append(el("div", "note", "message:"), el("pre", "message", n.message));
    const tactics = pathTactics(n.id);
    panel.append(el("div", "note", "tactics from the root (" + tactics.length + "):"),
                 el("pre", "path", tactics.join("\n") || "(the root)"));
  }
  function showEdge(e, row) {
    select(row);
    const dst = N.get(e.dst);
    panel.replaceChildren();
    panel.append(el("h3", null, "Tactic from #" + e.src + " (" + e.result + ")"));
    panel.append(el("pre", "tactic", e.tactic));
    const dl = el("dl", "facts");
    field(dl, "result", e.result + (e.path ? " (on the verified proof)" : ""));
    field(dl, "log-prob", num(e.logprob, 4));
    field(dl, "seconds", num(e.seconds, 4));
    field(dl, "leads to", dst ? "#" + dst.id + " (" + dst.kind + ", " + dst.status + ")" : "#" + e.dst + " (not shown)");
    panel.append(dl);
    if (dst && dst.message) panel.append(el("div", "note", "proof assistant's message:"), el("pre", "message", dst.message));
    if (dst && dst.kind === "state") panel.append(el("div", "note", "goals after it:"), el("pre", "goals", dst.goals || "(none)"));
  }

  function draw() {
    items.clear();
    treeEl.replaceChildren();
    if (data.root === null) return;
    const ul = el("ul", "tree");
    ul.append(nodeItem(N.get(data.root)));
    treeEl.append(ul);
  }
  function resetOpen() {
    open.clear();
    if (data.root !== null) open.add(data.root);
    for (const e of E) if (e.path) open.add(e.src);  // the proof path open, the rest collapsed
  }

  const button = (id, f) => { const b = document.getElementById(id); if (b) b.addEventListener("click", f); };
  button("expand-all", expandMore);
  button("collapse", () => { resetOpen(); draw(); });
  window.addEventListener("hashchange", () => { const m = /^#n(\d+)$/.exec(location.hash); if (m) reveal(Number(m[1])); });

  resetOpen();
  draw();
  const m = /^#n(\d+)$/.exec(location.hash);
  if (m) reveal(Number(m[1]));
  document.body.dataset.treeMs = (performance.now() - started).toFixed(1);  // for the benchmark
  document.body.dataset.treeReady = "1";
})();
