// The image side of the "Texture & style" panel (js/panels/texture.js): reading a bundled texture or an
// uploaded picture as the module reads images (its `decodeImage`: RGB planes for the random network, luminance
// for the model), the input digit as a tensor and painting `[C, H, W]` images in [0, 1]. No synthesis here.

import { paintMap, valueRange } from '../render.js';
import { textureUrl } from '../config.js';

/** The largest side of an image in the page; an upload is scaled down to it. */
export const MAX_SIDE = 128;

/** A bundled texture as a `{ shape: [C, H, W], data }` tensor (C = `channels`), fetched once per channel count. */
export function bundled(app, name, channels, cache) {
  const key = `${name}:${channels}`;
  if (!cache.has(key)) {
    const bytes = fetch(textureUrl(name)).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${name}.png: HTTP ${r.status}`))));
    cache.set(key, bytes.then((b) => decode(app, new Uint8Array(b), channels)));
  }
  return cache.get(key);
}

/** An uploaded file as a tensor: drawn at most MAX_SIDE pixels a side, then decoded by the module as a PNG. */
export async function uploaded(app, file, channels) {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return decode(app, new Uint8Array(await blob.arrayBuffer()), channels);
}

function decode(app, bytes, channels) {
  return app.engine.call((model, glue) => glue.decodeImage(bytes, channels));
}

/** The input image (`Float32Array` of the model's input size) as a `[channels, H, W]` tensor (gray repeated). */
export function inputTensor(app, channels) {
  const { height, width } = app.info.input;
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) data.set(app.image, c * height * width);
  return { shape: [channels, height, width], data };
}

/** Paints a `[C, H, W]` image in [0, 1] (RGB planes, or one gray plane) into `canvas` at its own size. */
export function paintImage(canvas, { shape, data }) {
  const [channels, height, width] = shape;
  if (channels !== 3) return paintMap(canvas, data, { height, width, colormap: 'gray', range: [0, 1] });
  [canvas.width, canvas.height] = [width, height];
  const context = canvas.getContext('2d');
  const image = context.createImageData(width, height);
  const plane = height * width;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) image.data[i * 4 + c] = Math.round(Math.min(1, Math.max(0, data[c * plane + i])) * 255);
    image.data[i * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return canvas;
}

/** Paints a Gram matrix `[C, C]` as a heatmap over its own range. */
export function paintGram(canvas, { shape, data }) {
  return paintMap(canvas, data, { height: shape[0], width: shape[1], colormap: 'viridis', range: valueRange(data) });
}
