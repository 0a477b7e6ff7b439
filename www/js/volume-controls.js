// Pointer, wheel and keyboard control of volume canvases (js/volume3d.js), shared by the 3D-volume and the
// weight-gradient panels: drag or the arrow keys rotate (15° a key), the wheel or +/− zoom, a click or [ ]
// picks a slice, Home resets the view. The view lives in the panel's URL keys; the panel redraws.

/** The view a volume opens with and Home returns to: yaw and pitch in degrees, zoom. */
export const HOME = { yaw: 35, pitch: -25, zoom: 1 };

/** An angle in degrees brought back into [-180, 180). */
const clampAngle = (v) => ((((v + 180) % 360) + 360) % 360) - 180;

/** A zoom factor times `factor`, kept in [0.3, 4] and rounded to hundredths (it lives in the URL). */
const zoomed = (zoom, factor) => Math.min(4, Math.max(0.3, Math.round(zoom * factor * 100) / 100));

/**
 * Binds every canvas of `canvases` to one view, kept in `app.view` under the URL keys `keys`
 * (`{ yaw, pitch, zoom, slice }`): `slices()` is the number of slices, `hit(canvas, x, y)` the slice under
 * canvas pixel x, y (or null). Turning, zooming or picking on any of them changes the view of all.
 */
export function bindVolumes(app, canvases, keys, { slices, hit }) {
  const controls = {
    turn: (dyaw, dpitch) => app.setView({ [keys.yaw]: clampAngle(app.view[keys.yaw] + dyaw), [keys.pitch]: clampAngle(app.view[keys.pitch] + dpitch) }),
    zoom: (factor) => app.setView({ [keys.zoom]: zoomed(app.view[keys.zoom], factor) }),
    step: (by) => app.setView({ [keys.slice]: (app.view[keys.slice] + by + slices()) % slices() }),
    reset: () => app.setView({ [keys.yaw]: HOME.yaw, [keys.pitch]: HOME.pitch, [keys.zoom]: HOME.zoom }),
  };
  for (const canvas of canvases) {
    const pick = (x, y) => {
      const slice = hit(canvas, x, y);
      if (slice !== null) app.setView({ [keys.slice]: slice });
    };
    controlVolume(canvas, { ...controls, pick });
  }
}

/**
 * Binds `canvas`: `turn(dyaw, dpitch)` in degrees, `zoom(factor)`, `step(±1)` (the next or previous slice),
 * `pick(x, y)` (a click at canvas pixel x, y), `reset()` (Home).
 */
function controlVolume(canvas, { turn, zoom, step, pick, reset }) {
  const keys = { ArrowLeft: () => turn(-15, 0), ArrowRight: () => turn(15, 0), ArrowUp: () => turn(0, -15), ArrowDown: () => turn(0, 15), '+': () => zoom(1.25), '=': () => zoom(1.25), '-': () => zoom(0.8), '[': () => step(-1), ']': () => step(1), Home: reset };
  canvas.addEventListener('keydown', (event) => {
    if (!keys[event.key]) return;
    event.preventDefault();
    keys[event.key]();
  });
  let drag = null;
  canvas.addEventListener('pointerdown', (event) => (drag = { x: event.clientX, y: event.clientY, moved: false }));
  canvas.addEventListener('pointermove', (event) => {
    if (!drag || (event.buttons & 1) === 0) return;
    const [dx, dy] = [event.clientX - drag.x, event.clientY - drag.y];
    if (Math.abs(dx) + Math.abs(dy) < 4) return;
    Object.assign(drag, { x: event.clientX, y: event.clientY, moved: true });
    turn(Math.round(dx / 2), Math.round(dy / 2));
  });
  canvas.addEventListener('pointerup', (event) => {
    if (drag && !drag.moved) {
      const box = canvas.getBoundingClientRect();
      const scale = canvas.width / box.width;
      pick((event.clientX - box.left) * scale, (event.clientY - box.top) * scale);
    }
    drag = null;
  });
  canvas.addEventListener('wheel', (event) => {
    event.preventDefault();
    zoom(event.deltaY < 0 ? 1.1 : 0.9);
  }, { passive: false });
}
