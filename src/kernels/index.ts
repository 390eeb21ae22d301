/**
 * The fast backend (wasm-SIMD kernels emitted by a TypeScript assembler, shared memory, worker pool)
 * and the backend seam. Model code takes a `Backend` parameter: `referenceBackend` (src/ops) or the
 * result of `createFastBackend()` (call `dispose()` when done).
 */
export { createFastBackend, referenceBackend, type Backend, type FastBackend } from './backend';
export { createKernelRuntime, disposeKernelRuntime, relaxedSimdAvailable, type KernelRuntime, type RuntimeOptions } from './runtime';
export { gemmF32, gemmF32Batch, gemmInt, packF32, packInt8, DEFAULT_BLOCKING, type GemmBlocking, type GemmF32Task, type PackedF32, type PackedInt, type BLayout } from './gemm';
export { alloc, mark, release, f32At, i32At, u8At, type Arena } from './arena';
export { geluRows, softmaxRows, layerNormRows } from './rows';
