/* Markets: the top-N board of /predict/top100 for a timeframe and horizon, sortable, refreshing itself. */
"use strict";

const REFRESH_MS = 30000;
let board = null;
let timer = null;

async function horizons(tf) {
  const listing = await api(`/symbols?timeframe=${encodeURIComponent(tf)}`);
  return (listing.trained[tf] || { horizons: [] }).horizons;
}

function row(tf) {
  return (r) => el("tr", { "data-symbol": r.symbol },
    el("td", { class: "num" }, r.rank), el("td", {}, el("a", { href: `/ui/markets/${r.symbol}?timeframe=${tf}&horizon=${r.horizon}` }, r.symbol)),
    el("td", { class: "num" }, num(r.probability_up)), el("td", {}, pill(r.signal), r.signal_reason ? el("span", { class: "muted small", title: r.signal_reason }, " ⓘ") : null),
    el("td", { class: "num" }, num(r.edge_bps, 1)), el("td", { class: "num" }, num(r.cost_bps, 0)),
    el("td", { class: "num" }, num(r.uncertainty, 3)),
    el("td", { class: "num" }, r.data_stale ? pill(age(r.last_candle_age_s), "warning") : age(r.last_candle_age_s)),
    el("td", {}, shortTime(r.as_of)));
}

async function refresh() {
  const tf = $("timeframe").value, horizon = $("horizon").value, limit = $("limit").value;
  if (!tf) return;
  const top = await api(`/predict/top100?timeframe=${encodeURIComponent(tf)}&horizon=${encodeURIComponent(horizon)}&limit=${limit}`);
  fill($("as-of"), `as of ${shortTime(top.as_of)} · ${top.model} · ${top.universe} · ${Math.round(top.latency_ms)} ms`);
  if (!top.count) emptyRow($("board"), "No coin could be ranked: see the skipped ones below.");
  else board.set(top.results);
  fill($("skipped"), top.skipped.length ? `Skipped ${top.skipped.length}: ` + top.skipped.slice(0, 15).map((s) => `${s.symbol} (${s.reason})`).join("; ")
       + (top.skipped.length > 15 ? "; …" : "") : "");
  notice("");
}

function schedule() {
  clearInterval(timer);
  if ($("auto").checked) timer = setInterval(() => guarded(refresh), REFRESH_MS);
}

async function pickTimeframe(tf) {
  const hs = await horizons(tf);
  options($("horizon"), hs, param("horizon", hs[0]));
  setParams({ timeframe: tf, horizon: $("horizon").value });
  await refresh();
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  board = sortableTable($("board"), (r) => row($("timeframe").value)(r), { key: "rank", dir: 1 });
  const health = await api("/health");
  if (!health.timeframes.length) {
    emptyRow($("board"), "No models yet, so no predictions" + (health.jobs.active.length ? ": the first training is running (see Jobs)." : "."));
    return;
  }
  const tfs = byDuration(health.timeframes);
  options($("timeframe"), tfs, defaultTimeframe(tfs));
  $("timeframe").addEventListener("change", () => guarded(() => pickTimeframe($("timeframe").value)));
  $("horizon").addEventListener("change", () => { setParams({ horizon: $("horizon").value }); guarded(refresh); });
  $("limit").addEventListener("change", () => guarded(refresh));
  $("auto").addEventListener("change", schedule);
  await pickTimeframe($("timeframe").value);
  schedule();
}));
