// Generated from the Rust catalogue (src/catalogue); a test keeps it in step.
export type AttributionMethod =
  | "gradient"
  | "saliency"
  | "guided-backprop"
  | "deconvnet"
  | "gradient-x-input"
  | "integrated-gradients"
  | "smoothgrad"
  | "grad-cam"
  | "guided-grad-cam"
  | "occlusion";
export type TechniqueId = AttributionMethod
  | "predict"
  | "activations"
  | "filters"
  | "deconv"
  | "deconv-all"
  | "monitor-check"
  | "patches"
  | "neighbours"
  | "pca"
  | "tsne"
  | "umap"
  | "visualize"
  | "atlas"
  | "dream"
  | "invert"
  | "gram"
  | "texture"
  | "style-transfer"
  | "response-map"
  | "response-map-generate"
  | "order"
  | "weight-gradient"
  | "weight-gradient-compare";
export interface ActivationsOptions {
  /** the layer whose output is shown, by name (the CLI also takes its 1-based number) */
  layer?: string | null;
}
export interface FiltersOptions {
  /** a conv2d or linear layer, by name */
  layer?: string | null;
}
export interface DeconvOptions {
  /** the activations to project: a conv block's output (pool1, pool2) or its conv layer's name */
  layer?: string | null;
  /** channel of the layer, from 0 */
  channel?: number;
  /** all = the whole channel, max = its strongest unit, y,x = the unit at row y, column x */
  unit?: "all" | "max" | `${number},${number}`;
}
export interface AttributionCommonOptions {
  /** class to explain; empty = the predicted class */
  target?: number | null;
  /** the pre-softmax logit or the log-probability of the target class */
  output?: "logit" | "log_prob";
}
export type GradientOptions = AttributionCommonOptions;
export type SaliencyOptions = AttributionCommonOptions;
export type GuidedBackpropOptions = AttributionCommonOptions;
export type DeconvnetOptions = AttributionCommonOptions;
export type GradientXInputOptions = AttributionCommonOptions;
export interface IntegratedGradientsOptions extends AttributionCommonOptions {
  /** points on the straight path from the baseline, both ends included */
  steps?: number;
  /** pixel value of the baseline image (0 = black) */
  baseline?: number | number[];
}
export interface SmoothgradOptions extends AttributionCommonOptions {
  /** noisy copies of the input averaged */
  samples?: number;
  /** noise standard deviation, as a fraction of the input's value range */
  sigma?: number;
  /** seed of the noise (the same seed gives the same map on every platform) */
  seed?: number;
  /** the single-pass method averaged over the noisy copies */
  base?: "gradient" | "saliency" | "guided-backprop" | "deconvnet" | "gradient-x-input";
}
export interface GradCamOptions extends AttributionCommonOptions {
  /** a layer with a C×H×W output (a conv layer's name means the ReLU after it); empty = the last one */
  layer?: string | null;
}
export interface GuidedGradCamOptions extends AttributionCommonOptions {
  /** a layer with a C×H×W output (a conv layer's name means the ReLU after it); empty = the last one */
  layer?: string | null;
}
export interface OcclusionOptions extends AttributionCommonOptions {
  /** side of the occluding square, pixels */
  window?: number;
  /** step between window positions, pixels */
  stride?: number;
  /** raw pixel value put inside the window (0 = black) */
  fill?: number;
}
export interface MonitorCheckOptions {
  /** warn when the nearest training pattern differs in more than γ neurons; empty = the monitor's γ */
  gamma?: number;
}
export interface DatasetCommonOptions {
  /** use N images: the first N of each data set (default all), or N from --index of --idx (default 1); more than the file holds is an error */
  count?: number;
}
export interface PatchesOptions extends DatasetCommonOptions {
  /** a conv block (conv1 or pool1, conv2 or pool2: per channel, crops) or a layer with a vector output (fc1, fc2: per unit, whole images) */
  layer?: string | null;
  /** images per unit, best first */
  top?: number;
}
export interface NeighboursOptions extends DatasetCommonOptions {
  /** the layer whose outputs are compared (any layer by name), or pixels */
  layer?: string | null;
  /** cosine = 1 − cos of the angle between the feature vectors; euclidean = their distance */
  metric?: "cosine" | "euclidean";
  /** neighbours to list, nearest first */
  top?: number;
}
export interface PcaOptions extends DatasetCommonOptions {
  /** the layer whose outputs are compared (any layer by name), or pixels */
  layer?: string | null;
}
export interface TsneOptions extends DatasetCommonOptions {
  /** the layer whose outputs are compared (any layer by name), or pixels */
  layer?: string | null;
  /** the effective number of neighbours each point keeps (below the number of images) */
  perplexity?: number;
  /** the factor on the affinities during the first 250 iterations */
  earlyExaggeration?: number;
  /** the gradient step; 0 = automatic, max(N / early exaggeration / 4, 50) */
  learningRate?: number;
  /** gradient steps in all, the 250 exaggerated ones included */
  iterations?: number;
}
export interface UmapOptions extends DatasetCommonOptions {
  /** the layer whose outputs are compared (any layer by name), or pixels */
  layer?: string | null;
  /** the size of each point's neighbourhood, the point included (below the number of images) */
  neighbors?: number;
  /** how tightly points may pack on the map */
  minDist?: number;
  /** optimization epochs (default: 500 up to 10,000 images, else 200) */
  iterations?: number;
  /** seed of the negative sampling */
  seed?: number;
}
export interface VisualizeOptions {
  /** class:K, logprob:K, LAYER:K (a channel's mean or an fc unit) or LAYER:K@Y,X; terms joined by commas are added */
  objective?: string;
  /** minimize the objective instead: the image that switches it off hardest */
  negative?: boolean;
  /** optimize the pixels, or the coefficients of a decorrelated Fourier basis (smoother images) */
  param?: "fourier" | "pixel";
  /** Adam steps */
  steps?: number;
  /** Adam's step size */
  lr?: number;
  /** largest random shift each step, in pixels */
  jitter?: number;
  /** largest random change of size each step (0.1 = ±10 %) */
  scale?: number;
  /** largest random rotation each step, in degrees */
  rotate?: number;
  /** weight of the total-variation prior (empty: 20 for class objectives, 0.5 otherwise) */
  tv?: number;
  /** weight of the L2 prior (empty: 100 for class objectives, 1 otherwise) */
  l2?: number;
  /** blur the image (σ 0.5 px) every k steps; 0 = never */
  blurEvery?: number;
  /** images optimized together */
  batch?: number;
  /** weight of the diversity term that pushes the batch's images apart (Gram matrices of the last conv block's output) */
  diversity?: number;
  /** seed of the start noise and of every random transform */
  seed?: number;
}
export interface AtlasOptions {
  /** a layer (one cell per conv channel or fc unit: conv1, relu2, fc1, ...), or class (the default) for one class image per class */
  layer?: string | null;
  /** optimize the pixels, or the coefficients of a decorrelated Fourier basis (smoother images) */
  param?: "fourier" | "pixel";
  /** Adam steps */
  steps?: number;
  /** Adam's step size */
  lr?: number;
  /** largest random shift each step, in pixels */
  jitter?: number;
  /** largest random change of size each step (0.1 = ±10 %) */
  scale?: number;
  /** largest random rotation each step, in degrees */
  rotate?: number;
  /** weight of the total-variation prior (empty: 20 for class objectives, 0.5 otherwise) */
  tv?: number;
  /** weight of the L2 prior (empty: 100 for class objectives, 1 otherwise) */
  l2?: number;
  /** blur the image (σ 0.5 px) every k steps; 0 = never */
  blurEvery?: number;
  /** seed of the start noise and of every random transform */
  seed?: number;
}
export interface DreamOptions {
  /** the conv-prefix layer whose energy to raise (empty: the last ReLU before the fc layers) */
  layer?: string | null;
  /** sizes the dream runs at, each octave-scale times the last (3 of 1.4: 28 → 39 → 55 px) */
  octaves?: number;
  /** growth of the image from one octave to the next */
  octaveScale?: number;
  /** ascent steps at each size */
  steps?: number;
  /** step along the gradient normalized to a mean magnitude of 1 per pixel */
  lr?: number;
  /** largest random shift each step, in pixels */
  jitter?: number;
  /** seed of the start noise and of every random transform */
  seed?: number;
}
export interface InvertOptions {
  /** the layer whose features of the input to invert */
  layer?: string | null;
  /** Adam steps */
  steps?: number;
  /** Adam's step size */
  lr?: number;
  /** weight λ_TV of the total-variation prior (β = 2) */
  tv?: number;
  /** exponent of the α-norm prior */
  alpha?: number;
  /** weight λ_α of the α-norm prior */
  norm?: number;
  /** seed of the start noise and of every random transform */
  seed?: number;
}
export interface GramOptions {
  /** a layer of the conv prefix (conv, ReLU or max-pool), by name */
  layer?: string | null;
}
export interface TextureCommonOptions {
  /** whose features describe the style: the built-in random network (RGB) or the loaded model (luminance) */
  net?: "random" | "model";
  /** the weight of each style layer (default 1 each) */
  layerWeights?: number[];
  /** optimizer steps (Adam on the pixels) */
  steps?: number;
  /** seed of the start noise */
  seed?: number;
  /** Adam's step size, in pixel units */
  lr?: number;
}
export interface TextureOptions extends TextureCommonOptions {
  /** height and width of the texture (default: the style image's) */
  size?: number[];
  /** the layers whose Gram matrices are matched (default: every ReLU and max-pool of the conv prefix; through the random network its maps, `random`) */
  layers?: string[];
}
export interface StyleTransferOptions extends TextureCommonOptions {
  /** the layer whose features keep the content (default: the last ReLU of the conv prefix; through the random network `random-coarse`, its 7 and 11 px maps averaged over 8 × 8 blocks, coarser than the style's `random`) */
  contentLayer?: string | null;
  /** the layers whose Gram matrices are matched (default: the style layers below the content layer; through the random network its maps, `random`) */
  styleLayers?: string[];
  /** weight of the relative content loss */
  contentWeight?: number;
  /** weight of the relative style loss (default: 1 through the model, 3 through the random network) */
  styleWeight?: number;
  /** where the optimization starts */
  start?: "content" | "noise";
}
export interface ResponseMapCommonOptions {
  /** use N images: the first N of each data set (default all), or N from --index of --idx (default 1); more than the file holds is an error */
  count?: number;
}
export interface ResponseMapOptions extends ResponseMapCommonOptions {
  /** the layers whose neurons are mapped (default: every conv2d and linear layer) */
  layers?: string[];
  /** how two neurons' activations over the inputs are compared */
  correlation?: "pearson" | "spearman";
  /** a conv channel as one neuron (its mean over positions) or every unit (at most 2,000 in all) */
  units?: "mean" | "all";
  /** t-SNE's effective number of neighbours per neuron (below the number of neurons kept) */
  perplexity?: number;
  /** t-SNE gradient steps in all, the 250 exaggerated ones included */
  iterations?: number;
  /** seed of t-SNE's random starting layout */
  seed?: number;
}
export interface ResponseMapGenerateOptions {
  /** how the neurons' values fill the grid: the nearest neuron's, or linear over their Delaunay triangles (the nearest neuron's outside them) */
  method?: "nearest" | "linear";
  /** any colormap of colormaps() */
  colormap?: "viridis" | "magma" | "inferno" | "plasma" | "gray" | "diverging";
  /** the map's size in pixels: height,width on the CLI (default 128,128); the JS and Rust API's `size` is [width, height], as the package's */
  size?: number[];
  /** push the square layout into a disc (the package's CircleProjection) */
  circle?: boolean;
}
export interface OrderOptions {
  /** the layer whose output stack [C, H, W] is reordered */
  layer?: string | null;
  /** k-means clusters, or the projection on the first principal component */
  by?: "kmeans" | "pca";
  /** k-means's number of clusters (at most the number of channels) */
  k?: number;
  /** compare the channels on this row y only (a slice through every map); not given: whole maps */
  slice?: number;
  /** seed of the k-means++ seeding */
  seed?: number;
}
export interface WeightGradientOptions {
  /** the conv layer whose weights the gradient is taken with respect to */
  layer?: string | null;
  /** the class whose logit is differentiated (default: the predicted class; for a comparison, the reference class) */
  target?: number | null;
}
export interface WeightGradientCompareOptions {
  /** the conv layer whose weights the gradient is taken with respect to */
  layer?: string | null;
  /** REF or REF,SIMILAR,DISSIMILAR: the reference class, and the others (default: the class most confused with REF and the least confused one) */
  compare?: number[];
  /** the class whose logit is differentiated (default: the predicted class; for a comparison, the reference class) */
  target?: number | null;
  /** the first N images of each class (in data-set order) averaged and animated */
  perClass?: number;
}
/** The options object each technique takes (`{}` for those without options). */
export interface TechniqueOptions {
  "predict": Record<string, never>;
  "activations": ActivationsOptions;
  "filters": FiltersOptions;
  "deconv": DeconvOptions;
  "deconv-all": Record<string, never>;
  "gradient": GradientOptions;
  "saliency": SaliencyOptions;
  "guided-backprop": GuidedBackpropOptions;
  "deconvnet": DeconvnetOptions;
  "gradient-x-input": GradientXInputOptions;
  "integrated-gradients": IntegratedGradientsOptions;
  "smoothgrad": SmoothgradOptions;
  "grad-cam": GradCamOptions;
  "guided-grad-cam": GuidedGradCamOptions;
  "occlusion": OcclusionOptions;
  "monitor-check": MonitorCheckOptions;
  "patches": PatchesOptions;
  "neighbours": NeighboursOptions;
  "pca": PcaOptions;
  "tsne": TsneOptions;
  "umap": UmapOptions;
  "visualize": VisualizeOptions;
  "atlas": AtlasOptions;
  "dream": DreamOptions;
  "invert": InvertOptions;
  "gram": GramOptions;
  "texture": TextureOptions;
  "style-transfer": StyleTransferOptions;
  "response-map": ResponseMapOptions;
  "response-map-generate": ResponseMapGenerateOptions;
  "order": OrderOptions;
  "weight-gradient": WeightGradientOptions;
  "weight-gradient-compare": WeightGradientCompareOptions;
}
export type AttributionOptions = TechniqueOptions[AttributionMethod];
/** The method the page opens with and `convscope attribute` runs without --method. */
export type DefaultAttributionMethod = "integrated-gradients";
/** The colormaps of `colormaps()`: diverging ones (centred on zero, `signed: true`) and the others. */
export type SignedColormapName =
  | "diverging";
export type UnsignedColormapName =
  | "viridis"
  | "magma"
  | "inferno"
  | "plasma"
  | "gray";
export type ColormapName = SignedColormapName | UnsignedColormapName;
