/* Strategies: every paper book with its equity, return, drawdown and status (GET /strategies), newest first. */
"use strict";

const STATUS_CLASS = { running: "ok", paused: "warning", halted: "bad", deleted: "" };
function statusPill(s) { return pill(s, STATUS_CLASS[s] ?? ""); }

let table = null;

function strategyRow(s) {
  return el("tr", { "data-strategy": s.id, "data-status": s.status },
    el("td", { class: "wrap" }, el("a", { href: `/ui/strategies/${encodeURIComponent(s.id)}` }, s.name), " ", el("span", { class: "muted small" }, s.id)),
    el("td", {}, s.kind), el("td", {}, s.timeframe), el("td", {}, statusPill(s.status)), el("td", { class: "num" }, s.version),
    el("td", { class: "num" }, money(s.equity)), el("td", { class: `num ${s.return < 0 ? "loss" : s.return > 0 ? "gain" : ""}` }, signedPct(s.return)),
    el("td", { class: "num" }, pct(s.max_drawdown, 2)), el("td", {}, shortTime(s.updated_at)));
}

function drawTable(rows) {
  if (!table) {
    table = el("table", { class: "grid sortable", id: "strategies-table" },
      el("thead", {}, el("tr", {}, [["name", "strategy"], ["kind", "kind"], ["timeframe", "timeframe"], ["status", "status"],
        ["version", "version", "num"], ["equity", "equity", "num"], ["return", "return", "num"], ["max_drawdown", "max drawdown", "num"],
        ["updated_at", "updated"]].map(([key, label, cls]) => el("th", { "data-key": key, class: cls }, label)))),
      el("tbody", {}));
    table.sorter = sortableTable(table, strategyRow);
  }
  fill($("strategies"), el("div", { class: "scroll" }, table));
  table.sorter.set(rows);
}

async function load() {
  const status = $("status-filter").value;
  const list = await api(`/strategies${status ? `?status=${encodeURIComponent(status)}` : ""}`);
  const counts = {};
  for (const s of list.strategies) counts[s.status] = (counts[s.status] || 0) + 1;
  fill($("summary"), list.count ? Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(" · ") : "");
  if (!list.count) {
    fill($("strategies"), empty(status ? `No ${status} strategy.`
      : "No strategies yet: create one with POST /strategies and the API key (a strategy's fields are in /docs); the worker then trades it on paper at each close."));
    return;
  }
  drawTable(list.strategies);
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  const select = $("status-filter");
  select.value = param("status", "");
  select.addEventListener("change", () => { setParams({ status: select.value }); guarded(load); });
  await load();
}));
