// The stages of the architecture strip (js/panels/architecture.js), from the model's layer list alone, so any
// imported sequential model gets its strip: one stage per layer that computes something new (conv, pooling,
// linear, ...), the element-wise layers that follow it folded in (a ReLU: the stage shows its output, as the
// next layer sees it; a flatten: the same numbers reshaped), and the final (log-)softmax as the output stage,
// labelled with the classes. Each stage says which operation made it ("5×5 conv + ReLU"). No DOM here.

const FOLDED = new Set(['relu', 'flatten']);
const SOFTMAX = new Set(['softmax', 'log_softmax']);

/** The operation of a manifest layer in a few words ("5×5 conv", "2×2 max pool", "fully connected"). */
export function operationOf(spec = {}) {
  const size = (k) => (Array.isArray(k) ? k.join('×') : `${k}×${k}`);
  switch (spec.type) {
    case 'conv2d':
      return `${size(spec.kernel_size)} conv`;
    case 'max_pool2d':
      return `${size(spec.kernel_size)} max pool`;
    case 'avg_pool2d':
      return `${size(spec.kernel_size)} avg pool`;
    case 'linear':
      return 'fully connected';
    default:
      return spec.type ?? '';
  }
}

/**
 * The stages of `layers` (the app's `{ index, name, type, shape }`, 1-based) with the manifest's layer specs
 * `specs` (same order) for a model of `classes` classes: `[{ layer, name, shows, shape, op, output, probabilities, log }]`.
 * `layer` is the number of the layer whose output the stage shows, `shows` its name; `output` marks the last
 * stage when it has one value per class; `probabilities`: it is a softmax (`log`: a log-softmax, whose values
 * are the logarithms of the probabilities).
 */
export function networkStages(layers, specs, classes) {
  const stages = [];
  for (const layer of layers) {
    const last = stages[stages.length - 1];
    if (last && FOLDED.has(layer.type)) {
      if (layer.type === 'relu') {
        last.layer = layer.index;
        last.shows = layer.name;
        last.op += ' + ReLU';
      }
      continue;
    }
    const softmax = SOFTMAX.has(layer.type);
    const op = softmax ? 'softmax' : operationOf(specs[layer.index - 1]);
    stages.push({ layer: layer.index, name: softmax ? 'output' : layer.name, shows: layer.name, shape: layer.shape, op, output: false, probabilities: softmax, log: layer.type === 'log_softmax' });
  }
  const final = stages[stages.length - 1];
  if (final && final.shape.length === 1 && final.shape[0] === classes) final.output = true;
  return stages;
}
