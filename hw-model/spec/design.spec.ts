import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { defaultDesignParams, sizeDesign, estimateDesign, networkCycles } from '../src/design';
import { countMacs, modelOps, vitEncoderOps } from '../src/workloads';
import { VIT_B } from '../../src/sam/config';
import { run } from '../../src/cli/hw-report';
import { benchSteppedPeCycles } from '../src/bench';

describe('edge cases', () => {
  it('rejects an unknown model and a device too small for one PE', () => {
    expect(() => modelOps('sam-vit-x' as never)).toThrow(/model must be/);
    const p = defaultDesignParams();
    expect(() => sizeDesign('int4', { ...p, device: { ...p.device, LUT: 100 } })).toThrow(/fit the shell/);
  });
  it('hw-report rejects bad options with UsageError', async () => {
    await expect(run(['--model', 'sam-vit-q'])).rejects.toThrow(/--model must be/);
    await expect(run(['--model', 'mobilesam', '--bits', '5'])).rejects.toThrow(/--bits/);
    await expect(run(['--model', 'mobilesam', '--device', 'u250'])).rejects.toThrow(/--device/);
  });
});

describe('oracle', () => {
  it('SAM-B encoder MACs match a hand count (padded windows 25·196 = 4900 tokens for windowed qkv/proj)', () => {
    // Hand count, independent of workloads.ts: per block qkv + proj over (tokens of the block), MLP over 4096.
    const C = 768, T = 4096, Tw = 4900;
    let macs = T * C * 768; // patch embed (3·16·16 = 768 inputs)
    for (let b = 0; b < 12; b++) {
      const g = [2, 5, 8, 11].includes(b);
      const tok = g ? T : Tw, win = g ? T : 196, nWin = tok / win;
      macs += tok * C * 3 * C + tok * C * C; // qkv, proj
      macs += 2 * nWin * 12 * win * win * 64; // qk, pv
      macs += 2 * T * C * 4 * C; // fc1, fc2
    }
    macs += T * 768 * 256 + T * 2304 * 256; // neck
    expect(countMacs(vitEncoderOps(VIT_B))).toBe(macs);
  });
});

describe('laws', () => {
  it('sized designs respect the utilisation cap; a larger cap never gives a smaller array', () => {
    fc.assert(fc.property(fc.constantFrom('fp32', 'int8', 'int4') as fc.Arbitrary<'fp32' | 'int8' | 'int4'>, fc.double({ min: 0.3, max: 0.95, noNaN: true }), (prec, cap) => {
      const p = { ...defaultDesignParams(), utilisationCap: cap };
      const d = sizeDesign(prec, p);
      const d2 = sizeDesign(prec, { ...p, utilisationCap: Math.min(1, cap + 0.05) });
      for (const k of ['LUT', 'FF', 'DSP', 'BRAM36'] as const) expect(d.resources[k]).toBeLessThanOrEqual(cap * p.device[k]);
      expect(d2.rows).toBeGreaterThanOrEqual(d.rows);
    }), { numRuns: 20 });
  });
  it('more DRAM bandwidth never slows a network down', () => {
    const p = defaultDesignParams();
    const ops = modelOps('mobilesam');
    const d = sizeDesign('int4', p);
    const slow = networkCycles(d, ops, { ...p, dram: { ...p.dram, bytesPerCycle: 8 } }).cycles;
    const fast = networkCycles(d, ops, { ...p, dram: { ...p.dram, bytesPerCycle: 64 } }).cycles;
    expect(fast).toBeLessThanOrEqual(slow);
  });
  it('GOPS = 2·MACs·FPS and the estimate is deterministic', () => {
    const a = estimateDesign('mobilesam', 'int8'), b = estimateDesign('mobilesam', 'int8');
    expect(a).toEqual(b);
    expect(a.gops).toBeCloseTo((2 * a.macs * a.fps) / 1e9, 9); // same float64 expression, rounding only
  });
});

describe('conformance', () => {
  it('hw-report --json prints the three designs and quotes the paper table separately', async () => {
    const chunks: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    (process.stdout as { write: unknown }).write = (s: string) => { chunks.push(s); return true; };
    try {
      expect(await run(['--model', 'mobilesam', '--json'])).toBe(0);
    } finally {
      (process.stdout as { write: unknown }).write = orig;
    }
    const j = JSON.parse(chunks.join(''));
    expect(j.estimates.map((e: { design: { precision: string } }) => e.design.precision)).toEqual(['fp32', 'int8', 'int4']);
    expect(j.paperTableQuoted.INT4.fps).toBe(33.82);
    expect(j.speedupInt4OverFp32).toBeGreaterThan(1);
  }, 60_000);
  it('the stepped engine is fast enough to property-test (small tile benchmark completes)', () => {
    const r = benchSteppedPeCycles(8, 8, 256);
    expect(r.peCyclesPerSecond).toBeGreaterThan(0);
  });
});
