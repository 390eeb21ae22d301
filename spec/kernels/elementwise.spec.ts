import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createRng, numel, SpecError, type DType, type Tensor } from '../../src/tensor';
import { fastAdd, fastInterpolateBilinear, fastPad, fastPermute, fastRelu, fastScale, fastScaleAdd, fastSlice } from '../../src/kernels/elementwise';
import { referenceBackend } from '../../src/ops/backend';

// Every op here is a copy or one IEEE operation rounded once to float32, exactly as the reference op:
// the bound is 0 (bit-identical, compared as raw bits so NaN and −0 count too).

function rand(rng: ReturnType<typeof createRng>, shape: number[]): Tensor {
  const d = new Float32Array(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = rng.next() < 0.05 ? [0, -0, NaN, Infinity][rng.int(4)]! : rng.normal() * 3;
  return { dtype: 'float32', shape, data: d };
}

function expectBitIdentical(fast: Tensor<DType>, ref: Tensor<DType>): void {
  expect(fast.shape).toEqual(ref.shape);
  expect(fast.dtype).toBe(ref.dtype);
  expect(fast.data.constructor).toBe(ref.data.constructor);
  const fb = new Uint8Array(fast.data.buffer, fast.data.byteOffset, fast.data.byteLength);
  const rb = new Uint8Array(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength);
  expect(Buffer.compare(Buffer.from(fb), Buffer.from(rb))).toBe(0);
}

function expectSameError(fast: () => unknown, ref: () => unknown): void {
  let msg = '';
  try {
    ref();
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    msg = (e as Error).message;
  }
  expect(msg).not.toBe('');
  expect(fast).toThrow(msg);
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 });
const seedArb = fc.integer({ min: 0, max: 1 << 30 });

describe('elementwise fast ops — edge cases', () => {
  const x = rand(createRng(1), [2, 3]);
  it('invalid arguments throw the reference op’s SpecError', () => {
    expectSameError(() => fastAdd(x, rand(createRng(2), [4, 3])), () => referenceBackend.add(x, rand(createRng(2), [4, 3])));
    expectSameError(() => fastScale(x, NaN), () => referenceBackend.scale(x, NaN));
    expectSameError(() => fastPermute(x, [0, 0]), () => referenceBackend.permute(x, [0, 0]));
    expectSameError(() => fastPermute(x, [1]), () => referenceBackend.permute(x, [1]));
    expectSameError(() => fastSlice(x, [0, 2], [2, 2]), () => referenceBackend.slice(x, [0, 2], [2, 2]));
    expectSameError(() => fastPad(x, [[0, -1], [0, 0]]), () => referenceBackend.pad(x, [[0, -1], [0, 0]]));
    expectSameError(() => fastRelu({ dtype: 'float32', shape: [0], data: new Float32Array(0) }), () => referenceBackend.relu({ dtype: 'float32', shape: [0], data: new Float32Array(0) }));
  });
  it('permute keeps the dtype (int32, uint8)', () => {
    const t: Tensor<'int32'> = { dtype: 'int32', shape: [2, 3, 4], data: Int32Array.from({ length: 24 }, (_, i) => i * 7 - 30) };
    expectBitIdentical(fastPermute(t, [2, 0, 1]), referenceBackend.permute(t, [2, 0, 1]));
    const u: Tensor<'uint8'> = { dtype: 'uint8', shape: [3, 5], data: Uint8Array.from({ length: 15 }, (_, i) => i * 17) };
    expectBitIdentical(fastPermute(u, [1, 0]), referenceBackend.permute(u, [1, 0]));
  });
  it('pad with a non-zero value and scalar-like shapes', () => {
    const t = rand(createRng(3), [1, 1, 1]);
    expectBitIdentical(fastPad(t, [[1, 0], [0, 2], [3, 1]], -2.5), referenceBackend.pad(t, [[1, 0], [0, 2], [3, 1]], -2.5));
    expectBitIdentical(fastSlice(t, [0, 0, 0], [1, 1, 1]), referenceBackend.slice(t, [0, 0, 0], [1, 1, 1]));
  });
});

describe('elementwise fast ops — oracle (reference ops, bit-identical)', () => {
  it('add: same shape, suffix broadcast either way, general broadcast (fallback)', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 }), seedArb, (shape, cut, mode, seed) => {
        const rng = createRng(seed);
        const k = Math.min(cut, shape.length);
        let bShape: number[];
        if (mode === 0) bShape = shape;
        else if (mode === 1) bShape = shape.slice(k); // suffix
        else if (mode === 2) bShape = [1, 1, ...shape.slice(k)]; // suffix with leading ones
        else bShape = shape.map((d, i) => (i % 2 === 0 ? 1 : d)); // general broadcast
        if (bShape.length === 0) bShape = [1];
        const a = rand(rng, shape);
        const b = rand(rng, bShape);
        expectBitIdentical(fastAdd(a, b), referenceBackend.add(a, b));
        expectBitIdentical(fastAdd(b, a), referenceBackend.add(b, a));
      }),
    );
  });
  it('scaleAdd = add ∘ scale (suffix bias, same shape, and the general-broadcast fallback)', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer({ min: 0, max: 5 }), fc.boolean(), fc.double({ min: -3, max: 3, noNaN: true }), seedArb, (shape, cut, general, s, seed) => {
        const rng = createRng(seed);
        let bShape = general ? shape.map((d, i) => (i % 2 === 0 ? 1 : d)) : shape.slice(Math.min(cut, shape.length));
        if (bShape.length === 0) bShape = [1];
        const x = rand(rng, shape);
        const b = rand(rng, bShape);
        expectBitIdentical(fastScaleAdd(x, s, b), referenceBackend.scaleAdd(x, s, b));
        expectBitIdentical(referenceBackend.scaleAdd(x, s, b), referenceBackend.add(referenceBackend.scale(x, s), b));
      }),
    );
  });
  it('interpolateBilinear: up- and down-sampling, non-square, several planes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 2 }), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 4, maxLength: 4 }), seedArb, ([N, C], [H, W, Ho, Wo], seed) => {
        const x = rand(createRng(seed), [N!, C!, H!, W!]);
        expectBitIdentical(fastInterpolateBilinear(x, { size: [Ho!, Wo!] }), referenceBackend.interpolateBilinear(x, { size: [Ho!, Wo!] }));
      }),
    );
    const m = rand(createRng(6), [1, 1, 64, 64]);
    expectBitIdentical(fastInterpolateBilinear(m, { size: [256, 256] }), referenceBackend.interpolateBilinear(m, { size: [256, 256] }));
    expectSameError(() => fastInterpolateBilinear(m, { size: [0, 3] }), () => referenceBackend.interpolateBilinear(m, { size: [0, 3] }));
  });
  it('scale and relu', () => {
    fc.assert(
      fc.property(shapeArb, fc.double({ min: -10, max: 10, noNaN: true }), seedArb, (shape, s, seed) => {
        const x = rand(createRng(seed), shape);
        expectBitIdentical(fastScale(x, s), referenceBackend.scale(x, s));
        expectBitIdentical(fastRelu(x), referenceBackend.relu(x));
      }),
    );
  });
  it('permute: every permutation of random shapes (size-1 axes included)', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        const rng = createRng(seed);
        const perm = shape.map((_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        const x = rand(rng, shape);
        expectBitIdentical(fastPermute(x, perm), referenceBackend.permute(x, perm));
      }),
    );
  });
  it('permute: large dims (blocked-transpose path, partial tiles)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 45 }), { minLength: 2, maxLength: 4 }), seedArb, (shape, seed) => {
        const rng = createRng(seed);
        const perm = shape.map((_, i) => i);
        for (let i = perm.length - 1; i > 0; i--) {
          const j = rng.int(i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        const x = rand(rng, shape);
        expectBitIdentical(fastPermute(x, perm), referenceBackend.permute(x, perm));
      }),
      { numRuns: 30 },
    );
    const t = rand(createRng(8), [2, 37, 70]);
    expectBitIdentical(fastPermute(t, [0, 2, 1]), referenceBackend.permute(t, [0, 2, 1]));
  });
  it('permute: long contiguous inner runs (block-copy path)', () => {
    const x = rand(createRng(5), [3, 2, 70]);
    expectBitIdentical(fastPermute(x, [1, 0, 2]), referenceBackend.permute(x, [1, 0, 2]));
  });
  it('slice and pad on random boxes', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        const rng = createRng(seed);
        const x = rand(rng, shape);
        const starts = shape.map((d) => rng.int(d));
        const ends = shape.map((d, i) => starts[i]! + 1 + rng.int(d - starts[i]!));
        expectBitIdentical(fastSlice(x, starts, ends), referenceBackend.slice(x, starts, ends));
        const pads = shape.map(() => [rng.int(3), rng.int(3)] as [number, number]);
        const value = rng.int(2) === 0 ? 0 : rng.normal();
        expectBitIdentical(fastPad(x, pads, value), referenceBackend.pad(x, pads, value));
      }),
    );
  });
});

describe('elementwise fast ops — laws', () => {
  it('slice ∘ pad = identity, permute ∘ inverse permute = identity', () => {
    fc.assert(
      fc.property(shapeArb, seedArb, (shape, seed) => {
        const rng = createRng(seed);
        const x = rand(rng, shape);
        const pads = shape.map(() => [rng.int(3), rng.int(3)] as [number, number]);
        const p = fastPad(x, pads);
        expectBitIdentical(fastSlice(p, pads.map((q) => q[0]), pads.map((q, d) => q[0] + shape[d]!)), x);
        const perm = shape.map((_, i) => i).reverse();
        const inv = perm.map((_, i) => perm.indexOf(i));
        expectBitIdentical(fastPermute(fastPermute(x, perm), inv), x);
      }),
    );
  });
});
