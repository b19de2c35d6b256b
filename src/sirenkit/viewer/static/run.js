// A run page: one run, or several of the same task side by side with linked views.
import { api, el, fmt, LineChart, lowerIsBetter, PALETTE } from "/static/common.js";
import { MeshView } from "/static/mesh.js";

const ids = new URLSearchParams(location.search).getAll("r");
const main = document.getElementById("main");
const fileUrl = (run, name) => "/files/" + run.id.split("/").map(encodeURIComponent).join("/") + "/" + encodeURIComponent(name);
const q = (o) => Object.entries(o).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
const has = (run, name) => run.files.some((f) => f.name === name);
const shown = new Set(); // files already drawn by a task view (left out of the gallery)

let parent = main; // where section() puts the next section
function section(title, ...children) {
  const s = el("section", {}, el("h2", {}, title), ...children);
  parent.append(s); return s;
}
function figure(child, caption) { return el("figure", {}, child, el("figcaption", {}, caption)); }
function img(run, name, cls = "gallery") { shown.add(name); return el("img", { class: cls, src: fileUrl(run, name), alt: name }); }

// ---------------------------------------------------------------------------- summary and curves
function summaryTable(runs) {
  const keys = [];
  for (const r of runs) for (const k of Object.keys(r.summary || r.metrics || {})) if (!keys.includes(k)) keys.push(k);
  const rows = keys.map((k) => {
    const vals = runs.map((r) => (r.summary || r.metrics || {})[k]);
    const nums = vals.filter((v) => typeof v === "number");
    const best = nums.length > 1 ? (lowerIsBetter(k) ? Math.min(...nums) : Math.max(...nums)) : null;
    return el("tr", {}, el("td", {}, k), ...vals.map((v) => el("td", { class: "num" + (v === best && typeof v === "number" ? " best" : "") }, fmt(v))));
  });
  const head = el("tr", {}, el("th", {}, ""), ...runs.map((r, i) => el("th", {}, el("span", { class: "swatch", style: `background:${PALETTE[i % 8]}` }), r.id)));
  const note = runs.length > 1 ? el("p", { class: "note" }, "bold: best of the runs (lower is better for losses, errors and distances)") : "";
  section(runs.length > 1 ? "metrics" : "summary", el("table", { class: "compact" }, el("thead", {}, head), el("tbody", {}, ...rows)), note);
}

async function curves(runs) {
  const canvas = el("canvas", { class: "view", width: 680, height: 260 });
  const pick = el("select", {}), log = el("input", { type: "checkbox", checked: "" });
  const evalBox = el("input", { type: "checkbox" });
  const box = el("div", { class: "chartbox" }, canvas);
  section("training curves", el("div", { class: "controls" }, "metric ", pick, el("label", {}, log, " log scale"),
    el("label", {}, evalBox, " full evaluations only"), el("span", { class: "note", id: "live" }, "")), box);
  const chart = new LineChart(canvas, { logY: true });
  const logs = runs.map(() => ({ records: [], offset: 0 }));
  const draw = () => {
    const keys = new Set();
    for (const l of logs) for (const r of l.records) for (const [k, v] of Object.entries(r)) if (typeof v === "number" && !["step", "time"].includes(k)) keys.add(k);
    const cur = pick.value || "loss";
    pick.replaceChildren(...[...keys].sort().map((k) => el("option", { value: k }, k)));
    pick.value = keys.has(cur) ? cur : [...keys][0] || "";
    chart.logY = log.checked;
    chart.set(logs.map((l, i) => {
      const rs = l.records.filter((r) => typeof r[pick.value] === "number" && (!evalBox.checked || r.eval));
      return { name: runs[i].id, color: PALETTE[i % 8], xs: rs.map((r) => r.step), ys: rs.map((r) => r[pick.value]) };
    }));
  };
  for (const c of [pick, log, evalBox]) c.addEventListener("change", draw);
  const poll = async () => {
    let more = false;
    for (const [i, r] of runs.entries()) {
      const d = await api("/api/metrics?" + q({ id: r.id, offset: logs[i].offset }));
      if (d.records.length) { logs[i].records.push(...d.records); more = true; }
      logs[i].offset = d.offset;
    }
    if (more) draw();
  };
  await poll(); draw();
  if (runs.some((r) => r.state === "running")) {
    document.getElementById("live").textContent = "live: polling metrics.jsonl every 2 s";
    setInterval(poll, 2000);
  }
}

// ---------------------------------------------------------------------------- images: re-rendered zoom
function imageView(runs) {
  const first = runs.find((r) => has(r, "ground_truth.png")) || runs[0];
  const gt = new Image(); gt.src = fileUrl(first, "ground_truth.png"); shown.add("ground_truth.png"); shown.add("reconstruction.png");
  const s = section("zoom: the network re-rendered over the window (continuous), next to the ground truth's pixels");
  const info = el("span", { class: "note" }, "");
  const controls = el("div", { class: "controls" },
    el("button", { onclick: () => setWin([-1, 1, -1, 1]) }, "reset"),
    ...[2, 4, 8, 16].map((z) => el("button", { onclick: () => zoomAt(0, 0, z, true) }, `${z}x centre`)),
    el("span", { class: "note" }, "wheel: zoom at the cursor · drag: pan"), info);
  s.append(controls);
  const row = el("div", { class: "row" }); s.append(row);
  let win = [-1, 1, -1, 1], W = 400, H = 400;
  const gtCanvas = el("canvas", { class: "view zoom", width: W, height: H, "data-role": "ground-truth" });
  row.append(figure(gtCanvas, `ground truth pixels (${first.id})`));
  const nets = runs.map((r, i) => {
    const c = el("canvas", { class: "view zoom", width: W, height: H, "data-role": "render", "data-run": r.id });
    row.append(figure(c, `network re-rendered: ${r.id}`)); return { run: r, canvas: c, seq: 0, color: PALETTE[i % 8] };
  });
  let timer = null;
  const drawGt = () => {
    if (!gt.naturalWidth) return;
    const g = gtCanvas.getContext("2d"); g.imageSmoothingEnabled = false;
    const h = gt.naturalHeight, w = gt.naturalWidth;
    const u = (c, n) => ((c + 1) / 2) * (n - 1) + 0.5; // coordinate -> pixel-edge units
    const sy0 = u(win[0], h), sy1 = u(win[1], h), sx0 = u(win[2], w), sx1 = u(win[3], w);
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    g.drawImage(gt, sx0, sy0, sx1 - sx0, sy1 - sy0, 0, 0, W, H);
  };
  // A quarter-resolution preview first (1/16 of the work), then the full render replaces it.
  const render = () => {
    for (const n of nets) {
      const seq = ++n.seq, t0 = performance.now(), w0 = win.slice();
      const url = (h, w) => "/api/render?" + q({ id: n.run.id, y0: w0[0], y1: w0[1], x0: w0[2], x1: w0[3], h, w });
      const full = new Image(), preview = new Image();
      full.onload = () => {
        if (seq !== n.seq) return;
        const g = n.canvas.getContext("2d"); g.imageSmoothingEnabled = false;
        g.drawImage(full, 0, 0);
        n.canvas.dataset.window = w0.join(",");
        n.canvas.dataset.ms = String(Math.round(performance.now() - t0));
        info.textContent = `window y [${w0[0].toFixed(4)}, ${w0[1].toFixed(4)}] x [${w0[2].toFixed(4)}, ${w0[3].toFixed(4)}], ` +
          `${(2 / (w0[1] - w0[0])).toFixed(1)}x, ${W}x${H} px rendered in ${n.canvas.dataset.ms} ms`;
      };
      preview.onload = () => {
        if (seq !== n.seq) return;
        const g = n.canvas.getContext("2d"); g.imageSmoothingEnabled = true;
        g.drawImage(preview, 0, 0, W, H);
        n.canvas.dataset.window = "";
        info.textContent = `window y [${w0[0].toFixed(4)}, ${w0[1].toFixed(4)}] x [${w0[2].toFixed(4)}, ${w0[3].toFixed(4)}]: ` +
          `quarter-resolution preview shown, rendering ${W}x${H} px...`;
        full.src = url(H, W);
      };
      preview.onerror = () => { if (seq === n.seq) full.src = url(H, W); };
      preview.src = url(Math.ceil(H / 4), Math.ceil(W / 4));
    }
  };
  const setWin = (w) => {
    const clamp = (a, b) => {
      if (b - a >= 2) return [-1, 1];
      if (a < -1) return [-1, -1 + (b - a)];
      if (b > 1) return [1 - (b - a), 1];
      return [a, b];
    };
    const [y0, y1] = clamp(w[0], w[1]), [x0, x1] = clamp(w[2], w[3]);
    win = [y0, y1, x0, x1]; drawGt();
    clearTimeout(timer); timer = setTimeout(render, 120);
  };
  const zoomAt = (cy, cx, factor, absolute = false) => {
    const sy = absolute ? 2 / factor : (win[1] - win[0]) / factor, sx = absolute ? 2 / factor : (win[3] - win[2]) / factor;
    if (sy < 1e-4) return;
    const fy = absolute ? 0.5 : (cy - win[0]) / (win[1] - win[0]), fx = absolute ? 0.5 : (cx - win[2]) / (win[3] - win[2]);
    setWin([cy - fy * sy, cy - fy * sy + sy, cx - fx * sx, cx - fx * sx + sx]);
  };
  const at = (c, e) => {
    const r = c.getBoundingClientRect();
    return [win[0] + ((e.clientY - r.top) / r.height) * (win[1] - win[0]), win[2] + ((e.clientX - r.left) / r.width) * (win[3] - win[2])];
  };
  for (const c of [gtCanvas, ...nets.map((n) => n.canvas)]) {
    c.addEventListener("wheel", (e) => { e.preventDefault(); const [y, x] = at(c, e); zoomAt(y, x, Math.exp(-e.deltaY * 0.002)); }, { passive: false });
    let drag = null;
    c.addEventListener("pointerdown", (e) => { drag = [e.clientX, e.clientY]; c.setPointerCapture(e.pointerId); });
    c.addEventListener("pointerup", () => { drag = null; });
    c.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const r = c.getBoundingClientRect();
      const dy = ((e.clientY - drag[1]) / r.height) * (win[1] - win[0]), dx = ((e.clientX - drag[0]) / r.width) * (win[3] - win[2]);
      drag = [e.clientX, e.clientY]; setWin([win[0] - dy, win[1] - dy, win[2] - dx, win[3] - dx]);
    });
  }
  gt.onload = () => {
    const h = gt.naturalHeight, w = gt.naturalWidth;
    const side = nets.length > 1 ? 340 : 480;
    if (w >= h) { W = side; H = Math.max(32, Math.round((side * h) / w)); } else { H = side; W = Math.max(32, Math.round((side * w) / h)); }
    for (const c of [gtCanvas, ...nets.map((n) => n.canvas)]) { c.width = W; c.height = H; }
    setWin(win); render();
  };
  gt.onerror = () => render();
  window.viewerZoom = (w) => { setWin(w); render(); }; // for tests and links
  for (const name of ["derivatives.png"]) {
    const withIt = runs.filter((r) => has(r, name));
    if (withIt.length) section("gradient and Laplacian (ground truth and fit)", el("div", { class: "row" }, ...withIt.map((r) => figure(img(r, name), r.id))));
  }
}

// ---------------------------------------------------------------------------- audio
async function waveform(canvas, url, audio) {
  const g = canvas.getContext("2d"), W = canvas.width, H = canvas.height;
  let peaks = null;
  try {
    const buf = await (await fetch(url)).arrayBuffer();
    const ctx = new OfflineAudioContext(1, 1, 44100);
    const data = (await ctx.decodeAudioData(buf)).getChannelData(0);
    peaks = [];
    const per = Math.max(1, Math.floor(data.length / W));
    for (let x = 0; x < W; x++) {
      let lo = 0, hi = 0;
      for (let i = x * per; i < Math.min(data.length, (x + 1) * per); i++) { lo = Math.min(lo, data[i]); hi = Math.max(hi, data[i]); }
      peaks.push([lo, hi]);
    }
  } catch (e) { canvas.dataset.error = e.message; }
  const draw = () => {
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    g.strokeStyle = "#e6e9ef"; g.beginPath(); g.moveTo(0, H / 2); g.lineTo(W, H / 2); g.stroke();
    if (peaks) {
      g.fillStyle = "#2a62c9";
      peaks.forEach(([lo, hi], x) => g.fillRect(x, H / 2 - hi * H / 2, 1, Math.max(1, (hi - lo) * H / 2)));
    }
    if (audio.duration) { const x = (audio.currentTime / audio.duration) * W; g.fillStyle = "#d1495b"; g.fillRect(x, 0, 2, H); }
  };
  draw();
  audio.addEventListener("timeupdate", draw);
  canvas.addEventListener("click", (e) => {
    const r = canvas.getBoundingClientRect();
    if (audio.duration) audio.currentTime = ((e.clientX - r.left) / r.width) * audio.duration;
  });
}

function audioView(runs) {
  const s = section("audio: ground truth and fits (click a waveform to seek)");
  const players = [];
  const add = (run, name, label) => {
    shown.add(name);
    const a = el("audio", { controls: "", src: fileUrl(run, name), preload: "auto" });
    const c = el("canvas", { class: "view", width: 800, height: 90, "data-role": "waveform" });
    s.append(el("div", { class: "row" }, figure(el("div", {}, c, a), label)));
    waveform(c, fileUrl(run, name), a); players.push(a);
  };
  const first = runs.find((r) => has(r, "ground_truth.wav"));
  if (first) add(first, "ground_truth.wav", "ground truth");
  for (const r of runs) if (has(r, "fit.wav")) add(r, "fit.wav", `fit: ${r.id}`);
  s.append(el("div", { class: "controls" }, el("button", { onclick: () => players.forEach((p) => p.pause()) }, "stop all")));
}

// ---------------------------------------------------------------------------- video
function videoView(runs) {
  const s = section("video: ground truth and fits (linked play and seek)");
  const vids = [];
  const row = el("div", { class: "row" });
  const add = (run, name, label) => {
    shown.add(name);
    const v = el("video", { src: fileUrl(run, name), muted: "", loop: "", preload: "auto", width: 360, "data-role": "video" });
    v.muted = true; vids.push(v); row.append(figure(v, label));
  };
  const first = runs.find((r) => has(r, "ground_truth.mp4"));
  if (first) add(first, "ground_truth.mp4", "ground truth");
  for (const r of runs) if (has(r, "fit.mp4")) add(r, "fit.mp4", `fit: ${r.id}`);
  const slider = el("input", { type: "range", min: 0, max: 1000, value: 0, style: "width:360px" });
  slider.addEventListener("input", () => vids.forEach((v) => { v.pause(); if (v.duration) v.currentTime = (slider.value / 1000) * v.duration; }));
  s.append(el("div", { class: "controls" },
    el("button", { onclick: () => { const t = vids[0]?.currentTime || 0; vids.forEach((v) => { v.currentTime = t; v.play(); }); } }, "play all"),
    el("button", { onclick: () => vids.forEach((v) => v.pause()) }, "pause"), "time ", slider), row);
  if (vids[0]) vids[0].addEventListener("timeupdate", () => { if (!vids[0].paused && vids[0].duration) slider.value = (vids[0].currentTime / vids[0].duration) * 1000; });
}

// ---------------------------------------------------------------------------- SDF: meshes and slices
function sdfView(runs) {
  const s = section("meshes (drag: rotate, wheel: zoom; the views are linked)");
  const row = el("div", { class: "row" }); s.append(row);
  const views = [];
  for (const r of runs) {
    const meshes = r.files.filter((f) => /\.(ply|obj|off|stl)$/i.test(f.name)).map((f) => f.name);
    if (!meshes.length) continue;
    const c = el("canvas", { class: "view", width: 420, height: 360, "data-role": "mesh", "data-run": r.id });
    const cap = el("figcaption", {}, "");
    const pick = el("select", {}, ...meshes.map((m) => el("option", { value: m }, m)));
    row.append(el("figure", {}, c, el("div", { class: "controls" }, r.id, pick), cap));
    let view;
    try { view = new MeshView(c); } catch (e) { cap.textContent = e.message; continue; }
    views.push(view);
    const load = async () => {
      cap.textContent = "loading...";
      const resp = await fetch("/api/mesh?" + q({ id: r.id, file: pick.value }));
      if (!resp.ok) { cap.textContent = await resp.text(); return; }
      const info = JSON.parse(resp.headers.get("X-Mesh"));
      view.setMesh(await resp.arrayBuffer());
      c.dataset.loadedMs = String(Math.round(performance.now()));
      cap.textContent = info.cells
        ? `${info.faces_original.toLocaleString()} faces, shown decimated to ${info.faces_shown.toLocaleString()} ` +
          `(vertex clustering on a ${info.cells}^3 grid over the bounding box, the finest with <= 200,000 faces)`
        : `${info.faces_shown.toLocaleString()} faces`;
      c.dataset.faces = String(info.faces_shown);
    };
    pick.addEventListener("change", load); load();
    meshes.forEach((m) => shown.add(m));
  }
  for (const a of views) for (const b of views) if (a !== b) a.link(b);
  const sdfRuns = runs.filter((r) => r.views.includes("sdf") && has(r, "checkpoint.pt"));
  if (!sdfRuns.length) return;
  const axis = el("select", {}, ...["x", "y", "z"].map((n, i) => el("option", { value: i }, n)));
  axis.value = "2";
  const pos = el("input", { type: "range", min: -1, max: 1, step: 0.01, value: 0, style: "width:300px" });
  const label = el("span", { class: "note" }, "");
  const sl = section("SDF slice (the network on a plane: blue inside, red outside, black: zero level)",
    el("div", { class: "controls" }, "axis ", axis, "position ", pos, label));
  const srow = el("div", { class: "row" }); sl.append(srow);
  const imgs = sdfRuns.map((r) => { const i = el("img", { class: "view", width: 320, height: 320, "data-role": "slice" }); srow.append(figure(i, r.id)); return [r, i]; });
  let timer = null;
  const update = () => {
    label.textContent = `${"xyz"[axis.value]} = ${Number(pos.value).toFixed(2)} (normalised [-1, 1] cube)`;
    clearTimeout(timer);
    timer = setTimeout(() => imgs.forEach(([r, i]) => { i.src = "/api/slice?" + q({ id: r.id, axis: axis.value, pos: pos.value, n: 320 }); }), 60);
  };
  axis.addEventListener("change", update); pos.addEventListener("input", update); update();
}

// ---------------------------------------------------------------------------- PDE fields over time
async function fieldView(runs) {
  const withFields = runs.filter((r) => has(r, "fields.npz"));
  if (!withFields.length) return;
  const infos = await Promise.all(withFields.map((r) => api("/api/fieldinfo?" + q({ id: r.id }))));
  const frames = Math.min(...infos.map((i) => i.frames));
  const slider = el("input", { type: "range", min: 0, max: frames - 1, value: 0, style: "width:300px" });
  const part = el("select", {}, ...["real", "imag", "abs"].map((p) => el("option", { value: p }, p)));
  const label = el("span", { class: "note" }, "");
  const ctrls = el("div", { class: "controls" });
  if (frames > 1) ctrls.append("time ", slider);
  if (infos.some((i) => i.complex)) ctrls.append("part ", part);
  ctrls.append(label);
  const s = section("solution: network, finite-difference reference and |error| (colour limits: the reference's largest magnitude)", ctrls);
  const rows = withFields.map((r) => {
    const cells = ["network", "reference", "error"].map((w) => { const i = el("img", { class: "view", width: 260, height: 260, "data-role": "field-" + w }); return [w, i]; });
    s.append(el("div", { class: "row" }, ...cells.map(([w, i]) => figure(i, `${w}: ${r.id}`))));
    return [r, cells];
  });
  const update = () => {
    const f = Number(slider.value), info = infos[0];
    const t = info.times ? `t = ${info.times[f].toFixed(3)}, ` : "";
    label.textContent = t + withFields.map((r, i) => `${r.id}: rel. L2 ${fmt(infos[i].rel_l2[f])}`).join(" · ");
    for (const [r, cells] of rows) for (const [w, i] of cells) i.src = "/api/field?" + q({ id: r.id, which: w, frame: f, part: part.value });
  };
  slider.addEventListener("input", update); part.addEventListener("change", update); update();
  shown.add("fields.npz");
}

// ---------------------------------------------------------------------------- everything else
function gallery(runs) {
  const names = [];
  for (const r of runs) for (const f of r.files) if (/\.(png|gif|jpe?g)$/i.test(f.name) && !shown.has(f.name) && !names.includes(f.name)) names.push(f.name);
  const order = ["completions.png", "history.png"];
  names.sort((a, b) => (order.includes(a) ? -1 : 0) - (order.includes(b) ? -1 : 0));
  for (const name of names) {
    const withIt = runs.filter((r) => has(r, name));
    section(name.replace(/\.\w+$/, "").replaceAll("_", " "), el("div", { class: "row" }, ...withIt.map((r) => figure(img(r, name), r.id))));
  }
}

function configAndFiles(runs) {
  for (const r of runs) {
    const files = el("ul", {}, ...r.files.map((f) => el("li", {}, el("a", { href: fileUrl(r, f.name) }, f.name), ` (${(f.size / 1024).toFixed(1)} KiB)`)));
    section(`configuration and files: ${r.id}`, el("details", {}, el("summary", {}, "config.json"), el("pre", {}, JSON.stringify(r.config, null, 2))),
      el("details", {}, el("summary", {}, `${r.files.length} files`), files));
  }
}

async function start() {
  if (!ids.length) { main.append(el("p", {}, "no run given: open a run from the index")); return; }
  let runs;
  try { runs = await Promise.all(ids.map((id) => api("/api/run?" + q({ id })))); } catch (e) { main.append(el("p", {}, e.message)); return; }
  const tasks = [...new Set(runs.map((r) => r.task))];
  document.getElementById("title").textContent = runs.length > 1 ? `${runs.length} runs compared` : runs[0].id;
  document.getElementById("subtitle").textContent = `${tasks.join(", ")} · ` + runs.map((r) => `${r.model} ${r.size}, ${r.steps} steps`).join(" | ");
  document.title = "sirenkit: " + ids.join(", ");
  if (tasks.length > 1) main.append(el("p", { class: "note" }, "these runs are of different tasks: views are shown per run"));
  parent = el("div", { class: "row top" }); main.append(parent);
  summaryTable(runs);
  await curves(runs);
  parent = main;
  const views = new Set(runs.flatMap((r) => r.views));  // what each run's task declares
  if (views.has("image")) imageView(runs.filter((r) => r.views.includes("image")));
  if (views.has("audio")) audioView(runs);
  if (views.has("video")) videoView(runs);
  if (runs.some((r) => r.files.some((f) => /\.(ply|obj|off|stl)$/i.test(f.name))) || views.has("sdf")) sdfView(runs);
  await fieldView(runs);
  gallery(runs);
  configAndFiles(runs);
  document.body.dataset.ready = "1";
}
start();
