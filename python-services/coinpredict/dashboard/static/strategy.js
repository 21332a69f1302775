/* One strategy's paper book: status with pause and resume (the API key), its figures, the equity curve
   against buy-and-hold of its universe and the equal-weight market (GET .../equity?benchmarks=true), the
   drawdown under it, positions now, each limit's state, the limit events and the trades. */
"use strict";

const SID = document.getElementById("strategy-title").dataset.strategy;
const enc = encodeURIComponent;
const STATUS_CLASS = { running: "ok", paused: "warning", halted: "bad", deleted: "" };
const CURVES = [["equity", "strategy", "#2563eb", 2], ["buy_and_hold", "buy-and-hold", "#d97706", 1], ["market", "market", "#667085", 1]];
let charts = [];

/* A universe named in a line: its first coins and how many more (a top-100 list would fill the card). */
function coins(list, shown = 8) { return list.length > shown ? `${list.slice(0, shown).join(", ")} and ${list.length - shown} more` : list.join(", "); }
function gainClass(x) { return x < 0 ? "loss" : x > 0 ? "gain" : ""; }
function table(id, heads, rows) {
  return el("div", { class: "scroll" }, el("table", { class: "grid", id },
    el("thead", {}, el("tr", {}, heads.map(([label, cls]) => el("th", { class: cls }, label)))), el("tbody", {}, rows)));
}
/* A section whose call failed shows the API's error in place, not a blank box. */
function failed(box, err) { fill(box, el("div", { class: "empty error", role: "alert" }, err.toString())); }

function actionButton(action, label) {
  return el("button", { class: "secondary", "data-action": action, onclick: async (e) => {
    const result = $("action-result");
    e.target.disabled = true;
    try {
      const s = await manage("POST", `/strategies/${enc(SID)}/${action}`);
      fill(result, `${action === "pause" ? "paused" : "resumed"}: now ${s.status}`);
      result.className = "result ok";
      await load();
    } catch (err) { fill(result, err.toString()); result.className = "result error"; e.target.disabled = false; }
  } }, label);
}

function drawHeader(s) {
  const c = s.config;
  fill($("strategy-title"), `${s.name} `, el("span", { class: "muted small" }, `${s.id} · ${s.kind} · ${s.timeframe}`));
  fill($("status-line"), pill(s.status, STATUS_CLASS[s.status] ?? ""), " ",
       s.status === "deleted" ? "it no longer trades; its history stays readable. " : "",
       s.halt_reason ? el("span", { id: "halt-reason" }, `${s.halt_reason} `) : "",
       el("span", { class: "muted" }, s.last_close ? `last close ${shortTime(s.last_close)}` : "no close yet"));
  const can = { pause: ["running", "halted"].includes(s.status), resume: ["paused", "halted"].includes(s.status) };
  fill($("actions"), can.pause ? actionButton("pause", "Pause") : null, " ", can.resume ? actionButton("resume", "Resume") : null);
  fill($("equity"), money(s.equity), " ", el("span", { class: gainClass(s.return) }, signedPct(s.return)));
  fill($("equity-detail"), `from ${money(c.capital)} · cash ${money(s.cash)} · Sharpe ${num(s.sharpe, 2)}`);
  const dd = s.limits.drawdown || {};
  fill($("drawdown"), `${pct(dd.drawdown, 2)} now`);
  fill($("drawdown-detail"), `max ${pct(s.max_drawdown, 2)} · the limit halts it at ${pct(dd.limit, 0)}`);
  fill($("exposure"), `${pct(s.exposure, 0)} gross`);
  fill($("exposure-detail"), `net ${pct(s.net_exposure, 0)} · ${s.positions.length} position${s.positions.length === 1 ? "" : "s"} open`);
  const universe = Array.isArray(c.universe) ? coins(c.universe) : `top ${c.universe.top}`;
  fill($("config"), `${c.kind}${c.kind === "topk" ? ` k=${c.k}` : ""} · h${c.horizon} · ${c.model}`);
  fill($("config-detail"), `${universe} · ${c.sizing.method}${c.short ? " · long and short" : ""} · fee ${c.costs.fee_bps} + slippage ${c.costs.slippage_bps} bps · version ${s.version}`);
}

/* One value per second of time (the chart needs strictly ascending times): the last point of a time wins. */
function series(points, values) {
  const byTime = new Map();
  points.forEach((p, i) => { if (values[i] !== null && values[i] !== undefined) byTime.set(Date.parse(p.time) / 1000, values[i]); });
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}

function newChart(box) {
  const LWC = window.LightweightCharts;
  box.replaceChildren();
  const chart = LWC.createChart(box, { autoSize: true, layout: { background: { color: "#ffffff" }, textColor: "#1d2430" },
                                       timeScale: { timeVisible: true, secondsVisible: false }, grid: { vertLines: { color: "#eef0f3" }, horzLines: { color: "#eef0f3" } } });
  charts.push(chart);
  return chart;
}

function drawCurves(eq, s) {
  charts.forEach((c) => c.remove());
  charts = [];
  if (!eq.count) {
    const text = s.status === "deleted" ? "No closes: it was deleted before its first close."
      : `No closes yet: the worker trades it at each ${s.timeframe} close; the curve starts at the first.`;
    fill($("equity-chart"), empty(text)); fill($("drawdown-chart"), empty(text)); fill($("equity-note"));
    return;
  }
  const LWC = window.LightweightCharts;
  const b = eq.benchmarks || {};
  const values = { equity: eq.points.map((p) => p.equity), buy_and_hold: b.buy_and_hold, market: b.market };
  const chart = newChart($("equity-chart"));
  const box = $("equity-chart");
  const fmt = { type: "price", precision: 2, minMove: 0.01 };
  for (const [key, label, color, width] of CURVES) {
    if (!values[key]) continue;
    const line = chart.addSeries(LWC.LineSeries, { color, lineWidth: width, priceFormat: fmt, title: label, priceLineVisible: false });
    line.setData(series(eq.points, values[key]));
    box.dataset[key === "buy_and_hold" ? "hold" : key] = values[key][values[key].length - 1];
    if (key === "equity") line.createPriceLine({ price: eq.points[0].equity, color: "#98a2b3", lineStyle: 2, lineWidth: 1, axisLabelVisible: false, title: "start" });
  }
  box.dataset.points = eq.count;
  chart.timeScale().fitContent();
  drawDrawdown(eq);
  const last = (k) => (values[k] ? money(values[k][values[k].length - 1]) : "no candles to value it");
  fill($("equity-note"), el("div", { class: "legend" }, CURVES.map(([key, label, color]) => el("span", {}, el("i", { style: `background:${color}` }), `${label} ${last(key)}`))),
       `${eq.count} closes, ${shortTime(eq.points[0].time)} to ${shortTime(eq.points[eq.count - 1].time)}. `
       + `The benchmarks start from the first close's equity and pay no costs: buy-and-hold splits it equally over ${coins(b.universe || []) || "the universe"} `
       + "and holds it; the market holds every coin the service has candles for, equal weights rebalanced each close.");
}

function drawDrawdown(eq) {
  const LWC = window.LightweightCharts;
  let peak = -Infinity;
  const dd = eq.points.map((p) => { peak = Math.max(peak, p.equity); return peak > 0 ? -100 * (1 - p.equity / peak) : 0; });
  const chart = newChart($("drawdown-chart"));
  const area = chart.addSeries(LWC.AreaSeries, { lineColor: "#dc2626", topColor: "rgba(220,38,38,0.05)", bottomColor: "rgba(220,38,38,0.35)",
                                                  lineWidth: 1, invertFilledArea: true, priceFormat: { type: "custom", formatter: (v) => `${v.toFixed(2)}%` },
                                                  title: "drawdown", priceLineVisible: false });
  area.setData(series(eq.points, dd));
  chart.timeScale().fitContent();
}

function drawPositions(s) {
  if (!s.positions.length) { fill($("positions"), empty(s.last_close ? "Nothing held at the last close." : "Nothing held: no close yet.")); return; }
  fill($("positions"), table("positions-table", [["coin"], ["side"], ["quantity", "num"], ["entry", "num"], ["last", "num"], ["value", "num"], ["of equity", "num"], ["unrealised P&L", "num"]],
    s.positions.map((p) => {
      const pnl = (p.last_price - p.entry_price) * p.quantity;
      return el("tr", { "data-symbol": p.symbol },
        el("td", {}, el("a", { href: `/ui/markets/${enc(p.symbol)}?timeframe=${enc(s.timeframe)}` }, p.symbol)),
        el("td", {}, pill(p.quantity < 0 ? "short" : "long", p.quantity < 0 ? "SELL" : "BUY")),
        el("td", { class: "num" }, num(Math.abs(p.quantity), 6)), el("td", { class: "num" }, num(p.entry_price, 4)),
        el("td", { class: "num" }, num(p.last_price, 4)), el("td", { class: "num" }, money(p.value)),
        el("td", { class: "num" }, pct(s.equity > 0 ? p.value / s.equity : null, 1)),
        el("td", { class: `num ${gainClass(pnl)}` }, money(pnl)));
    })));
}

function drawLimits(s) {
  const l = s.limits, c = s.config.limits;
  const of = (now, limit, digits = 1) => `${pct(now, digits)} of ${limit === null || limit === undefined ? "no limit" : pct(limit, digits)}`;
  const cooldowns = Object.entries(l.cooldown_until || {});
  const rows = [
    ["drawdown", of(l.drawdown.drawdown, l.drawdown.limit), l.halted ? pill("halted", "bad") : pill("ok", "ok"), l.halted || `peak ${money(l.drawdown.peak_equity)}`],
    ["daily loss", of(Math.max(0, l.daily_loss.loss), l.daily_loss.limit), l.daily_loss.locked_until ? pill("locked", "warning") : pill("ok", "ok"),
     l.daily_loss.locked_until ? `no new position until ${shortTime(new Date(l.daily_loss.locked_until).toISOString())}` : `day started at ${money(l.daily_loss.day_start_equity)}`],
    ["open positions", `${l.positions.open} of ${l.positions.limit ?? "no limit"}`, "", `each at most ${pct(c.max_position, 0)} of equity`],
    ["gross exposure", of(l.gross.exposure, l.gross.limit), "", ""],
    ["net exposure", of(l.net.exposure, l.net.limit), "", ""],
    ["cooldowns", cooldowns.length ? `${cooldowns.length} coin${cooldowns.length === 1 ? "" : "s"}` : "none", "",
     cooldowns.map(([sym, t]) => `${sym} until ${shortTime(new Date(t).toISOString())}`).join(", ") || `${c.cooldown_candles || 0} candles after a losing exit`],
  ];
  fill($("limits"), table("limits-table", [["limit"], ["now"], ["state"], ["detail"]],
    rows.map(([name, now, state, detail]) => el("tr", { "data-limit": name }, el("td", {}, name), el("td", { class: "num" }, now),
                                                  el("td", {}, state), el("td", { class: "wrap small" }, detail)))));
}

function drawEvents(list) {
  if (!list.count) { fill($("events"), empty("No limit events yet: daily-loss locks, drawdown halts, cuts to a cap, refused opens and cooldowns appear here.")); return; }
  fill($("events"), table("events-table", [["time"], ["limit"], ["what it did"], ["coins"]],
    list.events.map((e) => el("tr", { "data-limit": e.limit }, el("td", {}, shortTime(e.time)),
      el("td", {}, pill(e.limit, e.limit === "drawdown" ? "bad" : e.limit === "resumed" ? "ok" : "warning")),
      el("td", { class: "wrap" }, e.detail), el("td", { class: "wrap small" }, e.symbols.join(", "))))));
}

function drawTrades(list) {
  if (!list.count) { fill($("trades"), empty("No trades yet: orders decided at a close fill at the next candle's open.")); return; }
  fill($("trades"), table("trades-table", [["time"], ["coin"], ["side"], ["quantity", "num"], ["price", "num"], ["notional", "num"], ["fee", "num"],
                                           ["reason"], ["P&L", "num"], ["version", "num"]],
    list.trades.map((t) => el("tr", { "data-side": t.side }, el("td", {}, shortTime(t.time)), el("td", {}, t.symbol),
      el("td", {}, pill(t.side, t.side === "buy" ? "BUY" : "SELL")), el("td", { class: "num" }, num(t.quantity, 6)),
      el("td", { class: "num" }, num(t.price, 4)), el("td", { class: "num" }, money(t.quantity * t.price)), el("td", { class: "num" }, money(t.fee)),
      el("td", {}, t.reason), el("td", { class: `num ${gainClass(t.pnl)}` }, t.pnl === null ? "" : money(t.pnl)),
      el("td", { class: "num" }, t.version)))));
}

async function section(box, call, draw) {
  try { draw(await call); } catch (err) { failed(box, err); }
}

async function load() {
  const s = await api(`/strategies/${enc(SID)}`);
  drawHeader(s);
  drawPositions(s);
  drawLimits(s);
  await Promise.all([
    section($("equity-chart"), api(`/strategies/${enc(SID)}/equity?benchmarks=true`), (eq) => drawCurves(eq, s)),
    section($("events"), api(`/strategies/${enc(SID)}/events?limit=100`), drawEvents),
    section($("trades"), api(`/strategies/${enc(SID)}/trades?limit=100`), drawTrades)]);
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  try { await load(); } catch (e) { if (isUnknown(e, "strategy")) onlyError(SID, e, "/ui/strategies", "all strategies"); else throw e; }
}));
