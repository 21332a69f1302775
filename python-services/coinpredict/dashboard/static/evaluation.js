/* Evaluation: the published report of a timeframe and horizon (GET /evaluation): its headline, every model
   and baseline in one sortable table, a model's figures per symbol, and the report's plots. */
"use strict";

const BASELINES = {
  coin_flip: "a fair coin", always_up: "always predicts up", majority: "the training period's more frequent direction",
  momentum: "the last candle's direction", mean_reversion: "against the last candle's direction",
};
const HOW = "run scripts/evaluate.py --data-dir DIR --timeframe 1h --start … --end … --out DIR; it publishes its report here.";

function pValue(x) { return x === null || x === undefined ? "–" : x < 0.001 ? Number(x).toExponential(0) : Number(x).toFixed(3); }
function signedPct(x, digits = 1) { return x === null || x === undefined ? "–" : `${x >= 0 ? "+" : ""}${(100 * x).toFixed(digits)}%`; }
function day(iso) { return iso ? iso.slice(0, 10) : "–"; }
function evaluationQuery(tf, h) { return `timeframe=${encodeURIComponent(tf)}&horizon=${encodeURIComponent(h)}`; }

function scoreRow(name, m, kind) {
  const bt = m.backtest || {}, rk = m.ranking || {}, ci = m.auc_ci95 || [null, null];
  return {
    name, kind, auc: m.auc, ci_lo: ci[0], ci_hi: ci[1], accuracy: m.accuracy, log_loss: m.log_loss, brier: m.brier,
    ece: m.ece, p_value: m.p_value, skill: m.skill, ic: m.ic, rank_ic: rk.n_timestamps ? rk.rank_ic : null,
    return_net: bt.return_net, sharpe_net: bt.sharpe_net, max_drawdown: bt.max_drawdown, trades: bt.trades,
    turnover: bt.turnover, exposure: bt.exposure,
  };
}

function renderScore(tf) {
  return (r) => el("tr", { "data-row": r.name, "data-kind": r.kind, class: r.kind },
    el("td", {}, r.kind === "baseline" ? [el("span", { title: BASELINES[r.name] || "" }, r.name), " ", pill("baseline", "")]
                                        : el("a", { href: `/ui/models/${encodeURIComponent(r.name)}?timeframe=${encodeURIComponent(tf)}` }, r.name)),
    el("td", { class: "num" }, num(r.auc)),
    el("td", { class: "num" }, r.ci_lo === null || r.ci_lo === undefined ? "–" : `${num(r.ci_lo, 3)}–${num(r.ci_hi, 3)}`),
    el("td", { class: "num" }, num(r.accuracy)), el("td", { class: "num" }, num(r.log_loss)),
    el("td", { class: "num" }, num(r.brier)), el("td", { class: "num" }, num(r.ece)),
    el("td", { class: "num" }, pValue(r.p_value)), el("td", {}, r.skill || "–"),
    el("td", { class: "num" }, num(r.ic)), el("td", { class: "num" }, num(r.rank_ic)),
    el("td", { class: "num" }, signedPct(r.return_net)), el("td", { class: "num" }, num(r.sharpe_net, 2)),
    el("td", { class: "num" }, pct(r.max_drawdown, 1)), el("td", { class: "num" }, r.trades ?? "–"),
    el("td", { class: "num" }, num(r.turnover, 0)), el("td", { class: "num" }, pct(r.exposure, 1)));
}

function renderSymbol(r) {
  return el("tr", { "data-symbol": r.symbol }, el("td", {}, r.symbol), el("td", { class: "num" }, r.n ?? "–"),
    el("td", { class: "num" }, num(r.auc)), el("td", { class: "num" }, num(r.accuracy)), el("td", { class: "num" }, num(r.log_loss)));
}

function headline(r) {
  const days = (Date.parse(r.end) - Date.parse(r.start)) / 86400000;
  fill($("period"), Number.isFinite(days) ? `${days.toFixed(days < 10 ? 1 : 0)} days` : "–");
  fill($("period-detail"), `${day(r.start)} → ${day(r.end)} · timeframe ${r.timeframe}, horizon ${r.horizon} candle${r.horizon === 1 ? "" : "s"}`);
  fill($("symbols"), `${r.symbols.length} symbols`);
  const names = r.symbols.length > 12 ? `${r.symbols.slice(0, 12).join(", ")} and ${r.symbols.length - 12} more` : r.symbols.join(", ");
  fill($("symbols-detail"), el("span", { title: r.symbols.join(", ") },
    `${r.n_rows === null ? "–" : r.n_rows.toLocaleString("en")} predictions per model · ${names}`));
  fill($("costs"), `${num(r.fee_bps, 0)} bps per side`);
  fill($("costs-detail"), `a trade must beat the ${num(r.cost_bps, 0)} bps round trip (the served signal)`);
  const audit = r.audit || {}, misses = (audit.mismatches || []).length;
  fill($("audit"), `${audit.checked ?? 0} re-predictions `, pill(misses ? `${misses} mismatches` : "no mismatch", misses ? "bad" : "ok"));
  fill($("audit-detail"), audit.models ? `through the serving path from history cut at t: ${audit.models.join(", ")}` : "");
  fill($("evaluated"), r.evaluated_at ? `evaluated ${shortTime(r.evaluated_at)}` : "");
  const first = Object.values(r.models)[0];
  const bh = first && first.backtest && first.backtest.buy_and_hold;
  fill($("buy-hold"), bh ? `Buy and hold (equal weight) over the period: return ${signedPct(bh.return)}, Sharpe ${num(bh.sharpe, 2)}, `
       + `max drawdown ${pct(bh.max_drawdown, 1)}. Net figures pay ${num(r.fee_bps, 0)} bps per side.` : "");
}

function ensembleComparison(c) {
  if (!c) { fill($("ensemble-comparison"), ""); return; }
  const part = (label, row) => (row && row.auc !== null && row.auc !== undefined ? `${label} ${num(row.auc)}` : null);
  const parts = [
    c.ensemble && part(`ensemble (rule ${c.ensemble.rule}, chosen out of fold)`, c.ensemble),
    part(`best member in hindsight (${c.best_member.model})`, c.best_member),
    part("mean of all members", c.mean_all),
    part("mean of the boosters", c.mean_boosters),
  ].filter(Boolean);
  fill($("ensemble-comparison"), `AUC: ${parts.join(" · ")}.`);
}

function perSymbol(r, sorter) {
  const select = $("symbol-model");
  const ids = Object.keys(r.per_symbol).sort((a, b) => (a === "ensemble" ? -1 : b === "ensemble" ? 1 : a.localeCompare(b)));
  if (!ids.length) { emptyRow($("per-symbol"), "This report has no per-symbol figures."); return; }
  const chosen = ids.includes(select.value) ? select.value : ids[0];
  options(select, ids, chosen);
  const draw = () => sorter.set(Object.entries(r.per_symbol[select.value] || {}).map(([symbol, m]) => ({ symbol, ...m })));
  select.onchange = draw;
  draw();
}

function plots(r) {
  fill($("plots"), r.plots.length ? r.plots.map((p) => el("figure", { class: "plot", "data-plot": p.name },
    el("img", { src: p.url, alt: p.title }), el("figcaption", {}, p.title))) : empty("This report has no plots."));
}

async function show(tables, tf, h) {
  const r = await api(`/evaluation?${evaluationQuery(tf, h)}`);
  notice("");
  $("empty-state").replaceChildren();
  $("report-body").hidden = false;
  headline(r);
  const rows = Object.entries(r.models).map(([id, m]) => scoreRow(id, m, id === "ensemble" ? "ensemble" : "model"))
    .concat(Object.entries(r.baselines).map(([id, m]) => scoreRow(id, m, "baseline")));
  tables.scores.set(rows);
  ensembleComparison(r.ensemble_comparison);
  perSymbol(r, tables.symbols);
  plots(r);
}

function noEvaluation(message) {
  $("report-body").hidden = true;
  fill($("empty-state"), empty(message || `No evaluation yet: ${HOW}`));
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  const list = await api("/evaluation/list");
  const fallback = list.default || list.available[0];
  if (!fallback) { noEvaluation(); return; }
  const select = $("report");
  const key = (a) => `${a.timeframe}:${a.horizon}`;
  const wanted = { timeframe: param("timeframe", fallback.timeframe), horizon: Number(param("horizon", fallback.horizon)) };
  fill(select, list.available.map((a) => el("option", { value: key(a), selected: key(a) === key(wanted) },
    `${a.timeframe} · horizon ${a.horizon} · ${day(a.start)} → ${day(a.end)}`)));
  const tables = {
    scores: sortableTable($("scores"), (row) => renderScore(wanted.timeframe)(row), { key: "auc", dir: -1 }),
    symbols: sortableTable($("per-symbol"), renderSymbol, { key: "auc", dir: -1 }),
  };
  const open = async (tf, h) => {
    wanted.timeframe = tf;
    wanted.horizon = h;
    try { await show(tables, tf, h); } catch (e) {
      if (e instanceof ApiError && e.code === "not_evaluated") noEvaluation(`${e.message}`); else throw e;
    }
  };
  select.addEventListener("change", () => guarded(async () => {
    const [tf, h] = select.value.split(":");
    setParams({ timeframe: tf, horizon: h });
    await open(tf, Number(h));
  }));
  await open(wanted.timeframe, wanted.horizon);
}));
