/**
 * spec/quant-sam/figures: histogram binning, quantizer level sets, the SVG writer, side-by-side mask
 * panels, and the results-page writer (pure; synthetic records, no model runs).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpecError } from '../../src/tensor';
import { actLevels, binEdges, histogram, histogramSvg, sideBySide } from '../../src/quant-sam/figures';
import { resultsMarkdown, type CalibRecord, type EvalRecord } from '../../src/cli/results';
import type { FidelityReport } from '../../src/quant-sam/evaluate';

/** Naive oracle: count by scanning every bin (no binary search). */
function naiveCounts(values: number[], edges: Float64Array): number[] {
  const n = edges.length - 1;
  const c = new Array<number>(n).fill(0);
  for (const v of values) {
    for (let k = 0; k < n; k++) {
      const last = k === n - 1;
      if (v >= edges[k]! && (v < edges[k + 1]! || (last && v === edges[n]!))) {
        c[k]!++;
        break;
      }
    }
  }
  return c;
}

const report = (method: string, bits: number, all: number, sqnr: number): FidelityReport => ({
  method, bits, maskIoU: { box: all + 0.01, point: all - 0.01, all }, iouMAE: 0.05, embeddingSQNRdB: sqnr, embeddingCosine: 0.99,
  layers: [{ name: 'patch_embed', sqnrDb: 30 }, { name: 'layers.0.downsample', sqnrDb: sqnr + 7 }, { name: 'layers.1.blocks.0', sqnrDb: sqnr + 5 }, { name: 'neck', sqnrDb: sqnr }],
  images: [{ name: 'a.png', embeddingSQNRdB: sqnr, maskIoU: all, prompts: 3 }], seconds: 10,
});
const calibRec = (m: string, bits: number): CalibRecord => ({
  method: m, cliMethod: m, bits, calibSeconds: 100, photos: ['camera.png', 'coins.png'], prompts: 7, calibGrid: 1, searchBatches: 2,
  load1Before: 9, load1After: 11, maxRssMiB: 900, backend: 'fast', finishedAt: '2026-01-01T00:00:00Z',
});
const evalRec = (bits: number, methods: string[], vals: [number, number][]): EvalRecord => ({
  bits, methods, reports: methods.map((m, i) => report(m === 'ahcq' ? 'AHCQ-SAM' : m.toUpperCase(), bits, vals[i]![0], vals[i]![1])), evalSeconds: 300,
  photos: ['astronaut.png', 'chelsea.png', 'coffee.png'], grid: 2, prompts: { box: 6, point: 20 }, load1Before: 10, load1After: 12, maxRssMiB: 1200, backend: 'fast', finishedAt: '2026-01-01T00:00:00Z',
});

describe('edge cases', () => {
  it('binEdges / histogram reject empty, reversed, non-positive-log and unsorted input', () => {
    expect(() => binEdges(1, 1, 4, false)).toThrow(SpecError);
    expect(() => binEdges(0, 1, 4, true)).toThrow(/lo must be > 0 on a log axis/);
    expect(() => binEdges(0, 1, 0, false)).toThrow(/n must be a positive integer/);
    expect(() => histogram([1], [0])).toThrow(/at least two/);
    expect(() => histogram([1], [0, 2, 1])).toThrow(/edges\[2\]/);
  });
  it('histogram puts NaN and out-of-range values in `outside`, the right edge in the last bin', () => {
    const r = histogram([NaN, -1, 0, 0.5, 1, 2, Infinity], [0, 0.5, 1]);
    expect(Array.from(r.counts)).toEqual([1, 2]);
    expect(r.outside).toBe(4);
  });
  it('sideBySide rejects masks of the wrong size and a zero step', () => {
    const img = { width: 2, height: 2, data: new Uint8Array(12) };
    expect(() => sideBySide(img, [new Uint8Array(3)], 1)).toThrow(/masks\[0\]\.length/);
    expect(() => sideBySide(img, [new Uint8Array(4)], 0)).toThrow(/step/);
    expect(() => sideBySide(img, [], 1)).toThrow(/at least one mask/);
  });
  it('actLevels: CAG / AGQ have no single grid (null)', () => {
    expect(actLevels({ kind: 'cag', bits: 4, groupScales: [1], groupZeroPoints: [0], labels: [0] })).toBeNull();
  });
  it('histogramSvg rejects mismatched edges and a log axis through 0', () => {
    expect(() => histogramSvg({ title: 't', xLabel: 'x', edges: [0, 1], counts: [1, 2], logX: false, grids: [] })).toThrow(SpecError);
    expect(() => histogramSvg({ title: 't', xLabel: 'x', edges: [0, 1], counts: [1], logX: true, grids: [] })).toThrow(/log axis/);
  });
});

describe('oracle', () => {
  it('histogram equals a per-bin scan on random values (linear and log edges)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -2, max: 12, noNaN: true }), { maxLength: 200 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), (vals, n, log) => {
        const e = log ? binEdges(1e-3, 10, n, true) : binEdges(-1, 10, n, false);
        const got = histogram(vals, e);
        const want = naiveCounts(vals, e);
        expect(Array.from(got.counts)).toEqual(want);
        expect(got.outside).toBe(vals.length - want.reduce((a, b) => a + b, 0));
      }),
    );
  });
  it('LSQ levels are (q − z)·s for q = qmin..qmax, written out by hand for 2 bits', () => {
    const l = actLevels({ kind: 'lsq', scale: 0.5, zeroPoint: 1, qmin: 0, qmax: 3 });
    expect(Array.from(l!)).toEqual([-0.5, 0, 0.5, 1]);
  });
  it('HLUQ W4 levels: 0 underflow, log levels s_log·2^−e, uniform levels above s_log (g = 1/4 → 4 log codes)', () => {
    // L = 16, L_log = 4: c=0 → m; c=1..3 → s_log·2^-(4-c) + m; c=4..15 → (c−4)·s_uni + s_log + m
    const p = { version: 'v4' as const, bits: 4, m: 0, sLog: 1, sUni: 0.5, g: 0.25 };
    const l = Array.from(actLevels({ kind: 'hluq', params: p })!);
    expect(l.slice(0, 5)).toEqual([0, 0.125, 0.25, 0.5, 1]);
    expect(l[15]).toBe(1 + 11 * 0.5);
  });
  it('LNQ W4 table: T[0] = 0, T[N_q] = s (within float32), increasing', () => {
    const l = actLevels({ kind: 'lnq', params: { bits: 4, s: 1, alpha: 100 } })!;
    expect(l[0]).toBe(0);
    // float32 table: T[N_q] = (exp(ln(1 + α s)) − 1)/α within a few float32 ulps of s = 1
    expect(Math.abs(l[l.length - 1]! - 1)).toBeLessThan(1e-5);
    for (let i = 1; i < l.length; i++) expect(l[i]!).toBeGreaterThan(l[i - 1]!);
  });
});

describe('laws', () => {
  it('histogram counts + outside = number of values (conservation)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noDefaultInfinity: false }), { maxLength: 100 }), (vals) => {
        const r = histogram(vals, binEdges(-5, 5, 7, false));
        return r.counts.reduce((a, b) => a + b, 0) + r.outside === vals.length;
      }),
    );
  });
  it('sideBySide with step 1 copies the photo and the masks panel by panel', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), (w, h, P, gutter) => {
        const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
        const masks = Array.from({ length: P }, (_, p) => Uint8Array.from({ length: w * h }, (_, i) => (i + p) % 2));
        const s = sideBySide({ width: w, height: h, data }, masks, 1, gutter);
        expect(s.image.width).toBe(P * w + (P - 1) * gutter);
        for (let p = 0; p < P; p++) {
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const dst = y * s.image.width + p * (w + gutter) + x;
              expect(s.mask[dst]).toBe(masks[p]![y * w + x]);
              expect(s.image.data[3 * dst + 1]).toBe(data[3 * (y * w + x) + 1]);
            }
          }
        }
      }),
    );
  });
  it('histogramSvg is well-formed: one <svg> root, one grid path per grid, no NaN coordinates', () => {
    const e = binEdges(1e-6, 1, 50, true);
    const svg = histogramSvg({ title: 'a <b> & c', xLabel: 'p', edges: e, counts: Array.from({ length: 50 }, (_, i) => i * i), logX: true, grids: [{ label: 'LNQ', color: 'red', levels: [0, 1e-3, 0.5, 1] }, { label: 'uniform', color: 'blue', levels: [0.25, 0.5], dashed: true }] });
    expect(svg.match(/<svg /g)?.length).toBe(1);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('a &lt;b&gt; &amp; c');
    expect(svg).toContain('LNQ (3 levels in view)'); // 0 lies outside a log axis
    expect(svg).toContain('uniform (2 levels in view)');
  });
});

describe('conformance: the results page', () => {
  const calibs = ['rtn', 'ahcq'].flatMap((m) => [calibRec(m, 4), calibRec(m, 6)]);
  const evals = [evalRec(4, ['rtn', 'ahcq'], [[0.4, 2], [0.6, 5]]), evalRec(6, ['rtn', 'ahcq'], [[0.8, 12], [0.85, 14]])];
  const md = resultsMarkdown(calibs, evals, ['masks-astronaut-helmet_box_point-w4.png', 'hist-attention-probs.svg']);
  it('states what the numbers are (calibration-only fidelity, not COCO mAP) and quotes the paper apart', () => {
    expect(md).toMatch(/calibration-only mode/);
    expect(md).toMatch(/not COCO mAP/);
    const claims = md.indexOf("## The paper's claims");
    expect(claims).toBeGreaterThan(md.indexOf('## Fidelity to FP32'));
    expect(md.slice(claims)).toMatch(/"\+15\.2" over the state of the art/);
    expect(md.slice(0, claims)).not.toMatch(/15\.2/);
  });
  it('one table row per method × bits with the numbers given, rtn before ahcq, W4 before W6', () => {
    const rows = md.split('\n').filter((l) => /^\| (RTN|AHCQ-SAM) \| W\d/.test(l));
    expect(rows.map((r) => r.split('|')[1]!.trim() + r.split('|')[2]!.trim())).toEqual(['RTNW4A4', 'AHCQ-SAMW4A4', 'RTNW6A6', 'AHCQ-SAMW6A6']);
    expect(rows[1]).toContain('| 0.600 |');
    expect(rows[1]).toContain('| 5.00 |');
  });
  it('the analysis reports the ordering the numbers show and the reductions made', () => {
    expect(md).toContain('W4A4, by mIoU (all prompts): ahcq 0.600 > rtn 0.400');
    expect(md).toContain('ahcq − rtn at W4: mIoU +0.200, embedding SQNR +3.00 dB');
    expect(md).toMatch(/Reduced to fit the time.*calibration on 2 of the 8 photos.*first 2 calibration images \(batches\).*3 of the 5 evaluation photos.*2×2 evaluation point grid/);
    expect(md).toContain('figures/hist-attention-probs.svg');
  });
  it('the analysis names the SQNR left after TinyViT\'s conv stage (same quantizers in every method) at the first bit width', () => {
    const lines = md.split('\n').filter((l) => l.includes('after TinyViT\'s convolutional stage'));
    expect(lines).toHaveLength(1);
    // the W4 records: rtn 2 dB → layers.0.downsample 9 dB; ahcq 5 dB → 12 dB
    expect(lines[0]).toMatch(/^\* W4: .* already 9\.0–12\.0 dB for all methods/);
  });
  it('the decoder diagnostics table has one row per model and names the CAG sites\' effect; Infinity prints as ∞', () => {
    const rows = [
      { variant: 'weights', sites: 0, logitsSqnrDb: 30, maskIoU: 0.99 },
      { variant: 'acts:cag', sites: 24, logitsSqnrDb: 0.5, maskIoU: 0.2 },
      { variant: 'acts:lsq', sites: 20, logitsSqnrDb: 15, maskIoU: 0.97 },
      { variant: 'all', sites: 44, logitsSqnrDb: Infinity, maskIoU: 1 },
    ];
    const m = resultsMarkdown(calibs, evals, [], [{ method: 'AHCQ-SAM', cliMethod: 'ahcq', bits: 4, photo: 'chelsea.png', prompts: 4, rows }]);
    expect(m).toContain('| model | weights | acts:lsq | acts:cag | all |');
    expect(m).toContain('| ahcq W4 | 30.0 / 0.990 (0) | 15.0 / 0.970 (20) | 0.5 / 0.200 (24) | ∞ / 1.000 (44) |');
    expect(m).toContain('ahcq W4: the 24 CAG sites alone give 0.5 dB / mIoU 0.200; the 20 LSQ sites alone 15.0 dB / 0.970');
  });
  it('the CAG group-rule table has one row per (bits, batching) and a summary line per bit width', () => {
    const row = (batching: 'image' | 'prompt', rule: 'centroid' | 'cover' | 'per-channel' | 'per-tensor', db: number, iou: number) => ({ batching, rule, logitsSqnrDb: db, maskIoU: iou });
    const rows = [row('image', 'centroid', 4.25, 0.62), row('image', 'cover', 16.4, 0.958), row('image', 'per-channel', 8.4, 0.87), row('image', 'per-tensor', 17.35, 0.949), row('prompt', 'centroid', -0.02, 0.379)];
    const m = resultsMarkdown(calibs, evals, [], [], [{ bits: 4, photo: 'chelsea.png', prompts: 17, calibPhotos: ['brick.png'], calibPrompts: 4, rows }]);
    expect(m).toContain('| bits | batching | centroid | cover | per-channel | per-tensor |');
    expect(m).toContain('| W4 | image | 4.3 / 0.620 | 16.4 / 0.958 | 8.4 / 0.870 | 17.4 / 0.949 |');
    expect(m).toContain('| W4 | prompt | -0.0 / 0.379 | – | – | – |');
    expect(m).toContain('W4: the published centroid rule 4.3 dB, covering groups 16.4 dB, per-channel 8.4 dB, per-tensor 17.4 dB');
  });
});
