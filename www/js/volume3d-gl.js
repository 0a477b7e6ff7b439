// The WebGL2 path of the 3-D volume view (js/volume3d.js draws the same on a canvas 2D context): the stack
// [C, H, W] as one 2D-array texture of its values' places in the range (t = (v − lo)/(hi − lo), 8 bits, as the
// canvas path quantizes them), each slice a textured quad under the canvas path's own transform
// (`sliceTransforms`), drawn back to front with the same colormap and opacity transfer function
// (alpha = opacity · t^gamma, the picked slice opaque) blended premultiplied, then its outline. `glVolume`
// says whether the browser has WebGL2 (headless Chromium may have it through SwiftShader, or not at all).

import { lut } from './visual.js';
import { sliceTransforms } from './volume3d.js';

const VERTEX = `#version 300 es
uniform mat3 transform; // slice pixels (u, v) → canvas pixels, as the canvas path's setTransform
uniform vec2 canvasSize;
uniform vec2 sliceSize;
in vec2 corner;
out vec2 uv;
void main() {
  uv = corner;
  vec2 p = (transform * vec3(corner * sliceSize, 1.0)).xy;
  gl_Position = vec4(p.x / canvasSize.x * 2.0 - 1.0, 1.0 - p.y / canvasSize.y * 2.0, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
precision highp sampler2DArray;
uniform sampler2DArray volume;
uniform sampler2D colormap;
uniform float layer, opacity, gamma;
uniform bool opaque, outline;
uniform vec4 tint;
in vec2 uv;
out vec4 color;
void main() {
  if (outline) { color = tint; return; }
  float t = texture(volume, vec3(uv, layer)).r;
  vec3 rgb = texture(colormap, vec2((t * 255.0 + 0.5) / 256.0, 0.5)).rgb;
  float alpha = opaque ? 1.0 : opacity * pow(t, gamma);
  color = vec4(rgb * alpha, alpha);
}`;

let available = null;

/** Whether WebGL2 works here (tried once). */
export function glVolume() {
  available ??= Boolean(document.createElement('canvas').getContext('webgl2'));
  return available;
}

function program(gl) {
  const shader = (type, source) => {
    const s = gl.createShader(type);
    gl.shaderSource(s, source);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(`volume shader: ${gl.getShaderInfoLog(s)}`);
    return s;
  };
  const p = gl.createProgram();
  gl.attachShader(p, shader(gl.VERTEX_SHADER, VERTEX));
  gl.attachShader(p, shader(gl.FRAGMENT_SHADER, FRAGMENT));
  gl.linkProgram(p);
  if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(`volume program: ${gl.getProgramInfoLog(p)}`);
  return p;
}

const contexts = new WeakMap(); // canvas → { gl, program, uniforms, volume, lut, uploaded }

function setUp(canvas) {
  const gl = canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false });
  if (!gl) throw new Error('WebGL2 is not available');
  const p = program(gl);
  gl.useProgram(p);
  const buffer = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1]), gl.STATIC_DRAW); // a strip, then a loop
  const corner = gl.getAttribLocation(p, 'corner');
  gl.enableVertexAttribArray(corner);
  gl.vertexAttribPointer(corner, 2, gl.FLOAT, false, 0, 0);
  const uniforms = Object.fromEntries(['transform', 'canvasSize', 'sliceSize', 'volume', 'colormap', 'layer', 'opacity', 'gamma', 'opaque', 'outline', 'tint'].map((name) => [name, gl.getUniformLocation(p, name)]));
  const texture = (unit, target) => {
    const t = gl.createTexture();
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(target, t);
    for (const [k, v] of [[gl.TEXTURE_MIN_FILTER, gl.NEAREST], [gl.TEXTURE_MAG_FILTER, gl.NEAREST], [gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE], [gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE]]) gl.texParameteri(target, k, v);
    return t;
  };
  texture(0, gl.TEXTURE_2D_ARRAY);
  texture(1, gl.TEXTURE_2D);
  gl.uniform1i(uniforms.volume, 0);
  gl.uniform1i(uniforms.colormap, 1);
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  gl.enable(gl.BLEND);
  gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
  const state = { gl, uniforms, uploaded: null, colormap: null };
  contexts.set(canvas, state);
  return state;
}

/** Uploads the volume's 8-bit places in `range` (once per volume and range) and the colormap's table. */
function upload(state, volume, { range, colormap }) {
  const { gl } = state;
  const [channels, h, w] = volume.shape;
  const signature = `${range}`;
  if (state.uploaded?.volume !== volume || state.uploaded.signature !== signature) {
    const [lo, hi] = range;
    const span = hi > lo ? hi - lo : 1;
    const bytes = Uint8Array.from(volume.data, (v) => Math.round(Math.min(1, Math.max(0, (v - lo) / span)) * 255));
    gl.activeTexture(gl.TEXTURE0);
    gl.texImage3D(gl.TEXTURE_2D_ARRAY, 0, gl.R8, w, h, channels, 0, gl.RED, gl.UNSIGNED_BYTE, bytes);
    state.uploaded = { volume, signature };
  }
  if (state.colormap !== colormap) {
    gl.activeTexture(gl.TEXTURE1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB8, 256, 1, 0, gl.RGB, gl.UNSIGNED_BYTE, Uint8Array.from(lut(colormap)));
    state.colormap = colormap;
  }
}

/** Draws `volume` on `canvas` with WebGL2 under `view`, as `drawVolume` of js/volume3d.js does on a 2D context. */
export function drawVolumeGl(canvas, volume, view) {
  const state = contexts.get(canvas) ?? setUp(canvas);
  const { gl, uniforms: u } = state;
  upload(state, volume, view);
  const [, h, w] = volume.shape;
  gl.viewport(0, 0, canvas.width, canvas.height);
  gl.clearColor(0x11 / 255, 0x11 / 255, 0x11 / 255, 1);
  gl.clear(gl.COLOR_BUFFER_BIT);
  gl.uniform2f(u.canvasSize, canvas.width, canvas.height);
  gl.uniform2f(u.sliceSize, w, h);
  gl.uniform1f(u.opacity, view.opacity);
  gl.uniform1f(u.gamma, view.gamma);
  const slices = sliceTransforms(volume.shape, view, canvas.width, canvas.height).sort((a, b) => a.depth - b.depth);
  for (const { channel, m } of slices) {
    const [a, b, c, d, e, f] = m;
    gl.uniformMatrix3fv(u.transform, false, [a, b, 0, c, d, 0, e, f, 1]);
    gl.uniform1f(u.layer, channel);
    gl.uniform1i(u.opaque, channel === view.slice ? 1 : 0);
    gl.uniform1i(u.outline, 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.uniform1i(u.outline, 1);
    gl.uniform4fv(u.tint, channel === view.slice ? [1, 0xb0 / 255, 0, 1] : [0.25, 0.25, 0.25, 0.25]);
    gl.drawArrays(gl.LINE_LOOP, 4, 4);
  }
}
