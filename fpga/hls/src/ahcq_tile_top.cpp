// ahcq_tile_top.cpp — synthesis top for Vitis HLS (run_hls.tcl): one 8 x 8 tile, K ≤ 1024, ≤ 8 banks.
// The C-simulation testbench (tb/csim_main.cpp) calls the same template, ahcq::tile_gemm.
#include "ahcq_kernels.hpp"

constexpr int R = 8, C = 8, KMAX = 1024, NBMAX = 8;

void ahcq_tile_top(const ahcq::TileCfg<C, NBMAX>& cfg, const ahcq::code_t a[R][KMAX], const ahcq::code_t b[C][KMAX],
                   ahcq::acc_t acc[NBMAX][R][C], int64_t y[R][C]) {
#pragma HLS INTERFACE mode=s_axilite port=return
#pragma HLS INTERFACE mode=bram port=a
#pragma HLS INTERFACE mode=bram port=b
  ahcq::tile_gemm<R, C, KMAX, NBMAX>(cfg, a, b, acc, y);
}
