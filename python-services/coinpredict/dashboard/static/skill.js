/* A model's skill side by side: validation, test and live figures in one table, live AUC over time with its
   interval (lightweight-charts), and live calibration by deciles (a small SVG). Every number comes from
   GET /models/<id>/live; nothing is computed here. */
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
let aucChart = null;

function skillRows(live) {
  const s = live.summary;
  const row = (name, m, n, period, verdict) => el("tr", { "data-figure": name },
    el("td", {}, name), el("td", { class: "muted small wrap" }, period), el("td", { class: "num" }, n ?? "–"),
    el("td", { class: "num" }, m ? aucText(m.auc, m.auc_ci95) : "–"), el("td", { class: "num" }, num(m && m.accuracy)),
    el("td", { class: "num" }, num(m && m.log_loss)), el("td", { class: "num" }, num(m && (m.ece ?? m.calibration_error))),
    el("td", { class: "wrap small" }, verdict));
  const v = live.validation, t = live.test, tp = live.test_period;
  return [
    row("validation", v, v && v.n, "the served version's validation period", v && v.skill ? pill(v.skill, v.skill === "some" ? "ok" : "") : "–"),
    row("test", t, t && t.n, tp ? `${shortTime(tp.start)} to ${shortTime(tp.end)}` : "no evaluation yet (scripts/evaluate.py)",
        t && t.skill ? pill(t.skill, t.skill === "some" ? "ok" : "") : "–"),
    row("live", s.n_scored ? s : null, s.n_scored, `served since ${shortTime(s.since)} (${s.window_days} days)`,
        s.n_scored ? el("span", { title: s.drift_reason || "" }, pill(s.drift, s.drift), s.drift_reason ? ` ${s.drift_reason}` : "") : "–"),
  ];
}

function drawAucOverTime(box, live) {
  if (aucChart) { aucChart.remove(); aucChart = null; }
  const points = live.over_time.filter((p) => p.auc !== null);
  if (!points.length) {
    fill(box, empty("No live predictions scored yet: served forecasts count here once their outcome candle has closed."));
    return;
  }
  box.replaceChildren();
  const LWC = window.LightweightCharts;
  aucChart = LWC.createChart(box, { autoSize: true, layout: { background: { color: "#ffffff" }, textColor: "#1d2430" },
                                    timeScale: { timeVisible: false }, grid: { vertLines: { color: "#eef0f3" }, horzLines: { color: "#eef0f3" } } });
  const fmt = { type: "price", precision: 3, minMove: 0.001 };
  const time = (p) => Date.parse(p.start) / 1000;
  const band = points.filter((p) => p.auc_ci95);
  for (const [i, label] of [[0, "95% low"], [1, "95% high"]]) {
    const s = aucChart.addSeries(LWC.LineSeries, { color: "#93c5fd", lineWidth: 1, lineStyle: 2, priceFormat: fmt, title: label,
                                                   lastValueVisible: false, priceLineVisible: false });
    s.setData(band.map((p) => ({ time: time(p), value: p.auc_ci95[i] })));
  }
  const auc = aucChart.addSeries(LWC.LineSeries, { color: "#2563eb", lineWidth: 2, priceFormat: fmt, title: `live AUC per ${live.bucket}`,
                                                   pointMarkersVisible: true });
  auc.setData(points.map((p) => ({ time: time(p), value: p.auc })));
  auc.createPriceLine({ price: 0.5, color: "#98a2b3", lineStyle: 2, lineWidth: 1, axisLabelVisible: true, title: "chance" });
  if (live.test && live.test.auc !== undefined) {
    auc.createPriceLine({ price: live.test.auc, color: "#15803d", lineStyle: 2, lineWidth: 1, axisLabelVisible: true, title: "test" });
  }
  aucChart.timeScale().fitContent();
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function drawCalibration(box, live) {
  const bins = live.calibration;
  if (!bins.length) { fill(box, empty("No live calibration yet: it needs scored forecasts.")); return; }
  const values = bins.flatMap((b) => [b.p_mean, b.observed]);
  const lo = Math.min(0.4, ...values), hi = Math.max(0.6, ...values);
  const size = 260, pad = 34;
  const x = (v) => pad + ((v - lo) / (hi - lo)) * (size - pad - 8);
  const y = (v) => size - pad - ((v - lo) / (hi - lo)) * (size - pad - 8);
  const ticks = [lo, 0.5, hi].map((v, i) => [
    svg("text", { x: x(v), y: size - pad + 16, "text-anchor": ["start", "middle", "end"][i], "font-size": 10, fill: "#667085" }, v.toFixed(2)),
    svg("text", { x: pad - 4, y: y(v) + 3, "text-anchor": "end", "font-size": 10, fill: "#667085" }, v.toFixed(2))]).flat();
  const path = bins.map((b, i) => `${i ? "L" : "M"}${x(b.p_mean).toFixed(1)},${y(b.observed).toFixed(1)}`).join(" ");
  fill(box, svg("svg", { viewBox: `0 0 ${size} ${size}`, width: "100%", role: "img", id: "calibration-plot",
                         "aria-label": "live calibration: observed share up against served probability, by decile" },
    svg("rect", { x: pad, y: 8, width: size - pad - 8, height: size - pad - 8, fill: "#fff", stroke: "#d8dde6" }),
    svg("line", { x1: x(lo), y1: y(lo), x2: x(hi), y2: y(hi), stroke: "#98a2b3", "stroke-dasharray": "4 3" }),
    svg("path", { d: path, fill: "none", stroke: "#2563eb", "stroke-width": 1.5 }),
    ...bins.map((b) => svg("circle", { cx: x(b.p_mean), cy: y(b.observed), r: 3.5, fill: "#2563eb" },
                           svg("title", {}, `served ${b.p_mean.toFixed(3)} · rose ${(100 * b.observed).toFixed(1)}% · n ${b.n}`))),
    ...ticks,
    svg("text", { x: pad + (size - pad) / 2, y: size - 4, "text-anchor": "middle", "font-size": 11, fill: "#1d2430" }, "served P(up)"),
    svg("text", { x: 10, y: 8 + (size - pad) / 2, "text-anchor": "middle", "font-size": 11, fill: "#1d2430",
                  transform: `rotate(-90 10 ${8 + (size - pad) / 2})` }, "share that rose")));
}

async function loadSkill(model, tf, horizon, days) {
  const q = new URLSearchParams({ timeframe: tf, days });
  if (horizon) q.set("horizon", horizon);
  const live = await api(`/models/${encodeURIComponent(model)}/live?${q}`);
  fill($("skill-table").tBodies[0], skillRows(live));
  fill($("skill-note"), `horizon ${live.horizon} · serving ${live.model_version || "none"} · the live window may hold older versions' forecasts`);
  drawAucOverTime($("auc-chart"), live);
  drawCalibration($("calibration"), live);
  return live;
}
