import { describe, expect, it } from 'vitest';
import { observe, tap } from '../../src/nn/hooks';
import { fromArray, SpecError, type Tensor } from '../../src/tensor';

describe('tap / observe — edge cases', () => {
  it('no hooks: identity (same object)', () => {
    const t = fromArray([1], [1]);
    expect(tap(undefined, 'a', t)).toBe(t);
    expect(observe(undefined, 'a', t)).toBe(t);
  });
  it('a transform returning the wrong shape → SpecError naming the tap point', () => {
    const call = () => tap({ transform: () => fromArray([2], [1, 2]) }, 'blocks.0.mlp.lin1.in', fromArray([1], [1]));
    expect(call).toThrow(SpecError);
    expect(call).toThrow(/transform\('blocks.0.mlp.lin1.in'\) result must be a float32 tensor of shape \[1\]/);
  });
});

describe('tap / observe — oracle', () => {
  it('observe sees the value before the transform; the result is the transformed value', () => {
    const seen: [string, number][] = [];
    const y = tap({ observe: (n, t) => seen.push([n, t.data[0]!]), transform: (_n, t) => fromArray(t.shape, [t.data[0]! * 2]) }, 'p', fromArray([1], [3]));
    expect(seen).toEqual([['p', 3]]);
    expect(y.data[0]).toBe(6);
  });
});

describe('tap / observe — laws', () => {
  it('observe never applies the transform', () => {
    const t: Tensor = fromArray([1], [5]);
    expect(observe({ transform: () => fromArray([1], [0]) }, 'p', t)).toBe(t);
  });
});

describe('tap / observe — conformance', () => {
  it('the identity transform leaves a tap point unchanged', () => {
    const t = fromArray([2], [1, 2]);
    expect(tap({ transform: (_n, z) => z }, 'p', t)).toBe(t);
  });
});
