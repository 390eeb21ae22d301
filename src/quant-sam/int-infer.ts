/**
 * Model-level integer inference of a `QuantizedModel` on the fast backend (issue 7): every planned
 * Linear whose input site is LSQ (uniform), CAG or HLUQ runs on the wasm integer GEMM
 * (src/quant-sam/int-layer.ts); everything else — LayerNorm, softmax and its LNQ / AGQ quantizer,
 * GELU, the convolutions and their input quantizers, decoder q/k/v output quantizers — computes the
 * fake-quant float path of `fakeQuantModel` (LSQ and LNQ fake quantization on the wasm kernels of
 * src/kernels/int-ops.ts, bit-identical to `quantTap`).
 *
 * Mechanism (no registry, no global state): a site tap and a Backend wrapper that share one closure.
 * At an integer site the tap does NOT fake-quantize; it returns a fresh tensor record aliasing the raw
 * input (zero-copy) and remembers it as "pending for layer L". The wrapper's `linear` / `linearGelu`
 * recognise a pending input by identity and the weight by its data array (the dequantized weight
 * `fakeQuantModel` put into the weight record), encode the raw input with the tap's own quantizer
 * and run the integer layer. On TinyViT the same deferral applies to LSQ conv inputs (consumed by
 * `conv2d` / `conv2dGelu`) and LNQ probabilities (consumed by `matmul`): the quantizer runs inside the
 * consuming op's resident scope, so the quantized tensor never leaves wasm memory. Any other call is
 * delegated to the fast backend unchanged. An integer layer reached without its pending input, or a
 * pending input reaching any other op, is an error.
 */
import { specRequire, type Tensor } from '../tensor';
import type { FastBackend } from '../kernels/backend';
import type { Backend } from '../ops/backend';
import type { StateDict } from '../sam/sam-decoder-types';
import { fakeQuantModel, quantTap, type QuantizedModel } from './pipeline';
import type { QuantTarget, SiteTap } from './model';
import { intInputQuant, intLinearForward, packIntLinear, type IntLinearDetail, type IntLinearLayer } from './int-layer';
import { createIntKernels, fakeQuantLnqFast, fakeQuantUniformFast, lnqThresholdTable, type LnqThresholds, type UniformQ } from '../kernels/int-ops';
import { residentScope } from '../kernels/resident';
import type { Conv2dAttrs } from '../ops/conv2d';

// TYPES

/** What one integer layer saw and produced (for tests and audits; only when `record` is given). */
export interface IntLayerEvent extends IntLinearDetail {
  readonly layer: string;
  readonly site: string;
  /** The raw (not fake-quantized) input the codes were computed from. */
  readonly x: Tensor;
  readonly y: Tensor;
}

/** Options of `intQuantModel`. */
export interface IntInferOptions {
  /** Called after every integer layer with its codes and accumulators (costs copies). */
  readonly record?: (e: IntLayerEvent) => void;
  /** Only these layers run on the integer GEMM (default: every eligible planned Linear). */
  readonly layers?: (layer: string) => boolean;
}

/** The integer-inference model: weight records, tap and backend to pass to runEncoder / runDecoderLowRes. */
export interface IntQuantModel {
  readonly enc: Record<string, Tensor>;
  readonly dec: StateDict | null;
  readonly tap: SiteTap;
  readonly backend: Backend;
  /** Layers that run on the integer GEMM. */
  readonly integerLayers: readonly string[];
  /** Planned Linear layers that stay fake-quant, with the reason. */
  readonly fakeQuantLayers: readonly { readonly layer: string; readonly reason: string }[];
  /** Pending integer inputs not yet consumed (0 after a complete forward). */
  readonly pendingCount: () => number;
}

interface LayerEntry {
  readonly layer: string;
  readonly site: string;
  readonly weight: Float32Array;
  readonly int: IntLinearLayer;
}

// MAIN

/**
 * Build the integer-inference form of a quantized model on a fast backend: the fake-quant weight
 * records and tap of `fakeQuantModel`, with the eligible Linear layers moved to the integer GEMM.
 * Weights are packed once into the backend's arena (they live until `fast.dispose()`).
 * @paper AHCQ-SAM:v4 §5.5 (inference with every quantizer on), §3.2–§3.3 (integer mapping)
 * @source docs/integer-datapath.md "Model-level integer inference on the fast backend"
 * @equation integer layer l fed by site s: y = rescale(Σ W̃·(Q_s(x) − z)) + b (int-layer.ts); every other op as fakeQuantModel
 * @deviation the only numerical difference from fakeQuantModel is the summation of integer layers
 *   (exact integers, one rounding, instead of float32 sums of dequantized operands); downstream
 *   quantizers may flip a code when that difference crosses a rounding boundary
 * @precision integer layers: exact accumulators, float64 rescale, float32 store; others as the fast backend
 */
export function intQuantModel(target: QuantTarget, qm: QuantizedModel, fast: FastBackend, opts: IntInferOptions = {}): IntQuantModel {
  const fn = 'intQuantModel';
  specRequire(fast !== undefined && fast.runtime !== undefined, { fn, what: 'fast', rule: 'be a fast backend (createFastBackend)', got: fast });
  const fq = fakeQuantModel(target, qm);
  const kernels = createIntKernels(fast.runtime);
  const compat = qm.plan.preset.referenceCompat;
  const kindOf = new Map(qm.plan.weights.map((w) => [w.layer, w]));
  const bySite = new Map<string, LayerEntry>();
  const byWeight = new Map<Float32Array, LayerEntry>();
  const integerLayers: string[] = [];
  const fakeQuantLayers: { layer: string; reason: string }[] = [];
  for (const a of qm.plan.activations) {
    if (!a.feeds) continue;
    const ws = kindOf.get(a.feeds);
    if (!ws || ws.kind !== 'linear') continue;
    const reject = (reason: string): void => void fakeQuantLayers.push({ layer: a.feeds!, reason });
    if (opts.layers && !opts.layers(a.feeds)) {
      reject('not selected');
      continue;
    }
    const p = qm.acts[a.site];
    specRequire(p !== undefined, { fn, what: `acts['${a.site}']`, rule: 'be present in the quantized model', got: 'missing' });
    const { quant, reason } = intInputQuant(p, compat);
    if (!quant) {
      reject(reason!);
      continue;
    }
    const rec = ws.part === 'decoder' ? fq.dec : fq.enc;
    const weight = rec?.[`${a.feeds}.weight`];
    specRequire(weight !== undefined, { fn, what: `weights['${a.feeds}.weight']`, rule: 'be present', got: 'missing' });
    const entry: LayerEntry = { layer: a.feeds, site: a.site, weight: weight.data as Float32Array, int: packIntLinear(fast.runtime, qm.weights[a.feeds]!.q, quant, kernels) };
    bySite.set(a.site, entry);
    byWeight.set(entry.weight, entry);
    integerLayers.push(a.feeds);
  }

  // TinyViT (whose hooks hand a conv input straight to be.conv2d / be.conv2dGelu and the probabilities
  // straight to be.matmul): LSQ conv inputs and LNQ probabilities are fake-quantized inside the consuming
  // op's resident scope (no copy of the quantized tensor out of wasm memory and back in)
  const deferOk = target.arch.kind === 'tiny-vit';
  const convSites = new Map<string, UniformQ>();
  for (const a of qm.plan.activations) {
    if (!deferOk) break;
    const p = qm.acts[a.site];
    // a conv input site is `<conv layer>.in` (conv sites carry no `feeds`)
    const layer = a.feeds ?? (a.site.endsWith('.in') ? a.site.slice(0, -3) : '');
    if (kindOf.get(layer)?.kind === 'conv' && p?.kind === 'lsq') convSites.set(a.site, p);
  }

  // the tap: integer sites and LSQ conv sites pass the raw input through (a fresh record, same data);
  // LNQ and other LSQ sites fake-quantize on the wasm kernels (bit-identical to quantTap); the rest go through quantTap
  const pending = new Map<Tensor, LayerEntry>();
  const pendingConv = new Map<Tensor, { site: string; q: UniformQ }>();
  const pendingProbs = new Map<Tensor, { site: string; t: LnqThresholds }>();
  const fqTap = quantTap(qm.acts, compat);
  const lnqTables = new Map<string, LnqThresholds>();
  for (const [site, p] of Object.entries(qm.acts)) if (p.kind === 'lnq') lnqTables.set(site, lnqThresholdTable(p.params, compat));
  const tap: SiteTap = (site, t, v) => {
    const e = bySite.get(site);
    if (!e) {
      const p = qm.acts[site];
      const cq = convSites.get(site);
      if (cq && t.dtype === 'float32') {
        const alias: Tensor = { dtype: t.dtype, shape: t.shape, data: t.data };
        pendingConv.set(alias, { site, q: cq });
        return alias;
      }
      if (p?.kind === 'lsq' && t.dtype === 'float32') return fakeQuantUniformFast(kernels, t, p);
      if (p?.kind === 'lnq' && t.dtype === 'float32') {
        if (!deferOk) return fakeQuantLnqFast(kernels, t, lnqTables.get(site)!);
        const alias: Tensor = { dtype: t.dtype, shape: t.shape, data: t.data };
        pendingProbs.set(alias, { site, t: lnqTables.get(site)! });
        return alias;
      }
      return fqTap(site, t, v);
    }
    const alias: Tensor = { dtype: t.dtype, shape: t.shape, data: t.data };
    pending.set(alias, e);
    return alias;
  };

  const run = (x: Tensor, weight: Tensor, bias: Tensor | undefined, gelu: boolean): Tensor | undefined => {
    const e = byWeight.get(weight.data as Float32Array);
    const p = pending.get(x);
    if (!e && !p) return undefined;
    specRequire(e !== undefined && p === e, {
      fn: gelu ? 'linearGelu' : 'linear',
      what: e ? `input of integer layer '${e.layer}'` : `weight fed by integer site '${p!.site}'`,
      rule: e ? `come from its site tap '${e.site}'` : `be the weight of '${p!.layer}'`,
      got: e ? (p ? p.site : 'an untapped tensor') : 'another weight',
    });
    pending.delete(x);
    const out = intLinearForward(fast.runtime, e.int, x, bias?.data as Float32Array | undefined, { gelu, site: e.site, detail: opts.record !== undefined });
    if (opts.record) opts.record({ layer: e.layer, site: e.site, x, y: out.y, codes: out.detail!.codes, acc: out.detail!.acc, y0: out.detail!.y0 });
    return out.y;
  };
  const conv = (x: Tensor, weight: Tensor, bias: Tensor | undefined, attrs: Conv2dAttrs, gelu: boolean): Tensor => {
    const pc = pendingConv.get(x);
    if (!pc) return gelu ? fast.conv2dGelu(x, weight, bias, attrs) : fast.conv2d(x, weight, bias, attrs);
    pendingConv.delete(x);
    return residentScope(fast.runtime, () => {
      const xq = fakeQuantUniformFast(kernels, x, pc.q); // inside the scope: an arena view, read in place by the conv
      return gelu ? fast.conv2dGelu(xq, weight, bias, attrs) : fast.conv2d(xq, weight, bias, attrs);
    });
  };
  // every other op: a pending (raw, not yet quantized) input must never reach it
  const guarded = {} as Record<string, unknown>;
  for (const [name, f] of Object.entries(fast)) {
    if (typeof f !== 'function' || name === 'dispose' || name === 'scoped') continue;
    guarded[name] = (...args: unknown[]): unknown => {
      for (const a of args) {
        const p = pending.get(a as Tensor) ?? pendingConv.get(a as Tensor) ?? pendingProbs.get(a as Tensor);
        if (p) specRequire(false, { fn: name, what: `input from site '${p.site}'`, rule: 'reach the layer it was tapped for (it is not quantized yet)', got: `backend op '${name}'` });
      }
      return (f as (...a: unknown[]) => unknown)(...args);
    };
  }
  const matmul = (a: Tensor, b: Tensor): Tensor => {
    const pp = pendingProbs.get(a);
    if (!pp) return (guarded.matmul as Backend['matmul'])(a, b);
    pendingProbs.delete(a);
    return residentScope(fast.runtime, () => fast.matmul(fakeQuantLnqFast(kernels, a, pp.t), b));
  };
  const backend: Backend = {
    ...fast,
    ...(guarded as Partial<Backend>),
    name: `${fast.name}+int`,
    linear: (x, weight, bias) => run(x, weight, bias, false) ?? fast.linear(x, weight, bias),
    linearGelu: (x, weight, bias) => run(x, weight, bias, true) ?? fast.linearGelu(x, weight, bias),
    conv2d: (x, weight, bias, attrs) => conv(x, weight, bias, attrs, false),
    conv2dGelu: (x, weight, bias, attrs) => conv(x, weight, bias, attrs, true),
    matmul,
  };
  return { enc: fq.enc, dec: fq.dec, tap, backend, integerLayers, fakeQuantLayers, pendingCount: () => pending.size + pendingConv.size + pendingProbs.size };
}
