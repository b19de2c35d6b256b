// A small WebGL2 mesh viewer: drag to rotate, wheel to zoom; cameras can be linked.

const VS = `#version 300 es
in vec3 pos; in vec3 nrm;
uniform mat4 mvp; uniform mat3 nm;
out vec3 vn;
void main() { vn = nm * nrm; gl_Position = mvp * vec4(pos, 1.0); }`;
const FS = `#version 300 es
precision mediump float;
in vec3 vn; out vec4 color;
void main() {
  vec3 n = normalize(vn);
  if (!gl_FrontFacing) n = -n;
  float d = max(dot(n, normalize(vec3(0.4, 0.6, 1.0))), 0.0) * 0.75
          + max(dot(n, normalize(vec3(-0.6, -0.2, 0.4))), 0.0) * 0.25;
  vec3 base = gl_FrontFacing ? vec3(0.62, 0.70, 0.86) : vec3(0.85, 0.55, 0.45);
  color = vec4(base * (0.22 + d), 1.0);
}`;

function mul(a, b) {
  const o = new Float32Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    let s = 0; for (let k = 0; k < 4; k++) s += a[k * 4 + j] * b[i * 4 + k]; o[i * 4 + j] = s;
  }
  return o;
}

export class MeshView {
  constructor(canvas) {
    this.canvas = canvas; this.yaw = 0.6; this.pitch = 0.35; this.dist = 3.2; this.links = [];
    const gl = canvas.getContext("webgl2", { antialias: true, preserveDrawingBuffer: true });
    if (!gl) throw new Error("WebGL2 is not available in this browser");
    this.gl = gl;
    const prog = gl.createProgram();
    for (const [type, src] of [[gl.VERTEX_SHADER, VS], [gl.FRAGMENT_SHADER, FS]]) {
      const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
      gl.attachShader(prog, s);
    }
    gl.linkProgram(prog); this.prog = prog;
    let drag = null;
    canvas.addEventListener("pointerdown", (e) => { drag = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointerup", () => { drag = null; });
    canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.yaw += (e.clientX - drag[0]) * 0.01;
      this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + (e.clientY - drag[1]) * 0.01));
      drag = [e.clientX, e.clientY]; this.changed();
    });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault(); this.dist = Math.max(0.3, Math.min(20, this.dist * Math.exp(e.deltaY * 0.001))); this.changed();
    }, { passive: false });
  }
  link(other) { this.links.push(other); }
  changed() {
    for (const o of this.links) { o.yaw = this.yaw; o.pitch = this.pitch; o.dist = this.dist; o.draw(); }
    this.draw();
  }
  setMesh(buffer) {
    const gl = this.gl, head = new Uint32Array(buffer, 0, 2), nv = head[0], nf = head[1];
    const pos = new Float32Array(buffer, 8, nv * 3), nrm = new Float32Array(buffer, 8 + nv * 12, nv * 3);
    const idx = new Uint32Array(buffer, 8 + nv * 24, nf * 3);
    let lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < nv * 3; i++) { const k = i % 3; lo[k] = Math.min(lo[k], pos[i]); hi[k] = Math.max(hi[k], pos[i]); }
    this.center = lo.map((v, k) => (v + hi[k]) / 2);
    this.radius = Math.max(1e-6, Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / 2);
    this.vao = gl.createVertexArray(); gl.bindVertexArray(this.vao);
    for (const [name, data] of [["pos", pos], ["nrm", nrm]]) {
      const b = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, b); gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
      const loc = gl.getAttribLocation(this.prog, name); gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, 3, gl.FLOAT, false, 0, 0);
    }
    const ib = gl.createBuffer(); gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, ib); gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, idx, gl.STATIC_DRAW);
    this.count = nf * 3; this.draw();
  }
  draw() {
    const gl = this.gl, c = this.canvas;
    gl.viewport(0, 0, c.width, c.height); gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    if (!this.count) return;
    gl.enable(gl.DEPTH_TEST); gl.useProgram(this.prog); gl.bindVertexArray(this.vao);
    const cy = Math.cos(this.yaw), sy = Math.sin(this.yaw), cp = Math.cos(this.pitch), sp = Math.sin(this.pitch);
    const s = 1 / this.radius, [x0, y0, z0] = this.center;
    // model: centre and scale to the unit sphere; view: yaw about y, pitch about x, then back by dist
    const rotY = [cy, 0, -sy, 0, 0, 1, 0, 0, sy, 0, cy, 0, 0, 0, 0, 1];
    const rotX = [1, 0, 0, 0, 0, cp, sp, 0, 0, -sp, cp, 0, 0, 0, 0, 1];
    const model = [s, 0, 0, 0, 0, s, 0, 0, 0, 0, s, 0, -x0 * s, -y0 * s, -z0 * s, 1];
    const view = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, -this.dist, 1];
    const f = 1 / Math.tan(0.45), a = c.width / c.height, n = 0.05, fa = 50;
    const proj = [f / a, 0, 0, 0, 0, f, 0, 0, 0, 0, (fa + n) / (n - fa), -1, 0, 0, (2 * fa * n) / (n - fa), 0];
    const rot = mul(rotX, rotY);
    const mvp = mul(proj, mul(view, mul(rot, model)));
    gl.uniformMatrix4fv(gl.getUniformLocation(this.prog, "mvp"), false, mvp);
    const nm = new Float32Array([rot[0], rot[1], rot[2], rot[4], rot[5], rot[6], rot[8], rot[9], rot[10]]);
    gl.uniformMatrix3fv(gl.getUniformLocation(this.prog, "nm"), false, nm);
    gl.drawElements(gl.TRIANGLES, this.count, gl.UNSIGNED_INT, 0);
  }
}
