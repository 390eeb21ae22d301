/**
 * Parameter image for the golden RTL testbench (fpga/rtl/tb/tb_golden.sv): a golden GEMM case's
 * desc.json params become one `$readmemh` file of 32-bit words. The testbench reads the case's tensors
 * itself from the committed `.hex` files (x.hex, w.hex, acc.hex or acc_log.hex + acc_uni.hex, y.hex);
 * only the scalar and per-column parameters travel through this image. Pure desc → text function.
 *
 * Word map (addresses in hex, as `@addr` lines):
 *   0 magic 0x41484351 ('AHCQ')   1 mode (0 uniform, 1 cag, 2 hluq)   2 M   3 N   4 K
 *   5 za   6 lLog   7 guard bits   8 nb (banks)   9 zy   a lo   b hi   c requant (1) / accumulators only (0)
 *   d expected.cycles.tiles from desc.json (ffffffff when absent)   e closed form Σ T_tile (latency.ts)
 *   @20 starts[0 … nb]   @40 gm[0 … nb−1]   @1000 perm[K]   @2000 zw[N]   @3000 bias[31:0]
 *   @4000 bias[63:32]   @5000 mult[N]   @6000 shift[N]
 */
import { specRequire } from '../../src/tensor';
import type { GoldenCaseRead } from '../../src/golden/reader';
import { goldenToJob } from './golden-adapter';
import { banksOf, identityPpu } from './decoders';
import { tileCycles } from './latency';

// CONSTANTS

/** Capacity of the testbench (tb_golden.sv localparams). */
export const TB_GOLDEN_LIMITS = { maxK: 4096, maxN: 4096, maxElems: 65536 } as const;
const MODE_CODE = { uniform: 0, cag: 1, hluq: 2, lnq: 3 } as const;

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
 * Build the parameter image of a golden GEMM case for an R × C core with KMAX and NBMAX, or null
 * when the op is not a GEMM the array executes (the caller reports the case as skipped).
 * @precision exact (words are 32-bit two's complement; the 64-bit bias is split into two words)
 */
export function rtlGoldenParams(c: GoldenCaseRead, kmax: number, nbmax: number): RtlGoldenImage | null {
  const fn = 'rtlGoldenParams';
  const g = goldenToJob(c);
  if (!g) return null;
  const { job } = g;
  const { M, N, K } = job;
  const nb = banksOf(job);
  specRequire(K <= kmax && K <= TB_GOLDEN_LIMITS.maxK, { fn, what: 'K', rule: `be ≤ KMAX = ${kmax}`, got: K });
  specRequire(nb <= nbmax, { fn, what: 'banks', rule: `be ≤ NBMAX = ${nbmax}`, got: nb });
  specRequire(N <= TB_GOLDEN_LIMITS.maxN && M * K <= TB_GOLDEN_LIMITS.maxElems && N * K <= TB_GOLDEN_LIMITS.maxElems && nb * M * N <= TB_GOLDEN_LIMITS.maxElems, {
    fn, what: 'case size', rule: `fit the testbench memories (${TB_GOLDEN_LIMITS.maxElems} elements)`, got: [M, N, K, nb],
  });
  const R = c.desc.arch.R, C = c.desc.arch.C;
  const nTiles = Math.ceil(M / R) * Math.ceil(N / C);
  const closedForm = nTiles * tileCycles({ rows: R, cols: C }, K, nb);
  const cy = c.desc.expected.cycles as { tiles?: unknown } | null;
  const expectedTiles = cy !== null && typeof cy === 'object' && Number.isSafeInteger(cy.tiles) ? (cy.tiles as number) : null;
  const p = g.requant && job.ppu ? job.ppu : { ...identityPpu(N, nb), lo: -(2 ** 31), hi: 2 ** 31 - 1 };
  const params = c.desc.params as Record<string, unknown>;
  const perm = c.desc.op === 'gemm_cag' ? (params['perm'] as number[]) : Array.from({ length: K }, (_, k) => k);
  const starts = job.groups?.starts ?? [0, K];
  const w32 = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');
  const lines: string[] = [];
  const section = (addr: number, vals: ArrayLike<number>): void => {
    lines.push('@' + addr.toString(16));
    for (let i = 0; i < vals.length; i++) lines.push(w32(vals[i]!));
  };
  section(0, [0x41484351, MODE_CODE[job.mode], M, N, K, job.za ?? 0, job.hluq?.lLog ?? 0, job.hluq?.guardBits ?? 0, nb, p.zy, p.lo, p.hi,
    g.requant ? 1 : 0, expectedTiles ?? 0xffffffff, closedForm]);
  section(0x20, starts);
  section(0x40, p.combine);
  section(0x1000, perm);
  section(0x2000, job.zb);
  const bias = Array.from({ length: N }, (_, n) => p.bias[n]!);
  const biasHi = bias.map((b) => Math.floor(b / 2 ** 32));
  section(0x3000, bias.map((b, n) => b - biasHi[n]! * 2 ** 32));
  section(0x4000, biasHi);
  section(0x5000, p.scale.map((s) => s.mult));
  section(0x6000, p.scale.map((s) => s.shift));
  return { hex: lines.join('\n') + '\n', nTiles, closedForm, expectedTiles, requant: g.requant };
}
