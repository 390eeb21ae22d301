/**
 * Figures of the results page, drawn by our own code (no plotting library): histograms of an activation
 * with the representable values of its quantizers drawn on top (SVG text), and FP32 / quantized masks
 * of one photo side by side (an image + mask pair for `encodeOverlayPng`).
 */
import { specRequire } from '../tensor';
import { hluqLevels } from '../quant/hluq';
import { lnqDecodeTable } from '../quant/lnq';
import type { RgbImage } from '../io/image';
import type { ActParams } from './act-quant';

// TYPES

/** One quantization grid drawn on a histogram. */
export interface GridLines {
  readonly label: string;
  /** CSS colour of the lines. */
  readonly color: string;
  /** Representable values (any order; duplicates allowed). */
  readonly levels: ArrayLike<number>;
  readonly dashed?: boolean;
}

/** What `histogramSvg` draws. */
export interface HistogramFigure {
  readonly title: string;
  readonly xLabel: string;
  /** Bin edges, strictly increasing, length = counts.length + 1. */
  readonly edges: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
  /** Draw x on a log10 axis (edges must then be > 0). */
  readonly logX: boolean;
  readonly grids: readonly GridLines[];
  /** One line of small print under the title. */
  readonly note?: string;
}

// HELPERS

const W = 760, H = 380, ML = 64, MR = 16, MT = 52, MB = 48;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function tickLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-2 && a < 1e4 ? String(Number(v.toPrecision(3))) : v.toExponential(0);
}

// MAIN

/**
 * Bin edges: n equal bins on [lo, hi] (linear) or on [log10 lo, log10 hi] (log).
 * @source this project (figure helper)
 * @equation e_k = lo + k·(hi − lo)/n, or 10^(log10 lo + k·(log10 hi − log10 lo)/n), k = 0..n
 * @deviation none
 * @precision float64
 */
export function binEdges(lo: number, hi: number, n: number, log: boolean): Float64Array {
  const fn = 'binEdges';
  specRequire(Number.isInteger(n) && n >= 1, { fn, what: 'n', rule: 'be a positive integer', got: n });
  specRequire(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi, { fn, what: '[lo, hi]', rule: 'be a finite interval with lo < hi', got: [lo, hi] });
  specRequire(!log || lo > 0, { fn, what: 'lo', rule: 'be > 0 on a log axis', got: lo });
  const e = new Float64Array(n + 1);
  const a = log ? Math.log10(lo) : lo, b = log ? Math.log10(hi) : hi;
  for (let k = 0; k <= n; k++) e[k] = log ? 10 ** (a + ((b - a) * k) / n) : a + ((b - a) * k) / n;
  return e;
}

/**
 * Histogram counts of `values` over `edges` (bin k holds e_k ≤ v < e_{k+1}; the last bin also holds
 * v = e_n); values outside [e_0, e_n] and non-finite values are counted in `outside`.
 * @source this project (figure helper)
 * @equation c_k = #{i : e_k ≤ v_i < e_{k+1}}
 * @deviation none
 * @precision exact (counts)
 */
export function histogram(values: ArrayLike<number>, edges: ArrayLike<number>): { counts: Float64Array; outside: number } {
  const fn = 'histogram';
  const n = edges.length - 1;
  specRequire(n >= 1, { fn, what: 'edges', rule: 'hold at least two values', got: edges.length });
  for (let k = 0; k < n; k++) specRequire(edges[k]! < edges[k + 1]!, { fn, what: `edges[${k + 1}]`, rule: `be > edges[${k}] = ${edges[k]}`, got: edges[k + 1] });
  const counts = new Float64Array(n);
  let outside = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= edges[0]! && v <= edges[n]!)) {
      outside++;
      continue;
    }
    let lo = 0, hi = n; // binary search: largest k with e_k ≤ v, capped at n − 1
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! <= v) lo = mid;
      else hi = mid;
    }
    counts[lo]!++;
  }
  return { counts, outside };
}

/**
 * The representable values of a per-tensor activation quantizer (null for CAG: one grid per group).
 * @paper AHCQ-SAM:v4 §Uniform, §HLUQ, §LNQ (METHOD.md §2.2, §3.2, §3.4)
 * @equation LSQ: (q − z)·s, q = qmin..qmax; HLUQ: hluqLevels; LNQ: lnqDecodeTable; AGQ: null (per group)
 * @deviation none
 * @precision as the quantizers' level functions
 */
export function actLevels(p: ActParams, referenceCompat = false): Float64Array | null {
  if (p.kind === 'lsq') {
    const out = new Float64Array(p.qmax - p.qmin + 1);
    for (let q = p.qmin; q <= p.qmax; q++) out[q - p.qmin] = (q - p.zeroPoint) * p.scale;
    return out;
  }
  if (p.kind === 'hluq') return Float64Array.from(hluqLevels(p.params));
  if (p.kind === 'lnq') return Float64Array.from(lnqDecodeTable(p.params, { referenceCompat }));
  return null;
}

/**
 * An SVG histogram (log10(1 + count) bars) with quantization grids as vertical lines.
 * @source this project (results figures; no plotting library)
 * @equation bar height ∝ log10(1 + c_k); grid line at every level inside [e_0, e_n]
 * @deviation none
 * @precision float64 coordinates printed with 2 decimals
 */
export function histogramSvg(fig: HistogramFigure): string {
  const fn = 'histogramSvg';
  const n = fig.counts.length;
  specRequire(n >= 1 && fig.edges.length === n + 1, { fn, what: 'edges', rule: 'have counts.length + 1 entries', got: [fig.edges.length, n] });
  specRequire(!fig.logX || fig.edges[0]! > 0, { fn, what: 'edges[0]', rule: 'be > 0 on a log axis', got: fig.edges[0] });
  const tx = (v: number): number => (fig.logX ? Math.log10(v) : v);
  const x0 = tx(fig.edges[0]!), x1 = tx(fig.edges[n]!);
  const px = (v: number): number => ML + ((tx(v) - x0) / (x1 - x0)) * (W - ML - MR);
  let ymax = 0;
  for (let k = 0; k < n; k++) ymax = Math.max(ymax, Math.log10(1 + fig.counts[k]!));
  ymax = Math.max(1, Math.ceil(ymax));
  const py = (c: number): number => H - MB - (Math.log10(1 + c) / ymax) * (H - MT - MB);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${ML}" y="18" font-size="14" font-weight="bold">${esc(fig.title)}</text>`);
  if (fig.note) out.push(`<text x="${ML}" y="34" fill="#555">${esc(fig.note)}</text>`);
  // bars
  const bars: string[] = [];
  for (let k = 0; k < n; k++) {
    const c = fig.counts[k]!;
    if (c <= 0) continue;
    const a = px(fig.edges[k]!), b = px(fig.edges[k + 1]!), y = py(c);
    bars.push(`M${a.toFixed(2)} ${(H - MB).toFixed(2)}V${y.toFixed(2)}H${b.toFixed(2)}V${(H - MB).toFixed(2)}Z`);
  }
  out.push(`<path d="${bars.join('')}" fill="#9aa7b8" stroke="none"/>`);
  // grids (legend on a white box so the lines stay readable)
  if (fig.grids.length > 0) out.push(`<rect x="${W - MR - 236}" y="${MT + 2}" width="232" height="${14 * fig.grids.length + 6}" fill="white" fill-opacity="0.9" stroke="#ccc"/>`);
  fig.grids.forEach((g, gi) => {
    const seen = new Set<string>();
    const lines: string[] = [];
    for (let i = 0; i < g.levels.length; i++) {
      const v = g.levels[i]!;
      if (!(v >= fig.edges[0]! && v <= fig.edges[n]!)) continue;
      const x = px(v).toFixed(2);
      if (seen.has(x)) continue;
      seen.add(x);
      lines.push(`M${x} ${MT}V${H - MB}`);
    }
    out.push(`<path d="${lines.join('')}" stroke="${g.color}" stroke-width="1" stroke-opacity="0.8"${g.dashed ? ' stroke-dasharray="4 3"' : ''} fill="none"/>`);
    const ly = MT + 14 + 14 * gi;
    out.push(`<line x1="${W - MR - 230}" y1="${ly - 4}" x2="${W - MR - 210}" y2="${ly - 4}" stroke="${g.color}"${g.dashed ? ' stroke-dasharray="4 3"' : ''}/>`);
    out.push(`<text x="${W - MR - 205}" y="${ly}">${esc(g.label)} (${seen.size} levels in view)</text>`);
  });
  // axes
  out.push(`<path d="M${ML} ${MT}V${H - MB}H${W - MR}" stroke="black" fill="none"/>`);
  const ticks = fig.logX ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i)) : Array.from({ length: 6 }, (_, i) => fig.edges[0]! + ((fig.edges[n]! - fig.edges[0]!) * i) / 5);
  for (const t of ticks) {
    const x = px(t);
    out.push(`<line x1="${x.toFixed(2)}" y1="${H - MB}" x2="${x.toFixed(2)}" y2="${H - MB + 4}" stroke="black"/><text x="${x.toFixed(2)}" y="${H - MB + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  for (let d = 0; d <= ymax; d++) {
    const y = py(10 ** d - 1);
    out.push(`<line x1="${ML - 4}" y1="${y.toFixed(2)}" x2="${ML}" y2="${y.toFixed(2)}" stroke="black"/><text x="${ML - 6}" y="${(y + 4).toFixed(2)}" text-anchor="end">${d === 0 ? '0' : `1e${d}`}</text>`);
  }
  out.push(`<text x="${(ML + W - MR) / 2}" y="${H - 10}" text-anchor="middle">${esc(fig.xLabel)}</text>`);
  out.push(`<text x="14" y="${(MT + H - MB) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(MT + H - MB) / 2})">count (log scale, 1 + c)</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Panels side by side: the photo repeated once per mask, downsampled by `step` (nearest), with a
 * white gutter of `gutter` pixels; the masks placed on their panels (for `encodeOverlayPng`).
 * @source this project (results figures)
 * @equation panel_i(y, x) = image(step·y, step·x), mask_i(step·y, step·x)
 * @deviation none
 * @precision exact
 */
export function sideBySide(image: RgbImage, masks: readonly Uint8Array[], step: number, gutter = 8): { image: RgbImage; mask: Uint8Array } {
  const fn = 'sideBySide';
  specRequire(masks.length >= 1, { fn, what: 'masks', rule: 'hold at least one mask', got: masks.length });
  specRequire(Number.isInteger(step) && step >= 1, { fn, what: 'step', rule: 'be a positive integer', got: step });
  masks.forEach((m, i) => specRequire(m.length === image.width * image.height, { fn, what: `masks[${i}].length`, rule: `equal width·height = ${image.width * image.height}`, got: m.length }));
  const w = Math.ceil(image.width / step), h = Math.ceil(image.height / step);
  const P = masks.length, Wt = P * w + (P - 1) * gutter;
  const data = new Uint8Array(Wt * h * 3).fill(255); // [h, Wt, 3]
  const mask = new Uint8Array(Wt * h);
  for (let p = 0; p < P; p++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const src = step * y * image.width + step * x;
        const dst = y * Wt + p * (w + gutter) + x;
        for (let c = 0; c < 3; c++) data[3 * dst + c] = image.data[3 * src + c]!;
        mask[dst] = masks[p]![src]! ? 1 : 0;
      }
    }
  }
  return { image: { width: Wt, height: h, data }, mask };
}
