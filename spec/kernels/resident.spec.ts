/**
 * Resident scopes of the fast backend (src/kernels/resident.ts): inside `scoped`, op outputs live in
 * the arena and resident inputs are read in place; values must be bit-identical to the same fast ops
 * called outside a scope, the scope's result must survive it, and weight packs first requested inside
 * a scope must be rebuilt persistently (never served from released memory).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, type Tensor } from '../../src/tensor';
import { createFastBackend, type FastBackend } from '../../src/kernels/backend';
import { arenaAddress } from '../../src/kernels/arena';
import { withScope, referenceBackend } from '../../src/ops/backend';

function rand(seed: number, shape: number[]): Tensor {
  const rng = createRng(seed);
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.next() * 2 - 1;
  return { dtype: 'float32', shape, data: d };
}

/** Bitwise equality of two float32 tensors (NaN-safe, −0 distinguished). */
function sameBits(a: Tensor, b: Tensor): boolean {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]) || a.data.length !== b.data.length) return false;
  const x = new Uint32Array(Float32Array.from(a.data as Float32Array).buffer);
  const y = new Uint32Array(Float32Array.from(b.data as Float32Array).buffer);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** A small chain exercising every resident path: linear(+gelu), layerNorm, permute, slice, pad, add, conv (gemm, dw), attentionProbs, matmul, softmax. */
function chain(be: FastBackend, rand: (seed: number, shape: number[]) => Tensor, seed: number, rows: number, C: number, heads: number): Tensor {
  const x = rand(seed, [1, rows, C]);
  const w1 = rand(seed + 1, [3 * C, C]);
  const b1 = rand(seed + 2, [3 * C]);
  const g = rand(seed + 3, [C]);
  const bt = rand(seed + 4, [C]);
  const n = be.layerNorm(x, g, bt, { epsilon: 1e-5 });
  const qkv = be.linear(n, w1, b1); // [1, rows, 3C]
  const hd = C / heads;
  const q = be.permute({ ...be.slice(qkv, [0, 0, 0], [1, rows, C]), shape: [1, rows, heads, hd] }, [0, 2, 1, 3]); // [1, h, rows, hd]
  const k = be.permute({ ...be.slice(qkv, [0, 0, C], [1, rows, 2 * C]), shape: [1, rows, heads, hd] }, [0, 2, 3, 1]); // [1, h, hd, rows]
  const v = be.permute({ ...be.slice(qkv, [0, 0, 2 * C], [1, rows, 3 * C]), shape: [1, rows, heads, hd] }, [0, 2, 1, 3]);
  const p = be.attentionProbs(q, k, hd ** -0.5, rand(seed + 5, [heads, rows, rows]));
  const o = be.permute(be.matmul(p, v), [0, 2, 1, 3]); // [1, rows, h, hd]
  const y = be.add(x, { ...o, shape: [1, rows, C] });
  const h = be.linearGelu(y, rand(seed + 6, [2 * C, C]), rand(seed + 7, [2 * C]));
  const img = be.permute({ ...h, shape: [1, rows, 1, 2 * C] }, [0, 3, 1, 2]); // [1, 2C, rows, 1]
  const padded = be.pad(img, [[0, 0], [0, 0], [1, 1], [0, 2]]); // [1, 2C, rows+2, 3]
  const dw = be.conv2dGelu(padded, rand(seed + 8, [2 * C, 1, 3, 3]), rand(seed + 9, [2 * C]), { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 * C });
  const pc = be.conv2d(dw, rand(seed + 10, [C, 2 * C, 1, 1]), rand(seed + 11, [C]), { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 });
  return be.softmax(be.gelu(pc), { axis: -1 });
}

let fast: FastBackend;
beforeAll(async () => {
  fast = await createFastBackend({ threads: 2 });
});
afterAll(async () => {
  await fast.dispose();
});

describe('resident scopes — edge cases', () => {
  it('a throwing body releases the scope: the arena top is restored and later ops still work', () => {
    const top0 = fast.runtime.arena.top;
    expect(() => fast.scoped!(() => {
      fast.linear(rand(1, [9, 4]), rand(2, [5, 4]));
      throw new Error('boom');
    })).toThrow('boom');
    expect(fast.runtime.resident.depth).toBe(0);
    expect(fast.runtime.resident.pending.length).toBe(0);
    expect(fast.runtime.arena.top).toBe(top0);
    expect(fast.linear(rand(1, [2, 4]), rand(3, [5, 4])).shape).toEqual([2, 5]);
  });
  it('the outermost result is an ordinary JS array; an inner scope result is resident and survives later ops', () => {
    let inner: Tensor | undefined;
    let innerCopy: Float32Array | undefined;
    const out = fast.scoped!(() => {
      inner = fast.scoped!(() => fast.gelu(fast.add(rand(4, [3, 37]), rand(5, [3, 37]))));
      expect(arenaAddress(fast.runtime.arena, inner.data as Float32Array)).toBeGreaterThanOrEqual(0);
      innerCopy = (inner.data as Float32Array).slice();
      for (let i = 0; i < 5; i++) fast.linear(rand(6 + i, [50, 37]), rand(7, [20, 37])); // overwrite scratch above
      expect(sameBits(inner, { ...inner, data: innerCopy })).toBe(true);
      return fast.relu(inner);
    });
    expect(arenaAddress(fast.runtime.arena, out.data as Float32Array)).toBe(-1);
    expect(Array.from(out.data)).toEqual(Array.from(innerCopy!, (v) => (v > 0 ? v : 0)));
  });
  it('the arena top after the outermost scope is where it was, plus only the persistent packs of new weights', () => {
    const w = rand(77, [24, 16]);
    const b = rand(78, [24]);
    const top0 = fast.runtime.arena.top;
    fast.scoped!(() => fast.linear(rand(79, [33, 16]), w, b));
    const top1 = fast.runtime.arena.top;
    expect(top1).toBeGreaterThan(top0); // the deferred persistent pack
    fast.scoped!(() => fast.linear(rand(80, [33, 16]), w, b));
    expect(fast.runtime.arena.top).toBe(top1); // cache hit: nothing new persists
  });
  it('withScope on the reference backend is a plain call', () => {
    const x = rand(9, [2, 3]);
    expect(withScope(referenceBackend, () => referenceBackend.relu(x)).data).toEqual(referenceBackend.relu(x).data);
  });
});

describe('resident scopes — laws', () => {
  it('scoped(chain) is bit-identical to chain outside a scope, including weights first packed inside a scope (fresh seeds)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 60 }), fc.constantFrom([8, 2], [12, 3], [20, 4], [6, 1]), (seed, rows, [C, heads]) => {
        // the same weight arrays on every call (the pack caches are keyed by array)
        const memo = new Map<number, Tensor>();
        const r = (s: number, shape: number[]): Tensor => memo.get(s) ?? (memo.set(s, rand(s, shape)), memo.get(s)!);
        // (1) weights first seen inside a scope (transient packs + deferred persistent packs)
        const inScope = fast.scoped!(() => chain(fast, r, seed, rows, C!, heads!));
        // (2) the same weights again inside a nested scope (cache hits), (3) outside any scope
        const nested = fast.scoped!(() => fast.scoped!(() => chain(fast, r, seed, rows, C!, heads!)));
        const plain = chain(fast, r, seed, rows, C!, heads!);
        // (4) fresh arrays outside any scope (no cache involvement at all)
        const fresh = chain(fast, rand, seed, rows, C!, heads!);
        expect(sameBits(fresh, plain)).toBe(true);
        expect(sameBits(inScope, plain)).toBe(true);
        expect(sameBits(nested, plain)).toBe(true);
        expect(fast.runtime.resident.depth).toBe(0);
      }),
      { numRuns: 25 },
    );
  });
});
