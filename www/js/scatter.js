// A map of a data set drawn on a canvas: one dot per image in its class colour (the colour-blind-safe palette
// of the Rust core, `classColors()`), misclassified images ringed in black, the current input as a cross-hair.
// Wheel zooms about the cursor, dragging pans, hovering names the nearest point, a click or Enter picks it,
// the arrow keys move the selection to the nearest point that way. No DOM building here: the panel owns the
// canvas and the tooltip.

const RADIUS = 6; // px: how near the pointer must be to a point to hover it

export function createScatter(canvas, { colors, onHover, onPick }) {
  const state = { points: null, classes: null, wrong: null, marker: null, selected: -1, zoom: 1, x: 0, y: 0, box: null };
  const context = canvas.getContext('2d');
  const packed = Uint32Array.from({ length: 10 }, (_, c) => (0xff000000 | (colors[3 * c + 2] << 16) | (colors[3 * c + 1] << 8) | colors[3 * c]) >>> 0);

  /** Canvas pixel position of map position (px, py). */
  function project(px, py) {
    const { box } = state;
    const side = Math.min(canvas.width, canvas.height) - 8;
    const u = (px - box.x0) / box.w - 0.5;
    const v = (py - box.y0) / box.h - 0.5;
    return [canvas.width / 2 + (u * side + state.x) * state.zoom, canvas.height / 2 - (v * side - state.y) * state.zoom];
  }

  /** Canvas pixel position of point i. */
  const at = (i) => project(state.points[2 * i], state.points[2 * i + 1]);

  function fit() {
    const p = state.points;
    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < p.length; i += 2) {
      x0 = Math.min(x0, p[i]);
      x1 = Math.max(x1, p[i]);
      y0 = Math.min(y0, p[i + 1]);
      y1 = Math.max(y1, p[i + 1]);
    }
    state.box = { x0, y0, w: x1 - x0 || 1, h: y1 - y0 || 1 };
  }

  /** `[ax, bx, ay, by]`: canvas x = ax·px + bx, y = ay·py + by (the inline form of `project`). */
  function affine() {
    const { box, zoom } = state;
    const side = Math.min(canvas.width, canvas.height) - 8;
    const ax = (side * zoom) / box.w;
    const ay = -(side * zoom) / box.h;
    return [ax, canvas.width / 2 + (state.x - side / 2) * zoom - ax * box.x0, ay, canvas.height / 2 + (side / 2 + state.y) * zoom - ay * box.y0];
  }

  /** Dots go into one ImageData (a single raster operation, whatever the number of points); rings on top. */
  function draw() {
    const { width, height } = canvas;
    if (state.image?.width !== width || state.image?.height !== height) state.image = context.createImageData(width, height);
    const image = state.image; // reused: no garbage per preview
    const pixels = new Uint32Array(image.data.buffer); // RGBA bytes, little-endian: 0xAABBGGRR
    pixels.fill(0);
    const n = state.points ? state.points.length / 2 : 0;
    const [ax, bx, ay, by] = n ? affine() : [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const x = Math.round(ax * state.points[2 * i] + bx);
      const y = Math.round(ay * state.points[2 * i + 1] + by);
      if (x < 1 || y < 1 || x >= width - 1 || y >= height - 1) continue;
      const colour = packed[(state.classes?.[i] ?? 0) % 10];
      for (let k = (y - 1) * width + x - 1, row = 0; row < 3; row++, k += width) {
        pixels[k] = colour;
        pixels[k + 1] = colour;
        pixels[k + 2] = colour;
      }
    }
    context.putImageData(image, 0, 0);
    context.strokeStyle = '#000';
    for (let i = 0; i < n; i++) {
      if (!state.wrong?.[i] && i !== state.selected) continue;
      const [x, y] = at(i);
      context.lineWidth = i === state.selected ? 2 : 1;
      context.beginPath();
      context.arc(x, y, i === state.selected ? 6 : 3, 0, 2 * Math.PI);
      context.stroke();
    }
    if (state.marker) {
      const [x, y] = project(...state.marker);
      context.lineWidth = 2;
      context.beginPath();
      context.moveTo(x - 9, y);
      context.lineTo(x + 9, y);
      context.moveTo(x, y - 9);
      context.lineTo(x, y + 9);
      context.stroke();
    }
  }

  /** The point nearest to canvas position (x, y), within `radius` (Infinity: any), or -1. */
  function nearest(x, y, radius = RADIUS, accept = () => true) {
    let best = -1;
    let bestD = radius * radius;
    for (let i = 0; i < state.points.length / 2; i++) {
      const [px, py] = at(i);
      const d = (px - x) ** 2 + (py - y) ** 2;
      if (d < bestD && accept(px, py, i)) [best, bestD] = [i, d];
    }
    return best;
  }

  const local = (event) => {
    const r = canvas.getBoundingClientRect();
    return [((event.clientX - r.left) * canvas.width) / r.width, ((event.clientY - r.top) * canvas.height) / r.height];
  };
  let drag = null;
  canvas.addEventListener('pointerdown', (event) => {
    drag = { start: local(event), x: state.x, y: state.y, moved: false };
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!state.points) return;
    const [x, y] = local(event);
    if (drag && (Math.abs(x - drag.start[0]) > 3 || Math.abs(y - drag.start[1]) > 3)) {
      drag.moved = true;
      state.x = drag.x + (x - drag.start[0]) / state.zoom;
      state.y = drag.y + (y - drag.start[1]) / state.zoom;
      draw();
      return;
    }
    onHover?.(nearest(x, y), event);
  });
  canvas.addEventListener('pointerup', (event) => {
    const was = drag;
    drag = null;
    if (!state.points || was?.moved) return;
    const i = nearest(...local(event));
    if (i >= 0) select(i, true);
  });
  canvas.addEventListener('pointerleave', () => onHover?.(-1, null));
  canvas.addEventListener('wheel', (event) => {
    if (!state.points) return;
    event.preventDefault();
    state.zoom = Math.min(50, Math.max(1, state.zoom * (event.deltaY < 0 ? 1.25 : 0.8)));
    draw();
  }, { passive: false });
  canvas.addEventListener('keydown', (event) => {
    if (!state.points) return;
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (event.key === 'Enter' && state.selected >= 0) onPick?.(state.selected);
    else if (moves[event.key]) {
      const [dx, dy] = moves[event.key];
      const [x, y] = state.selected >= 0 ? at(state.selected) : [canvas.width / 2, canvas.height / 2];
      const next = nearest(x, y, Infinity, (px, py, i) => i !== state.selected && (px - x) * dx + (py - y) * dy > Math.abs((px - x) * dy) + Math.abs((py - y) * dx));
      if (next >= 0) select(next, false);
    } else return;
    event.preventDefault();
  });

  function select(i, pick) {
    state.selected = i;
    draw();
    onHover?.(i, null);
    if (pick) onPick?.(i);
  }

  return {
    /**
     * New points (`Float32Array` N × 2), their classes and misclassified flags; `keep` keeps zoom and pan.
     * Drawn at the next animation frame (a stream of previews draws once per frame).
     */
    set(points, classes, wrong, keep = false) {
      Object.assign(state, { points, classes, wrong });
      if (!keep) Object.assign(state, { zoom: 1, x: 0, y: 0, selected: -1 });
      fit();
      state.frame ||= requestAnimationFrame(() => {
        state.frame = 0;
        draw();
      });
    },
    /** The current input's position `[x, y]` on the map (null: none). */
    mark(position) {
      state.marker = position;
      draw();
    },
    get selected() {
      return state.selected;
    },
    select,
    draw,
  };
}
