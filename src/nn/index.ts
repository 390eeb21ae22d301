/**
 * SAM-agnostic neural-network blocks built from src/ops. No registry.
 */
export { windowPartition, windowUnpartition } from './window-partition';
export { getRelPos, addDecomposedRelPos } from './rel-pos';
export { peEncoding, denseImagePe } from './position-embedding-random';
export { gridAttention, type GridAttentionWeights } from './attention';
export { tap, observe, type ForwardHooks, type ObserveHook, type TransformHook } from './hooks';
