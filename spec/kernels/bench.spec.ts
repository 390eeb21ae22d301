import { describe, expect, it } from 'vitest';
import { benchGemm, timeWithLoad } from '../../src/bench/kernels';
import { SpecError } from '../../src/tensor';

describe('benchGemm — edge cases', () => {
  it('rejects a non-positive shape', async () => {
    await expect(benchGemm({ shapes: [{ M: 0, K: 1, N: 1, batch: 1 }], ort: false })).rejects.toThrow(SpecError);
  });
  it('timeWithLoad reports a non-negative time and foreign load', async () => {
    const m = await timeWithLoad(() => undefined);
    expect(m.ms).toBeGreaterThanOrEqual(0);
    expect(m.foreignLoad).toBeGreaterThanOrEqual(0);
  });
});

describe('benchGemm — laws', () => {
  it('returns one positive-rate row per (variant, shape, threads) on a tiny shape, onnxruntime included', async () => {
    const rows = await benchGemm({ shapes: [{ M: 9, K: 8, N: 10, batch: 1 }, { M: 5, K: 4, N: 3, batch: 2 }], threads: [1, 2], runs: 1, warmup: 1, retries: 0 });
    // 2 shapes × 2 thread counts × (wasm f32, wasm f32 resident, wasm int, ORT f32, ORT int)
    expect(rows.length).toBe(20);
    for (const r of rows) {
      expect(r.rate).toBeGreaterThan(0);
      expect(Number.isFinite(r.medianMs)).toBe(true);
    }
    expect(new Set(rows.map((r) => `${r.variant}|${r.shape}|${r.threads}`)).size).toBe(20);
  });
});
