// csim_main.cpp — C-simulation testbench of the AHCQ-SAM HLS kernels (fpga/hls/include).
// Replays the golden vectors (fixtures/golden/**/desc.json + .bin, format ahcq-golden/1): every GEMM
// case (gemm_uniform, gemm_cag, gemm_hluq) is cut into R x C tiles and run through ahcq::tile_gemm;
// requant cases run the PPU alone; encode cases run the threshold encoder; gelu_hluq runs the float32
// vector unit's GELU and the encoder; lnq_attention runs QKᵀ on tile_gemm (uniform mode, accumulators),
// the float32 softmax + LNQ encoder (lnq_softmax_encode) and P·V on tile_gemm (LNQ decode table, requant).
// tinyvit_block runs the whole TinyViT block on the same kernels (run_tinyvit_block below).
// Outputs (float32 ones as bit patterns) are compared bit for bit with the stored .bin outputs. Ops
// without an HLS kernel here (ops added later) are reported as skipped with the op name. Prints "N passed, N failed, N skipped"; exit code 1 on any failure.
//
//   g++ -std=c++17 -O2 -Wno-unknown-pragmas -ffp-contract=off -I fpga/hls/include fpga/hls/tb/csim_main.cpp -o csim
//   ./csim fixtures/golden
//
// desc.json is parsed with fpga/tb/mini_json.hpp (the golden reader's strict parser, reused read-only).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ahcq_kernels.hpp"
#include "../../tb/mini_json.hpp"

namespace fs = std::filesystem;
using ahcq::code_t;
using ahcq::acc_t;

namespace {

constexpr int R = 8, C = 8, KMAX = 1024, NBMAX = 8;
using Cfg = ahcq::TileCfg<C, NBMAX>;

struct Tensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<int64_t> i;     // integer elements
  std::vector<uint32_t> f;    // float32 bit patterns
};

[[noreturn]] void fail(const std::string& where, const std::string& msg) { throw std::runtime_error(where + ": " + msg); }

const mj::Value& at(const mj::Value& o, const std::string& k, const std::string& where) {
  const mj::Value* v = o.find(k);
  if (!v) fail(where, "missing field '" + k + "'");
  return *v;
}
int64_t i64(const mj::Value& v, const std::string& where) {
  int64_t x;
  if (!v.as_int64(x)) fail(where, "expected an integer");
  return x;
}
std::vector<int64_t> ints(const mj::Value& v, const std::string& where) {
  if (v.kind != mj::Value::Kind::Array) fail(where, "expected an array");
  std::vector<int64_t> out;
  for (const auto& e : v.items) out.push_back(i64(e, where));
  return out;
}
std::vector<uint32_t> f32s(const mj::Value& v, const std::string& where) {
  if (v.kind != mj::Value::Kind::Array) fail(where, "expected an array of \"0x…\" strings");
  std::vector<uint32_t> out;
  for (const auto& e : v.items) {
    if (e.kind != mj::Value::Kind::String || e.text.size() != 10) fail(where, "expected \"0x\" + 8 hex digits");
    out.push_back(static_cast<uint32_t>(std::stoul(e.text.substr(2), nullptr, 16)));
  }
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string(), "cannot open");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Tensor load(const fs::path& dir, const mj::Value& d, const std::string& where) {
  Tensor t;
  t.dtype = at(d, "dtype", where).text;
  t.shape = ints(at(d, "shape", where), where);
  size_t n = 1;
  for (auto s : t.shape) n *= static_cast<size_t>(s);
  const std::string bytes = read_text(dir / at(d, "bin", where).text);
  const size_t es = t.dtype == "uint8" ? 1 : 4;
  if (bytes.size() != n * es) fail(where, "bin length disagrees with shape");
  for (size_t k = 0; k < n; k++) {
    if (es == 1) { t.i.push_back(static_cast<uint8_t>(bytes[k])); continue; }
    uint32_t u = 0;
    for (int b = 0; b < 4; b++) u |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[4 * k + b])) << (8 * b);
    if (t.dtype == "float32") t.f.push_back(u);
    else t.i.push_back(static_cast<int32_t>(u));
  }
  return t;
}

// Run a whole [M, K] x [N, K] GEMM through R x C tiles of the HLS kernel.
void run_gemm(const Cfg& proto, const std::vector<int64_t>& x, const std::vector<int64_t>& w, int M, int N, int K,
              const std::vector<int64_t>& zw, const std::vector<int64_t>& bias, const std::vector<int64_t>& mult,
              const std::vector<int64_t>& shift, std::vector<int64_t>& acc_out, std::vector<int64_t>& y_out) {
  if (K > KMAX) fail("run_gemm", "K exceeds KMAX");
  static code_t a[R][KMAX], b[C][KMAX];
  static acc_t acc[NBMAX][R][C];
  static int64_t y[R][C];
  Cfg t = proto;
  const int nb = ahcq::banks(t);
  acc_out.assign(static_cast<size_t>(nb) * M * N, 0);
  y_out.assign(static_cast<size_t>(M) * N, 0);
  for (int n0 = 0; n0 < N; n0 += C)
    for (int m0 = 0; m0 < M; m0 += R) {
      t.M = std::min(R, M - m0);
      t.N = std::min(C, N - n0);
      t.K = K;
      for (int r = 0; r < t.M; r++) for (int k = 0; k < K; k++) a[r][k] = x[static_cast<size_t>(m0 + r) * K + k];
      for (int c = 0; c < t.N; c++) {
        for (int k = 0; k < K; k++) b[c][k] = w[static_cast<size_t>(n0 + c) * K + k];
        t.zb[c] = static_cast<int>(zw[n0 + c]);
        if (t.requant) { t.bias[c] = bias[n0 + c]; t.mult[c] = mult[n0 + c]; t.shift[c] = static_cast<int>(shift[n0 + c]); }
      }
      ahcq::tile_gemm<R, C, KMAX, NBMAX>(t, a, b, acc, y);
      for (int r = 0; r < t.M; r++)
        for (int c = 0; c < t.N; c++) {
          for (int bk = 0; bk < nb; bk++) acc_out[(static_cast<size_t>(bk) * M + m0 + r) * N + n0 + c] = static_cast<int64_t>(acc[bk][r][c]);
          y_out[static_cast<size_t>(m0 + r) * N + n0 + c] = y[r][c];
        }
    }
}

// Compare one output; returns the first mismatch message or "".
std::string compare_f32(const std::string& name, const std::vector<uint32_t>& got, const Tensor& want) {
  if (got.size() != want.f.size()) return name + ": size " + std::to_string(got.size()) + " vs " + std::to_string(want.f.size());
  for (size_t k = 0; k < got.size(); k++)
    if (got[k] != want.f[k]) return name + "[" + std::to_string(k) + "]: got bits " + std::to_string(got[k]) + ", expected " + std::to_string(want.f[k]);
  return "";
}

std::string compare(const std::string& name, const std::vector<int64_t>& got, const Tensor& want) {
  if (got.size() != want.i.size()) return name + ": size " + std::to_string(got.size()) + " vs " + std::to_string(want.i.size());
  for (size_t k = 0; k < got.size(); k++)
    if (got[k] != want.i[k]) return name + "[" + std::to_string(k) + "]: got " + std::to_string(got[k]) + ", expected " + std::to_string(want.i[k]);
  return "";
}

// ---------------------------------------------------------------------------------------------
// Whole TinyViT block (op "tinyvit_block"; docs/integer-datapath.md "Whole block"): every GEMM (CAG q/k/v
// with requant, QKᵀ per head, LNQ P·V with requant, uniform proj, CAG fc1, HLUQ fc2, and the depthwise
// 3 × 3 conv as per-channel K = 9 GEMMs) runs on tile_gemm; LayerNorm, the attention-bias softmax, GELU
// and the dequantising stages on the float32 vector unit (layer_norm_f32, lnq_softmax_encode, gelu_f32,
// dequant_f32); every encoder is encode_threshold. Tokens of a window are window-major; the map is
// [H, W, C] channel-last.

std::vector<int64_t> hex_codes(const mj::Value& v, size_t n, int64_t bits, const std::string& where) {
  const size_t d = static_cast<size_t>((bits + 3) / 4);
  if (v.kind != mj::Value::Kind::String || v.text.size() != n * d || v.text.find_first_not_of("0123456789abcdef") != std::string::npos)
    fail(where, "w_hex must hold " + std::to_string(n) + " codes of " + std::to_string(d) + " lower-case hex digit(s)");
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; i++) out[i] = static_cast<int64_t>(std::stoul(v.text.substr(i * d, d), nullptr, 16));
  return out;
}
std::vector<float> floats(const mj::Value& v, const std::string& where) {
  std::vector<float> out;
  for (uint32_t u : f32s(v, where)) out.push_back(ahcq::f32_from_bits(u));
  return out;
}

// One compiled linear layer of the block (uniform, CAG or HLUQ), its output stage requant or dequant.
struct Lin {
  Cfg cfg;
  int N = 0, K = 0;
  std::vector<int64_t> w, zw, bias, mult, shift, perm;
  std::vector<float> scale;  // dequant
};
Lin read_lin(const mj::Value& j, int mode, int N, int K, int bits, const std::string& where) {
  Lin l;
  l.N = N; l.K = K;
  l.cfg.mode = mode;
  l.w = hex_codes(at(j, "w_hex", where), static_cast<size_t>(N) * K, bits, where);
  l.zw = ints(at(j, "zw", where), where);
  l.bias = ints(at(j, "bias", where), where);
  const mj::Value& o = at(j, "out", where);
  l.cfg.requant = at(o, "mode", where).text == "requant";
  if (l.cfg.requant) {
    l.mult = ints(at(o, "mult", where), where);
    l.shift = ints(at(o, "shift", where), where);
    l.cfg.zy = i64(at(o, "zero", where), where);
    l.cfg.lo = 0;
    l.cfg.hi = (int64_t{1} << i64(at(o, "bits", where), where)) - 1;
  } else l.scale = floats(at(o, "scale_f32", where), where);
  l.cfg.gm[0] = 1;
  if (mode == ahcq::UNIFORM) l.cfg.za = static_cast<int>(i64(at(j, "zx", where), where));
  if (mode == ahcq::CAG) {
    const auto gm = ints(at(j, "group_mult", where), where), starts = ints(at(j, "starts", where), where);
    l.perm = ints(at(j, "perm", where), where);
    l.cfg.G = static_cast<int>(gm.size());
    if (l.cfg.G > NBMAX || static_cast<int>(starts.size()) != l.cfg.G + 1 || static_cast<int>(l.perm.size()) != K) fail(where, "CAG groups / starts / perm disagree");
    for (int g = 0; g < l.cfg.G; g++) { l.cfg.gm[g] = gm[g]; l.cfg.gzp[g] = 0; }  // group zero points folded into the bias
    for (int g = 0; g <= l.cfg.G; g++) l.cfg.starts[g] = static_cast<int>(starts[g]);
  }
  if (mode == ahcq::HLUQ) {
    l.cfg.lLog = static_cast<int>(i64(at(j, "l_log", where), where));
    l.cfg.gb = static_cast<int>(i64(at(j, "guard_bits", where), where));
    l.cfg.gm[0] = i64(at(j, "mult_log", where), where);
    l.cfg.gm[1] = i64(at(j, "mult_uni", where), where);
  }
  if (static_cast<int>(l.zw.size()) != N || static_cast<int>(l.bias.size()) != N) fail(where, "zw / bias must have N entries");
  return l;
}
// Codes (requant) or float32 values (dequant: wide = Σ_b gm[b]·acc_b + bias, y = f32(f32(wide)·scale)) of x [M, K].
void run_lin(const Lin& l, const std::vector<int64_t>& x, int M, std::vector<int64_t>& codes, std::vector<float>& vals) {
  std::vector<int64_t> xa = x;
  if (l.cfg.mode == ahcq::CAG)
    for (int m = 0; m < M; m++) for (int j = 0; j < l.K; j++) xa[static_cast<size_t>(m) * l.K + j] = x[static_cast<size_t>(m) * l.K + l.perm[j]];
  std::vector<int64_t> acc;
  run_gemm(l.cfg, xa, l.w, M, l.N, l.K, l.zw, l.bias, l.mult, l.shift, acc, codes);
  if (l.cfg.requant) return;
  const int nb = ahcq::banks(l.cfg);
  const size_t MN = static_cast<size_t>(M) * l.N;
  vals.assign(MN, 0.0f);
  for (int m = 0; m < M; m++)
    for (int n = 0; n < l.N; n++) {
      int64_t wide = l.bias[n];
      for (int b = 0; b < nb; b++) wide += l.cfg.gm[b] * acc[b * MN + static_cast<size_t>(m) * l.N + n];
      vals[static_cast<size_t>(m) * l.N + n] = ahcq::dequant_f32(wide, l.scale[n]);
    }
}

std::string run_tinyvit_block(const std::map<std::string, Tensor>& in, const std::map<std::string, Tensor>& out, const mj::Value& p, const std::string& where) {
  const int b = static_cast<int>(i64(at(p, "bits", where), where)), Cc = static_cast<int>(i64(at(p, "channels", where), where));
  const int heads = static_cast<int>(i64(at(p, "heads", where), where)), ws = static_cast<int>(i64(at(p, "window", where), where));
  const int Hd = static_cast<int>(i64(at(p, "hidden", where), where)), H = static_cast<int>(i64(at(p, "height", where), where)), W = static_cast<int>(i64(at(p, "width", where), where));
  if (Cc % heads != 0 || H % ws != 0 || W % ws != 0) fail(where, "heads must divide channels and the window must divide height and width");
  const int hd = Cc / heads, N = ws * ws, L = H * W, nW = L / N, nWc = W / ws, qmax = (1 << b) - 1;
  constexpr int TMAX = 4096;
  if (N > TMAX || Cc > TMAX) fail(where, "window or channels exceed TMAX");
  const float eps = floats(at(p, "eps_f32", where), where).at(0);
  const Tensor& xin = in.at("x");
  if (xin.dtype != "float32" || xin.shape != std::vector<int64_t>{H, W, Cc}) fail(where, "input x must be float32 [height, width, channels]");
  std::vector<float> xf;
  for (uint32_t u : xin.f) xf.push_back(ahcq::f32_from_bits(u));
  const mj::Value &an = at(p, "attn_norm", where), &mn = at(p, "mlp_norm", where);
  const std::vector<float> g1 = floats(at(an, "gamma_f32", where), where), b1 = floats(at(an, "beta_f32", where), where);
  const std::vector<float> g2 = floats(at(mn, "gamma_f32", where), where), b2 = floats(at(mn, "beta_f32", where), where);
  // CAG input encoders: per channel a group label and that group's L = 2^b − 1 thresholds
  auto cag_enc = [&](const mj::Value& j, std::vector<int64_t>& labels, std::vector<uint32_t>& th) {
    labels = ints(at(j, "labels", where), where);
    th = f32s(at(j, "thresholds_f32", where), where);
    if (static_cast<int>(labels.size()) != Cc || th.size() != static_cast<size_t>(i64(at(j, "groups", where), where) * qmax)) fail(where, "CAG encoder labels / thresholds disagree");
  };
  std::vector<int64_t> lab1, lab2;
  std::vector<uint32_t> th1, th2;
  cag_enc(at(p, "qkv_in", where), lab1, th1);
  cag_enc(at(p, "fc1_in", where), lab2, th2);
  const Lin lq = read_lin(at(p, "qkv_q", where), ahcq::CAG, Cc, Cc, b, where), lk = read_lin(at(p, "qkv_k", where), ahcq::CAG, Cc, Cc, b, where),
            lv = read_lin(at(p, "qkv_v", where), ahcq::CAG, Cc, Cc, b, where);
  if (!lq.cfg.requant || !lk.cfg.requant || !lv.cfg.requant) fail(where, "qkv_q/k/v must requantise");
  const mj::Value& sc = at(p, "score", where);
  const float sscale = floats(at(sc, "scale_f32", where), where).at(0);
  const std::vector<float> abt = floats(at(sc, "bias_table_f32", where), where);
  if (abt.size() != static_cast<size_t>(heads) * N) fail(where, "score.bias_table_f32 must have heads·window² entries");
  const mj::Value& lnq = at(p, "lnq", where);
  const std::vector<uint32_t> lth = f32s(at(lnq, "thresholds_f32", where), where);
  const std::vector<int64_t> table = ints(at(lnq, "table", where), where);
  if (table.size() != lth.size() + 1 || table.size() > 256) fail(where, "lnq.table must have thresholds + 1 ≤ 256 entries");
  const mj::Value& pvo = at(p, "pv_out", where);
  const Lin proj = read_lin(at(p, "proj", where), ahcq::UNIFORM, Cc, Cc, b, where);
  const std::vector<uint32_t> cth = f32s(at(at(p, "conv_in", where), "thresholds_f32", where), where);
  const mj::Value& lc = at(p, "local_conv", where);
  const std::vector<int64_t> cw = hex_codes(at(lc, "w_hex", where), static_cast<size_t>(Cc) * 9, b, where), czw = ints(at(lc, "zw", where), where), cbias = ints(at(lc, "bias", where), where);
  const int64_t czx = i64(at(lc, "zx", where), where);
  const std::vector<float> cscale = floats(at(lc, "scale_f32", where), where);
  const Lin fc1 = read_lin(at(p, "fc1", where), ahcq::CAG, Hd, Cc, b, where);
  const std::vector<uint32_t> hth = f32s(at(at(p, "fc2_in", where), "thresholds_f32", where), where);
  const Lin fc2 = read_lin(at(p, "fc2", where), ahcq::HLUQ, Cc, Hd, b, where);
  if (proj.cfg.requant || fc1.cfg.requant || fc2.cfg.requant) fail(where, "proj / fc1 / fc2 must dequantise");

  auto map_index = [&](int t) { const int win = t / N, pos = t % N; return ((win / nWc) * ws + pos / ws) * W + (win % nWc) * ws + pos % ws; };
  // (1) attention: LayerNorm + CAG encoder, q/k/v GEMMs (requant)
  std::vector<float> ln(Cc);
  std::vector<int64_t> x1(static_cast<size_t>(L) * Cc);
  for (int t = 0; t < L; t++) {
    ahcq::layer_norm_f32(&xf[static_cast<size_t>(map_index(t)) * Cc], Cc, g1.data(), b1.data(), eps, ln.data());
    for (int k = 0; k < Cc; k++) x1[static_cast<size_t>(t) * Cc + k] = ahcq::encode_threshold(ahcq::f32_bits(ln[k]), &th1[lab1[k] * qmax], qmax);
  }
  std::vector<int64_t> tq, tk, tv;
  std::vector<float> unused;
  run_lin(lq, x1, L, tq, unused);
  run_lin(lk, x1, L, tk, unused);
  run_lin(lv, x1, L, tv, unused);
  std::vector<int64_t> qkv(static_cast<size_t>(L) * 3 * Cc), pc(static_cast<size_t>(nW) * heads * N * N), o(static_cast<size_t>(L) * Cc);
  for (int t = 0; t < L; t++)
    for (int k = 0; k < Cc; k++) {
      const size_t s = static_cast<size_t>(t) * Cc + k, d = static_cast<size_t>(t) * 3 * Cc + k;
      qkv[d] = tq[s]; qkv[d + Cc] = tk[s]; qkv[d + 2 * Cc] = tv[s];
    }
  // per window and head: s_acc = (k − zk)·(q − zq) (uniform GEMM), softmax with the bias row + LNQ encoder,
  // P·V = D[p_codes]·(v − zv) (LNQ GEMM, requant pv_out)
  Cfg s1;
  s1.mode = ahcq::UNIFORM;
  s1.requant = false;
  s1.za = static_cast<int>(lq.cfg.zy);
  s1.gm[0] = 1;
  Cfg s3;
  s3.mode = ahcq::LNQ;
  for (size_t j = 0; j < table.size(); j++) s3.lnq[j] = static_cast<int32_t>(table[j]);
  s3.gm[0] = 1;
  s3.zy = i64(at(pvo, "zero", where), where);
  s3.lo = 0;
  s3.hi = qmax;
  const std::vector<int64_t> pvm(hd, i64(at(pvo, "mult", where), where)), pvs(hd, i64(at(pvo, "shift", where), where));
  std::vector<int64_t> qh(static_cast<size_t>(N) * hd), kh(qh.size()), vt(qh.size()), s_acc, y3, pv;
  std::vector<float> brow(N);
  std::vector<uint32_t> pbits(N);
  std::vector<int32_t> pcodes(static_cast<size_t>(N) * N);
  for (int win = 0; win < nW; win++)
    for (int h = 0; h < heads; h++) {
      for (int t = 0; t < N; t++)
        for (int d = 0; d < hd; d++) {
          const size_t src = static_cast<size_t>(win * N + t) * Cc + h * hd + d;
          qh[static_cast<size_t>(t) * hd + d] = tq[src];
          kh[static_cast<size_t>(t) * hd + d] = tk[src];
          vt[static_cast<size_t>(d) * N + t] = tv[src];
        }
      run_gemm(s1, qh, kh, N, N, hd, std::vector<int64_t>(N, lk.cfg.zy), std::vector<int64_t>(N, 0), {}, {}, s_acc, y3);
      for (int m = 0; m < N; m++) {
        for (int t = 0; t < N; t++) brow[t] = abt[static_cast<size_t>(h) * N + std::abs(m / ws - t / ws) * ws + std::abs(m % ws - t % ws)];
        ahcq::lnq_softmax_encode<TMAX>(&s_acc[static_cast<size_t>(m) * N], N, sscale, lth.data(), static_cast<int>(lth.size()), pbits.data(), &pcodes[static_cast<size_t>(m) * N], brow.data());
      }
      const size_t base = static_cast<size_t>(win * heads + h) * N * N;
      for (size_t i = 0; i < static_cast<size_t>(N) * N; i++) pc[base + i] = pcodes[i];
      run_gemm(s3, std::vector<int64_t>(pcodes.begin(), pcodes.end()), vt, N, hd, N, std::vector<int64_t>(hd, lv.cfg.zy), std::vector<int64_t>(hd, 0), pvm, pvs, pv, y3);
      for (int m = 0; m < N; m++)
        for (int d = 0; d < hd; d++) o[static_cast<size_t>(win * N + m) * Cc + h * hd + d] = y3[static_cast<size_t>(m) * hd + d];
    }
  std::vector<int64_t> pcodes_unused;
  std::vector<float> py;
  run_lin(proj, o, L, pcodes_unused, py);
  std::vector<float> a(static_cast<size_t>(L) * Cc);
  for (int t = 0; t < L; t++)
    for (int k = 0; k < Cc; k++) {
      const size_t mi = static_cast<size_t>(map_index(t)) * Cc + k;
      a[mi] = xf[mi] + py[static_cast<size_t>(t) * Cc + k];
    }
  // (2) depthwise 3 × 3 conv on uniform codes: per channel a [L, 9] × [1, 9] uniform GEMM (im2col; the padding
  // is the zero point, which contributes 0), then the dequantising stage
  std::vector<int64_t> xc(a.size());
  for (size_t i = 0; i < a.size(); i++) xc[i] = ahcq::encode_threshold(ahcq::f32_bits(a[i]), cth.data(), static_cast<int>(cth.size()));
  std::vector<float> cmap(a.size());
  Cfg dw;
  dw.mode = ahcq::UNIFORM;
  dw.requant = false;
  dw.za = static_cast<int>(czx);
  dw.gm[0] = 1;
  std::vector<int64_t> col(static_cast<size_t>(L) * 9), acc9, y9;
  for (int ch = 0; ch < Cc; ch++) {
    for (int r = 0; r < H; r++)
      for (int q = 0; q < W; q++)
        for (int i = 0; i < 3; i++)
          for (int j = 0; j < 3; j++) {
            const int rr = r + i - 1, qq = q + j - 1;
            const bool in_map = rr >= 0 && rr < H && qq >= 0 && qq < W;
            col[static_cast<size_t>(r * W + q) * 9 + i * 3 + j] = in_map ? xc[static_cast<size_t>(rr * W + qq) * Cc + ch] : czx;
          }
    run_gemm(dw, col, std::vector<int64_t>(cw.begin() + ch * 9, cw.begin() + ch * 9 + 9), L, 1, 9, {czw[ch]}, {0}, {}, {}, acc9, y9);
    for (int i = 0; i < L; i++) cmap[static_cast<size_t>(i) * Cc + ch] = ahcq::dequant_f32(acc9[i] + cbias[ch], cscale[ch]);
  }
  // (3) MLP in map order: LayerNorm + CAG encoder, fc1 (dequant), GELU + HLUQ encoder, fc2 (dequant), residual
  std::vector<int64_t> x2(static_cast<size_t>(L) * Cc);
  for (int t = 0; t < L; t++) {
    ahcq::layer_norm_f32(&cmap[static_cast<size_t>(t) * Cc], Cc, g2.data(), b2.data(), eps, ln.data());
    for (int k = 0; k < Cc; k++) x2[static_cast<size_t>(t) * Cc + k] = ahcq::encode_threshold(ahcq::f32_bits(ln[k]), &th2[lab2[k] * qmax], qmax);
  }
  std::vector<float> h1, m2;
  run_lin(fc1, x2, L, pcodes_unused, h1);
  std::vector<int64_t> x3(h1.size());
  for (size_t i = 0; i < h1.size(); i++) x3[i] = ahcq::encode_threshold(ahcq::f32_bits(ahcq::gelu_f32(h1[i])), hth.data(), static_cast<int>(hth.size()));
  run_lin(fc2, x3, L, pcodes_unused, m2);
  std::vector<uint32_t> y(cmap.size());
  for (size_t i = 0; i < y.size(); i++) y[i] = ahcq::f32_bits(cmap[i] + m2[i]);
  std::string e = compare("x1", x1, out.at("x1"));
  if (e.empty()) e = compare("qkv", qkv, out.at("qkv"));
  if (e.empty()) e = compare("p_codes", pc, out.at("p_codes"));
  if (e.empty()) e = compare("o", o, out.at("o"));
  if (e.empty()) e = compare_f32("y", y, out.at("y"));
  return e;
}

// Returns "" on pass, "skip:<op>" when the op has no kernel here, else a mismatch description.
std::string run_case(const fs::path& dir) {
  const std::string where = (dir / "desc.json").string();
  const mj::Value d = mj::parse(read_text(dir / "desc.json"), where);
  const std::string op = at(d, "op", where).text;
  std::map<std::string, Tensor> in, out;
  for (const auto& e : at(d, "inputs", where).items) in[at(e, "name", where).text] = load(dir, e, where);
  for (const auto& e : at(d, "outputs", where).items) out[at(e, "name", where).text] = load(dir, e, where);
  const mj::Value& p = at(d, "params", where);
  if (op == "encode") {
    const std::vector<uint32_t> th = f32s(at(p, "thresholds_f32", where), where);
    std::vector<int64_t> q;
    for (uint32_t v : in.at("x").f) q.push_back(ahcq::encode_threshold(v, th.data(), static_cast<int>(th.size())));
    return compare("q", q, out.at("q"));
  }
  if (op == "requant") {
    const Tensor& a = in.at("acc");
    const int M = static_cast<int>(a.shape[0]), N = static_cast<int>(a.shape[1]);
    const auto mult = ints(at(p, "mult", where), where), shift = ints(at(p, "shift", where), where);
    const int64_t zero = i64(at(p, "zero", where), where), bits = i64(at(p, "bits", where), where);
    std::vector<int64_t> y;
    for (int m = 0; m < M; m++)
      for (int n = 0; n < N; n++)
        y.push_back(ahcq::saturate(ahcq::apply_scale(a.i[static_cast<size_t>(m) * N + n], mult[n], static_cast<int>(shift[n])) + zero, 0, (int64_t{1} << bits) - 1));
    return compare("y", y, out.at("y"));
  }
  if (op == "gelu_hluq") {
    const std::vector<uint32_t> th = f32s(at(p, "thresholds_f32", where), where);
    const std::vector<uint32_t>& x = in.at("x").f;
    std::vector<uint32_t> g(x.size());
    std::vector<int32_t> q32(x.size());
    ahcq::gelu_hluq(x.data(), static_cast<int>(x.size()), th.data(), static_cast<int>(th.size()), g.data(), q32.data());
    std::string e = compare_f32("gelu", g, out.at("gelu"));
    if (e.empty()) e = compare("q", std::vector<int64_t>(q32.begin(), q32.end()), out.at("q"));
    return e;
  }
  if (op == "lnq_attention") {
    const Tensor &q = in.at("q"), &k = in.at("k"), &v = in.at("v");
    const int M = static_cast<int>(q.shape[0]), D = static_cast<int>(q.shape[1]), T = static_cast<int>(k.shape[0]), Dv = static_cast<int>(v.shape[1]);
    if (k.shape[1] != D || v.shape[0] != T) fail(where, "inputs q [M, D], k [T, D], v [T, Dv] disagree");
    constexpr int TMAX = 4096;
    if (T > TMAX) fail(where, "T exceeds TMAX");
    const mj::Value& lnq = at(p, "lnq", where);
    const std::vector<uint32_t> th = f32s(at(lnq, "thresholds_f32", where), where);
    const std::vector<int64_t> table = ints(at(lnq, "table", where), where);
    if (table.size() != th.size() + 1 || table.size() > 256) fail(where, "lnq.table must have thresholds + 1 ≤ 256 entries");
    const float scale = ahcq::f32_from_bits(f32s(at(p, "score_scale_f32", where), where).at(0));
    // 1. s_acc = (k − zk)·(q − zq)ᵀ: rows q (za = zq), columns k (zb = zk), reduction D, accumulators only
    Cfg s1;
    s1.mode = ahcq::UNIFORM;
    s1.requant = false;
    s1.za = static_cast<int>(i64(at(p, "zq", where), where));
    s1.gm[0] = 1;
    std::vector<int64_t> s_acc, unused;
    run_gemm(s1, q.i, k.i, M, T, D, std::vector<int64_t>(T, i64(at(p, "zk", where), where)), std::vector<int64_t>(T, 0), {}, {}, s_acc, unused);
    // 2. vector unit: score, softmax, LNQ encoder, row by row
    std::vector<uint32_t> pb(static_cast<size_t>(M) * T);
    std::vector<int32_t> pc32(static_cast<size_t>(M) * T);
    for (int m = 0; m < M; m++)
      ahcq::lnq_softmax_encode<TMAX>(&s_acc[static_cast<size_t>(m) * T], T, scale, th.data(), static_cast<int>(th.size()), &pb[static_cast<size_t>(m) * T], &pc32[static_cast<size_t>(m) * T]);
    // 3. pv_acc = D[p_codes]·(v − zv): rows p_codes (LNQ decode), columns vᵀ [Dv, T] (zb = zv), reduction T
    std::vector<int64_t> vt(static_cast<size_t>(Dv) * T);
    for (int t = 0; t < T; t++) for (int d = 0; d < Dv; d++) vt[static_cast<size_t>(d) * T + t] = v.i[static_cast<size_t>(t) * Dv + d];
    const mj::Value& o = at(p, "out", where);
    Cfg s3;
    s3.mode = ahcq::LNQ;
    for (size_t j = 0; j < table.size(); j++) s3.lnq[j] = static_cast<int32_t>(table[j]);
    s3.gm[0] = 1;
    s3.zy = i64(at(o, "zero", where), where);
    s3.lo = 0;
    s3.hi = (int64_t{1} << i64(at(o, "bits", where), where)) - 1;
    std::vector<int64_t> pv, y;
    run_gemm(s3, std::vector<int64_t>(pc32.begin(), pc32.end()), vt, M, Dv, T, std::vector<int64_t>(Dv, i64(at(p, "zv", where), where)),
             std::vector<int64_t>(Dv, 0), ints(at(o, "mult", where), where), ints(at(o, "shift", where), where), pv, y);
    std::string e = compare("s_acc", s_acc, out.at("s_acc"));
    if (e.empty()) e = compare_f32("p", pb, out.at("p"));
    if (e.empty()) e = compare("p_codes", std::vector<int64_t>(pc32.begin(), pc32.end()), out.at("p_codes"));
    if (e.empty()) e = compare("pv_acc", pv, out.at("pv_acc"));
    if (e.empty()) e = compare("y", y, out.at("y"));
    return e;
  }
  if (op == "tinyvit_block") return run_tinyvit_block(in, out, p, where);
  if (op != "gemm_uniform" && op != "gemm_cag" && op != "gemm_hluq") return "skip:" + op;
  const Tensor& x = in.at("x");
  const Tensor& w = in.at("w");
  const int M = static_cast<int>(x.shape[0]), K = static_cast<int>(x.shape[1]), N = static_cast<int>(w.shape[0]);
  const mj::Value& o = at(p, "out", where);
  Cfg t;
  t.requant = at(o, "mode", where).text == "requant";
  std::vector<int64_t> mult, shift, bias = ints(at(p, "bias", where), where);
  if (t.requant) {
    mult = ints(at(o, "mult", where), where);
    shift = ints(at(o, "shift", where), where);
    t.zy = i64(at(o, "zero", where), where);
    t.lo = 0;
    t.hi = (int64_t{1} << i64(at(o, "bits", where), where)) - 1;
  }
  std::vector<int64_t> xa = x.i;
  if (op == "gemm_uniform") {
    t.mode = ahcq::UNIFORM;
    t.za = static_cast<int>(i64(at(p, "zx", where), where));
    t.gm[0] = 1;
  } else if (op == "gemm_cag") {
    t.mode = ahcq::CAG;
    const auto gm = ints(at(p, "group_mult", where), where), starts = ints(at(p, "starts", where), where), perm = ints(at(p, "perm", where), where);
    t.G = static_cast<int>(gm.size());
    if (t.G > NBMAX) fail(where, "more groups than NBMAX");
    for (int g = 0; g < t.G; g++) { t.gm[g] = gm[g]; t.gzp[g] = 0; }  // zero points folded into the bias
    for (int g = 0; g <= t.G; g++) t.starts[g] = static_cast<int>(starts[g]);
    for (int m = 0; m < M; m++) for (int j = 0; j < K; j++) xa[static_cast<size_t>(m) * K + j] = x.i[static_cast<size_t>(m) * K + perm[j]];
  } else {
    t.mode = ahcq::HLUQ;
    t.lLog = static_cast<int>(i64(at(p, "l_log", where), where));
    t.gb = static_cast<int>(i64(at(p, "guard_bits", where), where));
    t.gm[0] = i64(at(p, "mult_log", where), where);
    t.gm[1] = i64(at(p, "mult_uni", where), where);
  }
  std::vector<int64_t> acc, y;
  run_gemm(t, xa, w.i, M, N, K, ints(at(p, "zw", where), where), bias, mult, shift, acc, y);
  std::string e;
  if (op == "gemm_hluq") {
    const size_t mn = static_cast<size_t>(M) * N;
    e = compare("acc_log", std::vector<int64_t>(acc.begin(), acc.begin() + mn), out.at("acc_log"));
    if (e.empty()) e = compare("acc_uni", std::vector<int64_t>(acc.begin() + mn, acc.end()), out.at("acc_uni"));
  } else e = compare("acc", acc, out.at("acc"));
  if (e.empty() && t.requant) e = compare("y", y, out.at("y"));
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? argv[1] : "fixtures/golden";
  if (!fs::exists(root)) {
    std::fprintf(stderr, "csim: %s does not exist\n", root.string().c_str());
    return 2;
  }
  std::vector<fs::path> dirs;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() == "desc.json") dirs.push_back(e.path().parent_path());
  std::sort(dirs.begin(), dirs.end());
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& dir : dirs) {
    std::string r;
    try { r = run_case(dir); } catch (const std::exception& ex) { r = std::string("error: ") + ex.what(); }
    if (r.empty()) passed++;
    else if (r.rfind("skip:", 0) == 0) { skipped++; std::printf("SKIP %s (no HLS kernel for op '%s')\n", dir.string().c_str(), r.substr(5).c_str()); }
    else { failed++; std::printf("FAIL %s: %s\n", dir.string().c_str(), r.c_str()); }
  }
  std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
