/**
 * RTL (fpga/rtl/ahcq_core.sv + fpga/rtl/ahcq_encoder.sv) replaying the committed golden vectors
 * (fixtures/golden): the testbench fpga/rtl/tb/tb_golden.sv reads each case's .hex files with $readmemh
 * (inputs and expected outputs) plus a parameter image converted from desc.json (hw-model/src/rtl-golden.ts).
 * - GEMM cases run on the PE array: bit-exact accumulators and output codes, Σ perf counter =
 *   desc.json expected.cycles.tiles = closed form Σ T_tile = hw-model.
 * - requant cases run on the core's accumulator-load path (drain-only jobs): y bit-exact, the drained
 *   values equal the loaded ones, Σ counter = Σ (1 + R + 2) = hw-model's stepped figure.
 * - encode cases run on the threshold encoder unit: codes bit-exact, counter = n + ⌈log2 L⌉ = hw-model.
 * All zero tolerance. With random stalls the outputs stay bit-exact and counter = closed form + stalls.
 * gelu_hluq, lnq_attention and tinyvit_block are skipped BY NAME with the scope decision below (float32
 * vector unit); their integer stages still run on RTL: the encoder stage of gelu_hluq (gelu → q) and of
 * lnq_attention (p → p_codes) on the RTL encoder, fed the case's stored vector-unit output, and the two
 * GEMMs of lnq_attention (QKᵀ → s_acc in uniform mode, D[p_codes]·(V − zv) → pv_acc → y in LNQ mode)
 * on the PE array. The tinyvit_block case's integer stages (hw-model/src/rtl-block.ts) run as 31 GEMM
 * jobs (qkv CAG ×3, QKᵀ ×4, P·V LNQ ×4, proj, depthwise 3×3 as 16 block-diagonal GEMMs, fc1 CAG ×2
 * column halves, fc2 HLUQ) and 11 encoder jobs, on stored vectors where the case stores them and on the
 * integer reference's recomputation otherwise: bit-exact, counter = closed form. Verilator runs all 42
 * (≈ 6 s); Icarus runs the 14 small ones (≈ 45 s) and skips the rest by name (ICARUS_BLOCK_STAGES).
 * Both simulators run every case (Verilator: ≈ 2 min build, then ≈ 0.1–2 s per case; Icarus: ≈ 45 s CPU
 * build, ≈ 1 s per small case and ≈ 25–60 s per MobileSAM layer). Whole file ≈ 4 min wall with both
 * builds on a shared, loaded 2-core machine (2.2–2.5 min with the builds cached, tinyvit_block stages
 * included: they add ≈ 48 s — edge 3 s, Verilator 6 s, Icarus 39 s — and no build, the testbench is unchanged).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findGoldenCaseDirs, readGoldenCase } from '../../src/golden/reader';
import { encoderImage, encoderStageOf, lnqAttentionStages, rtlGoldenParams } from '../../hw-model/src/rtl-golden';
import { runLayerStepped } from '../../hw-model/src/layer';
import { GOLDEN_DRAM } from '../../hw-model/src/golden-adapter';
import { float32FromKey, float32Key } from '../../src/int/threshold-encoder';
import { naiveThresholdCode } from '../../hw-model/spec/oracle';
import { replayGolden, replayGoldenUnit } from '../../hw-model/src/golden-adapter';
import { runEncoder } from '../../hw-model/src/encoder';
import { buildGoldenSim, hasTool, runGoldenRtl, type RtlParams, type Simulator } from '../../hw-model/spec/rtl-sim';
import { blockReferenceAgreement, hexTensorText, tinyVitBlockStages, type BlockStage, type BlockStages } from '../../hw-model/src/rtl-block';

const ROOT = path.resolve(__dirname, '../..');
const GOLDEN = path.join(ROOT, 'fixtures/golden');
const haveGolden = existsSync(GOLDEN);
/** KMAX covers the MobileSAM fc2 layer (K = 512); NBMAX covers G = 4 CAG groups. */
const P: RtlParams = { R: 8, C: 8, KMAX: 512, NBMAX: 4 };

/**
 * Scope decision (docs/hardware.md §RTL scope): the float32 vector unit has no RTL here. Its golden
 * outputs are specified to the bit as IEEE-754 binary32 + − × ÷ in a fixed order (src/int/vector-f32.ts);
 * an RTL float unit means a hand-written round-to-nearest-even adder, multiplier and divider with
 * subnormals and specials (or a vendor floating-point IP that the open simulators cannot run), and the
 * model charges vector-unit passes at a lane throughput, so there is no cycle claim for RTL to confirm.
 * The float unit is specified by hw-model + the HLS C-sim (fpga/hls/include/ahcq_kernels.hpp).
 */
const FLOAT_SCOPE = 'float32 vector unit: specified by hw-model + HLS C-sim; an RTL float unit is out of scope (docs/hardware.md §RTL scope)';
const SKIP_REASON: Record<string, string> = {
  gelu_hluq: `GELU on the ${FLOAT_SCOPE}; its encoder stage (gelu → q) runs below`,
  lnq_attention: `softmax on the ${FLOAT_SCOPE}; its GEMM stages (QKᵀ, P·V + requant) and encoder stage (p → p_codes) run below`,
  tinyvit_block: `LayerNorm, softmax, GELU, dequant and residuals on the ${FLOAT_SCOPE}; its integer stages (every GEMM and encoder of the block) run below`,
};

type Kind = 'gemm' | 'requant' | 'encode' | 'skip';
interface Case { id: string; op: string; dir: string; kind: Kind }
const cases: Case[] = haveGolden
  ? findGoldenCaseDirs(GOLDEN).map((dir) => {
    try {
      const c = readGoldenCase(dir);
      const img = rtlGoldenParams(c, P.KMAX, P.NBMAX);
      const kind: Kind = img === null ? 'skip' : c.desc.op === 'requant' ? 'requant' : c.desc.op === 'encode' ? 'encode' : 'gemm';
      return { id: c.desc.id, op: c.desc.op, dir, kind };
    } catch (e) {
      // a case this tree's reader cannot load (e.g. an op added concurrently) is listed as skipped
      return { id: path.relative(GOLDEN, dir), op: `unreadable: ${(e as Error).message.slice(0, 120)}`, dir, kind: 'skip' as Kind };
    }
  })
  : [];

/**
 * The integer stages of the tinyvit_block case (hw-model/src/rtl-block.ts): 31 GEMM jobs (qkv ×3 CAG,
 * QKᵀ ×4 uniform, P·V ×4 LNQ, proj uniform, depthwise 3×3 as 16 block-diagonal uniform jobs, fc1 CAG in
 * two column halves, fc2 HLUQ) and 11 encoder jobs (qkv_in ×4 and fc1_in ×4 CAG groups, LNQ, conv_in,
 * fc2_in HLUQ). Built at collection time (≈ 1 s: the integer reference recomputes the block).
 */
const blockCase = cases.find((c) => c.op === 'tinyvit_block');
const block: BlockStages | null = blockCase ? tinyVitBlockStages(readGoldenCase(blockCase.dir), P.KMAX, P.NBMAX) : null;
/**
 * Icarus runs the block's small stages only: measured here under Icarus (loaded 2-core machine) the
 * three qkv GEMMs take 16–29 s each, proj 22 s, each fc1 half 45–62 s, fc2 > 60 s, fc2_in 20 s, while
 * every stage below takes 1–11 s; Verilator runs all 42 stages in ≈ 5 s.
 */
const ICARUS_BLOCK_STAGES = /^(gemm\.(qk|pv)\.h\d+|enc\.qkv_in\.g\d+|enc\.lnq|gemm\.dw\.c0)$/;

/** Write a block stage's testbench files (tensors + parameter image) into dir; returns the image path. */
function writeStage(dir: string, st: BlockStage): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, t] of st.files) writeFileSync(path.join(dir, `${name}.hex`), hexTensorText(t));
  const f = path.join(dir, 'params.hex');
  writeFileSync(f, st.image.hex);
  return f;
}

describe('edge cases', () => {
  it.skipIf(!haveGolden)('rtlGoldenParams: null for the float32 vector-unit ops, SpecError for K > KMAX or too many banks', () => {
    for (const op of ['gelu_hluq', 'lnq_attention']) {
      const c = cases.find((x) => x.op === op);
      expect(c, op).toBeDefined();
      expect(rtlGoldenParams(readGoldenCase(c!.dir), P.KMAX, P.NBMAX), op).toBeNull();
    }
    const cag = readGoldenCase(cases.find((c) => c.id === 'gemm-cag/b4_g4_m4k32n8')!.dir); // K = 32, G = 4
    expect(() => rtlGoldenParams(cag, 16, 4)).toThrow(/KMAX/);
    expect(() => rtlGoldenParams(cag, 64, 2)).toThrow(/NBMAX/);
  });
  it.skipIf(!haveGolden)('the image starts with the magic word and carries desc.json expected.cycles.tiles and the closed form', () => {
    const c = readGoldenCase(cases.find((x) => x.id === 'gemm-cag/b6_g3_m5k13n7')!.dir);
    const img = rtlGoldenParams(c, P.KMAX, P.NBMAX)!;
    const words = img.hex.split('\n');
    expect(words[0]).toBe('@0');
    expect(words[1]).toBe('41484351');
    // desc.json of this case records tiles = 54: one 8×8 tile, K = 13, nb = 3 → 1 + 13 + 14 + 24 + 2
    expect(img.expectedTiles).toBe(54);
    expect(img.closedForm).toBe(54);
    expect(parseInt(words[14]!, 16)).toBe(54);
    expect(parseInt(words[15]!, 16)).toBe(54);
  });
  it.skipIf(!haveGolden)('requant and encode images: mode 4 / 5, closed forms 11 per 8×8 requant tile and n + ⌈log2 L⌉ for the encoder', () => {
    const rq = rtlGoldenParams(readGoldenCase(cases.find((x) => x.id === 'requant/b4_m6n5')!.dir), P.KMAX, P.NBMAX)!;
    expect(rq.hex.split('\n')[2]).toBe('00000004');
    expect(rq.closedForm).toBe(1 + 8 + 2); // one 8×8 tile: START + R drain reads + 2 PPU stages
    const en = rtlGoldenParams(readGoldenCase(cases.find((x) => x.id === 'encode/lnq_b8')!.dir), P.KMAX, P.NBMAX)!;
    expect(en.hex.split('\n')[2]).toBe('00000005');
    expect(en.closedForm).toBe(805 + 8); // 805 values, 256 codes → 8 comparator levels
  });
  it.skipIf(!haveGolden)('every case is classified: only the three float32 vector-unit ops are skipped, each by name', () => {
    for (const c of cases) {
      if (c.kind === 'skip') expect(Object.keys(SKIP_REASON), c.id).toContain(c.op);
      else expect(Object.keys(SKIP_REASON), c.id).not.toContain(c.op);
    }
  });
  it.skipIf(!haveGolden)('the GEMM stages of lnq_attention (QKᵀ uniform, P·V LNQ + requant) replay on the stepped layer model (bit-exact)', () => {
    let n = 0;
    for (const c of cases.filter((x) => x.op === 'lnq_attention')) {
      const g = readGoldenCase(c.dir);
      for (const st of lnqAttentionStages(g, P.KMAX, P.NBMAX)!) {
        const r = runLayerStepped({ rows: g.desc.arch.R, cols: g.desc.arch.C }, GOLDEN_DRAM, st.job, st.outBits);
        expect(Array.from(r.acc), `${c.id} ${st.accName}`).toEqual(Array.from(g.outputs.get(st.accName)!.tensor.data));
        if (st.yName) expect(Array.from(r.y), `${c.id} ${st.yName}`).toEqual(Array.from(g.outputs.get(st.yName)!.tensor.data));
        n++;
      }
    }
    expect(n).toBe(4);
  });
  it.skipIf(!haveGolden)('the encoder stages of gelu_hluq and lnq_attention replay on the stepped encoder (bit-exact)', () => {
    let n = 0;
    for (const c of cases.filter((x) => x.op === 'gelu_hluq' || x.op === 'lnq_attention')) {
      const g = readGoldenCase(c.dir);
      const st = encoderStageOf(g)!;
      expect(Array.from(runEncoder({ x: st.x, thresholds: st.thresholds }).codes), c.id).toEqual(Array.from(g.outputs.get(st.qname)!.tensor.data));
      n++;
    }
    expect(n).toBe(3);
  });
  it.skipIf(!block)('tinyvit_block: the integer reference recomputed from the case\'s x reproduces every stored vector (x1, qkv, p_codes, o codes; y float32 bits)', () => {
    // the recomputed intermediates (accumulators, ln1/probs/a/ln2/gelu, conv codes, x2, fc2 input codes) feed the stages below
    expect(blockReferenceAgreement(readGoldenCase(blockCase!.dir), block!.trace)).toEqual([]);
  });
  it.skipIf(!block)('tinyvit_block stage list: 31 GEMM jobs and 11 encoder jobs; stored vectors are used wherever the case stores them', () => {
    const names = block!.stages.map((s) => s.name);
    expect(names.filter((n) => n.startsWith('gemm.'))).toHaveLength(31);
    expect(names.filter((n) => n.startsWith('enc.'))).toHaveLength(11);
    for (const n of ['gemm.qkv_q', 'gemm.qkv_k', 'gemm.qkv_v', 'gemm.qk.h3', 'gemm.pv.h3', 'gemm.proj', 'gemm.dw.c15', 'gemm.fc1.n1', 'gemm.fc2', 'enc.lnq', 'enc.conv_in', 'enc.fc2_in']) expect(names).toContain(n);
    const g = readGoldenCase(blockCase!.dir);
    const st = (n: string): BlockStage => block!.stages.find((s) => s.name === n)!;
    // qkv_k's expected codes are the stored qkv columns [128, 256); pv.h1's are the stored o columns [32, 64)
    const qkv = g.outputs.get('qkv')!.tensor.data, o = g.outputs.get('o')!.tensor.data;
    const yk = (st('gemm.qkv_k') as Extract<BlockStage, { kind: 'gemm' }>).y!;
    expect(Array.from(yk)).toEqual(Array.from({ length: 49 * 128 }, (_, i) => qkv[Math.floor(i / 128) * 384 + 128 + (i % 128)]));
    const yp = (st('gemm.pv.h1') as Extract<BlockStage, { kind: 'gemm' }>).y!;
    expect(Array.from(yp)).toEqual(Array.from({ length: 49 * 32 }, (_, i) => o[Math.floor(i / 32) * 128 + 32 + (i % 32)]));
    expect(Array.from((st('enc.lnq') as Extract<BlockStage, { kind: 'encoder' }>).q)).toEqual(Array.from(g.outputs.get('p_codes')!.tensor.data));
  });
  it.skipIf(!block)('tinyvit_block GEMM stages replay on the stepped layer model and encoder stages on the stepped encoder (bit-exact)', () => {
    let n = 0;
    for (const st of block!.stages) {
      if (st.kind === 'gemm') {
        const r = runLayerStepped({ rows: P.R, cols: P.C }, GOLDEN_DRAM, st.job, st.outBits);
        expect(Array.from(r.acc), `${st.name} acc`).toEqual(Array.from(st.acc));
        if (st.y) expect(Array.from(r.y), `${st.name} y`).toEqual(Array.from(st.y));
      } else {
        const r = runEncoder({ x: st.x, thresholds: st.thresholds });
        expect(Array.from(r.codes), st.name).toEqual(Array.from(st.q));
        expect(r.cycles, st.name).toBe(st.image.closedForm);
      }
      n++;
    }
    expect(n).toBe(42);
  }, 60_000);
  it('hexTensorText: 2-digit codes, 8-digit two\'s complement, float32 bit patterns; rejects a code out of range', () => {
    expect(hexTensorText({ values: [0, 15, 7], bits: 4 })).toBe('00\n0f\n07\n');
    expect(hexTensorText({ values: [-1, 5], bits: 32 })).toBe('ffffffff\n00000005\n');
    expect(hexTensorText({ values: Float32Array.of(1, -0), bits: 32, float: true })).toBe('3f800000\n80000000\n');
    expect(() => hexTensorText({ values: [16], bits: 4 })).toThrow(/4-bit code/);
  });
});

for (const sim of ['iverilog', 'verilator'] as Simulator[]) {
  const have = hasTool(sim) && (sim !== 'iverilog' || hasTool('vvp'));
  const why = !have ? `'${sim}' is not installed (apt-get install -y verilator iverilog)` : 'fixtures/golden is absent (run the golden export)';
  const ready = have && haveGolden;
  describe.skipIf(!ready)(`conformance: ${sim} replays fixtures/golden${ready ? '' : ` — SKIPPED: ${why}`}`, () => {
    let cmd: string[] = [];
    let work = '';
    beforeAll(() => {
      cmd = buildGoldenSim(sim, P);
      work = mkdtempSync(path.join(tmpdir(), `ahcq-rtlg-${sim}-`));
    }, 600_000);
    afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });
    const mine = cases;
    for (const c of mine) {
      if (c.kind === 'skip') {
        it.skip(`${c.id} — SKIPPED: op '${c.op}': ${SKIP_REASON[c.op] ?? 'not executed by the RTL (no unit for this op)'}`, () => {});
        continue;
      }
      if (c.kind === 'gemm') {
        const name = c.id === 'gemm-uniform/b4_dequant_m3k8n4' ? `${c.id} (accumulators; the float32 dequant y has no RTL)` : c.id;
        it(`${name}: bit-exact, Σ perf counter = desc.json expected.cycles.tiles = closed form`, () => {
          const g = readGoldenCase(c.dir);
          const img = rtlGoldenParams(g, P.KMAX, P.NBMAX)!;
          const f = path.join(work, c.id.replace(/\//g, '__') + '.hex');
          writeFileSync(f, img.hex);
          const r = runGoldenRtl(cmd, c.dir, f);
          expect(r.accMismatch, r.log).toBe(0);
          expect(r.yMismatch, r.log).toBe(0);
          expect(r.missing, r.log).toBe(0);
          expect(r.tiles).toBe(img.nTiles);
          expect(r.stalls).toBe(0);
          expect(img.expectedTiles, `${c.id}: desc.json expected.cycles.tiles`).not.toBeNull();
          expect(r.cycles).toBe(img.expectedTiles);
          expect(r.cycles).toBe(img.closedForm);
          expect(r.cycles).toBe(replayGolden(g)!.cycles.tiles); // hw-model's figure, recomputed now
          expect(r.pass, r.log).toBe(true);
        }, 300_000);
        continue;
      }
      const unit = c.kind === 'requant' ? 'accumulator-load path of the core' : 'threshold encoder unit';
      it(`${c.id} on the ${unit}: bit-exact, perf counter = closed form = hw-model stepped`, () => {
        const g = readGoldenCase(c.dir);
        const img = rtlGoldenParams(g, P.KMAX, P.NBMAX)!;
        const f = path.join(work, c.id.replace(/\//g, '__') + '.hex');
        writeFileSync(f, img.hex);
        const r = runGoldenRtl(cmd, c.dir, f);
        expect(r.accMismatch + r.yMismatch + r.missing, r.log).toBe(0);
        expect(r.tiles).toBe(img.nTiles);
        expect(r.stalls).toBe(0);
        expect(r.cycles).toBe(img.closedForm);
        const hw = replayGoldenUnit(g)!.cycles; // hw-model's stepped figure, recomputed now
        expect(r.cycles).toBe('tiles' in hw ? hw.tiles : hw.encoder);
        if (img.expectedTiles !== null) expect(r.cycles, `${c.id}: desc.json expected.cycles`).toBe(img.expectedTiles);
        expect(r.pass, r.log).toBe(true);
      }, 300_000);
    }
    for (const c of mine.filter((x) => x.op === 'lnq_attention')) {
      it(`${c.id} GEMM stages on the PE array (QKᵀ uniform → s_acc; D[p_codes]·(V − zv) LNQ → pv_acc → y): bit-exact, Σ counter = closed form`, () => {
        for (const st of lnqAttentionStages(readGoldenCase(c.dir), P.KMAX, P.NBMAX)!) {
          const f = path.join(work, `gemm-${st.name}-${c.id.replace(/\//g, '__')}.hex`);
          writeFileSync(f, st.image.hex);
          const r = runGoldenRtl(cmd, c.dir, f, 0, 1, st.args);
          expect(r.accMismatch + r.yMismatch + r.missing, `${st.name}: ${r.log}`).toBe(0);
          expect(r.tiles).toBe(st.image.nTiles);
          expect(r.cycles, st.name).toBe(st.image.closedForm);
          expect(r.pass, r.log).toBe(true);
        }
      }, 300_000);
    }
    for (const c of mine.filter((x) => x.op === 'gelu_hluq' || x.op === 'lnq_attention')) {
      it(`${c.id} encoder stage on the threshold encoder unit (stored float32 vector-unit output in, codes bit-exact, counter = n + ⌈log2 L⌉)`, () => {
        const st = encoderStageOf(readGoldenCase(c.dir))!;
        const f = path.join(work, `stage-${c.id.replace(/\//g, '__')}.hex`);
        writeFileSync(f, st.image.hex);
        const r = runGoldenRtl(cmd, c.dir, f, 0, 1, [`+xname=${st.xname}`, `+qname=${st.qname}`]);
        expect(r.yMismatch + r.missing, r.log).toBe(0);
        expect(r.cycles).toBe(st.image.closedForm);
        expect(r.cycles).toBe(runEncoder({ x: st.x, thresholds: st.thresholds }).cycles);
        expect(r.pass, r.log).toBe(true);
      }, 300_000);
    }
    for (const st of block?.stages ?? []) {
      const what = st.kind === 'gemm'
        ? `${st.job.mode} GEMM ${st.job.M}×${st.job.N}×${st.job.K} on the PE array: acc${st.y ? ' and codes' : ''} bit-exact, Σ counter = closed form Σ T_tile`
        : `encoder unit (${st.x.length} values, ${st.thresholds.length} thresholds): codes bit-exact, counter = n + ⌈log2 L⌉`;
      const name = `${blockCase!.id} stage ${st.name}: ${what} [${st.source}]`;
      if (sim === 'iverilog' && !ICARUS_BLOCK_STAGES.test(st.name)) {
        it.skip(`${name} — SKIPPED on Icarus: too slow here (runs on Verilator; see ICARUS_BLOCK_STAGES)`, () => {});
        continue;
      }
      it(name, () => {
        const dir = path.join(work, `block-${st.name}`);
        const r = runGoldenRtl(cmd, dir, writeStage(dir, st));
        expect(r.accMismatch + r.yMismatch + r.missing, `${st.name}: ${r.log}`).toBe(0);
        expect(r.tiles).toBe(st.image.nTiles);
        expect(r.stalls).toBe(0);
        expect(r.cycles, st.name).toBe(st.image.closedForm); // hw-model: Σ tileCycles(K, nb) or encoderCycles(n, L)
        expect(r.pass, r.log).toBe(true);
      }, 300_000);
    }
    it.skipIf(!block)('negative control: a block stage with one expected accumulator changed FAILS with exactly one acc mismatch', () => {
      const st = block!.stages.find((s) => s.name === 'gemm.dw.c0')!;
      if (st.kind !== 'gemm') throw new Error('gemm.dw.c0 must be a GEMM stage');
      const acc = Int32Array.from(st.acc);
      acc[17] = acc[17]! + 1;
      const dir = path.join(work, 'block-negative');
      const f = writeStage(dir, { ...st, files: new Map([...st.files, ['acc', { values: acc, bits: 32 }]]) });
      const r = runGoldenRtl(cmd, dir, f);
      expect(r.accMismatch).toBe(1);
      expect(r.pass).toBe(false);
    }, 300_000);
    it('encoder unit on IEEE special inputs (NaN, ±0, ±∞, subnormals, every threshold and its float32 neighbours; a table with duplicates and +∞): codes = naive count, counter = n + ⌈log2 L⌉', () => {
      const th = Float32Array.of(-Infinity, -2.5, -1e-45, -0, 0, 1e-45, 0.75, 0.75, 3, Infinity, Infinity);
      const xs: number[] = [NaN, -NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 1.1754942e-38, -3.4028235e38, 3.4028235e38];
      for (const t of th) if (Number.isFinite(t)) { const k = float32Key(t); xs.push(t, float32FromKey(k - 1), float32FromKey(k + 1)); }
      const x = Float32Array.from(xs);
      const u = new Uint32Array(x.buffer);
      u[1] = 0xffc00001; // a negative NaN with payload (its key would exceed every other negative key)
      const q = Array.from(x, (v) => naiveThresholdCode(v, th));
      const dir = path.join(work, 'encoder-specials');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'x.hex'), Array.from(u, (v) => v.toString(16).padStart(8, '0')).join('\n') + '\n');
      writeFileSync(path.join(dir, 'q.hex'), q.map((v) => v.toString(16).padStart(2, '0')).join('\n') + '\n');
      const img = encoderImage(x.length, th);
      const f = path.join(dir, 'params.hex');
      writeFileSync(f, img.hex);
      const r = runGoldenRtl(cmd, dir, f);
      expect(r.yMismatch + r.missing, r.log).toBe(0);
      expect(r.cycles).toBe(x.length + 4); // 12 codes → 4 comparator levels
      expect(r.pass, r.log).toBe(true);
    }, 300_000);
    // the two MobileSAM layers (≈ 8.5 k cycles each) are left out of the stall runs to keep CI time modest
    const stalled = mine.filter((c) => c.kind !== 'skip' && !c.id.startsWith('mobilesam'));
    it(`random stalls (25 % of cycles) on ${stalled.length} cases (GEMM, requant, encode): still bit-exact, Σ counter = closed form + stalled cycles`, () => {
      let totalStalls = 0;
      stalled.forEach((c, i) => {
        const g = readGoldenCase(c.dir);
        const img = rtlGoldenParams(g, P.KMAX, P.NBMAX)!;
        const f = path.join(work, `stall-${c.id.replace(/\//g, '__')}.hex`);
        writeFileSync(f, img.hex);
        const r = runGoldenRtl(cmd, c.dir, f, 25, 1000 + i);
        expect(r.accMismatch + r.yMismatch + r.missing, `${c.id}: ${r.log}`).toBe(0);
        expect(r.stalls, c.id).toBeGreaterThan(0);
        expect(r.cycles, c.id).toBe(img.closedForm + r.stalls);
        expect(r.pass, r.log).toBe(true);
        totalStalls += r.stalls;
      });
      expect(totalStalls).toBeGreaterThan(0);
    }, 600_000);
  });
}
