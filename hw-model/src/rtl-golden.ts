/**
 * Parameter image for the golden RTL testbench (fpga/rtl/tb/tb_golden.sv): a golden GEMM, requant or
 * encode case's desc.json params become one `$readmemh` file of 32-bit words. The testbench reads the case's tensors
 * itself from the committed `.hex` files (x.hex, w.hex, acc.hex or acc_log.hex + acc_uni.hex, y.hex);
 * only the scalar and per-column parameters travel through this image. Pure desc → text function.
 *
 * Word map (addresses in hex, as `@addr` lines):
 *   0 magic 0x41484351 ('AHCQ')   1 mode (0 uniform, 1 cag, 2 hluq, 3 lnq, 4 requant on the accumulator-load
 *   path, 5 encode)   2 M (encode: n)   3 N (encode: number of thresholds)   4 K (requant: 0)
 *   5 za   6 lLog   7 guard bits   8 nb (banks)   9 zy   a lo   b hi   c requant (1) / accumulators only (0)
 *   d expected.cycles.tiles (encode: .encoder) from desc.json (ffffffff when absent)
 *   e closed form: Σ T_tile, Σ T_acc (requant) or T_enc (encode) (latency.ts)
 *   f w transposed (1: the w tensor is stored [K, N], e.g. V of P·V)   10 LNQ table length (mode 3)
 *   @100 encode only: thresholds θ_k as float32 bit patterns   @7000 LNQ decoder table D[q] (mode 3)
 *   @20 starts[0 … nb]   @40 gm[0 … nb−1]   @1000 perm[K]   @2000 zw[N]   @3000 bias[31:0]
 *   @4000 bias[63:32]   @5000 mult[N]   @6000 shift[N]
 */
import { FormatError, specRequire } from '../../src/tensor';
import { paramsReader } from '../../src/golden/ops';
import type { GoldenCaseRead } from '../../src/golden/reader';
import type { ArrayConfig, TileJob } from './types';
import { goldenEncoderJob, goldenRequantJobs, goldenToJob } from './golden-adapter';
import { banksOf, identityPpu } from './decoders';
import { accLoadCycles, encoderCycles, tileCycles } from './latency';

// CONSTANTS

/** Capacity of the testbench (tb_golden.sv localparams). */
export const TB_GOLDEN_LIMITS = { maxK: 4096, maxN: 4096, maxElems: 65536 } as const;
const MODE_CODE = { uniform: 0, cag: 1, hluq: 2, lnq: 3 } as const;
/** Image modes of the two unit paths. */
const MODE_REQUANT = 4;
const MODE_ENCODE = 5;
/** Encoder capacity of tb_golden.sv (ahcq_encoder DMAX = 8: 255 thresholds; MAXE values). */
export const TB_ENCODER_LIMITS = { maxThresholds: 255, maxValues: 65536 } as const;

// TYPES

export interface RtlGoldenImage {
  /** `$readmemh` text of the parameter image. */
  readonly hex: string;
  /** The case's figures as the testbench must reproduce them. */
  readonly nTiles: number;
  readonly closedForm: number;
  readonly expectedTiles: number | null;
  readonly requant: boolean;
}

// MAIN

/**
 * Build the parameter image of a golden case for an R × C core with KMAX and NBMAX: a GEMM the array
 * executes, a requant (accumulator-load path) or an encode (encoder unit); null for any other op (the
 * caller reports the case as skipped).
 * @precision exact (words are 32-bit two's complement; the 64-bit bias is split into two words)
 */
export function rtlGoldenParams(c: GoldenCaseRead, kmax: number, nbmax: number): RtlGoldenImage | null {
  const g = goldenToJob(c);
  if (!g) return unitImage(c);
  const params = c.desc.params as Record<string, unknown>;
  const perm = c.desc.op === 'gemm_cag' ? (params['perm'] as number[]) : null;
  const cy = c.desc.expected.cycles as { tiles?: unknown } | null;
  const expectedTiles = cy !== null && typeof cy === 'object' && Number.isSafeInteger(cy.tiles) ? (cy.tiles as number) : null;
  return gemmImage({ rows: c.desc.arch.R, cols: c.desc.arch.C }, g.job, g.requant, kmax, nbmax, { perm, expectedTiles });
}

/**
 * The GEMM-mode image of a layer-sized job (M × N × K, any mode incl. LNQ) on R × C tiles.
 * `perm` gathers the row operands (CAG); `wTransposed` says the testbench's w tensor is stored [K, N]
 * (e.g. V [T, Dv] of P·V) and must be read transposed.
 * @precision exact (words are 32-bit two's complement; the 64-bit bias is split into two words)
 */
export function gemmImage(cfg: ArrayConfig, job: TileJob, requant: boolean, kmax: number, nbmax: number,
  opt: { perm?: readonly number[] | null; expectedTiles?: number | null; wTransposed?: boolean } = {}): RtlGoldenImage {
  const fn = 'rtlGoldenParams';
  const { M, N, K } = job;
  const nb = banksOf(job);
  specRequire(K <= kmax && K <= TB_GOLDEN_LIMITS.maxK, { fn, what: 'K', rule: `be ≤ KMAX = ${kmax}`, got: K });
  specRequire(nb <= nbmax, { fn, what: 'banks', rule: `be ≤ NBMAX = ${nbmax}`, got: nb });
  specRequire(N <= TB_GOLDEN_LIMITS.maxN && M * K <= TB_GOLDEN_LIMITS.maxElems && N * K <= TB_GOLDEN_LIMITS.maxElems && nb * M * N <= TB_GOLDEN_LIMITS.maxElems, {
    fn, what: 'case size', rule: `fit the testbench memories (${TB_GOLDEN_LIMITS.maxElems} elements)`, got: [M, N, K, nb],
  });
  const nTiles = Math.ceil(M / cfg.rows) * Math.ceil(N / cfg.cols);
  const closedForm = nTiles * tileCycles(cfg, K, nb);
  const expectedTiles = opt.expectedTiles ?? null;
  const p = requant && job.ppu ? job.ppu : { ...identityPpu(N, nb), lo: -(2 ** 31), hi: 2 ** 31 - 1 };
  const perm = opt.perm ?? Array.from({ length: K }, (_, k) => k);
  const starts = job.groups?.starts ?? [0, K];
  const bias = Array.from({ length: N }, (_, n) => p.bias[n]!);
  const biasHi = bias.map((b) => Math.floor(b / 2 ** 32));
  const hex = image([
    [0, [0x41484351, MODE_CODE[job.mode], M, N, K, job.za ?? 0, job.hluq?.lLog ?? 0, job.hluq?.guardBits ?? 0, nb, p.zy, p.lo, p.hi,
      requant ? 1 : 0, expectedTiles ?? 0xffffffff, closedForm, opt.wTransposed ? 1 : 0, job.lnqTable?.length ?? 0]],
    [0x20, starts], [0x40, p.combine], [0x1000, perm], [0x2000, job.zb],
    [0x3000, bias.map((b, n) => b - biasHi[n]! * 2 ** 32)], [0x4000, biasHi],
    [0x5000, p.scale.map((s) => s.mult)], [0x6000, p.scale.map((s) => s.shift)],
    ...(job.lnqTable ? [[0x7000, job.lnqTable] as [number, ArrayLike<number>]] : []),
  ]);
  return { hex, nTiles, closedForm, expectedTiles, requant };
}

/** One integer GEMM stage of an lnq_attention case, as a layer job plus the testbench's tensor names. */
export interface GemmStage {
  readonly name: 'qk' | 'pv';
  readonly job: TileJob;
  readonly requant: boolean;
  readonly outBits: number;
  /** Testbench plusargs naming the stage's tensors (+xname, +wname, +accname, +yname). */
  readonly args: readonly string[];
  /** Output tensors of the case the stage must reproduce: accumulators, then codes when requant. */
  readonly accName: string;
  readonly yName: string | null;
  readonly image: RtlGoldenImage;
}

/**
 * The two GEMM stages of a golden `lnq_attention` case on the PE array: QKᵀ in uniform mode
 * (rows q − zq, columns k − zk, reduction D → s_acc) and P·V in LNQ mode (rows D[p_codes], columns
 * Vᵀ − zv, reduction T → pv_acc, requant → y). The softmax between them is the float32 vector unit.
 * Null for any other op.
 * @precision exact
 */
export function lnqAttentionStages(c: GoldenCaseRead, kmax: number, nbmax: number): GemmStage[] | null {
  if (c.desc.op !== 'lnq_attention') return null;
  const src = `${c.dir}/desc.json`;
  const g = paramsReader(c.desc.params, src);
  const t = (name: string, dtype: 'int32' | 'float32'): { shape: readonly number[]; data: ArrayLike<number> } => {
    const x = c.inputs.get(name)?.tensor ?? c.outputs.get(name)?.tensor;
    if (!x || x.dtype !== dtype || x.shape.length !== 2) throw new FormatError(src, `tensor ${name} must be a 2-D ${dtype} tensor`);
    return x;
  };
  const q = t('q', 'int32'), k = t('k', 'int32'), v = t('v', 'int32'), pc = t('p_codes', 'int32');
  const [M, D] = q.shape as [number, number];
  const T = k.shape[0]!, Dv = v.shape[1]!;
  const bits = g.int('bits', 1, 8);
  const lnq = g.obj('lnq');
  const lnqBits = lnq.int('bits', 1, 8);
  const table = Int32Array.from(lnq.ints('table', 2 ** lnqBits));
  const out = g.obj('out');
  const outBits = out.int('bits', 1, 8);
  const cfg: ArrayConfig = { rows: c.desc.arch.R, cols: c.desc.arch.C };
  const qk: TileJob = {
    mode: 'uniform', aBits: bits, bBits: bits, M, N: T, K: D, a: Int32Array.from(q.data), b: Int32Array.from(k.data),
    zb: new Int32Array(T).fill(g.int('zk', 0, 255)), za: g.int('zq', 0, 255),
  };
  const vt = new Int32Array(Dv * T);
  for (let tt = 0; tt < T; tt++) for (let d = 0; d < Dv; d++) vt[d * T + tt] = v.data[tt * Dv + d]!;
  const mult = out.ints('mult', Dv), shift = out.ints('shift', Dv);
  const pv: TileJob = {
    mode: 'lnq', aBits: lnqBits, bBits: bits, M, N: Dv, K: T, a: Int32Array.from(pc.data), b: vt,
    zb: new Int32Array(Dv).fill(g.int('zv', 0, 255)), lnqTable: table,
    ppu: { combine: [1], bias: new Float64Array(Dv), scale: mult.map((m, n) => ({ mult: m, shift: shift[n]! })), zy: out.int('zero', 0, 255), lo: 0, hi: 2 ** outBits - 1 },
  };
  return [
    { name: 'qk', job: qk, requant: false, outBits: 32, args: ['+xname=q', '+wname=k', '+accname=s_acc'], accName: 's_acc', yName: null, image: gemmImage(cfg, qk, false, kmax, nbmax) },
    { name: 'pv', job: pv, requant: true, outBits, args: ['+xname=p_codes', '+wname=v', '+accname=pv_acc', '+yname=y'], accName: 'pv_acc', yName: 'y', image: gemmImage(cfg, pv, true, kmax, nbmax, { wTransposed: true }) },
  ];
}

// HELPERS

const w32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

function expectedOf(c: GoldenCaseRead, key: 'tiles' | 'encoder'): number | null {
  const cy = c.desc.expected.cycles as Record<string, unknown> | null;
  return cy !== null && typeof cy === 'object' && Number.isSafeInteger(cy[key]) ? (cy[key] as number) : null;
}

function image(sections: readonly (readonly [number, ArrayLike<number>])[]): string {
  const lines: string[] = [];
  for (const [addr, vals] of sections) {
    lines.push('@' + addr.toString(16));
    for (let i = 0; i < vals.length; i++) lines.push(w32(vals[i]!));
  }
  return lines.join('\n') + '\n';
}

/** The image of a requant case (mode 4) or an encode case (mode 5); null for any other op. */
function unitImage(c: GoldenCaseRead): RtlGoldenImage | null {
  const fn = 'rtlGoldenParams';
  const rq = goldenRequantJobs(c);
  if (rq) {
    const { M, N } = rq;
    specRequire(M * N <= TB_GOLDEN_LIMITS.maxElems && N <= TB_GOLDEN_LIMITS.maxN, { fn, what: 'case size', rule: `fit the testbench memories (${TB_GOLDEN_LIMITS.maxElems} elements)`, got: [M, N] });
    const cfg = { rows: c.desc.arch.R, cols: c.desc.arch.C };
    const nTiles = rq.tiles.length;
    const closedForm = nTiles * accLoadCycles(cfg, 1);
    const expectedTiles = expectedOf(c, 'tiles');
    const p = c.desc.params as Record<string, unknown>;
    const bits = p['bits'] as number;
    const mult = p['mult'] as number[], shift = p['shift'] as number[];
    const hex = image([
      [0, [0x41484351, MODE_REQUANT, M, N, 0, 0, 0, 0, 1, p['zero'] as number, 0, 2 ** bits - 1, 1, expectedTiles ?? 0xffffffff, closedForm, 0, 0]],
      [0x20, [0, 0]], [0x40, [1]], [0x2000, new Array<number>(N).fill(0)], [0x3000, new Array<number>(N).fill(0)], [0x4000, new Array<number>(N).fill(0)],
      [0x5000, mult], [0x6000, shift],
    ]);
    return { hex, nTiles, closedForm, expectedTiles, requant: true };
  }
  const ej = goldenEncoderJob(c);
  if (ej) return encoderImage(ej.x.length, ej.thresholds, expectedOf(c, 'encoder'));
  return null;
}

/**
 * The encode-mode image (mode 5) of a threshold table and a stream length: also used for the encoder
 * stage of other ops (gelu → q of gelu_hluq, p → p_codes of lnq_attention).
 * @precision exact (thresholds as float32 bit patterns)
 */
export function encoderImage(n: number, thresholds: Float32Array, expected: number | null = null): RtlGoldenImage {
  const fn = 'encoderImage';
  specRequire(Number.isInteger(n) && n >= 1 && n <= TB_ENCODER_LIMITS.maxValues, { fn, what: 'n', rule: `be an integer in [1, ${TB_ENCODER_LIMITS.maxValues}]`, got: n });
  specRequire(thresholds.length >= 1 && thresholds.length <= TB_ENCODER_LIMITS.maxThresholds, { fn, what: 'thresholds', rule: `have 1 … ${TB_ENCODER_LIMITS.maxThresholds} entries`, got: thresholds.length });
  const closedForm = encoderCycles(n, thresholds.length + 1);
  const bitsOf = new Uint32Array(thresholds.buffer, thresholds.byteOffset, thresholds.length);
  const hex = image([[0, [0x41484351, MODE_ENCODE, n, thresholds.length, 0, 0, 0, 0, 1, 0, 0, 0, 1, expected ?? 0xffffffff, closedForm, 0, 0]], [0x100, bitsOf]]);
  return { hex, nTiles: 1, closedForm, expectedTiles: expected, requant: true };
}

/** The encoder stage of a golden op whose other stages run on the float32 vector unit. */
export interface EncoderStage {
  /** The stage's input (a float32 output of the vector unit, read from the case) and its expected codes. */
  readonly xname: string;
  readonly qname: string;
  readonly x: Float32Array;
  readonly thresholds: Float32Array;
  readonly image: RtlGoldenImage;
}

/**
 * The threshold-encoder stage of a `gelu_hluq` case (gelu → q, HLUQ table) or an `lnq_attention` case
 * (p → p_codes, LNQ table), with the encode-mode image; null for any other op. The stage's float32
 * input is the case's stored vector-unit output, so the encoder is checked on exactly those values.
 * @precision exact
 */
export function encoderStageOf(c: GoldenCaseRead): EncoderStage | null {
  const src = `${c.dir}/desc.json`;
  const g = paramsReader(c.desc.params, src);
  const pick = c.desc.op === 'gelu_hluq' ? { xname: 'gelu', qname: 'q', th: () => g.f32s('thresholds_f32') }
    : c.desc.op === 'lnq_attention' ? { xname: 'p', qname: 'p_codes', th: () => g.obj('lnq').f32s('thresholds_f32') }
    : null;
  if (!pick) return null;
  const t = c.outputs.get(pick.xname)?.tensor;
  if (!t || t.dtype !== 'float32') throw new FormatError(src, `output ${pick.xname} must be a float32 tensor`);
  const thresholds = pick.th();
  const x = t.data as Float32Array;
  return { xname: pick.xname, qname: pick.qname, x, thresholds, image: encoderImage(x.length, thresholds) };
}
