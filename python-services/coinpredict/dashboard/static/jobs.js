/* Jobs: the list with live progress, a form that starts a training job, cancel for running ones. */
"use strict";

let timer = null;

function resultText(j) {
  if (j.error) return j.error;
  if (!j.result) return "";
  const promoted = j.result.promoted || [];
  const written = Object.keys(j.result.versions || {}).length;
  return `${written} version${written === 1 ? "" : "s"} written, ${promoted.length} promoted`;
}

function jobRow(j) {
  const active = j.status === "queued" || j.status === "running";
  const cancel = active ? el("button", { class: "danger", "data-action": "cancel", onclick: async (e) => {
    e.target.disabled = true;
    try { await manage("DELETE", `/jobs/${encodeURIComponent(j.id)}`); await refresh(); }
    catch (err) { fill($("job-result"), err.toString()); $("job-result").className = "result error"; e.target.disabled = false; }
  } }, "Cancel") : null;
  return el("tr", { id: j.id, "data-status": j.status },
    el("td", { class: "version" }, j.id.slice(0, 8)), el("td", {}, j.timeframe), el("td", {}, j.params.profile || ""),
    el("td", {}, pill(j.status, j.status === "succeeded" ? "ok" : j.status === "failed" ? "failed" : "")),
    el("td", {}, progressBar(j.progress, j.stage)), el("td", {}, shortTime(j.created_at)), el("td", {}, shortTime(j.finished_at)),
    el("td", { class: "small result-text" }, resultText(j), j.log_tail.length ? el("details", {}, el("summary", {}, "log"), el("pre", { class: "log" }, j.log_tail.join("\n"))) : null),
    el("td", {}, cancel));
}

async function refresh() {
  const list = await api("/jobs?limit=30");
  const box = $("jobs");
  if (!list.count) fill(box, empty("No jobs yet: start one above (the worker process runs it)."));
  else fill(box, el("div", { class: "scroll" }, el("table", { class: "grid", id: "jobs-table" },
    el("thead", {}, el("tr", {}, ["job", "timeframe", "profile", "status", "progress", "created", "finished", "result", ""].map((t) => el("th", {}, t)))),
    el("tbody", {}, list.jobs.map(jobRow)))));
  const running = list.jobs.some((j) => j.status === "queued" || j.status === "running");
  clearTimeout(timer);
  timer = setTimeout(() => guarded(refresh), running ? 1000 : 10000);
}

async function submit(e) {
  e.preventDefault();
  const out = $("job-result");
  const models = $("job-models").value.trim();
  const body = { timeframe: $("job-timeframe").value, profile: $("job-profile").value, promote: $("job-promote").value,
                 models: !models || models === "all" ? "all" : models.split(/[\s,]+/).filter(Boolean) };
  if ($("job-end").value.trim()) body.end = $("job-end").value.trim();
  $("job-submit").disabled = true;
  try {
    const job = await manage("POST", "/jobs", body);
    fill(out, `job ${job.id.slice(0, 8)} ${job.status}${job.stage && job.stage !== job.status ? `: ${job.stage}` : ""}`);
    out.className = "result ok";
    await refresh();
  } catch (err) {
    fill(out, err.toString());
    out.className = "result error";
  } finally { $("job-submit").disabled = false; }
}

document.addEventListener("DOMContentLoaded", () => guarded(async () => {
  $("job-form").addEventListener("submit", submit);
  await refresh();
}));
