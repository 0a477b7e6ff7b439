// Fetching what the page analyses: the model (manifest + safetensors weights) and the gallery of test images
// (a gzipped IDX pair made by scripts/make-gallery.py). No DOM here, so the worker can use it too.

/** Fetches `url` as bytes; errors name the file so a missing model is easy to diagnose. */
async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Gunzips when the bytes start with the gzip magic (a server may already have decoded them). */
async function maybeGunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Parses an unsigned-byte IDX file into its dimensions and payload. */
export function parseIdx(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0 || bytes[2] !== 0x08) {
    throw new Error('not an unsigned-byte IDX file');
  }
  const rank = bytes[3];
  const dims = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const start = 4 + 4 * rank;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < start + size) throw new Error(`IDX payload truncated: ${bytes.length - start} of ${size} bytes`);
  return { dims, data: bytes.subarray(start, start + size) };
}

/**
 * The weights URL of a manifest: its `weights` field when it names a file (relative to the manifest),
 * otherwise the manifest's name with `.safetensors`.
 */
export function weightsUrl(manifestUrl, manifest) {
  const named = typeof manifest.weights === 'string' ? manifest.weights : manifest.weights?.file;
  if (typeof named === 'string') return new URL(named, manifestUrl).href;
  return manifestUrl.replace(/\.json$/, '.safetensors');
}

/**
 * Loads a model's files: `{ text, manifest, bytes, monitor }` — the manifest text and its parsed JSON, the
 * weights, and the runtime-monitor file its `"monitor"` entry names (null when it has none).
 */
export async function fetchModelFiles(manifestUrl, glue) {
  const response = await fetch(manifestUrl);
  if (!response.ok) throw new Error(`cannot load ${manifestUrl}: HTTP ${response.status}`);
  const text = await response.text();
  const manifest = JSON.parse(text);
  const monitorFile = manifest.monitor?.file;
  const [bytes, monitor] = await Promise.all([
    fetchBytes(weightsUrl(manifestUrl, manifest)),
    typeof monitorFile === 'string' ? fetchBytes(new URL(monitorFile, manifestUrl).href) : null,
  ]);
  return { text, manifest, bytes, monitor };
}

/** Loads a gallery written by scripts/make-gallery.py: `{ count, height, width, labels, image(i) }`. */
export async function fetchGallery(prefix, glue) {
  const [imageBytes, labelBytes] = await Promise.all([
    fetchBytes(`${prefix}-images.idx3.gz`).then(maybeGunzip),
    fetchBytes(`${prefix}-labels.idx1.gz`).then(maybeGunzip),
  ]);
  const images = parseIdx(imageBytes);
  const labels = parseIdx(labelBytes);
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) throw new Error(`gallery has ${count} images but ${labels.dims[0]} labels`);
  const size = height * width;
  return {
    count,
    height,
    width,
    labels: labels.data,
    pixels: images.data,
    /** Image `i` as the model input: Float32Array in [0, 1], ink = 1. */
    image(i) {
      const out = new Float32Array(size);
      const from = images.data.subarray(i * size, (i + 1) * size);
      for (let k = 0; k < size; k++) out[k] = from[k] / 255;
      return out;
    },
  };
}
