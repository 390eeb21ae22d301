/**
 * THE parameter file of the system model: every constant that the FPS / GOPS / power estimates depend
 * on, with its source. Tags: [P] from the paper, [S] from a cited data sheet or measurement,
 * [Y] measured here with Yosys (fpga/rtl/synth/results.json), [A] an ASSUMPTION of this project —
 * change it and the report changes; the sensitivity table in `ahcq hw-report` shows how much.
 */
import synth from '../../fpga/rtl/synth/results.json';

// TYPES

export interface DeviceBudget {
  readonly name: string;
  readonly LUT: number;
  readonly FF: number;
  readonly DSP: number;
  /** 36 Kb block RAMs. */
  readonly BRAM36: number;
  readonly source: string;
}

export interface Resources {
  readonly LUT: number;
  readonly FF: number;
  readonly DSP: number;
  readonly BRAM36: number;
}

/** Per-PE cost of one MAC lane of a design. */
export interface PeCost extends Resources {
  readonly source: string;
}

// CONSTANTS — device and clock

/** ZCU102 carries an XCZU9EG (-2). [S] AMD DS891 Zynq UltraScale+ MPSoC overview, ZU9EG column. */
export const ZCU102: DeviceBudget = { name: 'zcu102', LUT: 274_080, FF: 548_160, DSP: 2_520, BRAM36: 912, source: 'AMD DS891 (XCZU9EG: 274,080 LUTs, 548,160 FFs, 2,520 DSP48E2, 912 BRAM36 = 32.1 Mb)' };

/** Clock of all three designs. [P] AHCQ-SAM v4 §FPGA: 300 MHz on ZCU102. */
export const CLOCK_HZ = 300e6;

/** Fraction of each device resource a design may use (routing / timing closure headroom). [A] */
export const UTILISATION_CAP = 0.75;

/** Fixed infrastructure of every design: DMA engines, controller, AXI, vector unit (float32, 16 lanes). [A] */
export const SHELL: Resources = { LUT: 30_000, FF: 45_000, DSP: 120, BRAM36: 40 };

// CONSTANTS — memory system

/** PL-side DRAM bandwidth in bytes per 300 MHz cycle: 32 B ≈ 9.6 GB/s effective of the PS DDR4 (64-bit). [A] */
export const DRAM_BYTES_PER_CYCLE = 32;
/** Fixed latency of one DMA transfer in cycles (≈ 213 ns). [A] */
export const DRAM_LATENCY_CYCLES = 64;
/** Largest reduction length kept on chip per tile buffer (SAM-H fc2: K = 5120). [A] */
export const KMAX_ON_CHIP = 5120;

// CONSTANTS — PEs

/** INT4 PE: 5-bit × 5-bit signed MAC + 32-bit accumulator + operand registers, LUT-only. [Y] */
export const PE_INT4: PeCost = { LUT: synth.pe_int4.LUT, FF: synth.pe_int4.FF, DSP: 0, BRAM36: 0, source: `Yosys synth_xilinx -family xcup -nodsp of fpga/rtl/synth/pe_mac.sv (AW=BW=5)` };
/** INT8 PE: 9-bit × 9-bit signed MAC + 32-bit accumulator, LUT-only. [Y] */
export const PE_INT8: PeCost = { LUT: synth.pe_int8.LUT, FF: synth.pe_int8.FF, DSP: 0, BRAM36: 0, source: `Yosys synth_xilinx -family xcup -nodsp of fpga/rtl/synth/pe_mac.sv (AW=BW=9)` };
/** AHCQ extras per INT4 PE: 3 more 32-bit accumulator banks (CAG, G = 4) and the HLUQ shifter. [A] (FF = 3·32; LUT ≈ a 32-bit barrel shifter + bank mux) */
export const PE_AHCQ_EXTRA: PeCost = { LUT: 60, FF: 96, DSP: 0, BRAM36: 0, source: 'assumption: 3 extra 32-bit banks + 5-bit barrel shifter and bank select' };
/** FP32 MAC lane (multiplier + adder, Floating-Point Operator on DSPs). [A] order of magnitude of AMD PG060's tables, NOT verified here. */
export const PE_FP32: PeCost = { LUT: 650, FF: 1_000, DSP: 5, BRAM36: 0, source: 'assumption (PG060-style FP32 mul 3 DSP + add 2 DSP; unverified)' };
/** Extra tile latency of the FP32 design: the pipelined FP adder's latency before the last sum is ready. [A] */
export const FP32_ADD_LATENCY = 11;

/** Vector unit throughput in float32 lanes and lane-cycles per element of each op. [A] */
export const VECTOR_LANES = 16;
export const VECTOR_CYCLES_PER_ELEMENT = { layernorm: 4, softmax: 6, gelu: 8, dwconv3x3: 9 } as const;

// CONSTANTS — power (FPGA view)

/** Static power of the board's PS + PL at nominal temperature. [A] */
export const P_STATIC_W = 3.0;
/** Dynamic power per used resource at 300 MHz and 12.5 % toggle rate (XPE-style defaults). [A] */
export const P_DYN_MW = { LUT: 0.012, FF: 0.004, DSP: 1.2, BRAM36: 2.0 } as const;
/** DRAM access energy per byte (≈ 20 pJ/bit DDR4 interface + device). [A] */
export const DRAM_PJ_PER_BYTE = 160;

// CONSTANTS — ASIC intuition (second view, labelled as such)

/** Horowitz, ISSCC 2014, 45 nm 0.9 V energies in pJ (HARDWARE.md §4.4; int8/fp16 entries unverified there). */
export const HOROWITZ_PJ = { int8Mult: 0.2, int32Add: 0.1, fp32Mult: 3.7, fp32Add: 0.9 } as const;

// CONSTANTS — the paper's table (quoted, never model output)

/** AHCQ-SAM v4 FPGA table (ZCU102, SAM-B). [P] */
export const PAPER_TABLE = {
  FP32: { lanes: 16, LUT: 150_540, DSP: 1_886, BRAM36: 253, fps: 4.75, gopsPerW: 7.21 },
  INT8: { lanes: 64, LUT: 183_505, DSP: 453, BRAM36: 146, fps: 16.34, gopsPerW: 25.11 },
  INT4: { lanes: 128, LUT: 177_001, DSP: 474, BRAM36: 243, fps: 33.82, gopsPerW: 47.73 },
} as const;

/** The raw Yosys figures (for the report). */
export const YOSYS_RESULTS = synth;
