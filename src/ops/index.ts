/**
 * The op layer: one pure function per file (STYLE.md §6.2), re-exported here. No registry.
 */
export { add } from './add';
export { sub } from './sub';
export { mul } from './mul';
export { div } from './div';
export { scale } from './scale';
export { broadcastShapes } from './broadcast';
export { matmul } from './matmul';
export { linear } from './linear';
export { conv2d, type Conv2dAttrs } from './conv2d';
export { convTranspose2d, type ConvTranspose2dAttrs } from './conv-transpose2d';
export { layerNorm, type LayerNormAttrs } from './layer-norm';
export { layerNorm2d } from './layer-norm-2d';
export { gelu, geluTanh } from './gelu';
export { relu } from './relu';
export { sigmoid } from './sigmoid';
export { softmax, type SoftmaxAttrs } from './softmax';
export { permute } from './permute';
export { pad } from './pad';
export { slice } from './slice';
export { concat } from './concat';
export { interpolateBilinear, bilinearTaps, type InterpolateBilinearAttrs } from './interpolate-bilinear';
