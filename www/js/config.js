// The models the page offers and the sample sets shipped with them: a 340-image gallery (300 class-balanced
// test images, then the model's first 30 mistakes and 10 near-misses; scripts/make-gallery.py) and the whole
// t10k test set for the dataset views (the exact gzipped IDX files of tests/data, fetched when a dataset view
// opens). URLs are resolved against this module, so the site works from any sub-path and the embeddable widget
// finds them from any host page.

const here = (path) => new URL(`../${path}`, import.meta.url).href;

export const MODELS = {
  mnist: {
    title: 'MNIST',
    description: 'handwritten digits',
    manifest: here('models/lenet5-mnist.json'),
    gallery: here('data/mnist-gallery'),
    galleryName: 'MNIST test digits',
    dataset: here('data/mnist-t10k'),
    datasetName: 'the 10,000 MNIST test digits (t10k)',
  },
  fashion: {
    title: 'Fashion-MNIST',
    description: 'clothing items',
    manifest: here('models/lenet5-fashion.json'),
    gallery: here('data/fashion-gallery'),
    galleryName: 'Fashion-MNIST test items',
    dataset: here('data/fashion-t10k'),
    datasetName: 'the 10,000 Fashion-MNIST test items (t10k)',
  },
};

export const DEFAULT_MODEL = 'mnist';

/** The wasm glue module and its binary, next to the page. */
export const WASM_MODULE = here('pkg/convscope.js');
export const WASM_BINARY = here('pkg/convscope_bg.wasm');

/** The bundled textures and photos (www/data/textures, credited in its CREDITS.md), 128 × 128 PNGs. */
export const TEXTURES = ['fur', 'brick', 'grass', 'gravel', 'wood', 'cat', 'coffee', 'flag', 'astronaut'];
export const textureUrl = (name) => here(`data/textures/${name}.png`);
