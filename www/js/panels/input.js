// Input panel: a drawing surface (mouse, touch, pen via pointer events), brush size, clear, image upload, and
// the 28×28 image the network actually sees. Drawing and uploads are preprocessed by the wasm module exactly
// as the CLI does (invert light backgrounds, fit the ink into 20×20, centre by mass in 28×28).

import { SIZES } from '../visual.js';
import { paintMap, mapCanvas } from '../render.js';

export const meta = {
  id: 'input',
  title: 'Input',
  description: 'Draw with mouse, finger or pen, or upload an image. Right: the 28×28 input the network sees.',
  needsImage: false,
};

export function createPanel(root, app) {
  const { height, width } = app.info.input;
  root.innerHTML = `
    <div class="input-layout">
      <div class="draw-wrap">
        <canvas class="draw-canvas" data-testid="draw-canvas" width="${SIZES.drawCanvas}" height="${SIZES.drawCanvas}"
          aria-label="Drawing area: draw a digit with the mouse, a finger or a pen"></canvas>
      </div>
      <div class="input-side">
        <figure class="preview">
          <div class="preview-frame"></div>
          <figcaption><span class="preview-title">Network input ${height}×${width}</span><span class="preview-source"></span></figcaption>
        </figure>
        <label class="field">Brush
          <input type="range" class="brush" min="${SIZES.brushMin}" max="${SIZES.brushMax}" value="${SIZES.brushDefault}">
        </label>
        <div class="button-row">
          <button type="button" class="button" data-testid="clear">Clear</button>
          <label class="button button-primary file-button">Upload image
            <input type="file" accept="image/png,image/jpeg,image/x-portable-graymap,.pgm,image/*" data-testid="upload">
          </label>
        </div>
        <p class="input-message" role="status"></p>
      </div>
    </div>`;

  const canvas = root.querySelector('.draw-canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const brush = root.querySelector('.brush');
  const message = root.querySelector('.input-message');
  const sourceText = root.querySelector('.preview-source');
  const preview = mapCanvas(`The ${height}×${width} network input`);
  root.querySelector('.preview-frame').append(preview);

  function clearCanvas() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  }
  clearCanvas();

  // ---- drawing -----------------------------------------------------------------------------------------
  let last = null;
  let pending = 0;

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) * canvas.width) / rect.width, ((event.clientY - rect.top) * canvas.height) / rect.height];
  }

  function stroke(from, to) {
    ctx.strokeStyle = '#fff';
    ctx.fillStyle = '#fff';
    ctx.lineWidth = Number(brush.value);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }

  function analyseDrawing() {
    pending = 0;
    const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    try {
      const image = app.preprocessRgba(rgba, canvas.width, canvas.height);
      message.textContent = '';
      app.setImage(image, { kind: 'drawn' });
    } catch {
      // An empty canvas has no ink to centre: show the empty state instead of an analysis.
      app.setImage(null, null);
    }
  }

  function scheduleAnalysis() {
    if (!pending) pending = requestAnimationFrame(analyseDrawing);
  }

  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    stroke(last, last);
    scheduleAnalysis();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) {
      const next = point(e);
      stroke(last, next);
      last = next;
    }
    scheduleAnalysis();
  });
  const end = () => {
    if (!last) return;
    last = null;
    scheduleAnalysis();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  root.querySelector('[data-testid="clear"]').addEventListener('click', () => {
    clearCanvas();
    message.textContent = '';
    app.setImage(null, null);
  });

  // ---- upload (button or drop onto the canvas) -----------------------------------------------------------
  async function useFile(file) {
    if (!file) return;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const image = app.preprocessFile(bytes);
      message.textContent = '';
      app.setImage(image, { kind: 'upload', name: file.name });
    } catch (error) {
      message.textContent = `Could not use ${file.name}: ${error?.message ?? error}`;
    }
  }
  const fileInput = root.querySelector('[data-testid="upload"]');
  fileInput.addEventListener('change', () => {
    useFile(fileInput.files[0]);
    fileInput.value = '';
  });
  canvas.addEventListener('dragover', (event) => event.preventDefault());
  canvas.addEventListener('drop', (event) => {
    event.preventDefault();
    useFile(event.dataTransfer?.files[0]);
  });

  // ---- showing the current input -------------------------------------------------------------------------
  /** Paints a model input onto the drawing surface, so further strokes continue from it. */
  function showOnCanvas(image) {
    const small = document.createElement('canvas');
    paintMap(small, image, { height, width, colormap: 'gray', range: [0, 1] });
    clearCanvas();
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  function describe(source) {
    if (!source) return '';
    switch (source.kind) {
      case 'gallery':
        return `Test image #${source.index} · true class ${app.label(source.label)}`;
      case 'upload':
        return `Uploaded ${source.name}`;
      case 'link':
        return 'From the link';
      default:
        return 'Your drawing';
    }
  }

  app.addEventListener('image', () => {
    if (app.image && app.source?.kind !== 'drawn') showOnCanvas(app.image);
  });

  return {
    destroy() {
      cancelAnimationFrame(pending); // the model is about to be freed
    },
    render() {
      sourceText.textContent = describe(app.source);
      preview.classList.toggle('is-blank', !app.image);
      // Only the first channel: LeNet-5's inputs are grayscale.
      paintMap(preview, app.image ?? new Float32Array(height * width), { height, width, colormap: 'gray', range: [0, 1] });
    },
    snapshot() {
      return app.image ? preview : null;
    },
  };
}
