// The index: every run under the runs folder, sortable and filterable, refreshed every 3 s.
import { api, el, fmt, sparkline } from "/static/common.js";

const state = { rows: [], sort: "date", asc: false, selected: new Set(), sig: "" };
const BASE = [
  ["id", "run"], ["state", "state"], ["task", "task"], ["signal", "signal"], ["model", "model"],
  ["size", "width x layers"], ["steps", "steps"], ["train_seconds", "train s"],
];

function metricKeys(rows) {
  const keys = new Set();
  for (const r of rows) for (const k of Object.keys(r.metrics)) keys.add(k);
  return [...keys].slice(0, 6);
}

function value(r, key) {
  if (key.startsWith("m:")) return r.metrics[key.slice(2)];
  return r[key];
}

function visible() {
  const f = document.getElementById("filter").value.toLowerCase().trim();
  const task = document.getElementById("task").value;
  let rows = state.rows.filter((r) => (!task || r.task === task));
  if (f) rows = rows.filter((r) => [r.id, r.task, r.signal, r.model, r.state, r.size].join(" ").toLowerCase().includes(f));
  const dir = state.asc ? 1 : -1;
  rows.sort((a, b) => {
    const x = value(a, state.sort), y = value(b, state.sort);
    if (x === y) return 0;
    if (x === undefined || x === null) return 1;
    if (y === undefined || y === null) return -1;
    return (x < y ? -1 : 1) * dir;
  });
  return rows;
}

function render() {
  const task = document.getElementById("task").value;
  const rows = visible();
  const mkeys = task ? metricKeys(rows) : [];
  const cols = [["", ""], ...BASE, ...mkeys.map((k) => ["m:" + k, k]), ...(task ? [] : [["metrics", "metrics"]]),
    ["loss", "loss curve"], ["date", "started"]];
  const thead = document.querySelector("#runs thead");
  thead.replaceChildren(el("tr", {}, ...cols.map(([k, label]) => {
    const th = el("th", { "data-key": k }, label);
    if (k === state.sort) th.className = "sorted" + (state.asc ? " asc" : "");
    if (k && k !== "metrics" && k !== "loss") th.addEventListener("click", () => {
      if (state.sort === k) state.asc = !state.asc; else { state.sort = k; state.asc = k === "id"; }
      render();
    });
    return th;
  })));
  const body = document.querySelector("#runs tbody");
  body.replaceChildren(...rows.map((r) => {
    const box = el("input", { type: "checkbox" });
    box.checked = state.selected.has(r.id);
    box.addEventListener("change", () => { box.checked ? state.selected.add(r.id) : state.selected.delete(r.id); updateCompare(); });
    const cells = [el("td", {}, box)];
    for (const [k] of cols.slice(1)) {
      if (k === "id") cells.push(el("td", {}, el("a", { href: "/run?r=" + encodeURIComponent(r.id) }, r.id)));
      else if (k === "state") cells.push(el("td", {}, el("span", { class: "state " + r.state }, r.state)));
      else if (k === "steps") cells.push(el("td", { class: "num" }, r.planned_steps && r.state !== "done" ? `${r.steps} / ${r.planned_steps}` : fmt(r.steps)));
      else if (k === "metrics") cells.push(el("td", { class: "small" }, Object.entries(r.metrics).slice(0, 3).map(([a, b]) => `${a} ${fmt(b)}`).join(" · ")));
      else if (k === "loss") cells.push(el("td", {}, sparkline(r.loss)));
      else if (k === "date") cells.push(el("td", {}, shortDate(r.date)));
      else { const v = value(r, k); cells.push(el("td", { class: typeof v === "number" ? "num" : "" }, fmt(v))); }
    }
    return el("tr", { "data-id": r.id }, ...cells);
  }));
  document.getElementById("count").textContent = `${rows.length} of ${state.rows.length} runs`;
}

function shortDate(seconds) {
  const d = new Date(seconds * 1000), p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function updateCompare() {
  const b = document.getElementById("compare");
  b.disabled = state.selected.size < 2;
  b.textContent = `compare selected (${state.selected.size})`;
}

async function refresh() {
  try {
    const data = await api("/api/runs");
    const sig = JSON.stringify(data.runs);
    document.getElementById("root").textContent = data.root;
    if (sig !== state.sig) {
      state.sig = sig; state.rows = data.runs;
      const sel = document.getElementById("task"), cur = sel.value;
      const tasks = [...new Set(data.runs.map((r) => r.task))].sort();
      sel.replaceChildren(el("option", { value: "" }, "all tasks"), ...tasks.map((t) => el("option", { value: t }, t)));
      sel.value = tasks.includes(cur) ? cur : "";
      render();
    }
    document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = "server unreachable: " + e.message;
  }
}

document.getElementById("filter").addEventListener("input", render);
document.getElementById("task").addEventListener("change", render);
document.getElementById("compare").addEventListener("click", () => {
  location.href = "/run?" + [...state.selected].map((id) => "r=" + encodeURIComponent(id)).join("&");
});
const params = new URLSearchParams(location.search);
if (params.get("filter")) document.getElementById("filter").value = params.get("filter");
await refresh();
document.body.dataset.readyMs = String(Math.round(performance.now()));
document.body.dataset.ready = "1";
setInterval(refresh, 3000);
