/**
 * System model: size an FP32, INT8 or AHCQ-INT4 design under one device budget (resource model),
 * run a whole network through the closed-form layer model (model scheduler), and estimate power and
 * energy (power model). Every constant comes from params.ts; `DesignParams` lets the sensitivity
 * analysis override any of them. Nothing here is a measurement of the paper's accelerator.
 */
import { specRequire } from '../../src/tensor';
import { layerCycles, type DramConfig, type LayerShape } from './layer';
import { countMacs, modelOps, type ModelName, type WorkOp } from './workloads';
import * as P from './params';
import type { DeviceBudget, PeCost, Resources } from './params';

// TYPES

export type Precision = 'fp32' | 'int8' | 'int4';

/** All knobs of the system model (defaults: params.ts). */
export interface DesignParams {
  readonly device: DeviceBudget;
  readonly clockHz: number;
  readonly utilisationCap: number;
  readonly shell: Resources;
  readonly dram: DramConfig;
  readonly kmax: number;
  readonly pe: Readonly<Record<Precision, PeCost>>;
  readonly fp32AddLatency: number;
  readonly vectorLanes: number;
  readonly pStaticW: number;
  readonly pDynMw: Readonly<Resources>;
  readonly dramPjPerByte: number;
}

export interface Design {
  readonly precision: Precision;
  readonly rows: number;
  readonly cols: number;
  readonly bits: number;
  readonly resources: Resources;
  readonly utilisation: Resources;
  /** Which resource limited the PE count. */
  readonly limitedBy: keyof Resources;
}

export interface DesignEstimate {
  readonly design: Design;
  readonly model: ModelName;
  readonly macs: number;
  readonly cycles: number;
  readonly gemmCycles: number;
  readonly vectorCycles: number;
  readonly dramBytes: number;
  readonly fps: number;
  readonly gops: number;
  readonly powerW: number;
  readonly gopsPerW: number;
  readonly energyPerFrameJ: number;
  /** Fraction of PE-cycles doing useful MACs. */
  readonly peUtilisation: number;
}

// MAIN

/** The defaults of params.ts as one record. */
export function defaultDesignParams(): DesignParams {
  return {
    device: P.ZCU102, clockHz: P.CLOCK_HZ, utilisationCap: P.UTILISATION_CAP, shell: P.SHELL,
    dram: { bytesPerCycle: P.DRAM_BYTES_PER_CYCLE, latency: P.DRAM_LATENCY_CYCLES }, kmax: P.KMAX_ON_CHIP,
    pe: {
      fp32: P.PE_FP32,
      int8: P.PE_INT8,
      int4: { ...P.PE_INT4, LUT: P.PE_INT4.LUT + P.PE_AHCQ_EXTRA.LUT, FF: P.PE_INT4.FF + P.PE_AHCQ_EXTRA.FF, source: `${P.PE_INT4.source} + ${P.PE_AHCQ_EXTRA.source}` },
    },
    fp32AddLatency: P.FP32_ADD_LATENCY, vectorLanes: P.VECTOR_LANES,
    pStaticW: P.P_STATIC_W, pDynMw: P.P_DYN_MW, dramPjPerByte: P.DRAM_PJ_PER_BYTE,
  };
}

const BITS: Record<Precision, number> = { fp32: 32, int8: 8, int4: 4 };
const KEYS = ['LUT', 'FF', 'DSP', 'BRAM36'] as const;

/** BRAM36 blocks of the ping-pong operand buffers (R + C rows of KMAX elements) and output buffers. */
function bufferBram(rows: number, cols: number, bits: number, kmax: number): number {
  const opBits = 2 * (rows + cols) * kmax * bits;
  const outBits = 2 * rows * cols * 32;
  return Math.ceil((opBits + outBits) / 36_864);
}

/**
 * Size a design: the largest square R × R array whose PEs, buffers and shell fit the capped budget.
 * @equation R = max{ r : shell + r²·pe + buffers(r) ≤ cap·device (every resource) }
 * @deviation square arrays only
 * @precision exact (integer search)
 */
export function sizeDesign(precision: Precision, p: DesignParams = defaultDesignParams()): Design {
  specRequire(precision in BITS, { fn: 'sizeDesign', what: 'precision', rule: "be 'fp32' | 'int8' | 'int4'", got: precision });
  specRequire(p.utilisationCap > 0 && p.utilisationCap <= 1, { fn: 'sizeDesign', what: 'utilisationCap', rule: 'be in (0, 1]', got: p.utilisationCap });
  const pe = p.pe[precision], bits = BITS[precision];
  const use = (r: number): Resources => ({
    LUT: p.shell.LUT + r * r * pe.LUT,
    FF: p.shell.FF + r * r * pe.FF,
    DSP: p.shell.DSP + r * r * pe.DSP,
    BRAM36: p.shell.BRAM36 + bufferBram(r, r, bits, p.kmax),
  });
  const fits = (r: number): keyof Resources | null => {
    const u = use(r);
    for (const k of KEYS) if (u[k] > p.utilisationCap * p.device[k]) return k;
    return null;
  };
  specRequire(fits(1) === null, { fn: 'sizeDesign', what: 'device', rule: 'fit the shell and one PE within the utilisation cap', got: p.device.name });
  let r = 1;
  while (fits(r + 1) === null) r++;
  const res = use(r);
  const util = { LUT: res.LUT / p.device.LUT, FF: res.FF / p.device.FF, DSP: res.DSP / p.device.DSP, BRAM36: res.BRAM36 / p.device.BRAM36 };
  return { precision, rows: r, cols: r, bits, resources: res, utilisation: util, limitedBy: fits(r + 1)! };
}

/** Layer shape of a GEMM on a design (INT4 uses the AHCQ bank counts; FP32 adds the adder latency). */
function shapeOf(d: Design, op: Extract<WorkOp, { kind: 'gemm' }>, p: DesignParams): LayerShape {
  const nb = d.precision === 'int4' ? (op.quant === 'cag' ? 4 : op.quant === 'hluq' ? 2 : 1) : 1;
  return { M: op.M, N: op.N, K: op.K, aBits: d.bits, bBits: d.bits, outBits: d.bits, nb, extraTileCycles: d.precision === 'fp32' ? p.fp32AddLatency : 0 };
}

/**
 * Whole-network latency by the closed form (model scheduler): Σ over GEMMs of count·T_layer, plus
 * vector-unit passes (not overlapped with GEMMs — a stated simplification).
 * @equation T = Σ_gemm count·T_layer(shape) + Σ_vec ⌈elements·c_op / lanes⌉
 * @precision exact integer cycles under the model
 */
export function networkCycles(d: Design, ops: readonly WorkOp[], p: DesignParams = defaultDesignParams()): { cycles: number; gemmCycles: number; vectorCycles: number; dramBytes: number } {
  const cfg = { rows: d.rows, cols: d.cols };
  let gemmCycles = 0, vectorCycles = 0, dramBytes = 0;
  for (const op of ops) {
    if (op.kind === 'gemm') {
      const s = shapeOf(d, op, p);
      gemmCycles += op.count * layerCycles(cfg, p.dram, s);
      const nTileN = Math.ceil(op.N / d.cols);
      dramBytes += op.count * ((op.M * op.K * s.aBits * nTileN + op.N * op.K * s.bBits + op.M * op.N * s.outBits) / 8);
    } else vectorCycles += Math.ceil((op.elements * P.VECTOR_CYCLES_PER_ELEMENT[op.op]) / p.vectorLanes);
  }
  return { cycles: gemmCycles + vectorCycles, gemmCycles, vectorCycles, dramBytes };
}

/**
 * Power of a design: static + resource-proportional dynamic power + DRAM traffic power.
 * @equation P = P_static + Σ_res used_res·p_res + E_byte·bytes/s
 * @deviation a coarse FPGA power model with assumed coefficients (params.ts), not a power measurement
 * @precision float64
 */
export function designPowerW(d: Design, dramBytesPerSecond: number, p: DesignParams = defaultDesignParams()): number {
  let dyn = 0;
  for (const k of KEYS) dyn += d.resources[k] * p.pDynMw[k] * 1e-3;
  return p.pStaticW + dyn + dramBytesPerSecond * p.dramPjPerByte * 1e-12;
}

/**
 * FPS, GOPS, GOPS/W and utilisation of a design on a model.
 * @equation fps = f_clk / T;  GOPS = 2·MACs·fps / 10^9;  GOPS/W = GOPS / P
 * @precision float64
 */
export function estimateDesign(model: ModelName, precision: Precision, p: DesignParams = defaultDesignParams()): DesignEstimate {
  const ops = modelOps(model);
  const design = sizeDesign(precision, p);
  const macs = countMacs(ops);
  const n = networkCycles(design, ops, p);
  const fps = p.clockHz / n.cycles;
  const gops = (2 * macs * fps) / 1e9;
  const powerW = designPowerW(design, n.dramBytes * fps, p);
  return {
    design, model, macs, cycles: n.cycles, gemmCycles: n.gemmCycles, vectorCycles: n.vectorCycles, dramBytes: n.dramBytes,
    fps, gops, powerW, gopsPerW: gops / powerW, energyPerFrameJ: powerW / fps,
    peUtilisation: macs / (n.cycles * design.rows * design.cols),
  };
}
