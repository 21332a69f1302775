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
  fill($("models-tf"), h.timeframes.length ? `timeframes: ${h.timeframes.join(", ")} · ${h.models.not_trained} not trained` : "no trained timeframe yet");
  fill($("data-source"), h.data_source);
  fill($("data-age"), `newest candle ${age(h.data.last_candle_age_s)} old · ${h.data.stale_symbols} stale`);
  fill($("version"), `v${h.version}`);
  fill($("uptime"), `this worker up ${age(h.uptime_s)}`);
  fill($("warnings"), h.warnings.length ? h.warnings.map((w) => el("li", {}, w)) : el("li", { class: "muted" }, "none: all well"));
  const tbody = $("freshness").tBodies[0];
  const tfs = Object.entries(h.data.by_timeframe);
  if (!tfs.length) emptyRow($("freshness"), "No trained timeframe, so no candles are watched yet.");
  else {
    const rows = await Promise.all(tfs.map(async ([tf, f]) => el("tr", {},
      el("td", {}, tf), el("td", { class: "num" }, f.symbols), el("td", { class: "num" }, age(f.last_candle_age_s)),
      el("td", { class: "num" }, f.stale_symbols), el("td", {}, await staleNames(tf, f.stale_symbols)))));
    fill(tbody, rows);
  }
  const jobs = $("jobs");
  if (!h.models.ready && h.jobs.active.length) fill(jobs, empty("No models yet: the first training is running."), jobRows(h.jobs.active));
  else fill(jobs, jobRows(h.jobs.active));
  return h;
}

async function loadEvaluation() {
  const box = $("evaluation");
  const [list, ens] = await Promise.all([api("/models/list"), api("/models/ensemble/status")]);
  const ready = list.models.filter((m) => m.status === "ready");
  if (!ready.length) { fill(box, empty("No models yet, so no evaluation.")); return; }
  const statuses = await Promise.all(ready.map((m) => api(`/models/${m.id}/status`)));
  const tested = statuses.filter((s) => s.metrics.test && s.metrics.test.auc !== undefined);
  const test = ens.metrics.test || {};
  if (test.auc === undefined && !tested.length) {
    fill(box, empty("No evaluation yet: run scripts/evaluate.py; its test metrics then show here and on the Models page."));
    return;
  }
  const best = tested.sort((a, b) => b.metrics.test.auc - a.metrics.test.auc)[0];
  const ci = (m) => (m.auc_ci95 ? ` [${num(m.auc_ci95[0], 3)}, ${num(m.auc_ci95[1], 3)}]` : "");
  const period = ens.metrics.test_period || (best && best.metrics.test_period) || {};
  fill(box, el("table", { class: "grid", id: "evaluation-table" },
    el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", {}, "model"), el("th", { class: "num" }, "test AUC [95% CI]"), el("th", {}, "skill"))),
    el("tbody", {},
      el("tr", {}, el("td", {}, "ensemble"), el("td", {}, "ensemble"), el("td", { class: "num" }, test.auc !== undefined ? num(test.auc) + ci(test) : "–"), el("td", {}, test.skill || "–")),
      best ? el("tr", {}, el("td", {}, "best member"), el("td", {}, el("a", { href: `/ui/models/${best.id}` }, best.id)),
                el("td", { class: "num" }, num(best.metrics.test.auc) + ci(best.metrics.test)), el("td", {}, best.metrics.test.skill || "–")) : null,
      el("tr", {}, el("td", {}, "chance"), el("td", {}, "coin flip"), el("td", { class: "num" }, "0.5000"), el("td", {}, "–")))),
    el("p", { class: "muted" }, period.start ? `Evaluated ${shortTime(period.start)} to ${shortTime(period.end)}${period.symbols ? ` over ${period.symbols.length} symbols` : ""} (timeframe ${ens.timeframe || best.timeframe}).` : ""));
}

document.addEventListener("DOMContentLoaded", () => {
  guarded(async () => { await loadHealth(); await loadEvaluation(); });
  setInterval(() => guarded(loadHealth), 5000);
});
