// ahcq_types.hpp — project-owned fixed-width integer shim for the AHCQ-SAM HLS kernels.
//
// hint<W, S> is a W-bit two's-complement (S = true) or unsigned (S = false) integer that wraps on every
// assignment, like Xilinx ap_int<W>/ap_uint<W> with the default AP_WRAP overflow mode. Arithmetic is
// done in int64_t (callers keep intermediate values inside 64 bits, as the datapath spec guarantees).
// Build with -DAHCQ_USE_VENDOR_AP to use the vendor ap_int.h instead (Vitis HLS only).
#pragma once
#include <cstdint>

#ifdef AHCQ_USE_VENDOR_AP
#include <ap_int.h>
#include <type_traits>
template <int W, bool S>
using hint = typename std::conditional<S, ap_int<W>, ap_uint<W>>::type;
#else
template <int W, bool S>
struct hint {
  static_assert(W >= 1 && W <= 64, "hint width must be in [1, 64]");
  int64_t v;
  static int64_t wrap(int64_t x) {
    if (W == 64) return x;
    const uint64_t mask = (W == 64) ? ~0ull : ((1ull << W) - 1ull);
    uint64_t u = static_cast<uint64_t>(x) & mask;
    if (S && ((u >> (W - 1)) & 1ull)) u |= ~mask;  // sign-extend
    return static_cast<int64_t>(u);
  }
  hint() : v(0) {}
  hint(int64_t x) : v(wrap(x)) {}  // NOLINT: implicit like ap_int
  operator int64_t() const { return v; }
  hint& operator+=(int64_t x) { v = wrap(v + x); return *this; }
};
#endif

namespace ahcq {

using code_t = hint<8, false>;    // activation / weight codes (≤ 8 bits)
using opnd_t = hint<18, true>;    // decoded row operand (x − z, HLUQ e/u, or LNQ D[p] ≤ 2^16)
using wopd_t = hint<10, true>;    // decoded column operand (w − zw)
using acc_t = hint<32, true>;     // PE accumulator (int32, wraps; the spec's bounds exclude overflow)
using wide_t = hint<64, true>;    // bank-combined accumulator (|wide| ≤ 2^36 by the spec)

// apply_scale(v, mult, shift) = floor((v·mult + 2^(shift−1)) / 2^shift): TOSA round-half-up, no double
// rounding (docs/integer-datapath.md). |v| ≤ 2^36 and mult < 2^16 keep the product below 2^52.
// The right shift of a negative int64 is arithmetic in g++ (and defined so from C++20).
inline int64_t apply_scale(int64_t v, int64_t mult, int shift) {
  const int64_t round = static_cast<int64_t>(1) << (shift - 1);
  return (v * mult + round) >> shift;
}

inline int64_t saturate(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace ahcq
