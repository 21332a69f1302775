/* A coin: recent candles (lightweight-charts, vendored), the ensemble's served probabilities under them
   with each served forecast marked by its outcome, the move forecast's bands ahead of the last candle and
   past forecasts' bands against the prices that came (bands.js), the ensemble's answer now, its top
   reasons and its members' spread. */
"use strict";

const SYMBOL = document.getElementById("coin-title").dataset.symbol;
const enc = encodeURIComponent;
const LWC = window.LightweightCharts;
let chart = null;

function drawChart(candles, history, stepS) {
  const box = $("chart");
  if (chart) { chart.remove(); chart = null; }
  if (!candles.count) { fill(box, empty("No candles for this coin on this timeframe.")); return; }
  chart = LWC.createChart(box, { autoSize: true, layout: { background: { color: "#ffffff" }, textColor: "#1d2430" },
                                 timeScale: { timeVisible: true, secondsVisible: false }, grid: { vertLines: { color: "#eef0f3" }, horzLines: { color: "#eef0f3" } } });
  const series = chart.addSeries(LWC.CandlestickSeries, { upColor: "#16a34a", downColor: "#dc2626", wickUpColor: "#16a34a",
                                                          wickDownColor: "#dc2626", borderVisible: false });
  series.setData(candles.candles.map((c) => ({ time: c.t / 1000, open: c.o, high: c.h, low: c.l, close: c.c })));
  const times = new Set(candles.candles.map((c) => c.t / 1000));
  const served = new Map();  // one point per forecast time: the newest answer recorded for it
  for (const r of [...history.results].reverse()) served.set(Date.parse(r.as_of) / 1000, r);
  const points = [...served.entries()].filter(([t]) => times.has(t)).sort((a, b) => a[0] - b[0]);
  if (points.length) {
    const prob = chart.addSeries(LWC.LineSeries, { color: "#2563eb", lineWidth: 2, priceFormat: { type: "price", precision: 3, minMove: 0.001 },
                                                   title: "ensemble P(up), served" }, 1);
    prob.setData(points.map(([t, r]) => ({ time: t, value: r.probability_up })));
    prob.createPriceLine({ price: 0.5, color: "#98a2b3", lineStyle: 2, lineWidth: 1, axisLabelVisible: false });
    chart.panes()[1].setHeight(110);
    LWC.createSeriesMarkers(series, points.map(([t, r]) => {
      const up = r.probability_up > 0.5;
      const color = r.outcome_up === null ? "#98a2b3" : r.outcome_up === up ? "#16a34a" : "#dc2626";
      return { time: t, position: up ? "belowBar" : "aboveBar", shape: up ? "arrowUp" : "arrowDown", color, size: 0.6 };
    }));
  }
  const past = drawPastBands(chart, history, candles, stepS);
  chart.timeScale().fitContent();
  fill($("chart-note"), `${candles.count} candles, ${shortTime(candles.first)} to ${shortTime(candles.last)} (${candles.data_source}${candles.data_stale ? ", stale" : ""}). `
       + (points.length ? `Arrows: served ensemble forecasts (up or down), green when the outcome agreed, red when not, grey while pending.`
                        : "No served forecasts of this coin in this window yet.")
       + (past ? ` ${past} past forecasts' bands drawn.` : ""));
}

function drawHistory(history) {
  const box = $("history");
  if (!history.count) { fill(box, empty("No live predictions yet for this coin: served forecasts and their outcomes appear here.")); return; }
  fill(box, el("div", { class: "scroll" }, el("table", { class: "grid", id: "history-table" },
    el("thead", {}, el("tr", {}, ["as of", "P(up)", "signal", "outcome", "return bps", "version"].map((t) => el("th", {}, t)))),
    el("tbody", {}, history.results.slice(0, 50).map((r) => el("tr", {}, el("td", {}, shortTime(r.as_of)),
      el("td", { class: "num" }, num(r.probability_up)), el("td", {}, pill(r.signal)),
      el("td", {}, r.outcome_up === null ? "pending" : r.outcome_up ? "up" : "down"), el("td", { class: "num" }, num(r.return_bps, 1)),
      el("td", { class: "muted small" }, r.model_version)))))));
}

function drawPrediction(p) {
  fill($("prob"), `P(up) ${num(p.probability_up)} `, pill(p.signal));
  fill($("prob-detail"), `horizon ${p.horizon} · as of ${shortTime(p.as_of)} · edge ${num(p.edge_bps, 1)} bps vs cost ${num(p.cost_bps, 0)}`
       + (p.warning ? ` · ${p.warning}` : ""));
  const members = Object.entries(p.members || {}).sort((a, b) => b[1] - a[1]);
  fill($("spread"), p.uncertainty === undefined || p.uncertainty === null ? "–" : `spread ${num(p.uncertainty, 3)}`);
  fill($("spread-detail"), members.length ? `${members.length} members, ${num(members[members.length - 1][1], 3)} to ${num(members[0][1], 3)}` : "no members");
  fill($("members"), members.length ? el("table", { class: "grid", id: "members-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "member"), el("th", { class: "num" }, "P(up)"), el("th", { class: "num" }, "weight"), el("th", {}, ""))),
    el("tbody", {}, members.map(([m, v]) => el("tr", {}, el("td", {}, el("a", { href: `/ui/models/${m}` }, m)), el("td", { class: "num" }, num(v)),
      el("td", { class: "num" }, num((p.weights || {})[m], 3)), el("td", {}, progressBar(v, "")))))) : empty("This answer has no members."));
}

async function load(tf, horizon, trained) {
  const [candles, history] = await Promise.all([
    api(`/candles?symbol=${enc(SYMBOL)}&timeframe=${enc(tf)}&limit=300`),
    api(`/predictions/history?symbol=${enc(SYMBOL)}&timeframe=${enc(tf)}&model=ensemble&horizon=${enc(horizon)}&limit=1000`)]);
  fill($("coin-title"), `${candles.symbol} `, el("span", { class: "muted small" }, tf));
  const stepS = TIMEFRAME_MINUTES[tf] * 60;
  drawChart(candles, history, stepS);
  drawHistory(history);
  if (!trained) {
    fill($("prob"), "no prediction");
    fill($("prob-detail"), "No models yet: predictions start once the first training has finished (see Jobs).");
    fill($("spread"), "–"); fill($("members"), empty("No members yet.")); fill($("reasons"), empty("No reasons yet."));
    return;
  }
  const prediction = await api("/predict/single", { method: "POST", headers: { "Content-Type": "application/json" },
                                                    body: JSON.stringify({ symbol: SYMBOL, timeframe: tf, horizon: Number(horizon), explain: true }) });
  drawPrediction(prediction);
  if (chart && prediction.move) {
    const forecast = drawForecastBands(chart, prediction, candles, stepS);
    chart.timeScale().fitContent();
    drawBandNote($("band-note"), forecast, prediction, bandCoverage(history));
  }
  drawReasons($("reasons"), prediction.explanation);
}

async function start() {
  const health = await api("/health");
  const trained = health.timeframes.length > 0;  // without models the candles still draw (1h)
  const tfs = trained ? byDuration(health.timeframes) : ["1h"];
  const tf = defaultTimeframe(tfs);
  options($("timeframe"), tfs, tf);
  const listing = await api(`/symbols?timeframe=${enc(tf)}`);
  const hs = (listing.trained[tf] || { horizons: [1] }).horizons;
  options($("horizon"), hs, param("horizon", hs[0]));
  const reload = () => { setParams({ timeframe: $("timeframe").value, horizon: $("horizon").value }); guarded(() => load($("timeframe").value, $("horizon").value, trained)); };
  $("timeframe").addEventListener("change", () => { location.search = `?timeframe=${enc($("timeframe").value)}`; });
  $("horizon").addEventListener("change", reload);
  await load(tf, $("horizon").value, trained);
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  try { await start(); } catch (e) { if (isUnknown(e, "symbol")) onlyError(SYMBOL, e, "/ui/markets", "all coins"); else throw e; }
}));
