// Shared helpers of the viewer pages: JSON fetches, number formatting, a canvas line chart.

export async function api(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

export function fmt(v) {
  if (v === null || v === undefined || v === "") return "";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toPrecision(4).replace(/\.?0+$/, "");
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

export const PALETTE = ["#2a62c9", "#d1495b", "#2e9e5b", "#e09f3e", "#7b4fb8", "#00798c", "#8c564b", "#555"];

// Metrics where lower is better (all others: higher is better).
export function lowerIsBetter(name) {
  return /loss|mse|rel_l2|chamfer|hausdorff|error|residual|_std|seconds|time/.test(name);
}

export function sparkline(values, w = 90, h = 22) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("width", w); svg.setAttribute("height", h);
  const v = values.filter((x) => x !== null && x > 0).map(Math.log10);
  if (v.length > 1) {
    const lo = Math.min(...v), hi = Math.max(...v), span = hi - lo || 1;
    const pts = v.map((y, i) => `${(i / (v.length - 1)) * (w - 2) + 1},${h - 2 - ((y - lo) / span) * (h - 4)}`);
    const pl = document.createElementNS(ns, "polyline");
    pl.setAttribute("points", pts.join(" ")); pl.setAttribute("fill", "none");
    pl.setAttribute("stroke", "#2a62c9"); pl.setAttribute("stroke-width", "1.3");
    svg.append(pl);
  }
  return svg;
}

// A line chart on a canvas: series [{name, color, xs, ys}], optional log y, hover read-out.
export class LineChart {
  constructor(canvas, { logY = false, xLabel = "step" } = {}) {
    this.canvas = canvas; this.logY = logY; this.xLabel = xLabel; this.series = [];
    this.tip = el("div", { class: "tip" });
    canvas.parentElement.append(this.tip);
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => { this.tip.style.display = "none"; this.draw(); });
  }
  set(series) { this.series = series; this.draw(); }
  tr(y) { return this.logY ? (y > 0 ? Math.log10(y) : null) : y; }
  bounds() {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const s of this.series) s.xs.forEach((x, i) => {
      const y = this.tr(s.ys[i]); if (y === null || !isFinite(y)) return;
      x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    });
    if (!isFinite(x0)) return null;
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
    const pad = (y1 - y0) * 0.05;
    return { x0, x1, y0: y0 - pad, y1: y1 + pad };
  }
  draw(mark = null) {
    const c = this.canvas, g = c.getContext("2d"), W = c.width, H = c.height;
    const L = 62, R = 12, T = 10, B = 30;
    g.clearRect(0, 0, W, H); g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    const b = this.bounds(); this.b = b;
    g.font = "11px system-ui, sans-serif"; g.fillStyle = "#6a7385";
    if (!b) { g.fillText("no records yet", L, H / 2); return; }
    const px = (x) => L + ((x - b.x0) / (b.x1 - b.x0)) * (W - L - R);
    const py = (y) => T + (1 - (y - b.y0) / (b.y1 - b.y0)) * (H - T - B);
    this.px = px; this.L = L; this.R = R;
    g.strokeStyle = "#e6e9ef"; g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = b.y0 + ((b.y1 - b.y0) * i) / 4, Y = py(y);
      g.beginPath(); g.moveTo(L, Y); g.lineTo(W - R, Y); g.stroke();
      g.fillText(fmt(this.logY ? 10 ** y : y), 4, Y + 4);
      const x = b.x0 + ((b.x1 - b.x0) * i) / 4;
      g.fillText(fmt(b.x1 - b.x0 >= 8 ? Math.round(x) : x), px(x) - 10, H - 12);
    }
    g.fillText(this.xLabel + (this.logY ? "   (log y)" : ""), W - R - 90, H - 2);
    for (const s of this.series) {
      g.strokeStyle = s.color; g.lineWidth = 1.6; g.beginPath();
      let on = false;
      s.xs.forEach((x, i) => {
        const y = this.tr(s.ys[i]);
        if (y === null || !isFinite(y)) { on = false; return; }
        if (on) g.lineTo(px(x), py(y)); else { g.moveTo(px(x), py(y)); on = true; }
      });
      g.stroke();
      if (s.xs.length === 1) { const y = this.tr(s.ys[0]); g.fillStyle = s.color; g.fillRect(px(s.xs[0]) - 2, py(y) - 2, 5, 5); }
    }
    if (mark !== null) { g.strokeStyle = "#999"; g.beginPath(); g.moveTo(px(mark), T); g.lineTo(px(mark), H - B); g.stroke(); }
  }
  hover(e) {
    const b = this.b; if (!b) return;
    const r = this.canvas.getBoundingClientRect();
    const fx = ((e.clientX - r.left) * this.canvas.width) / r.width;
    const x = b.x0 + ((fx - this.L) / (this.canvas.width - this.L - this.R)) * (b.x1 - b.x0);
    const lines = [];
    let near = x;
    for (const s of this.series) {
      let best = -1, d = Infinity;
      s.xs.forEach((v, i) => { if (Math.abs(v - x) < d) { d = Math.abs(v - x); best = i; } });
      if (best >= 0) { lines.push(`${s.name}: ${fmt(s.ys[best])} (${this.xLabel} ${s.xs[best]})`); near = s.xs[best]; }
    }
    this.draw(near);
    this.tip.textContent = lines.join("\n");
    this.tip.style.display = lines.length ? "block" : "none";
    this.tip.style.left = `${e.clientX - r.left + 12}px`; this.tip.style.top = `${e.clientY - r.top + 8}px`;
  }
}
