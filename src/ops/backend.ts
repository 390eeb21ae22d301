/**
 * The backend seam: the compute-heavy ops a model forward pass takes from its caller, as one record
 * passed explicitly (no registry, no global switch). `referenceBackend` is this project's readable
 * specification (the ops of this folder); `src/kernels/backend.ts#createFastBackend` returns the same
 * signatures computed by WebAssembly SIMD kernels, property-tested against these.
 */
import { conv2d, type Conv2dAttrs } from './conv2d';
import { convTranspose2d, type ConvTranspose2dAttrs } from './conv-transpose2d';
import { gelu } from './gelu';
import { layerNorm, type LayerNormAttrs } from './layer-norm';
import { layerNorm2d } from './layer-norm-2d';
import { linear } from './linear';
import { matmul } from './matmul';
import { softmax, type SoftmaxAttrs } from './softmax';
import { add } from './add';
import { scale } from './scale';
import { relu } from './relu';
import { permute } from './permute';
import { slice } from './slice';
import { pad } from './pad';
import { interpolateBilinear, type InterpolateBilinearAttrs } from './interpolate-bilinear';
import { qkvAttention } from './qkv-attention';
import { multiHeadAttention } from './multi-head-attention';
import { denseImagePe } from '../nn/position-embedding-random';
import type { DType, Tensor } from '../tensor';

// TYPES

/** The ops a model forward pass takes from its backend (same signatures as the reference ops). */
export interface Backend {
  readonly name: string;
  readonly linear: (x: Tensor, weight: Tensor, bias?: Tensor) => Tensor;
  readonly matmul: (a: Tensor, b: Tensor) => Tensor;
  readonly conv2d: (x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs) => Tensor;
  readonly convTranspose2d: (x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: ConvTranspose2dAttrs) => Tensor;
  readonly layerNorm: (x: Tensor, gamma: Tensor, beta: Tensor, attrs: LayerNormAttrs) => Tensor;
  readonly layerNorm2d: (x: Tensor, gamma: Tensor, beta: Tensor, attrs: LayerNormAttrs) => Tensor;
  readonly gelu: (x: Tensor) => Tensor;
  readonly softmax: (x: Tensor, attrs?: SoftmaxAttrs) => Tensor;
  /** gelu(linear(x, weight, bias)) — one op so a backend can apply GELU before leaving its memory. */
  readonly linearGelu: (x: Tensor, weight: Tensor, bias?: Tensor) => Tensor;
  /** gelu(conv2d(x, weight, bias, attrs)) — one op so a backend can apply GELU before leaving its memory. */
  readonly conv2dGelu: (x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs) => Tensor;
  /** SAM's dense positional encoding of the h×w grid (src/nn/position-embedding-random.ts#denseImagePe). */
  readonly denseImagePe: (gaussian: Tensor, size: readonly [number, number]) => Tensor;
  readonly interpolateBilinear: (x: Tensor, attrs: InterpolateBilinearAttrs) => Tensor;
  /** Attention probabilities softmax(scale·(q·kT) (+ bias)) over the last axis, as one op. */
  readonly attentionProbs: (q: Tensor, kT: Tensor, scale: number, bias?: Tensor) => Tensor;
  /** Multi-head attention on an interleaved qkv [Bw, N, H, 3·hd] → [Bw, N, H·hd] (src/ops/qkv-attention.ts), as one op. */
  readonly qkvAttention: (qkv: Tensor, scale: number, bias?: Tensor) => Tensor;
  /** Multi-head attention on separate q [B, Nq, H·d], k [B, Nk, H·d], v [B, Nk, H·dv] → [B, Nq, H·dv] (src/ops/multi-head-attention.ts), as one op. */
  readonly multiHeadAttention: (q: Tensor, k: Tensor, v: Tensor, heads: number, scale: number) => Tensor;
  readonly add: (a: Tensor, b: Tensor) => Tensor;
  /** add(scale(x, s), b) — attention logits plus bias in one op. */
  readonly scaleAdd: (x: Tensor, s: number, b: Tensor) => Tensor;
  readonly scale: (x: Tensor, s: number) => Tensor;
  readonly relu: (x: Tensor) => Tensor;
  readonly permute: <D extends DType>(x: Tensor<D>, perm: readonly number[]) => Tensor<D>;
  readonly slice: (x: Tensor, starts: readonly number[], ends: readonly number[]) => Tensor;
  readonly pad: (x: Tensor, pads: readonly (readonly [number, number])[], value?: number) => Tensor;
  /**
   * Optional: run `body` letting this backend keep the op results it produces inside in its own memory
   * (valid until `body` returns: do not retain them); the tensor `body` returns is handed back with an
   * ordinary lifetime. Values are identical to calling `body()` directly. Absent: use `withScope`.
   */
  readonly scoped?: <T extends Tensor>(body: () => T) => T;
}

// MAIN

/**
 * Scaled tensor plus a (broadcast) tensor: the composition as its own op of the seam.
 * @source src/ops/scale.ts, src/ops/add.ts
 * @equation y = x·fl32(s) + b
 * @deviation none
 * @precision as scale then add
 */
export function scaleAdd(x: Tensor, s: number, b: Tensor): Tensor {
  return add(scale(x, s), b);
}

/**
 * Attention probabilities: batched product, scaling, optional (broadcast) bias, softmax over the last axis.
 * @source src/ops/matmul.ts, src/ops/scale.ts, src/ops/add.ts, src/ops/softmax.ts
 * @equation P = softmax(s·(q·kT) + bias)
 * @deviation none
 * @precision as matmul, scale, add, softmax in sequence
 */
export function attentionProbs(q: Tensor, kT: Tensor, s: number, bias?: Tensor): Tensor {
  const logits = scale(matmul(q, kT), s);
  return softmax(bias === undefined ? logits : add(logits, bias), { axis: -1 });
}

/**
 * GELU of a Linear layer's output (the composition, as its own op of the seam).
 * @source src/ops/linear.ts, src/ops/gelu.ts
 * @equation y = gelu(x·Wᵀ + b)
 * @deviation none
 * @precision as linear then gelu
 */
export function linearGelu(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  return gelu(linear(x, weight, bias));
}

/**
 * GELU of a conv2d output (the composition, as its own op of the seam).
 * @source src/ops/conv2d.ts, src/ops/gelu.ts
 * @equation y = gelu(conv2d(x, W, b))
 * @deviation none
 * @precision as conv2d then gelu
 */
export function conv2dGelu(x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs): Tensor {
  return gelu(conv2d(x, weight, bias, attrs));
}

/**
 * Run `body` in the backend's resident scope when it has one (`Backend.scoped`), else call it directly.
 * @source this project (backend seam)
 * @equation withScope(be, f) = f()
 * @deviation none
 * @precision exact
 */
export function withScope<T extends Tensor>(be: Backend, body: () => T): T {
  return be.scoped ? be.scoped(body) : body();
}

/**
 * The reference backend's scope: a plain call (its results are ordinary JS arrays).
 * @source this project (backend seam)
 * @equation scoped(f) = f()
 * @deviation none
 * @precision exact
 */
export function plainScope<T extends Tensor>(body: () => T): T {
  return body();
}

/** The reference ops as a Backend (the executable specification). */
export const referenceBackend: Backend = { name: 'reference', scoped: plainScope, linear, matmul, conv2d, convTranspose2d, layerNorm, layerNorm2d, gelu, softmax, attentionProbs, qkvAttention, multiHeadAttention, interpolateBilinear, denseImagePe, linearGelu, conv2dGelu, add, scaleAdd, scale, relu, permute, slice, pad };
