// ahcq_kernels.hpp — Vitis-HLS-style kernels of the AHCQ-SAM integer datapath (project design):
// one R x C output-stationary tile GEMM with the row decoders of every mode (uniform, CAG with group
// zero points, HLUQ shift/uniform dual path, LNQ decode table), the per-column requant (PPU) and the
// threshold encoder, and the float32 vector unit (exp, softmax, GELU) of gelu_hluq and lnq_attention. Semantics: docs/integer-datapath.md, hw-model/src/tile.ts (bit-exact).
// The pragmas describe the intended hardware (the K loop pipelined, the R x C PEs unrolled); g++ ignores
// them (compile with -Wno-unknown-pragmas).
#pragma once
#include <cstdint>
#include <cstring>
#include <cmath>
#include "ahcq_types.hpp"

namespace ahcq {

enum Mode { UNIFORM = 0, CAG = 1, HLUQ = 2, LNQ = 3 };

template <int C, int NBMAX>
struct TileCfg {
  int mode = UNIFORM;
  int M = 0, N = 0, K = 0;      // used rows / columns of the tile, reduction length
  int za = 0;                    // uniform activation zero point
  int G = 1;                     // CAG groups (≤ NBMAX)
  int starts[NBMAX + 1] = {};    // CAG group offsets (G + 1 of them)
  int gzp[NBMAX] = {};           // CAG group zero points
  int lLog = 0, gb = 0;          // HLUQ geometry and guard bits
  int32_t lnq[256] = {};         // LNQ decoder table D[q]
  int zb[C] = {};                // column zero points
  bool requant = true;           // false: no PPU (accumulators only)
  int64_t gm[NBMAX] = {};        // bank-combine multipliers
  int64_t bias[C] = {};
  int64_t mult[C] = {};
  int shift[C] = {};
  int64_t zy = 0, lo = 0, hi = 0;
};

template <int C, int NBMAX>
inline int banks(const TileCfg<C, NBMAX>& t) { return t.mode == CAG ? t.G : (t.mode == HLUQ ? 2 : 1); }

// Row decoder: (value, tag). Tag = CAG group or HLUQ path (0 none, 1 log, 2 uniform).
template <int C, int NBMAX>
inline void decode_row(const TileCfg<C, NBMAX>& t, int code, int k, opnd_t& val, int& tag) {
  tag = 0;
  switch (t.mode) {
    case UNIFORM: val = code - t.za; break;
    case CAG: {
      int g = 0;
      for (int j = 1; j < t.G; j++) {
#pragma HLS UNROLL
        if (t.starts[j] <= k) g++;
      }
      val = code - t.gzp[g];
      tag = g;
      break;
    }
    case HLUQ:
      if (code == 0) val = 0;
      else if (code < t.lLog) { val = t.lLog - code; tag = 1; }
      else { val = code - t.lLog; tag = 2; }
      break;
    default: val = t.lnq[code]; break;
  }
}

// One tile: acc[bank][r][c] and y[r][c]. a is [R][KMAX] codes, b is [C][KMAX] codes.
template <int R, int C, int KMAX, int NBMAX>
void tile_gemm(const TileCfg<C, NBMAX>& t, const code_t a[R][KMAX], const code_t b[C][KMAX], acc_t acc[NBMAX][R][C], int64_t y[R][C]) {
#pragma HLS ARRAY_PARTITION variable=acc complete dim=0
#pragma HLS ARRAY_PARTITION variable=a complete dim=1
#pragma HLS ARRAY_PARTITION variable=b complete dim=1
  for (int bk = 0; bk < NBMAX; bk++)
    for (int r = 0; r < R; r++)
      for (int c = 0; c < C; c++) acc[bk][r][c] = 0;
k_loop:
  for (int k = 0; k < t.K; k++) {
#pragma HLS PIPELINE II=1
    for (int r = 0; r < R; r++) {
#pragma HLS UNROLL
      if (r >= t.M) continue;
      opnd_t av; int tag;
      decode_row(t, static_cast<int>(static_cast<int64_t>(a[r][k])), k, av, tag);
      for (int c = 0; c < C; c++) {
#pragma HLS UNROLL
        if (c >= t.N) continue;
        const wopd_t bv = static_cast<int64_t>(b[c][k]) - t.zb[c];
        const int64_t a64 = av, b64 = bv;
        if (t.mode == HLUQ) {
          if (tag == 1) acc[0][r][c] += (b64 * (int64_t{1} << t.gb)) >> (a64 > 31 ? 31 : a64);  // floor(W~·2^gb / 2^e)
          else if (tag == 2) { acc[0][r][c] += b64 * (int64_t{1} << t.gb); acc[1][r][c] += b64 * a64; }
        } else {
          acc[tag][r][c] += a64 * b64;
        }
      }
    }
  }
ppu:
  for (int r = 0; r < t.M; r++)
    for (int c = 0; c < t.N; c++) {
#pragma HLS PIPELINE II=1
      wide_t w = 0;
      for (int bk = 0; bk < banks(t); bk++) w = static_cast<int64_t>(w) + (t.requant ? t.gm[bk] : 1) * static_cast<int64_t>(acc[bk][r][c]);
      y[r][c] = t.requant ? saturate(apply_scale(static_cast<int64_t>(w) + t.bias[c], t.mult[c], t.shift[c]) + t.zy, t.lo, t.hi) : static_cast<int64_t>(w);
    }
}

// Threshold encoder: code = #{ j : key(p) ≥ key(θ_j) } on order-preserving float32 keys (binary search,
// one comparator level per pipeline stage in hardware). −0 and +0 share a key.
inline int32_t f32_key(uint32_t bits) {
  return (bits & 0x80000000u) ? -static_cast<int32_t>(bits & 0x7fffffffu) : static_cast<int32_t>(bits);
}
inline int encode_threshold(uint32_t p_bits, const uint32_t* th_bits, int n) {
  const int32_t kp = f32_key(p_bits);
  int lo = 0, hi = n;
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (kp >= f32_key(th_bits[mid])) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// ---- vector unit (float32, IEEE + − × ÷ only, in the order of src/int/vector-f32.ts) ----------------
// Compile with -ffp-contract=off (no FMA contraction) and without -ffast-math; in Vitis HLS the same
// holds with `config_compile -unsafe_math_optimizations=false` (the default).

inline float f32_from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }

// 2^n as a float32 built from its bit pattern, n ∈ [−126, 127] (exact).
inline float pow2_f32(int n) { return f32_from_bits(static_cast<uint32_t>(n + 127) << 23); }

// ⌊y⌋ for |y| < 2^23 (a float32 with that magnitude converts to int exactly when integral).
inline int floor_f32(float y) {
  const int i = static_cast<int>(y);  // truncation toward zero
  return (static_cast<float>(i) > y) ? i - 1 : i;
}

// exp(x): n = ⌊x·log2e + ½⌋, r = (x − n·ln2_hi) − n·ln2_lo, degree-6 Horner polynomial, ·2^n.
// x < −87 → 0, x > 88 → +∞ (src/int/vector-f32.ts#expF32).
inline float exp_f32(float x) {
  const float LOG2E = static_cast<float>(1.4426950408889634);
  const float LN2_HI = static_cast<float>(0.693145751953125);
  const float LN2_LO = static_cast<float>(1.428606765330187e-6);
  const float EXP_C[7] = {1.0f, 1.0f, 0.5f, static_cast<float>(1.0 / 6), static_cast<float>(1.0 / 24), static_cast<float>(1.0 / 120), static_cast<float>(1.0 / 720)};
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) return f32_from_bits(0x7f800000u);
  const int n = floor_f32(x * LOG2E + 0.5f);
  const float nf = static_cast<float>(n);
  const float r = (x - nf * LN2_HI) - nf * LN2_LO;
  float p = EXP_C[6];
  for (int i = 5; i >= 0; --i) {
#pragma HLS UNROLL
    p = p * r + EXP_C[i];
  }
  if (n < -126) return (p * pow2_f32(-126)) * pow2_f32(n + 126);
  return p * pow2_f32(n);
}

// GELU, tanh form: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), tanh z = 1 − 2/(e^(2z) + 1).
inline float gelu_f32(float x) {
  const float SQRT_2_OVER_PI = static_cast<float>(0.7978845608028654);
  const float GELU_C = static_cast<float>(0.044715);
  const float x3 = (x * x) * x;
  const float inner = SQRT_2_OVER_PI * (x + GELU_C * x3);
  const float e = exp_f32(2.0f * inner);
  const float t = (f32_bits(e) == 0x7f800000u) ? 1.0f : 1.0f - 2.0f / (e + 1.0f);
  return (0.5f * x) * (1.0f + t);
}

// gelu_hluq: the vector unit's GELU followed by the HLUQ threshold encoder, one element per cycle.
inline void gelu_hluq(const uint32_t* x_bits, int n, const uint32_t* th_bits, int nth, uint32_t* gelu_bits, int32_t* q) {
gelu_loop:
  for (int i = 0; i < n; i++) {
#pragma HLS PIPELINE II=1
    const uint32_t g = f32_bits(gelu_f32(f32_from_bits(x_bits[i])));
    gelu_bits[i] = g;
    q[i] = encode_threshold(g, th_bits, nth);
  }
}

// LayerNorm of one token (n channels): sequential sum → mean = s/n, sequential Σ(x − mean)² → var = v/n,
// denom = √(var + eps) (IEEE sqrt, correctly rounded), out_i = ((x_i − mean)/denom)·γ_i + β_i, every op
// rounded to float32 (src/int/vector-f32.ts#layerNormRowF32 order).
inline void layer_norm_f32(const float* x, int n, const float* g, const float* b, float eps, float* out) {
  float s = 0.0f;
  for (int i = 0; i < n; i++) s = s + x[i];
  const float mean = s / static_cast<float>(n);
  float v = 0.0f;
  for (int i = 0; i < n; i++) { const float d = x[i] - mean; v = v + d * d; }
  const float var = v / static_cast<float>(n);
  const float denom = std::sqrt(var + eps);
  for (int i = 0; i < n; i++) out[i] = ((x[i] - mean) / denom) * g[i] + b[i];
}

// Dequantising output stage: y = f32(f32(wide)·scale) (wide = Σ_b gm[b]·acc_b + bias, exact in int64).
inline float dequant_f32(int64_t wide, float scale) { return static_cast<float>(wide) * scale; }

// LNQ attention, vector part of one score row: score_t = f32(f32(s_acc_t)·scale), softmax (max-subtracted,
// sequential sum, one division per element), then the LNQ threshold encoder p_codes_t = #{k : p_t ≥ θ_k}.
// The two GEMMs around it (s_acc = (k − zk)·(q − zq) in uniform mode; pv_acc = D[p_codes]·(v − zv) in
// LNQ mode with the requant) run on tile_gemm.
// `bias` (optional, TinyViT's attention bias row): score_t = f32(f32(f32(s_acc_t)·scale) + bias_t).
template <int TMAX>
void lnq_softmax_encode(const int64_t* s_acc, int T, float scale, const uint32_t* th_bits, int nth, uint32_t* p_bits, int32_t* p_codes,
                        const float* bias = nullptr) {
  float row[TMAX];
  for (int t = 0; t < T; t++) row[t] = static_cast<float>(s_acc[t]) * scale;
  if (bias) for (int t = 0; t < T; t++) row[t] = row[t] + bias[t];
  float mx = row[0];
  for (int t = 1; t < T; t++) if (row[t] > mx) mx = row[t];
  float sum = 0.0f;
  for (int t = 0; t < T; t++) { row[t] = exp_f32(row[t] - mx); sum = sum + row[t]; }
  for (int t = 0; t < T; t++) {
#pragma HLS PIPELINE II=1
    const float p = row[t] / sum;
    p_bits[t] = f32_bits(p);
    p_codes[t] = encode_threshold(p_bits[t], th_bits, nth);
  }
}

}  // namespace ahcq
