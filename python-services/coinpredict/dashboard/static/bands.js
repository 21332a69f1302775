/* The move forecast on the coin chart: the answer's 50% (q25-q75) and 90% (q05-q95) bands of the price
   over the horizon ahead of the last candle, and past forecasts' bands (as the ledger kept them) at the
   candle each was for, against the prices that came, with the share of closes that stayed inside.
   The quantiles are of the horizon's log return: a band's price is the base close x exp(q / 10,000).
   Between now and the horizon the cone is drawn at q x sqrt(k / h) after k candles (a drawing aid: only
   its end at h candles is the forecast). */
"use strict";

const BAND_LEVELS = ["q05", "q25", "q50", "q75", "q95"];
const BAND_STYLE = { q05: ["#7c3aed", 2], q25: ["#2563eb", 0], q50: ["#98a2b3", 1], q75: ["#2563eb", 0], q95: ["#7c3aed", 2] };

function bandPrice(base, bps, fraction = 1) { return base * Math.exp((bps / 1e4) * fraction); }

function bandSeries(chart, level, title) {
  const [color, style] = BAND_STYLE[level];
  return chart.addSeries(LightweightCharts.LineSeries, { color, lineStyle: style, lineWidth: level === "q50" ? 1 : 2,
                                                          lastValueVisible: false, priceLineVisible: false, title,
                                                          crosshairMarkerVisible: false });
}

/* The answer's bands ahead of its candle; returns the prices at the horizon, by level. */
function drawForecastBands(chart, prediction, candles, stepS) {
  const asOf = Date.parse(prediction.as_of) / 1000;
  const base = candles.candles.find((c) => c.t / 1000 === asOf) || candles.candles[candles.candles.length - 1];
  const q = prediction.move.quantiles_bps, h = prediction.horizon, start = base.t / 1000;
  const ends = {};
  for (const level of BAND_LEVELS) {
    const points = [];
    for (let k = 0; k <= h; k++) points.push({ time: start + k * stepS, value: bandPrice(base.c, q[level], Math.sqrt(k / h)) });
    bandSeries(chart, level, level === "q95" ? "90%" : level === "q75" ? "50%" : "").setData(points);
    ends[level] = points[points.length - 1].value;
  }
  return { base: base.c, at: start + h * stepS, ends };
}

/* Past forecasts that kept their quantiles, drawn at the candle they were for (its close is the outcome). */
function drawPastBands(chart, history, candles, stepS) {
  const close = new Map(candles.candles.map((c) => [c.t / 1000, c.c]));
  const latest = new Map();  // one band per target candle: the newest forecast recorded for it
  for (const r of [...history.results].reverse()) {
    if (!r.move) continue;
    const t = Date.parse(r.as_of) / 1000;
    if (close.has(t)) latest.set(t + r.horizon * stepS, { base: close.get(t), q: r.move.quantiles_bps });
  }
  const targets = [...latest.keys()].sort((a, b) => a - b);
  if (!targets.length) return 0;
  for (const level of ["q05", "q25", "q75", "q95"]) {
    const s = bandSeries(chart, level, "");
    s.applyOptions({ lineVisible: false, pointMarkersVisible: true, pointMarkersRadius: 2 });
    s.setData(targets.map((t) => ({ time: t, value: bandPrice(latest.get(t).base, latest.get(t).q[level]) })));
  }
  return targets.length;
}

/* Of the scored forecasts that kept their quantiles: how many closes stayed inside each band. */
function bandCoverage(history) {
  let n = 0, in90 = 0, in50 = 0;
  for (const r of history.results) {
    if (!r.move || r.return_bps === null || r.return_bps === undefined) continue;
    const logBps = Math.log1p(r.return_bps / 1e4) * 1e4, q = r.move.quantiles_bps;
    n += 1;
    if (logBps >= q.q05 && logBps <= q.q95) in90 += 1;
    if (logBps >= q.q25 && logBps <= q.q75) in50 += 1;
  }
  return { n, in90, in50 };
}

function drawBandNote(box, forecast, prediction, cover) {
  const e = forecast.ends, digits = forecast.base < 1 ? 6 : 2;
  const range = (lo, hi) => `${num(e[lo], digits)} – ${num(e[hi], digits)}`;
  const held = cover.n
    ? el("span", { id: "band-coverage", "data-n": cover.n, "data-in90": cover.in90, "data-in50": cover.in50 },
         `Past forecasts: ${cover.in90} of ${cover.n} closes inside the 90% band (${pct(cover.in90 / cover.n)}), `
         + `${cover.in50} inside the 50% band (${pct(cover.in50 / cover.n)}).`)
    : el("span", { id: "band-coverage", "data-n": 0 }, "No past forecast with bands has its outcome yet.");
  fill(box, el("span", { id: "forecast-bands", "data-q05": e.q05, "data-q25": e.q25, "data-q50": e.q50,
                         "data-q75": e.q75, "data-q95": e.q95, "data-base": forecast.base },
               `In ${prediction.horizon} candle${prediction.horizon === 1 ? "" : "s"} (move by ${prediction.move.source}): 50% band ${range("q25", "q75")}, `
               + `90% band ${range("q05", "q95")}, from ${num(forecast.base, digits)}. `), held,
       " Dots: past forecasts' bands at the candle each was for.");
}
