// Fetching what the page analyses: the model (manifest + safetensors weights + runtime-monitor file) and the
// gallery of test images (a gzipped IDX pair made by scripts/make-gallery.py). The wasm module is the one
// source of the rules: `manifestFiles` names the files a manifest points at (checked by the core's
// manifest-relative resolver) and `decodeIdx` reads IDX (gzip or plain). No DOM here.

/**
 * `fetch(url)` that succeeded with a 2xx answer; errors name the file, and a request the browser refused says
 * why it usually is: the files of another origin need CORS headers (docs/security.md).
 */
async function fetchOk(url) {
  let response;
  try {
    response = await fetch(url);
  } catch {
    const origin = new URL(url).origin;
    const foreign = origin !== location.origin ? `, or ${origin} does not allow this page to read it: it must send Access-Control-Allow-Origin, see docs/security.md` : '';
    throw new Error(`cannot load ${url}: the request failed (offline${foreign})`);
  }
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return response;
}

/** Fetches `url` as bytes (see `fetchOk`). */
async function fetchBytes(url) {
  return new Uint8Array(await (await fetchOk(url)).arrayBuffer());
}

/**
 * Loads a model's files: `{ text, manifest, bytes, monitor, urls }` — the manifest text and its parsed JSON,
 * the weights, the runtime-monitor file (null when it has none) and the URLs they came from (the service
 * worker keeps them offline). `glue` is an instantiated wasm glue module.
 */
export async function fetchModelFiles(manifestUrl, glue) {
  const text = await (await fetchOk(manifestUrl)).text();
  const names = glue.manifestFiles(text);
  const [weightsUrl, monitorUrl] = [names.weights, names.monitor].map((name) => name && new URL(name, manifestUrl).href);
  const [bytes, monitor] = await Promise.all([fetchBytes(weightsUrl), monitorUrl ? fetchBytes(monitorUrl) : null]);
  const urls = [manifestUrl, weightsUrl, monitorUrl].filter(Boolean);
  // The parsed manifest is only read for what the module does not report (the monitor's build statistics).
  return { text, manifest: JSON.parse(text.replace(/^\uFEFF/, '')), bytes, monitor, urls };
}

/** The URLs of the two files of a gallery written by scripts/make-gallery.py. */
export function galleryUrls(prefix) {
  return [`${prefix}-images.idx3.gz`, `${prefix}-labels.idx1.gz`];
}

/** The two files of a gallery: `{ images, labels }` bytes. */
export async function fetchGallery(prefix) {
  const [images, labels] = await Promise.all(galleryUrls(prefix).map(fetchBytes));
  return { images, labels };
}

/** A fetched gallery decoded with `glue.decodeIdx`: `{ count, height, width, labels, pixels, image(i) }`. */
export function readGallery(files, glue) {
  const images = glue.decodeIdx(files.images);
  const labels = glue.decodeIdx(files.labels);
  const [count, height, width] = images.dims;
  if (images.dims.length !== 3 || labels.dims[0] !== count) throw new Error(`gallery has ${count} images but ${labels.dims[0]} labels`);
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
