// ahcq_kernels.hpp — Vitis-HLS-style kernels of the AHCQ-SAM integer datapath (project design):
// one R x C output-stationary tile GEMM with the row decoders of every mode (uniform, CAG with group
// zero points, HLUQ shift/uniform dual path, LNQ decode table), the per-column requant (PPU) and the
// threshold encoder. Semantics: docs/integer-datapath.md, hw-model/src/tile.ts (bit-exact).
// The pragmas describe the intended hardware (the K loop pipelined, the R x C PEs unrolled); g++ ignores
// them (compile with -Wno-unknown-pragmas).
#pragma once
#include <cstdint>
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

}  // namespace ahcq
