import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gridAttention, type GridAttentionWeights } from '../../src/nn/attention';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';
import { float32Tensor } from '../arbitraries/tensor';
import { attentionLoop } from '../oracles/attention-loop';
import { expectClose, maxAbsDiff } from '../helpers/close';
import { hasShared, loadSharedNpy, missingShared } from '../helpers/shared';

const TINY = ['fixtures', 'sam-reference', 'vit-tiny'];

const attnCase = fc
  .record({ b: fc.integer({ min: 1, max: 2 }), s: fc.integer({ min: 1, max: 3 }), nh: fc.integer({ min: 1, max: 2 }), hd: fc.integer({ min: 1, max: 3 }), rel: fc.boolean() })
  .chain(({ b, s, nh, hd, rel }) => {
    const C = nh * hd;
    const r = 0.5; // weight scale keeps logits O(1)
    return fc.record({
      x: float32Tensor([b, s, s, C]),
      w: fc.record({
        qkvWeight: float32Tensor([3 * C, C], { min: -r, max: r }),
        qkvBias: float32Tensor([3 * C], { min: -r, max: r }),
        projWeight: float32Tensor([C, C], { min: -r, max: r }),
        projBias: float32Tensor([C], { min: -r, max: r }),
        relPosH: rel ? float32Tensor([2 * s - 1, hd], { min: -r, max: r }) : fc.constant(undefined),
        relPosW: rel ? float32Tensor([2 * s - 1, hd], { min: -r, max: r }) : fc.constant(undefined),
      }),
      nh: fc.constant(nh),
    });
  });

describe('gridAttention — edge cases', () => {
  it('a single token attends only to itself: output = proj(v)', () => {
    const C = 2;
    const eye = fromArray([2, 2], [1, 0, 0, 1]);
    const w: GridAttentionWeights = { qkvWeight: fromArray([6, 2], [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]), projWeight: eye };
    const y = gridAttention(fromArray([1, 1, 1, C], [3, -4]), w, 1);
    expect(Array.from(y.data)).toEqual([3, -4]);
  });
  it.each([
    ['dim not divisible by heads', fromArray([1, 1, 1, 3], [0, 0, 0]), 2, /x.shape\[3\] must be divisible by numHeads = 2/],
    ['rank 3 input', fromArray([1, 1, 3], [0, 0, 0]), 1, /x.rank must be 4/],
  ])('%s → SpecError', (_n, x, nh, msg) => {
    const C = 3;
    const w: GridAttentionWeights = { qkvWeight: fromArray([3 * C, C], new Array(27).fill(0)), projWeight: fromArray([C, C], new Array(9).fill(0)) };
    expect(() => gridAttention(x, w, nh)).toThrow(SpecError);
    expect(() => gridAttention(x, w, nh)).toThrow(msg);
  });
  it('relPosH without relPosW → SpecError', () => {
    const w: GridAttentionWeights = { qkvWeight: fromArray([3, 1], [1, 1, 1]), projWeight: fromArray([1, 1], [1]), relPosH: fromArray([1, 1], [0]) };
    expect(() => gridAttention(fromArray([1, 1, 1, 1], [1]), w, 1)).toThrow(/relPosH\/relPosW must be given together/);
  });
});

describe('gridAttention — oracle', () => {
  it('matches the per-element definition (with and without relative position bias)', () => {
    fc.assert(
      fc.property(attnCase, ({ x, w, nh }) => {
        const o = attentionLoop(x, { qkvW: w.qkvWeight, qkvB: w.qkvBias, projW: w.projWeight, projB: w.projBias, relH: w.relPosH, relW: w.relPosW }, nh);
        // src stores every intermediate (qkv, logits, probs, heads) in fp32, the oracle keeps fp64 after qkv/proj:
        // a few ulp of O(10) values propagated through softmax and proj → ≤ ~1e-5 (5e-5 allowed)
        expectClose(gridAttention(x, w, nh), o, 5e-5, 0);
      }),
      { numRuns: 30 },
    );
  });
});

describe('gridAttention — laws', () => {
  it('without rel-pos, attention is permutation-equivariant: transposing the token grid transposes the output', () => {
    fc.assert(
      fc.property(attnCase.filter((c) => c.w.relPosH === undefined), ({ x, w, nh }) => {
        const [B, S, , C] = x.shape as [number, number, number, number];
        const t = (z: Tensor): Tensor => {
          const out = new Float32Array(z.data.length);
          for (let b = 0; b < B; b++) for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) for (let c = 0; c < C; c++) out[((b * S + j) * S + i) * C + c] = z.data[((b * S + i) * S + j) * C + c]!;
          return { dtype: 'float32', shape: [...z.shape], data: out };
        };
        // permuting tokens permutes the softmax sums: summation order changes → ≤ few ulp (1e-5 allowed)
        expect(maxAbsDiff(gridAttention(t(x), w, nh).data, t(gridAttention(x, w, nh)).data)).toBeLessThan(1e-5);
      }),
      { numRuns: 30 },
    );
  });
  it('observe hooks see q, k, v, probs (rows sum to 1) and the transform hook replaces the proj input', () => {
    fc.assert(
      fc.property(attnCase, ({ x, w, nh }) => {
        const seen = new Map<string, Tensor[]>();
        const y = gridAttention(x, w, nh, {
          observe: (n, t) => seen.set(n, [...(seen.get(n) ?? []), t]),
          transform: (n, t) => (n === 'attn.proj.in' ? { ...t, data: new Float32Array(t.data.length) } : t),
        });
        expect([...seen.keys()]).toEqual(['attn.qkv.in', 'attn.q', 'attn.k', 'attn.v', 'attn.probs', 'attn.proj.in']);
        expect(seen.get('attn.probs')!.length).toBe(x.shape[0]! * nh);
        for (const p of seen.get('attn.probs')!) {
          const N = p.shape[1]!;
          for (let r = 0; r < N; r++) expect(Math.abs(p.data.subarray(r * N, (r + 1) * N).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
        }
        // zeroed proj input → output = proj bias at every token
        const C = x.shape[3]!;
        expect(y.data.every((v, i) => v === w.projBias.data[i % C])).toBe(true);
      }),
      { numRuns: 20 },
    );
  });
});

describe.skipIf(!hasShared(...TINY))('gridAttention — conformance', () => {
  if (!hasShared(...TINY)) console.warn(missingShared(...TINY));
  const W = (k: string): Tensor => loadSharedNpy(...TINY, 'weights', `${k}.npy`) as Tensor;
  it.each([
    ['blocks.0 (windowed, 4 windows of 14×14, rel_pos [27,16])', 0],
    ['blocks.1 (global 20×20, rel_pos [39,16])', 1],
  ])('vit-tiny %s: attn(attn_in) vs official within 1e-4', (_n, i) => {
    const b = `blocks.${i}.attn`;
    const x = loadSharedNpy(...TINY, 'act', `blocks.${i}.attn_in.npy`) as Tensor;
    const ref = loadSharedNpy(...TINY, 'act', `blocks.${i}.attn.npy`) as Tensor;
    const y = gridAttention(x, { qkvWeight: W(`${b}.qkv.weight`), qkvBias: W(`${b}.qkv.bias`), projWeight: W(`${b}.proj.weight`), projBias: W(`${b}.proj.bias`), relPosH: W(`${b}.rel_pos_h`), relPosW: W(`${b}.rel_pos_w`) }, 4);
    const d = maxAbsDiff(y.data, ref.data);
    console.info(`gridAttention vs official vit-tiny ${b}: max |Δ| = ${d}`);
    // README suggested check: 1e-4 absolute on encoder activations
    expect(y.shape).toEqual(ref.shape);
    expect(d).toBeLessThan(1e-4);
  });
});
