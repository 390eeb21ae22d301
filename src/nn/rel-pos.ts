/**
 * Decomposed relative positional bias of the SAM / ViTDet image encoder attention.
 *
 * Legend: qh×qw query grid, kh×kw key grid, C head dim, L table length, B batch·heads.
 */
import { requireShape, specRequire, type Tensor } from '../tensor';
import { requireInput, requirePair, requirePositiveInt, requireRank } from '../ops/check';
import { bilinearTaps } from '../ops/interpolate-bilinear';

const f32 = Math.fround;

// MAIN

/**
 * The relative-position embeddings for every (query, key) index pair along one axis: [qSize, kSize, C].
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#get_rel_pos
 * @equation D = 2·max(q, k) − 1; T = relPos if L = D else linear-resize(relPos, D) along L (align_corners = False);
 *   out[i, j] = T[⌊i·max(k/q, 1) − j·max(q/k, 1) + (k − 1)·max(q/k, 1)⌋]
 * @deviation none (coordinates in float32 as torch.arange(...) * float)
 * @precision exact when L = D; otherwise float32 taps, fp64 blend, fp32-store
 */
export function getRelPos(qSize: number, kSize: number, relPos: Tensor): Tensor {
  const fn = 'getRelPos';
  requirePositiveInt(fn, 'qSize', qSize);
  requirePositiveInt(fn, 'kSize', kSize);
  requireInput(fn, 'relPos', relPos);
  requireRank(fn, 'relPos', relPos, 2);
  const [L, C] = relPos.shape as [number, number];
  const D = 2 * Math.max(qSize, kSize) - 1;
  // (1) table of length D (linear interpolation along L when the stored table has another length)
  let table = relPos.data;
  if (L !== D) {
    const t = bilinearTaps(L, D);
    const resized = new Float32Array(D * C); // [D, C]
    for (let d = 0; d < D; d++) {
      for (let c = 0; c < C; c++) {
        resized[d * C + c] = t.w0[d]! * relPos.data[t.i0[d]! * C + c]! + t.w1[d]! * relPos.data[t.i1[d]! * C + c]!;
      }
    }
    table = resized;
  }
  // (2) gather by relative coordinate
  const qScale = Math.max(kSize / qSize, 1);
  const kScale = Math.max(qSize / kSize, 1);
  const out = new Float32Array(qSize * kSize * C); // [qSize, kSize, C]
  for (let i = 0; i < qSize; i++) {
    for (let j = 0; j < kSize; j++) {
      const rel = Math.trunc(f32(f32(f32(i * qScale) - f32(j * kScale)) + f32((kSize - 1) * kScale)));
      specRequire(rel >= 0 && rel < D, { fn, what: 'relative index', rule: `lie in [0, ${D})`, got: rel });
      out.set(table.subarray(rel * C, (rel + 1) * C), (i * kSize + j) * C);
    }
  }
  return { dtype: 'float32', shape: [qSize, kSize, C], data: out };
}

/**
 * Add the decomposed relative-position bias to attention logits attn [B, qh·qw, kh·kw], using (unscaled) q [B, qh·qw, C].
 * @source SAM-code@dca509f segment_anything/modeling/image_encoder.py#add_decomposed_rel_pos (MViTv2, arXiv:2112.01526)
 * @equation attn[b, (y, x), (u, v)] += Σ_c q[b, (y, x), c]·Rh[y, u, c] + Σ_c q[b, (y, x), c]·Rw[x, v, c],
 *   Rh = getRelPos(qh, kh, relPosH), Rw = getRelPos(qw, kw, relPosW)
 * @deviation none; as in PyTorch the two bias terms are float32 tensors added in order ((attn + relH) + relW)
 * @precision bias sums fp64-accumulate then fp32; each addition rounded to float32
 */
export function addDecomposedRelPos(
  attn: Tensor,
  q: Tensor,
  relPosH: Tensor,
  relPosW: Tensor,
  qSize: readonly [number, number],
  kSize: readonly [number, number],
): Tensor {
  const fn = 'addDecomposedRelPos';
  requirePair(fn, 'qSize', qSize, true);
  requirePair(fn, 'kSize', kSize, true);
  const [qh, qw] = qSize;
  const [kh, kw] = kSize;
  requireInput(fn, 'attn', attn);
  requireInput(fn, 'q', q);
  requireRank(fn, 'q', q, 3);
  const [B, , C] = q.shape as [number, number, number];
  requireShape(fn, 'q', q, [B, qh * qw, C]);
  requireShape(fn, 'attn', attn, [B, qh * qw, kh * kw]);
  const Rh = getRelPos(qh, kh, relPosH); // [qh, kh, C]
  const Rw = getRelPos(qw, kw, relPosW); // [qw, kw, C]
  specRequire(Rh.shape[2] === C, { fn, what: 'relPosH.shape[1]', rule: `equal q.shape[2] = ${C}`, got: relPosH.shape[1] });
  specRequire(Rw.shape[2] === C, { fn, what: 'relPosW.shape[1]', rule: `equal q.shape[2] = ${C}`, got: relPosW.shape[1] });
  const out = new Float32Array(attn.data.length);
  const relH = new Float32Array(kh);
  const relW = new Float32Array(kw);
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < qh; y++) {
      for (let x = 0; x < qw; x++) {
        const qOff = ((b * qh + y) * qw + x) * C;
        // relH[u] = Σ_c q·Rh[y, u, c];  relW[v] = Σ_c q·Rw[x, v, c]
        for (let u = 0; u < kh; u++) {
          let s = 0;
          const r = (y * kh + u) * C;
          for (let c = 0; c < C; c++) s += q.data[qOff + c]! * Rh.data[r + c]!;
          relH[u] = s;
        }
        for (let v = 0; v < kw; v++) {
          let s = 0;
          const r = (x * kw + v) * C;
          for (let c = 0; c < C; c++) s += q.data[qOff + c]! * Rw.data[r + c]!;
          relW[v] = s;
        }
        const row = ((b * qh + y) * qw + x) * kh * kw;
        for (let u = 0; u < kh; u++) {
          for (let v = 0; v < kw; v++) {
            const i = row + u * kw + v;
            out[i] = f32(attn.data[i]! + relH[u]!) + relW[v]!;
          }
        }
      }
    }
  }
  return { dtype: 'float32', shape: [...attn.shape], data: out };
}
