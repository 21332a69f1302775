/* Shared helpers of the dashboard pages: the JSON API, the API key (sessionStorage only), small DOM
   builders, number formats, sortable tables. No framework, nothing loaded from elsewhere. */
"use strict";

const KEY_NAME = "coinpredict.apiKey";

class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || "http_error";
    this.field = err.field || null;
  }
  toString() { return `${this.status} ${this.code}: ${this.message}`; }
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const resp = await fetch(path, { ...options, headers });
  let body = null;
  try { body = await resp.json(); } catch (e) { body = null; }
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}

/* The answer, or null where the API says the thing is not trained (a page shows its empty state). */
async function apiUnlessNotTrained(path) {
  try { return await api(path); } catch (e) { if (e instanceof ApiError && e.code === "not_trained") return null; throw e; }
}

function apiKey() { return sessionStorage.getItem(KEY_NAME) || ""; }

/* A state-changing call: sends the key kept for this tab; the API's own error comes back as an ApiError. */
async function manage(method, path, body) {
  const key = apiKey();
  if (!key) throw new ApiError(401, { error: { code: "no_key", message: "enter the API key (top right) and press Keep first" } });
  const headers = { "X-API-Key": key };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return api(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function $(id) { return document.getElementById(id); }
function fill(node, ...children) { node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined)); return node; }
function empty(text) { return el("div", { class: "empty" }, text); }

function num(x, digits = 4) { return x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits); }
/* An AUC with its 95% interval when there is one: "0.5407 [0.530, 0.552]". */
function aucText(auc, ci) {
  const interval = ci && ci[0] !== null && ci[0] !== undefined ? ` [${num(ci[0], 3)}, ${num(ci[1], 3)}]` : "";
  return auc === null || auc === undefined ? "–" : `${num(auc)}${interval}`;
}
function pct(x, digits = 0) { return x === null || x === undefined ? "–" : `${(100 * x).toFixed(digits)}%`; }
function signedPct(x, digits = 2) { return x === null || x === undefined ? "–" : `${x > 0 ? "+" : ""}${(100 * x).toFixed(digits)}%`; }
function money(x) { return x === null || x === undefined ? "–" : Number(x).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.abs(seconds);
  const text = s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${(s / 86400).toFixed(1)} d`;
  return seconds < 0 ? `in ${text}` : text;
}
function shortTime(iso) { return iso ? iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z") : "–"; }
function pill(text, cls) { return el("span", { class: `pill ${cls || text || ""}` }, text ?? "–"); }

/* A bar with its label beside it, not inside: a long stage ("training transformer_timeseries: epoch 12, …")
   wraps under the cell's width instead of being cut off at the bar's end. */
function progressBar(fraction, label) {
  const f = Math.max(0, Math.min(1, fraction || 0));
  return el("div", { class: "progress", role: "progressbar", "aria-valuenow": Math.round(f * 100), "aria-valuemin": 0, "aria-valuemax": 100 },
            el("span", { class: "track" }, el("span", { style: `width:${(f * 100).toFixed(1)}%` })),
            el("em", {}, `${(f * 100).toFixed(0)}%${label ? " · " + label : ""}`));
}

function notice(message, kind) {
  const n = $("notice");
  if (!message) { n.hidden = true; return; }
  n.className = `notice ${kind || ""}`;
  n.textContent = message;
  n.hidden = false;
}

/* Runs a page's loader, showing what went wrong instead of leaving an unhandled rejection. */
async function guarded(fn) {
  try { await fn(); } catch (e) { notice(e instanceof ApiError ? e.toString() : `error: ${e.message || e}`); }
}

/* Whether the API refused the thing a page is about (an unknown or unreadable coin or model id). */
function isUnknown(e, field) {
  return e instanceof ApiError && (e.status === 404 || e.status === 400) && (e.field === field || e.code === `unknown_${field}`);
}

/* A page about something that does not exist: its title, the API's error and the way back, nothing else
   (no placeholders or empty charts under the error). */
function onlyError(title, err, back, backText) {
  fill(document.querySelector("main"), el("h1", {}, title),
       el("div", { id: "notice", class: "notice", role: "alert" }, err.toString()),
       el("p", {}, el("a", { href: back, id: "back" }, backText)));
}

function param(name, fallback) { return new URLSearchParams(location.search).get(name) || fallback; }
function setParams(values) {
  const params = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(values)) { if (v === null || v === undefined || v === "") params.delete(k); else params.set(k, v); }
  history.replaceState(null, "", `${location.pathname}${params.toString() ? "?" + params : ""}`);
}

function options(select, values, chosen) {
  fill(select, values.map((v) => el("option", { value: v, selected: String(v) === String(chosen) }, v)));
}

/* Timeframes shortest first (15m, 1h, 4h, 1d), not in the string order (15m, 1d, 1h, 4h). */
const TIMEFRAME_MINUTES = { "1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "1d": 1440, "1w": 10080 };
function byDuration(tfs) {
  return [...tfs].sort((a, b) => (TIMEFRAME_MINUTES[a] ?? Infinity) - (TIMEFRAME_MINUTES[b] ?? Infinity) || a.localeCompare(b));
}
/* The timeframe a page opens on: the one the link names, else 1h where it is trained, else the shortest. */
function defaultTimeframe(tfs) {
  return param("timeframe", null) || (tfs.includes("1h") ? "1h" : byDuration(tfs)[0]);
}

/* Timeframes with trained models (the health answer), else the ones the service knows; shortest first. */
async function trainedTimeframes(health) {
  const h = health || await api("/health");
  return h.timeframes.length ? byDuration(h.timeframes) : ["1h", "4h", "1d"];
}

/* A table whose header cells (data-key) sort its rows; render(row) gives a <tr>. */
function sortableTable(table, render, initial) {
  let rows = [];
  let key = initial ? initial.key : null;
  let dir = initial ? initial.dir : 1;
  const heads = [...table.querySelectorAll("th[data-key]")];
  const draw = () => {
    const sorted = key === null ? rows : [...rows].sort((a, b) => {
      const x = a[key], y = b[key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * dir;
    });
    heads.forEach((h) => { h.classList.toggle("sorted-asc", h.dataset.key === key && dir > 0); h.classList.toggle("sorted-desc", h.dataset.key === key && dir < 0); });
    fill(table.tBodies[0], sorted.map(render));
  };
  heads.forEach((h) => h.addEventListener("click", () => { dir = key === h.dataset.key ? -dir : 1; key = h.dataset.key; draw(); }));
  return { set(newRows) { rows = newRows; draw(); } };
}

function emptyRow(table, text) {
  fill(table.tBodies[0], el("tr", {}, el("td", { colspan: table.tHead.rows[0].cells.length, class: "muted" }, text)));
}

function initKeyForm() {
  const input = $("apikey");
  const state = $("apikey-state");
  const show = () => { state.textContent = apiKey() ? "kept for this tab" : "none"; };
  input.value = apiKey();
  $("apikey-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.value) sessionStorage.setItem(KEY_NAME, input.value); else sessionStorage.removeItem(KEY_NAME);
    show();
  });
  show();
}

document.addEventListener("DOMContentLoaded", initKeyForm);
