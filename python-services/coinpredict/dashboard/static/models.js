/* Models: per timeframe, the single models and the ensemble with their served version and skill. */
"use strict";

function validation(version) {
  const m = version && version.metrics;
  return m && m.validation && typeof m.validation.auc === "number" ? m.validation : {};
}

async function modelRow(id, family, tf) {
  const [listing, status] = await Promise.all([
    apiUnlessNotTrained(`/models/${id}/versions?timeframe=${encodeURIComponent(tf)}`), api(`/models/${id}/status?timeframe=${encodeURIComponent(tf)}`)]);
  const versions = listing || { serving: null, versions: [] };
  const served = versions.versions.find((v) => v.version === versions.serving) || null;
  const here = status.timeframe === tf;
  const test = here ? status.metrics.test || {} : {};
  const live = here && status.live ? status.live : {};
  return {
    id, family, status: versions.serving ? "ready" : (here ? status.status : "not_trained"), version: versions.serving,
    trained_at: served ? served.trained_at : null, valid_auc: validation(served).auc ?? null, valid_ci: validation(served).auc_ci95 || null,
    test_auc: typeof test.auc === "number" ? test.auc : null, test_ci: test.auc_ci95 || null,
    live_auc: typeof live.auc === "number" ? live.auc : null, live_ci: live.auc_ci95 || null, live_n: live.n_scored ?? null,
    skill: here ? status.skill : null, drift: live.drift || null, drift_reason: live.drift_reason || null,
    versions: versions.versions.length,
  };
}

function render(tf) {
  return (r) => el("tr", { "data-model": r.id },
    el("td", {}, el("a", { href: `/ui/models/${r.id}?timeframe=${tf}` }, r.id)), el("td", {}, r.family),
    el("td", {}, pill(r.status, r.status === "ready" ? "ok" : r.status === "failed" ? "failed" : "")),
    el("td", { class: "version small", title: r.trained_at ? `trained ${shortTime(r.trained_at)}` : "" }, r.version || "–",
       r.versions > 1 ? el("span", { class: "muted" }, ` (${r.versions} versions)`) : null),
    el("td", { class: "num" }, aucText(r.valid_auc, r.valid_ci)),
    el("td", { class: "num" }, aucText(r.test_auc, r.test_ci)),
    el("td", { class: "num" }, aucText(r.live_auc, r.live_ci) + (r.live_n ? ` (${r.live_n})` : "")),
    el("td", {}, r.skill || "–"), el("td", { title: r.drift_reason || "" }, r.drift ? pill(r.drift, r.drift) : "–"));
}

async function load(table, tf) {
  emptyRow(table.el, "loading…");
  const [list, health] = await Promise.all([api("/models/list"), api("/health")]);
  const ids = [...list.models.map((m) => [m.id, m.family]), ["ensemble", "ensemble"]];
  const trained = health.timeframes.includes(tf);  // else nothing to ask per model: each would be not_trained
  const rows = await Promise.all(ids.map(([id, family]) => (trained ? modelRow(id, family, tf)
    : { id, family, status: "not_trained", version: null, versions: 0, valid_auc: null, test_auc: null, live_auc: null })));
  const ready = rows.filter((r) => r.status === "ready").length;
  fill($("summary"), `${ready} of ${rows.length} ready on ${tf} (${list.count} models + the ensemble)`);
  if (!ready) {
    const running = health.jobs.active.filter((j) => j.timeframe === tf);
    notice(running.length ? `No models yet on ${tf}: training is running (${pct(running[0].progress)}, ${running[0].stage}).`
                          : `No models trained on ${tf} yet: start a training job on the Jobs page.`, "info");
  } else notice("");
  table.sorter.set(rows);
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  const select = $("timeframe");
  const tfs = await trainedTimeframes();
  const tf = defaultTimeframe(tfs);
  options(select, tfs, tf);
  const table = { el: $("models") };
  table.sorter = sortableTable(table.el, (r) => render(select.value)(r));
  select.addEventListener("change", () => { setParams({ timeframe: select.value }); guarded(() => load(table, select.value)); });
  await load(table, tf);
}));
