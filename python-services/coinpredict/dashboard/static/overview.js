/* Overview: health, data freshness per timeframe, models ready/failed, running jobs, the last evaluation. */
"use strict";

function jobRows(active) {
  if (!active.length) return empty("No training job is queued or running.");
  return el("table", { class: "grid", id: "jobs-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "job"), el("th", {}, "timeframe"), el("th", {}, "status"), el("th", {}, "progress"))),
    el("tbody", {}, active.map((j) => el("tr", {},
      el("td", {}, el("a", { href: `/ui/jobs#${j.id}` }, j.id.slice(0, 8))), el("td", {}, j.timeframe), el("td", {}, pill(j.status, "")),
      el("td", {}, progressBar(j.progress, j.stage))))));
}

async function staleNames(tf, count) {
  if (!count) return "none";
  const listing = await api(`/symbols?timeframe=${encodeURIComponent(tf)}`);
  const names = listing.symbols.filter((s) => s.data_stale).map((s) => s.symbol);
  return names.length > 12 ? `${names.slice(0, 12).join(", ")} and ${names.length - 12} more` : names.join(", ") || `${count}`;
}

async function loadHealth() {
  const h = await api("/health");
  const status = $("status");
  status.textContent = h.status;
  status.className = `badge ${h.status}`;
  fill($("models-counts"), `${h.models.ready} ready · ${h.models.failed} failed`);
  fill($("models-tf"), h.timeframes.length ? `timeframes: ${byDuration(h.timeframes).join(", ")} · ${h.models.not_trained} not trained` : "no trained timeframe yet");
  fill($("data-source"), h.data_source);
  fill($("data-age"), `newest candle ${age(h.data.last_candle_age_s)} old · ${h.data.stale_symbols} stale`);
  fill($("version"), `v${h.version}`);
  fill($("uptime"), `this worker up ${age(h.uptime_s)}`);
  fill($("warnings"), h.warnings.length ? h.warnings.map((w) => el("li", {}, w)) : el("li", { class: "muted" }, "none: all well"));
  const tbody = $("freshness").tBodies[0];
  const tfs = byDuration(Object.keys(h.data.by_timeframe)).map((tf) => [tf, h.data.by_timeframe[tf]]);
  if (!tfs.length) emptyRow($("freshness"), "No trained timeframe, so no candles are watched yet.");
  else {
    const rows = await Promise.all(tfs.map(async ([tf, f]) => el("tr", {},
      el("td", {}, tf), el("td", { class: "num" }, f.symbols), el("td", { class: "num" }, age(f.last_candle_age_s)),
      el("td", { class: "num" }, f.stale_symbols), el("td", { class: "wrap" }, await staleNames(tf, f.stale_symbols)))));
    fill(tbody, rows);
  }
  const jobs = $("jobs");
  if (!h.models.ready && h.jobs.active.length) fill(jobs, empty("No models yet: the first training is running."), jobRows(h.jobs.active));
  else fill(jobs, jobRows(h.jobs.active));
  return h;
}

/* The published report's headline (GET /evaluation): the ensemble against its best member and the baselines. */
async function loadEvaluation(health) {
  const box = $("evaluation");
  const list = await api("/evaluation/list");  // 200 with nothing listed: no failed request on a new service
  if (!list.default) {
    fill(box, empty(health && !health.models.ready ? "No models yet, so no evaluation."
      : "No evaluation yet: run scripts/evaluate.py; its report then shows here and on the Evaluation page."));
    return;
  }
  const r = await api("/evaluation");
  const singles = Object.entries(r.models).filter(([id]) => id !== "ensemble").sort((a, b) => (b[1].auc ?? -1) - (a[1].auc ?? -1));
  const ret = (m) => (m.backtest && typeof m.backtest.return_net === "number" ? `${m.backtest.return_net >= 0 ? "+" : ""}${(100 * m.backtest.return_net).toFixed(1)}%` : "–");
  const row = (label, name, m, cls) => el("tr", { class: cls, "data-row": name }, el("td", {}, label),
    el("td", {}, cls === "baseline" ? name : el("a", { href: `/ui/models/${name}?timeframe=${r.timeframe}` }, name)),
    el("td", { class: "num" }, aucText(m.auc, m.auc_ci95)), el("td", { class: "num" }, ret(m)), el("td", {}, m.skill || "–"));
  const link = `/ui/evaluation?timeframe=${encodeURIComponent(r.timeframe)}&horizon=${r.horizon}`;
  fill(box, el("div", { class: "scroll" }, el("table", { class: "grid", id: "evaluation-table" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "model"), el("th", { class: "num" }, "AUC [95% CI]"),
      el("th", { class: "num" }, "net return"), el("th", {}, "skill"))),
    el("tbody", {},
      r.models.ensemble ? row("ensemble", "ensemble", r.models.ensemble, "ensemble") : null,
      singles.length ? row("best member", singles[0][0], singles[0][1], "") : null,
      Object.entries(r.baselines).map(([name, m]) => row("baseline", name, m, "baseline"))))),
    el("p", { class: "muted" }, `Out of sample, ${r.start.slice(0, 10)} to ${r.end.slice(0, 10)} over ${r.symbols.length} symbols `
      + `(timeframe ${r.timeframe}, horizon ${r.horizon}; net of ${num(r.fee_bps, 0)} bps per side)${r.evaluated_at ? `, evaluated ${shortTime(r.evaluated_at)}` : ""}. `,
      el("a", { href: link, id: "evaluation-link" }, "The whole report: every model, per symbol, plots")));
}

document.addEventListener("DOMContentLoaded", () => {
  guarded(async () => { await loadEvaluation(await loadHealth()); });
  setInterval(() => guarded(loadHealth), 5000);
});
