/* Explanations, drawn in plain SVG: a model's global importance (mean |contribution| on validation) as
   horizontal bars, and one answer's top reasons as signed bars (green raised P(up), red lowered it). */
"use strict";

function svgNode(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

/* rows: [{name, size, label, color}]; signed: bars grow both ways from a middle axis. */
function barChart(id, rows, signed) {
  const width = 560, rowH = 20, label = 170, pad = 60;
  const top = Math.max(...rows.map((r) => Math.abs(r.size)), 1e-12);
  const axis = signed ? label + (width - label - pad) / 2 : label;
  const span = signed ? (width - label - pad) / 2 : width - label - pad;
  const bars = rows.map((r, i) => {
    const w = (Math.abs(r.size) / top) * span;
    const x = signed && r.size < 0 ? axis - w : axis;
    const y = 4 + i * rowH;
    return svgNode("g", { class: "bar", "data-name": r.name },
      svgNode("text", { x: label - 6, y: y + 13, "text-anchor": "end", "font-size": 11, fill: "#1d2430" }, r.name),
      svgNode("rect", { x, y: y + 3, width: Math.max(w, 1), height: rowH - 6, fill: r.color, rx: 2 },
              svgNode("title", {}, r.label)),
      svgNode("text", { x: signed && r.size < 0 ? x - 4 : x + w + 4, y: y + 13, "text-anchor": signed && r.size < 0 ? "end" : "start",
                        "font-size": 10, fill: "#667085" }, r.size.toFixed(4)));
  });
  const height = 8 + rows.length * rowH;
  return svgNode("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", id },
    svgNode("line", { x1: axis, y1: 0, x2: axis, y2: height, stroke: "#98a2b3" }), ...bars);
}

function drawImportance(box, importance, horizon) {
  const rows = importance ? importance.by_horizon[String(horizon)] || Object.values(importance.by_horizon)[0] : null;
  if (!rows || !rows.length) { fill(box, empty("No importance for this version: it was trained before importance was kept.")); return; }
  fill(box, barChart("importance-chart", rows.map((f) => ({ name: f.name, size: f.mean_abs_contribution, color: "#2563eb",
    label: `${f.name}: mean |contribution| ${f.mean_abs_contribution.toFixed(5)} log-odds` })), false),
    el("div", { class: "muted small" }, `Mean |contribution| to the log-odds over ${importance.rows} validation rows (${importance.method.replaceAll("_", " ")}).`));
}

function drawReasons(box, explanation) {
  if (!explanation) { fill(box, empty("No explanation for this answer.")); return; }
  fill(box, barChart("reasons-chart", explanation.features.map((f) => ({ name: f.name, size: f.contribution,
    color: f.contribution >= 0 ? "#16a34a" : "#dc2626",
    label: `${f.name} = ${f.value === null ? "missing" : num(f.value, 4)}: ${f.contribution >= 0 ? "+" : ""}${f.contribution.toFixed(4)} log-odds` })), true),
    el("div", { class: "muted small" }, `The ten features that moved P(up) most (log-odds; green up, red down), `
      + `${explanation.members ? `the ${Object.keys(explanation.members).length} members' contributions averaged by their weights` : explanation.method.replaceAll("_", " ")}; `
      + `the others add ${explanation.rest.toFixed(4)}.`));
}
