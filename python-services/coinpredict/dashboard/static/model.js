/* One model: serving, test and live figures; its versions with promote (roll back = promote an older one)
   and delete; its recent served forecasts. */
"use strict";

const MODEL = document.getElementById("model-title").dataset.model;
const enc = encodeURIComponent;
let importance = null;  // the status's, redrawn at the horizon chosen

async function loadStatus(tf) {
  const s = await api(`/models/${enc(MODEL)}/status?timeframe=${enc(tf)}`);
  fill($("model-title"), `${s.id} `, el("span", { class: "muted small" }, s.family));
  const here = s.timeframe === tf;
  fill($("serving"), s.model_version || "none");
  fill($("serving-detail"), `${s.status} on ${s.timeframes.join(", ") || "no timeframe"} · ${s.serving.requests} requests, p50 ${num(s.serving.p50_ms, 1)} ms`
       + (s.load_error ? ` · ${s.load_error}` : ""));
  const test = here ? s.metrics.test || {} : {};
  options($("horizon"), s.horizons || [], $("horizon").value || param("horizon", (s.horizons || [])[0]));
  importance = s.importance || null;
  drawImportance($("importance"), importance, $("horizon").value);
  fill($("test"), test.auc !== undefined ? `AUC ${num(test.auc)}` : "no evaluation yet");
  fill($("test-detail"), test.auc !== undefined ? `${test.auc_ci95 ? `95% CI [${num(test.auc_ci95[0], 3)}, ${num(test.auc_ci95[1], 3)}] · ` : ""}${test.skill || ""}`
       : here ? "run scripts/evaluate.py for out-of-sample figures" : `the status describes ${s.timeframe || "no timeframe"}`);
  const live = here && s.live ? s.live : null;
  fill($("live"), live && live.auc !== null ? `AUC ${num(live.auc)}` : "no live predictions scored yet");
  fill($("live-detail"), live ? `${live.n_scored} scored over ${live.window_days} days · drift `
       : "", live ? pill(live.drift, live.drift) : null, live && live.drift_reason ? ` ${live.drift_reason}` : null);
  return s;
}

function actionButtons(v, tf, list) {
  const result = $("version-result");
  const promote = el("button", { class: "secondary", "data-action": "promote", "data-version": v.version, onclick: async (e) => {
    e.target.disabled = true;
    try {
      const r = await manage("POST", `/models/${enc(MODEL)}/promote`, { timeframe: tf, version: v.version });
      fill(result, `serving ${r.serving} (was ${r.previous || "none"})${r.ensemble_job ? `; the ensemble is being refitted (job ${r.ensemble_job.slice(0, 8)})` : ""}`);
      result.className = "result ok";
      await load(tf);
    } catch (err) { fill(result, err.toString()); result.className = "result error"; e.target.disabled = false; }
  } }, v.version < list.serving ? "Roll back to" : "Promote");
  const del = el("button", { class: "danger", "data-action": "delete", "data-version": v.version, onclick: async (e) => {
    if (e.target.dataset.armed !== "1") { e.target.dataset.armed = "1"; e.target.textContent = "Confirm delete"; return; }
    try {
      const r = await manage("DELETE", `/models/${enc(MODEL)}/versions/${enc(v.version)}?timeframe=${enc(tf)}`);
      fill(result, `deleted ${r.deleted}`); result.className = "result ok";
      await load(tf);
    } catch (err) { fill(result, err.toString()); result.className = "result error"; }
  } }, "Delete");
  if (v.incompatible) { promote.disabled = true; promote.title = `the serving cannot use it: ${v.incompatible}`; }
  return v.status === "available" ? [promote, " ", del] : v.status === "serving" ? el("span", { class: "muted" }, "served") : del;
}

/* The validation AUC at the horizon chosen above when the version predicts it; else at its own first
   horizon, labelled, so figures at different horizons are never read side by side as comparable. */
function validationAuc(v) {
  const m = v.metrics || {};
  const byHorizon = m.validation_by_horizon || {};
  const wanted = $("horizon").value;
  if (wanted && byHorizon[wanted]) return num(byHorizon[wanted].auc);
  if (!m.validation || m.validation.auc === undefined) return "–";
  return [num(m.validation.auc), el("span", { class: "muted small" }, ` (h${(v.horizons || [])[0] ?? "?"})`)];
}

function trainedFor(v) {
  const detail = v.window ? `window ${v.window} candles, ${v.features} features` : "";
  return [el("td", { class: "profile", title: detail }, v.profile || "–"),
          el("td", { class: "horizons" }, v.horizons ? v.horizons.join(", ") : "–")];
}

function dataRange(r) {
  const span = (x) => (Array.isArray(x) ? `${shortTime(x[0])} to ${shortTime(x[1])}` : "–");
  return `train ${span(r.train)}, validation ${span(r.valid)}`;
}

async function loadVersions(tf) {
  const list = await apiUnlessNotTrained(`/models/${enc(MODEL)}/versions?timeframe=${enc(tf)}`);
  const table = $("versions");
  if (!list || !list.versions.length) { emptyRow(table, `No version trained on ${tf} yet.`); return; }
  fill(table.tBodies[0], list.versions.map((v) => el("tr", { "data-version": v.version, "data-incompatible": v.incompatible ? "1" : "0" },
    el("td", { class: "version" }, v.version), el("td", {}, shortTime(v.trained_at)),
    el("td", { title: v.reason || v.incompatible || "" }, pill(v.status, v.status === "serving" ? "ok" : v.status === "available" ? "" : "bad"),
       v.incompatible ? [" ", pill("incompatible", "warning")] : null),
    ...trainedFor(v),
    el("td", { class: "num" }, validationAuc(v)),
    el("td", { class: "muted small wrap" }, v.data_range ? dataRange(v.data_range) : "–",
       v.incompatible ? el("div", { class: "incompatible" }, v.incompatible) : null),
    el("td", {}, actionButtons(v, tf, list)))));
}

async function loadHistory(tf) {
  const h = await api(`/predictions/history?model=${enc(MODEL)}&timeframe=${enc(tf)}&limit=50`);
  const box = $("history");
  if (!h.count) { fill(box, empty("No live predictions yet: forecasts this model serves, and their outcomes, appear here.")); return; }
  fill(box, el("div", { class: "scroll" }, el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ["as of", "symbol", "h", "P(up)", "signal", "outcome", "return bps", "version"].map((t) => el("th", {}, t)))),
    el("tbody", {}, h.results.map((r) => el("tr", {}, el("td", {}, shortTime(r.as_of)),
      el("td", {}, el("a", { href: `/ui/markets/${r.symbol}?timeframe=${r.timeframe}` }, r.symbol)), el("td", { class: "num" }, r.horizon),
      el("td", { class: "num" }, num(r.probability_up)), el("td", {}, pill(r.signal)),
      el("td", {}, r.outcome_up === null ? "pending" : r.outcome_up ? "up" : "down"), el("td", { class: "num" }, num(r.return_bps, 1)),
      el("td", { class: "muted small" }, r.model_version)))))));
}

async function loadLive(tf) {
  if (!$("horizon").value) { fill($("auc-chart"), empty(`Not trained on ${tf}: no live skill to show.`)); fill($("calibration")); return; }
  try { await loadSkill(MODEL, tf, $("horizon").value, $("days").value); }
  catch (err) { fill($("auc-chart"), empty(err.toString())); fill($("calibration")); }
}

async function load(tf) {
  const [status] = await Promise.all([loadStatus(tf), loadHistory(tf)]);
  if (status.status === "not_trained") emptyRow($("versions"), `No version trained on ${tf} yet.`);
  else await loadVersions(tf);
  await loadLive(tf);
}

async function start() {
  $("versions").after(el("div", { id: "version-result", class: "result", role: "status" }));
  const select = $("timeframe");
  const tfs = await trainedTimeframes();
  const tf = defaultTimeframe(tfs);
  options(select, tfs, tf);
  select.addEventListener("change", () => {
    $("horizon").value = ""; setParams({ timeframe: select.value, horizon: null }); guarded(() => load(select.value));
  });
  $("horizon").addEventListener("change", () => {
    setParams({ horizon: $("horizon").value }); drawImportance($("importance"), importance, $("horizon").value); guarded(() => Promise.all([loadLive(select.value), loadVersions(select.value)]));
  });
  $("days").addEventListener("change", () => guarded(() => loadLive(select.value)));
  await load(tf);
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  try { await start(); } catch (e) { if (isUnknown(e, "model")) onlyError(MODEL, e, "/ui/models", "all models"); else throw e; }
}));
