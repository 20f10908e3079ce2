// dco view: sorting and filtering the theorem table of the index page.
// Cells carry their sort key in data-v (numbers for numeric columns).
(function () {
  "use strict";
  const table = document.getElementById("theorems");
  if (!table) return;
  const body = table.tBodies[0];
  const heads = Array.from(table.tHead.rows[0].cells);
  heads.forEach((th, col) => th.addEventListener("click", () => {
    const numeric = th.classList.contains("num");
    const asc = th.getAttribute("aria-sort") !== "ascending";
    heads.forEach(h => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const key = tr => {
      const v = tr.cells[col].dataset.v ?? tr.cells[col].textContent;
      return numeric ? (v === "" ? -Infinity : Number(v)) : v.toLowerCase();
    };
    const rows = Array.from(body.rows);
    rows.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
    body.append(...rows);
  }));
  const buttons = document.querySelectorAll(".filters button");
  buttons.forEach(b => b.addEventListener("click", () => {
    buttons.forEach(x => x.setAttribute("aria-pressed", String(x === b)));
    const want = b.dataset.status;
    for (const tr of body.rows) tr.hidden = want !== "all" && tr.dataset.status !== want;
  }));
  document.body.dataset.tableReady = "1";
})();
