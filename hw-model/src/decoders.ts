/**
 * Row and column feeders with their decoders, and the precondition check of a tile job.
 * A decoded row operand is a pair (value, tag): the tag selects the accumulator bank (CAG group) or
 * the HLUQ path (0 none, 1 log shift, 2 uniform). A bubble is (0, 0), which adds nothing in every mode,
 * so the array needs no valid bits.
 *
 * @hardware fpga/rtl/ahcq_core.sv row_dec/col_dec; fpga/hls/include/ahcq_kernels.hpp decode_*
 */
import { specRequire } from '../../src/tensor';
import { ACC_MAX, MULT_BITS, SHIFT_MIN, SHIFT_MAX } from '../../src/int/fixed-point';
import type { AccLoadJob, ArrayConfig, TileJob, PpuParams } from './types';

// CONSTANTS

/** HLUQ path tags carried with a decoded row operand. */
export const HLUQ_NONE = 0;
export const HLUQ_LOG = 1;
export const HLUQ_UNI = 2;

/** Accumulators are int32 registers; every job is checked so that none can overflow. */
const ACC_LIMIT = 2 ** 31;

// MAIN

/**
 * Number of accumulator banks per PE needed by a job: G for CAG, 2 for HLUQ, 1 otherwise.
 * @equation nb = G (cag) | 2 (hluq) | 1 (uniform, lnq)
 * @precision exact
 */
export function banksOf(job: Pick<TileJob, 'mode' | 'groups'>): number {
  if (job.mode === 'cag') return job.groups ? job.groups.zeroPoints.length : 0;
  return job.mode === 'hluq' ? 2 : 1;
}

/**
 * Group index of channel k: the number of interior group offsets ≤ k (empty groups are skipped
 * because their offset equals the next one). This is the feeder's group-boundary comparator bank.
 * @paper AHCQ-SAM:v4 §CAG (channels permuted so groups are contiguous)
 * @equation g(k) = #{ j ∈ [1, G−1] : starts[j] ≤ k }
 * @precision exact
 */
export function groupOf(starts: readonly number[], k: number): number {
  let g = 0;
  for (let j = 1; j < starts.length - 1; j++) if (starts[j]! <= k) g++;
  return g;
}

/**
 * Decode one row code into (value, tag) for the PE array.
 * @paper AHCQ-SAM:v4 §CAG, §HLUQ, §LNQ; docs/integer-datapath.md (GEMMs table)
 * @equation uniform: (x − zx, 0);  cag: (x − Z_g(k), g(k));  hluq: c = 0 → (0, 0), c < Llog → (Llog − c, 1), else (c − Llog, 2);  lnq: (D[p], 0)
 * @deviation none
 * @precision exact
 */
export function decodeRow(job: TileJob, code: number, k: number): { value: number; tag: number } {
  switch (job.mode) {
    case 'uniform':
      return { value: code - job.za!, tag: 0 };
    case 'cag': {
      const g = groupOf(job.groups!.starts, k);
      return { value: code - job.groups!.zeroPoints[g]!, tag: g };
    }
    case 'hluq': {
      const lLog = job.hluq!.lLog;
      if (code === 0) return { value: 0, tag: HLUQ_NONE };
      return code < lLog ? { value: lLog - code, tag: HLUQ_LOG } : { value: code - lLog, tag: HLUQ_UNI };
    }
    case 'lnq':
      return { value: job.lnqTable![code]!, tag: 0 };
  }
}

/** The identity requant: gm = 1, bias 0, scale 2^15·2^−15 = 1 exactly, no saturation. */
export function identityPpu(N: number, nb: number): PpuParams {
  return {
    combine: new Array<number>(nb).fill(1),
    bias: new Float64Array(N),
    scale: new Array(N).fill({ mult: 2 ** 15, shift: 15 }),
    zy: 0,
    lo: -(2 ** 53),
    hi: 2 ** 53,
  };
}

function checkCodes(fn: string, what: string, data: Int32Array, n: number, bits: number): void {
  specRequire(data.length === n, { fn, what: `${what}.length`, rule: `equal ${n}`, got: data.length });
  let lo = 0, hi = 0;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  specRequire(lo >= 0 && hi < 2 ** bits, { fn, what, rule: `hold codes in [0, 2^${bits} − 1]`, got: [lo, hi] });
}

/**
 * Check every precondition of a tile job on a given array and return the bank count. Guarantees that
 * no int32 accumulator can overflow (worst case over the actual operands) and that every combined
 * accumulator handed to `applyScale` stays within |v| ≤ 2^36.
 * @precision exact
 */
export function checkTileJob(fn: string, cfg: ArrayConfig, job: TileJob): number {
  specRequire(Number.isInteger(cfg.rows) && cfg.rows >= 1 && Number.isInteger(cfg.cols) && cfg.cols >= 1, {
    fn, what: 'cfg', rule: 'have integer rows, cols ≥ 1', got: [cfg.rows, cfg.cols],
  });
  const { M, N, K } = job;
  specRequire(Number.isInteger(M) && M >= 1 && M <= cfg.rows, { fn, what: 'job.M', rule: `be an integer in [1, R = ${cfg.rows}]`, got: M });
  specRequire(Number.isInteger(N) && N >= 1 && N <= cfg.cols, { fn, what: 'job.N', rule: `be an integer in [1, C = ${cfg.cols}]`, got: N });
  specRequire(Number.isInteger(K) && K >= 1, { fn, what: 'job.K', rule: 'be an integer ≥ 1', got: K });
  for (const [what, b] of [['job.aBits', job.aBits], ['job.bBits', job.bBits]] as const) {
    specRequire(Number.isInteger(b) && b >= 1 && b <= 8, { fn, what, rule: 'be an integer in [1, 8]', got: b });
  }
  checkCodes(fn, 'job.a', job.a, M * K, job.aBits);
  checkCodes(fn, 'job.b', job.b, N * K, job.bBits);
  checkCodes(fn, 'job.zb', job.zb, N, job.bBits);
  const bMax = 2 ** job.bBits; // |B − zb| < 2^bBits
  const aCode = 2 ** job.aBits;
  let aMag = 0; // bound on |decoded row value| (or on the HLUQ per-element contribution / |W̃|)
  let nb = 1;
  switch (job.mode) {
    case 'uniform': {
      const z = job.za;
      specRequire(z !== undefined && Number.isInteger(z) && z >= 0 && z < aCode, { fn, what: 'job.za', rule: `be a code in [0, 2^${job.aBits} − 1]`, got: z });
      aMag = aCode;
      break;
    }
    case 'cag': {
      const g = job.groups;
      specRequire(g !== undefined, { fn, what: 'job.groups', rule: 'be given in cag mode', got: g });
      const G = g.zeroPoints.length;
      specRequire(G >= 1 && G <= 16, { fn, what: 'job.groups.zeroPoints.length', rule: 'be in [1, 16]', got: G });
      specRequire(g.starts.length === G + 1 && g.starts[0] === 0 && g.starts[G] === K, {
        fn, what: 'job.groups.starts', rule: `be G+1 = ${G + 1} offsets from 0 to K = ${K}`, got: g.starts,
      });
      for (let j = 0; j < G; j++) {
        specRequire(Number.isInteger(g.starts[j + 1]) && g.starts[j + 1]! >= g.starts[j]!, { fn, what: `job.groups.starts[${j + 1}]`, rule: 'be an integer ≥ the previous offset', got: g.starts[j + 1] });
        const z = g.zeroPoints[j]!;
        specRequire(Number.isInteger(z) && z >= 0 && z < aCode, { fn, what: `job.groups.zeroPoints[${j}]`, rule: `be a code in [0, 2^${job.aBits} − 1]`, got: z });
      }
      aMag = aCode;
      nb = G;
      break;
    }
    case 'hluq': {
      const h = job.hluq;
      specRequire(h !== undefined, { fn, what: 'job.hluq', rule: 'be given in hluq mode', got: h });
      specRequire(Number.isInteger(h.lLog) && h.lLog >= 1 && h.lLog < aCode, { fn, what: 'job.hluq.lLog', rule: `be in [1, 2^${job.aBits} − 1]`, got: h.lLog });
      specRequire(Number.isInteger(h.guardBits) && h.guardBits >= 0 && h.guardBits <= 16, { fn, what: 'job.hluq.guardBits', rule: 'be an integer in [0, 16]', got: h.guardBits });
      aMag = Math.max(2 ** h.guardBits, aCode - h.lLog);
      nb = 2;
      break;
    }
    case 'lnq': {
      const t = job.lnqTable;
      specRequire(t !== undefined && t.length === aCode, { fn, what: 'job.lnqTable', rule: `have 2^aBits = ${aCode} entries`, got: t?.length });
      for (let q = 0; q < t.length; q++) {
        specRequire(t[q]! >= 0 && t[q]! <= 2 ** 16, { fn, what: `job.lnqTable[${q}]`, rule: 'be in [0, 2^16]', got: t[q] });
        aMag = Math.max(aMag, t[q]!);
      }
      break;
    }
    default:
      specRequire(false, { fn, what: 'job.mode', rule: "be 'uniform' | 'cag' | 'hluq' | 'lnq'", got: (job as TileJob).mode });
  }
  specRequire(K * aMag * bMax < ACC_LIMIT, {
    fn, what: 'job.K', rule: `keep K·max|a|·max|b| = ${K}·${aMag}·${bMax} below 2^31 (int32 accumulators)`, got: K,
  });
  if (job.ppu) checkPpu(fn, job.ppu, nb, N);
  return nb;
}

/** Check a job's requant parameters against its bank count nb and column count N. */
function checkPpu(fn: string, p: PpuParams, nb: number, N: number): void {
  specRequire(p.combine.length === nb, { fn, what: 'job.ppu.combine.length', rule: `equal the bank count ${nb}`, got: p.combine.length });
  for (const gm of p.combine) {
    specRequire(Number.isInteger(gm) && Math.abs(gm) <= 2 ** 20, { fn, what: 'job.ppu.combine', rule: 'hold integers with |gm| ≤ 2^20', got: p.combine });
  }
  specRequire(p.bias.length === N && p.scale.length === N, { fn, what: 'job.ppu.bias/scale', rule: `have N = ${N} entries`, got: [p.bias.length, p.scale.length] });
  let biasMax = 0;
  for (let n = 0; n < N; n++) {
    specRequire(Number.isInteger(p.bias[n]) && Math.abs(p.bias[n]!) <= ACC_MAX, { fn, what: `job.ppu.bias[${n}]`, rule: 'be an integer with |bias| ≤ 2^36', got: p.bias[n] });
    biasMax = Math.max(biasMax, Math.abs(p.bias[n]!));
    const s = p.scale[n]!;
    specRequire(Number.isInteger(s.mult) && s.mult >= 1 && s.mult < 2 ** MULT_BITS && Number.isInteger(s.shift) && s.shift >= SHIFT_MIN && s.shift <= SHIFT_MAX, {
      fn, what: `job.ppu.scale[${n}]`, rule: `have mult in [1, 2^16) and shift in [${SHIFT_MIN}, ${SHIFT_MAX}]`, got: s,
    });
  }
  // The wide value Σ_b gm[b]·acc_b + bias reaching applyScale must stay within 2^36; it is checked on
  // the actual value at run time (applyScale throws SpecError), because the worst case is far looser.
  specRequire(Number.isInteger(p.zy) && Number.isInteger(p.lo) && Number.isInteger(p.hi) && p.lo <= p.hi, {
    fn, what: 'job.ppu.zy/lo/hi', rule: 'be integers with lo ≤ hi', got: [p.zy, p.lo, p.hi],
  });
}

/**
 * Check every precondition of a drain-only (accumulator-load) job and return its bank count.
 * @precision exact
 */
export function checkAccLoadJob(fn: string, cfg: ArrayConfig, job: AccLoadJob): number {
  const { M, N, nb } = job;
  specRequire(Number.isInteger(M) && M >= 1 && M <= cfg.rows, { fn, what: 'job.M', rule: `be an integer in [1, R = ${cfg.rows}]`, got: M });
  specRequire(Number.isInteger(N) && N >= 1 && N <= cfg.cols, { fn, what: 'job.N', rule: `be an integer in [1, C = ${cfg.cols}]`, got: N });
  specRequire(Number.isInteger(nb) && nb >= 1 && nb <= 16, { fn, what: 'job.nb', rule: 'be an integer in [1, 16]', got: nb });
  specRequire(job.acc instanceof Int32Array && job.acc.length === nb * M * N, { fn, what: 'job.acc', rule: `be an Int32Array of nb·M·N = ${nb * M * N} accumulators`, got: job.acc?.length });
  if (job.ppu) checkPpu(fn, job.ppu, nb, N);
  return nb;
}
