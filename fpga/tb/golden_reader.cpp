// golden_reader.cpp — C++17 system-under-test for the "ahcq-golden/1" vectors
// (docs/formats/golden-vectors.md). For every case directory under the given roots it reads
// desc.json and the raw little-endian .bin tensors, validates them (sizes, CRC-32, .hex and 4-bit
// packed mirrors), recomputes every output with plain integer C++ (float32 `float` arithmetic for the
// vector-unit ops; build with -ffp-contract=off) and compares bit for bit.
// Prints "PASS <suite>/<id>" or "FAIL <suite>/<id>: <reason>" per case and "N passed, N failed";
// exits 1 on any failure, 2 on bad usage.
//
// mirrors: src/golden/ops.ts#runGoldenOp, src/int/{gemm,fixed-point,threshold-encoder,vector-f32,compile,block-tinyvit}.ts
// Build: g++ -std=c++17 -O2 -Wall -Wextra -ffp-contract=off golden_reader.cpp -o golden_reader

#include "mini_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
static_assert((-3 >> 1) == -2, "arithmetic right shift required (floor semantics)");
static_assert(sizeof(float) == 4, "IEEE-754 binary32 float required");

// ---------------------------------------------------------------------------------------------
// Errors and I/O

struct CaseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] static void fail(const std::string& file, const std::string& msg) { throw CaseError(file + ": " + msg); }

static std::vector<uint8_t> read_bytes(const fs::path& p, const std::string& what) {
  std::ifstream f(p, std::ios::binary);
  if (!f) fail(p.string(), what + " cannot be opened");
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

static uint32_t crc32(const std::vector<uint8_t>& b) {
  static uint32_t table[256];
  static bool init = false;
  if (!init) {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      table[n] = c;
    }
    init = true;
  }
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t x : b) c = table[(c ^ x) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static std::string hex8(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// desc.json access (every error names the file and the field)

struct Json {
  const mj::Value* v;
  std::string file, path;
  Json at(const std::string& k) const {
    const mj::Value* c = v->find(k);
    if (v->kind != mj::Value::Kind::Object) fail(file, path + " must be an object");
    if (!c) fail(file, path + "." + k + " is missing");
    return {c, file, path + "." + k};
  }
  bool has(const std::string& k) const { return v->find(k) != nullptr; }
  int64_t i64(int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const {
    int64_t x;
    if (!v->as_int64(x) || x < lo || x > hi) fail(file, path + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
  }
  std::string str() const {
    if (v->kind != mj::Value::Kind::String) fail(file, path + " must be a string");
    return v->text;
  }
  bool boolean() const {
    if (v->kind != mj::Value::Kind::Bool) fail(file, path + " must be a boolean");
    return v->boolean;
  }
  size_t size() const {
    if (v->kind != mj::Value::Kind::Array) fail(file, path + " must be an array");
    return v->items.size();
  }
  Json item(size_t i) const {
    size();
    return {&v->items[i], file, path + "[" + std::to_string(i) + "]"};
  }
  std::vector<int64_t> ints(size_t n = SIZE_MAX, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const {
    size_t len = size();
    if (n != SIZE_MAX && len != n) fail(file, path + " must have " + std::to_string(n) + " entries (got " + std::to_string(len) + ")");
    std::vector<int64_t> out;
    for (size_t i = 0; i < len; ++i) out.push_back(item(i).i64(lo, hi));
    return out;
  }
  std::vector<float> f32s(size_t n = SIZE_MAX) const {
    size_t len = size();
    if (n != SIZE_MAX && len != n) fail(file, path + " must have " + std::to_string(n) + " entries");
    std::vector<float> out;
    for (size_t i = 0; i < len; ++i) {
      std::string s = item(i).str();
      if (s.size() != 10 || s[0] != '0' || s[1] != 'x' || s.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
        fail(file, path + "[" + std::to_string(i) + "] must be a float32 bit pattern \"0x\" + 8 lower-case hex digits");
      uint32_t u = static_cast<uint32_t>(std::strtoul(s.c_str() + 2, nullptr, 16));
      float f;
      std::memcpy(&f, &u, 4);
      out.push_back(f);
    }
    return out;
  }
};

// ---------------------------------------------------------------------------------------------
// Tensors

struct Tensor {
  std::string name, dtype;  // uint8 | int32 | float32
  std::vector<int64_t> shape;
  int bits = 0;
  bool is_signed = false;
  std::vector<int64_t> i;  // integer elements
  std::vector<float> f;    // float32 elements
  size_t numel() const { size_t n = 1; for (auto d : shape) n *= static_cast<size_t>(d); return n; }
  bool is_float() const { return dtype == "float32"; }
};

static size_t elem_size(const std::string& dt) { return dt == "uint8" ? 1 : 4; }

// Load one tensor entry: .bin (size, CRC), .hex mirror and packed mirror.
static Tensor load_tensor(const fs::path& dir, const Json& d) {
  Tensor t;
  t.name = d.at("name").str();
  t.dtype = d.at("dtype").str();
  if (t.dtype != "uint8" && t.dtype != "int32" && t.dtype != "float32") fail(d.file, d.path + ".dtype must be uint8, int32 or float32 (got " + t.dtype + ")");
  t.shape = d.at("shape").ints(SIZE_MAX, 1, INT32_MAX);
  if (t.shape.empty()) fail(d.file, d.path + ".shape must be non-empty");
  t.bits = static_cast<int>(d.at("bits").i64(1, 32));
  t.is_signed = d.at("signed").boolean();
  const size_t n = t.numel(), es = elem_size(t.dtype);
  const fs::path bin = dir / d.at("bin").str();
  std::vector<uint8_t> b = read_bytes(bin, d.path + ".bin");
  if (b.size() != n * es) fail(bin.string(), "length " + std::to_string(b.size()) + " bytes disagrees with " + d.path + " (shape and dtype need " + std::to_string(n * es) + ")");
  const std::string crc = hex8(crc32(b)), want = d.at("crc32").str();
  if (crc != want) fail(bin.string(), "CRC32 " + crc + " does not match desc.json " + d.path + ".crc32 " + want);
  for (size_t k = 0; k < n; ++k) {
    if (t.dtype == "uint8") t.i.push_back(b[k]);
    else {
      uint32_t u = static_cast<uint32_t>(b[4 * k]) | (static_cast<uint32_t>(b[4 * k + 1]) << 8) | (static_cast<uint32_t>(b[4 * k + 2]) << 16) | (static_cast<uint32_t>(b[4 * k + 3]) << 24);
      if (t.dtype == "int32") t.i.push_back(static_cast<int32_t>(u));
      else { float x; std::memcpy(&x, &u, 4); t.f.push_back(x); }
    }
  }
  // .hex mirror: one element per line, ceil(bits/4) digits
  const fs::path hex = dir / d.at("hex").str();
  std::vector<uint8_t> hb = read_bytes(hex, d.path + ".hex");
  std::istringstream hs(std::string(hb.begin(), hb.end()));
  std::string line;
  const int digits = (t.bits + 3) / 4;
  size_t k = 0;
  for (; std::getline(hs, line); ++k) {
    if (k >= n) fail(hex.string(), "more lines than the " + std::to_string(n) + " elements of " + d.path);
    uint64_t want_v;
    if (t.is_float()) { uint32_t u; std::memcpy(&u, &t.f[k], 4); want_v = u; }
    else want_v = static_cast<uint64_t>(t.i[k]) & ((digits >= 16) ? ~0ull : ((1ull << (4 * digits)) - 1));
    char buf[24];
    std::snprintf(buf, sizeof buf, "%0*llx", digits, static_cast<unsigned long long>(want_v));
    if (line != buf) fail(hex.string(), "line " + std::to_string(k + 1) + " is '" + line + "', expected '" + buf + "'");
  }
  if (k != n) fail(hex.string(), "has " + std::to_string(k) + " lines, " + d.path + " has " + std::to_string(n) + " elements");
  // packed mirror (unsigned codes of <= 4 bits)
  const Json pk = d.at("packed");
  const bool should_pack = !t.is_float() && !t.is_signed && t.bits <= 4;
  if (pk.v->kind == mj::Value::Kind::Null) {
    if (should_pack) fail(d.file, d.path + ".packed must name the packed file for unsigned <= 4-bit codes");
  } else {
    if (!should_pack) fail(d.file, d.path + ".packed must be null");
    const fs::path pp = dir / pk.str();
    std::vector<uint8_t> pb = read_bytes(pp, d.path + ".packed");
    if (pb.size() != (n + 1) / 2) fail(pp.string(), "length " + std::to_string(pb.size()) + " disagrees with ceil(n/2) = " + std::to_string((n + 1) / 2));
    for (size_t j = 0; j < n; ++j)
      if (((pb[j >> 1] >> ((j & 1) * 4)) & 0xF) != t.i[j]) fail(pp.string(), "element " + std::to_string(j) + " differs (two codes per byte, element 0 in the low nibble)");
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Integer datapath (docs/integer-datapath.md)

static int64_t apply_scale(int64_t acc, int64_t mult, int64_t shift, const std::string& where) {
  if (acc > (int64_t(1) << 36) || acc < -(int64_t(1) << 36)) throw CaseError(where + ": accumulator " + std::to_string(acc) + " exceeds 2^36");
  if (shift < 1 || shift > 62) throw CaseError(where + ": shift out of [1, 62]");
  return (acc * mult + (int64_t(1) << (shift - 1))) >> shift;  // round half up, floor shift
}

struct OutStage {
  bool requant = true;
  std::vector<int64_t> mult, shift;
  int64_t zero = 0, bits = 8;
  std::vector<float> scale;
};

static OutStage read_out(const Json& o, size_t n) {
  OutStage s;
  std::string mode = o.at("mode").str();
  if (mode == "dequant") { s.requant = false; s.scale = o.at("scale_f32").f32s(n); return s; }
  if (mode != "requant") fail(o.file, o.path + ".mode must be requant or dequant");
  s.mult = o.at("mult").ints(n, 0, 1 << 16);
  s.shift = o.at("shift").ints(n, 1, 62);
  s.bits = o.at("bits").i64(2, 8);
  s.zero = o.at("zero").i64(0, (1 << s.bits) - 1);
  return s;
}

// y[m,n] from the wide accumulator
static Tensor output(const OutStage& s, const std::vector<int64_t>& wide, int64_t M, int64_t N) {
  Tensor y;
  y.name = "y";
  y.shape = {M, N};
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      int64_t w = wide[m * N + n];
      if (!s.requant) { y.f.push_back(static_cast<float>(w) * s.scale[n]); continue; }
      int64_t v = apply_scale(w, s.mult[n], s.shift[n], "y") + s.zero;
      y.i.push_back(std::clamp<int64_t>(v, 0, (int64_t(1) << s.bits) - 1));
    }
  y.dtype = s.requant ? "uint8" : "float32";
  return y;
}

static Tensor int_tensor(const std::string& name, std::vector<int64_t> shape, std::vector<int64_t> v) {
  Tensor t; t.name = name; t.dtype = "int32"; t.shape = std::move(shape); t.i = std::move(v); return t;
}

static int64_t encode(float x, const std::vector<float>& th) {
  int64_t c = 0;
  for (float t : th) c += (x >= t) ? 1 : 0;  // code = #{k : x >= theta_k}
  return c;
}

// ---------------------------------------------------------------------------------------------
// Vector unit: float32, IEEE + - * / only, fixed order (src/int/vector-f32.ts)

static const float LOG2E = (float)1.4426950408889634;
static const float LN2_HI = (float)0.693145751953125;
static const float LN2_LO = (float)1.428606765330187e-6;
static const float EXP_C[7] = {(float)1.0, (float)1.0, (float)0.5, (float)(1.0 / 6), (float)(1.0 / 24), (float)(1.0 / 120), (float)(1.0 / 720)};
static const float SQRT_2_OVER_PI = (float)0.7978845608028654;
static const float GELU_C = (float)0.044715;

static float exp_f32(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) return INFINITY;
  const float n = std::floor(x * LOG2E + 0.5f);
  const float r = (x - n * LN2_HI) - n * LN2_LO;
  float p = EXP_C[6];
  for (int i = 5; i >= 0; --i) p = p * r + EXP_C[i];
  const int ni = static_cast<int>(n);
  if (ni < -126) return (p * std::ldexp(1.0f, -126)) * std::ldexp(1.0f, ni + 126);
  return p * std::ldexp(1.0f, ni);
}

static float gelu_f32(float x) {
  const float x3 = (x * x) * x;
  const float inner = SQRT_2_OVER_PI * (x + GELU_C * x3);
  const float e = exp_f32(2.0f * inner);
  const float t = std::isinf(e) ? 1.0f : 1.0f - 2.0f / (e + 1.0f);
  return (0.5f * x) * (1.0f + t);
}

// ---------------------------------------------------------------------------------------------
// Ops

using Inputs = std::map<std::string, Tensor>;

static const Tensor& need(const Inputs& in, const std::string& name, const std::string& file) {
  auto it = in.find(name);
  if (it == in.end()) fail(file, "input '" + name + "' is missing");
  return it->second;
}

static void check_codes(const Tensor& t, int64_t bits, const std::string& file) {
  for (size_t k = 0; k < t.i.size(); ++k)
    if (t.i[k] < 0 || t.i[k] >= (int64_t(1) << bits)) fail(file, "input " + t.name + "[" + std::to_string(k) + "] is not a " + std::to_string(bits) + "-bit code");
}

// ---------------------------------------------------------------------------------------------
// Whole TinyViT block (op "tinyvit_block"; mirrors src/int/block-tinyvit.ts#tinyVitBlockInt and
// src/golden/cases/block-tinyvit.ts#readTinyVitBlockParams). Tokens of a window are processed in
// window-major order; the map is [H, W, C] channel-last.

static std::vector<int64_t> hex_codes(const Json& j, size_t n, int64_t bits) {
  const std::string s = j.str();
  const size_t d = static_cast<size_t>((bits + 3) / 4);
  if (s.size() != n * d || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    fail(j.file, j.path + " must hold " + std::to_string(n) + " codes of " + std::to_string(d) + " lower-case hex digit(s)");
  std::vector<int64_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<int64_t>(std::strtoul(s.substr(i * d, d).c_str(), nullptr, 16));
    if (out[i] >= (int64_t(1) << bits)) fail(j.file, j.path + ": code " + std::to_string(i) + " exceeds " + std::to_string(bits) + " bits");
  }
  return out;
}

static void layer_norm_f32(const float* x, int64_t n, const std::vector<float>& g, const std::vector<float>& b, float eps, float* out) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s = s + x[i];
  const float mean = s / static_cast<float>(n);
  float v = 0.0f;
  for (int64_t i = 0; i < n; ++i) { const float d = x[i] - mean; v = v + d * d; }
  const float var = v / static_cast<float>(n);
  const float denom = std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = ((x[i] - mean) / denom) * g[i] + b[i];
}

struct CagEnc { std::vector<int64_t> labels; std::vector<std::vector<float>> tables; };
static CagEnc read_cag_enc(const Json& j, int64_t C, int64_t bits) {
  CagEnc e;
  const int64_t G = j.at("groups").i64(1, C), L = (int64_t(1) << bits) - 1;
  e.labels = j.at("labels").ints(C, 0, G - 1);
  const std::vector<float> th = j.at("thresholds_f32").f32s(G * L);
  for (int64_t g = 0; g < G; ++g) e.tables.emplace_back(th.begin() + g * L, th.begin() + (g + 1) * L);
  return e;
}

// A compiled linear layer of the block: uniform, CAG or HLUQ; w [N, K] codes.
struct Lin {
  std::string kind;
  int64_t N = 0, K = 0, zx = 0, lLog = 0, gb = 0, mLog = 0, mUni = 0;
  std::vector<int64_t> w, zw, bias, perm, starts, mult;
  OutStage out;
};
static Lin read_lin(const Json& j, const std::string& kind, int64_t N, int64_t K, int64_t bits) {
  Lin l;
  l.kind = kind; l.N = N; l.K = K;
  l.w = hex_codes(j.at("w_hex"), static_cast<size_t>(N * K), bits);
  l.zw = j.at("zw").ints(N, 0, (1 << bits) - 1);
  l.bias = j.at("bias").ints(N, -(int64_t(1) << 36), int64_t(1) << 36);
  l.out = read_out(j.at("out"), N);
  if (kind == "uniform") l.zx = j.at("zx").i64(0, (1 << bits) - 1);
  if (kind == "cag") {
    l.mult = j.at("group_mult").ints(SIZE_MAX, 0, 1 << 20);
    const int64_t G = static_cast<int64_t>(l.mult.size());
    l.perm = j.at("perm").ints(K, 0, K - 1);
    l.starts = j.at("starts").ints(G + 1, 0, K);
    if (l.starts[0] != 0 || l.starts[G] != K) fail(j.file, j.path + ".starts must run from 0 to K");
    for (int64_t g = 0; g < G; ++g) if (l.starts[g + 1] < l.starts[g]) fail(j.file, j.path + ".starts must be ascending");
  }
  if (kind == "hluq") {
    const int64_t ab = j.at("act_bits").i64(2, 8);
    l.lLog = j.at("l_log").i64(1, (1 << ab) - 1);
    l.gb = j.at("guard_bits").i64(0, 16);
    l.mLog = j.at("mult_log").i64(0, 1 << 20);
    l.mUni = j.at("mult_uni").i64(0, 1 << 20);
  }
  return l;
}
// y = output stage of the wide accumulators of x [M, K] codes (same arithmetic as run_op's GEMMs)
static Tensor run_lin(const Lin& l, const std::vector<int64_t>& x, int64_t M) {
  const int64_t N = l.N, K = l.K;
  std::vector<int64_t> wide(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      const int64_t* wr = &l.w[n * K];
      const int64_t* xr = &x[m * K];
      int64_t s = l.bias[n];
      if (l.kind == "uniform") {
        for (int64_t k = 0; k < K; ++k) s += (wr[k] - l.zw[n]) * (xr[k] - l.zx);
      } else if (l.kind == "cag") {
        for (size_t g = 0; g + 1 < l.starts.size(); ++g) {
          int64_t a = 0;
          for (int64_t j = l.starts[g]; j < l.starts[g + 1]; ++j) a += (wr[j] - l.zw[n]) * xr[l.perm[j]];
          s += l.mult[g] * a;
        }
      } else {
        int64_t sl = 0, su = 0;
        for (int64_t k = 0; k < K; ++k) {
          const int64_t c = xr[k];
          if (c == 0) continue;
          const int64_t wt = wr[k] - l.zw[n];
          if (c < l.lLog) { const int64_t e = l.lLog - c, v = wt * (int64_t(1) << l.gb); sl += v >> e; }
          else { sl += wt * (int64_t(1) << l.gb); su += wt * (c - l.lLog); }
        }
        s += l.mLog * sl + l.mUni * su;
      }
      wide[m * N + n] = s;
    }
  return output(l.out, wide, M, N);
}

static std::vector<Tensor> run_tinyvit_block(const Inputs& in, const Json& p) {
  const std::string& F = p.file;
  const int64_t b = p.at("bits").i64(2, 8), C = p.at("channels").i64(1, 4096), heads = p.at("heads").i64(1, C), ws = p.at("window").i64(1, 64);
  const int64_t Hd = p.at("hidden").i64(1, 65536), H = p.at("height").i64(1, 4096), W = p.at("width").i64(1, 4096);
  if (C % heads != 0 || H % ws != 0 || W % ws != 0) fail(F, "params: heads must divide channels and the window must divide height and width");
  const int64_t hd = C / heads, N = ws * ws, L = H * W, nW = L / N, nWc = W / ws, qmax = (int64_t(1) << b) - 1;
  const float eps = p.at("eps_f32").f32s(1)[0];
  const Tensor& xin = need(in, "x", F);
  if (!xin.is_float() || xin.shape != std::vector<int64_t>{H, W, C}) fail(F, "input x must be float32 [height, width, channels]");
  const std::vector<float> g1 = p.at("attn_norm").at("gamma_f32").f32s(C), b1 = p.at("attn_norm").at("beta_f32").f32s(C);
  const std::vector<float> g2 = p.at("mlp_norm").at("gamma_f32").f32s(C), b2 = p.at("mlp_norm").at("beta_f32").f32s(C);
  const CagEnc e1 = read_cag_enc(p.at("qkv_in"), C, b), e2 = read_cag_enc(p.at("fc1_in"), C, b);
  const Lin lq = read_lin(p.at("qkv_q"), "cag", C, C, b), lk = read_lin(p.at("qkv_k"), "cag", C, C, b), lv = read_lin(p.at("qkv_v"), "cag", C, C, b);
  if (!lq.out.requant || !lk.out.requant || !lv.out.requant) fail(F, "params.qkv_q/k/v.out must requantise");
  const float sscale = p.at("score").at("scale_f32").f32s(1)[0];
  const std::vector<float> abt = p.at("score").at("bias_table_f32").f32s(heads * N);
  std::vector<float> ab(heads * N * N);  // A[h,m,t] = table[h, |drow|*ws + |dcol|]
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t m = 0; m < N; ++m)
      for (int64_t t = 0; t < N; ++t) ab[(h * N + m) * N + t] = abt[h * N + std::abs(m / ws - t / ws) * ws + std::abs(m % ws - t % ws)];
  const Json lnq = p.at("lnq");
  const int64_t lnqBits = lnq.at("bits").i64(2, 8);
  const std::vector<float> lth = lnq.at("thresholds_f32").f32s();
  const std::vector<int64_t> table = lnq.at("table").ints(lth.size() + 1, 0, int64_t(1) << 24);
  const int64_t pvMult = p.at("pv_out").at("mult").i64(1, 1 << 16), pvShift = p.at("pv_out").at("shift").i64(1, 62), pvZero = p.at("pv_out").at("zero").i64(0, qmax);
  const Lin proj = read_lin(p.at("proj"), "uniform", C, C, b);
  const std::vector<float> cth = p.at("conv_in").at("thresholds_f32").f32s(qmax);
  const Json lc = p.at("local_conv");
  const std::vector<int64_t> cw = hex_codes(lc.at("w_hex"), static_cast<size_t>(C * 9), b), czw = lc.at("zw").ints(C, 0, qmax);
  const std::vector<int64_t> cbias = lc.at("bias").ints(C, -(int64_t(1) << 36), int64_t(1) << 36);
  const int64_t czx = lc.at("zx").i64(0, qmax);
  const std::vector<float> cscale = lc.at("scale_f32").f32s(C);
  const Lin fc1 = read_lin(p.at("fc1"), "cag", Hd, C, b);
  const std::vector<float> hth = p.at("fc2_in").at("thresholds_f32").f32s();
  const Lin fc2 = read_lin(p.at("fc2"), "hluq", C, Hd, b);
  if (proj.out.requant || fc1.out.requant || fc2.out.requant) fail(F, "params.proj/fc1/fc2.out must dequantise");

  auto map_index = [&](int64_t t) { const int64_t win = t / N, pos = t % N; return ((win / nWc) * ws + pos / ws) * W + (win % nWc) * ws + pos % ws; };
  // (1) attention per window
  std::vector<float> ln(C);
  std::vector<int64_t> x1(L * C);
  for (int64_t t = 0; t < L; ++t) {
    layer_norm_f32(&xin.f[map_index(t) * C], C, g1, b1, eps, ln.data());
    for (int64_t k = 0; k < C; ++k) x1[t * C + k] = encode(ln[k], e1.tables[e1.labels[k]]);
  }
  const Tensor tq = run_lin(lq, x1, L), tk = run_lin(lk, x1, L), tv = run_lin(lv, x1, L);
  std::vector<int64_t> qkv(L * 3 * C), pc(nW * heads * N * N), o(L * C);
  for (int64_t t = 0; t < L; ++t)
    for (int64_t k = 0; k < C; ++k) { qkv[t * 3 * C + k] = tq.i[t * C + k]; qkv[t * 3 * C + C + k] = tk.i[t * C + k]; qkv[t * 3 * C + 2 * C + k] = tv.i[t * C + k]; }
  std::vector<float> row(N);
  for (int64_t win = 0; win < nW; ++win)
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t base = (win * heads + h) * N * N;
      for (int64_t m = 0; m < N; ++m) {
        for (int64_t t = 0; t < N; ++t) {
          int64_t s = 0;
          for (int64_t d = 0; d < hd; ++d) s += (tk.i[(win * N + t) * C + h * hd + d] - lk.out.zero) * (tq.i[(win * N + m) * C + h * hd + d] - lq.out.zero);
          row[t] = static_cast<float>(s) * sscale + ab[(h * N + m) * N + t];
        }
        float mx = row[0];
        for (int64_t t = 1; t < N; ++t) if (row[t] > mx) mx = row[t];
        float sum = 0.0f;
        for (int64_t t = 0; t < N; ++t) { row[t] = exp_f32(row[t] - mx); sum = sum + row[t]; }
        for (int64_t t = 0; t < N; ++t) pc[base + m * N + t] = encode(row[t] / sum, lth);
        for (int64_t d = 0; d < hd; ++d) {
          int64_t s = 0;
          for (int64_t t = 0; t < N; ++t) s += table[pc[base + m * N + t]] * (tv.i[(win * N + t) * C + h * hd + d] - lv.out.zero);
          o[(win * N + m) * C + h * hd + d] = std::clamp<int64_t>(apply_scale(s, pvMult, pvShift, "pv_out") + pvZero, 0, qmax);
        }
      }
    }
  const Tensor py = run_lin(proj, o, L);
  std::vector<float> a(L * C);
  for (int64_t t = 0; t < L; ++t)
    for (int64_t k = 0; k < C; ++k) a[map_index(t) * C + k] = xin.f[map_index(t) * C + k] + py.f[t * C + k];
  // (2) local depthwise 3x3 conv on uniform codes (padding = the zero point, contributes 0)
  std::vector<int64_t> xc(L * C);
  for (int64_t i = 0; i < L * C; ++i) xc[i] = encode(a[i], cth);
  std::vector<float> c(L * C);
  for (int64_t r = 0; r < H; ++r)
    for (int64_t q = 0; q < W; ++q)
      for (int64_t ch = 0; ch < C; ++ch) {
        int64_t s = 0;
        for (int64_t i = 0; i < 3; ++i)
          for (int64_t j = 0; j < 3; ++j) {
            const int64_t rr = r + i - 1, qq = q + j - 1;
            if (rr < 0 || rr >= H || qq < 0 || qq >= W) continue;
            s += (cw[ch * 9 + i * 3 + j] - czw[ch]) * (xc[(rr * W + qq) * C + ch] - czx);
          }
        c[(r * W + q) * C + ch] = static_cast<float>(s + cbias[ch]) * cscale[ch];
      }
  // (3) MLP (map order)
  std::vector<int64_t> x2(L * C);
  for (int64_t t = 0; t < L; ++t) {
    layer_norm_f32(&c[t * C], C, g2, b2, eps, ln.data());
    for (int64_t k = 0; k < C; ++k) x2[t * C + k] = encode(ln[k], e2.tables[e2.labels[k]]);
  }
  const Tensor h1 = run_lin(fc1, x2, L);
  std::vector<int64_t> x3(L * Hd);
  for (int64_t i = 0; i < L * Hd; ++i) x3[i] = encode(gelu_f32(h1.f[i]), hth);
  const Tensor m2 = run_lin(fc2, x3, L);
  std::vector<float> y(L * C);
  for (int64_t i = 0; i < L * C; ++i) y[i] = c[i] + m2.f[i];

  auto codes = [](const std::string& name, std::vector<int64_t> shape, std::vector<int64_t> v) { Tensor t = int_tensor(name, std::move(shape), std::move(v)); t.dtype = "uint8"; return t; };
  auto floats = [&](const std::string& name, std::vector<float> v) { Tensor t; t.name = name; t.dtype = "float32"; t.shape = {H, W, C}; t.f = std::move(v); return t; };
  (void)lnqBits;
  return {codes("x1", {L, C}, x1), codes("qkv", {L, 3 * C}, qkv), codes("p_codes", {nW * heads, N, N}, pc), codes("o", {L, C}, o), floats("y", y)};
}

static std::vector<Tensor> run_op(const std::string& op, const Inputs& in, const Json& p) {
  const std::string& F = p.file;
  if (op == "gemm_uniform" || op == "gemm_cag" || op == "gemm_hluq") {
    const Tensor &x = need(in, "x", F), &w = need(in, "w", F);
    if (x.shape.size() != 2 || w.shape.size() != 2 || x.shape[1] != w.shape[1]) fail(F, "inputs x [M, K] and w [N, K] disagree");
    const int64_t M = x.shape[0], K = x.shape[1], N = w.shape[0];
    const std::vector<int64_t> zw = p.at("zw").ints(N), bias = p.at("bias").ints(N, -(int64_t(1) << 36), int64_t(1) << 36);
    const OutStage out = read_out(p.at("out"), N);
    std::vector<int64_t> wide(M * N);
    std::vector<Tensor> res;
    if (op == "gemm_uniform") {
      const int64_t bits = p.at("bits").i64(2, 8), zx = p.at("zx").i64(0, (1 << bits) - 1);
      check_codes(x, bits, F);
      std::vector<int64_t> acc(M * N);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          int64_t s = 0;
          for (int64_t k = 0; k < K; ++k) s += (w.i[n * K + k] - zw[n]) * (x.i[m * K + k] - zx);
          acc[m * N + n] = s;
          wide[m * N + n] = s + bias[n];
        }
      res.push_back(int_tensor("acc", {M, N}, acc));
    } else if (op == "gemm_cag") {
      const int64_t bits = p.at("bits").i64(2, 8);
      check_codes(x, bits, F);
      const std::vector<int64_t> mult = p.at("group_mult").ints(SIZE_MAX, 0, 1 << 20);
      const int64_t G = static_cast<int64_t>(mult.size());
      const std::vector<int64_t> perm = p.at("perm").ints(K, 0, K - 1), starts = p.at("starts").ints(G + 1, 0, K);
      if (starts[0] != 0 || starts[G] != K) fail(F, "params.starts must run from 0 to K");
      for (int64_t g = 0; g < G; ++g) if (starts[g + 1] < starts[g]) fail(F, "params.starts must be ascending");
      std::vector<int64_t> acc(G * M * N);
      for (int64_t g = 0; g < G; ++g)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            int64_t s = 0;
            for (int64_t j = starts[g]; j < starts[g + 1]; ++j) s += (w.i[n * K + j] - zw[n]) * x.i[m * K + perm[j]];
            acc[(g * M + m) * N + n] = s;
          }
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          int64_t s = bias[n];
          for (int64_t g = 0; g < G; ++g) s += mult[g] * acc[(g * M + m) * N + n];
          wide[m * N + n] = s;
        }
      res.push_back(int_tensor("acc", {G, M, N}, acc));
    } else {
      const int64_t ab = p.at("act_bits").i64(2, 8), lLog = p.at("l_log").i64(1, (1 << ab) - 1), gb = p.at("guard_bits").i64(0, 16);
      const int64_t mLog = p.at("mult_log").i64(0, 1 << 20), mUni = p.at("mult_uni").i64(0, 1 << 20);
      check_codes(x, ab, F);
      std::vector<int64_t> aLog(M * N), aUni(M * N);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          int64_t sl = 0, su = 0;
          for (int64_t k = 0; k < K; ++k) {
            const int64_t c = x.i[m * K + k];
            if (c == 0) continue;  // exact zero
            const int64_t wt = w.i[n * K + k] - zw[n];
            if (c < lLog) { const int64_t e = lLog - c, v = wt * (int64_t(1) << gb); sl += e >= 63 ? (v < 0 ? -1 : 0) : v >> e; }  // log level: floor shift by e = lLog - c
            else { sl += wt * (int64_t(1) << gb); su += wt * (c - lLog); }
          }
          aLog[m * N + n] = sl;
          aUni[m * N + n] = su;
          wide[m * N + n] = mLog * sl + mUni * su + bias[n];
        }
      res.push_back(int_tensor("acc_log", {M, N}, aLog));
      res.push_back(int_tensor("acc_uni", {M, N}, aUni));
    }
    res.push_back(output(out, wide, M, N));
    return res;
  }
  if (op == "requant") {
    const Tensor& a = need(in, "acc", F);
    if (a.shape.size() != 2) fail(F, "input acc must be [M, N]");
    const int64_t M = a.shape[0], N = a.shape[1];
    OutStage s;
    s.mult = p.at("mult").ints(N, 0, 1 << 16);
    s.shift = p.at("shift").ints(N, 1, 62);
    s.bits = p.at("bits").i64(2, 8);
    s.zero = p.at("zero").i64(0, (1 << s.bits) - 1);
    return {output(s, a.i, M, N)};
  }
  if (op == "encode" || op == "gelu_hluq") {
    const Tensor& x = need(in, "x", F);
    if (!x.is_float()) fail(F, "input x must be float32");
    const std::vector<float> th = p.at("thresholds_f32").f32s();
    Tensor q, g;
    q.name = "q"; q.dtype = "uint8"; q.shape = x.shape;
    g.name = "gelu"; g.dtype = "float32"; g.shape = x.shape;
    for (float v : x.f) {
      const float u = op == "gelu_hluq" ? gelu_f32(v) : v;
      g.f.push_back(u);
      q.i.push_back(encode(u, th));
    }
    if (op == "encode") return {q};
    return {g, q};
  }
  if (op == "lnq_attention") {
    const Tensor &q = need(in, "q", F), &k = need(in, "k", F), &v = need(in, "v", F);
    if (q.shape.size() != 2 || k.shape.size() != 2 || v.shape.size() != 2 || q.shape[1] != k.shape[1] || k.shape[0] != v.shape[0]) fail(F, "inputs q [M, D], k [T, D], v [T, Dv] disagree");
    const int64_t M = q.shape[0], D = q.shape[1], T = k.shape[0], Dv = v.shape[1];
    const int64_t zq = p.at("zq").i64(0, 255), zk = p.at("zk").i64(0, 255), zv = p.at("zv").i64(0, 255);
    const float scale = p.at("score_scale_f32").f32s(1)[0];
    const Json lnq = p.at("lnq");
    const std::vector<float> th = lnq.at("thresholds_f32").f32s();
    const std::vector<int64_t> table = lnq.at("table").ints(th.size() + 1, 0, int64_t(1) << 24);
    std::vector<int64_t> sacc(M * T), pc(M * T), pv(M * Dv);
    std::vector<float> pr(M * T);
    for (int64_t m = 0; m < M; ++m) {
      std::vector<float> row(T);
      for (int64_t t = 0; t < T; ++t) {
        int64_t s = 0;
        for (int64_t d = 0; d < D; ++d) s += (k.i[t * D + d] - zk) * (q.i[m * D + d] - zq);
        sacc[m * T + t] = s;
        row[t] = static_cast<float>(s) * scale;
      }
      float mx = row[0];
      for (int64_t t = 1; t < T; ++t) if (row[t] > mx) mx = row[t];
      float sum = 0.0f;
      for (int64_t t = 0; t < T; ++t) { row[t] = exp_f32(row[t] - mx); sum = sum + row[t]; }
      for (int64_t t = 0; t < T; ++t) {
        pr[m * T + t] = row[t] / sum;
        pc[m * T + t] = encode(pr[m * T + t], th);
      }
      for (int64_t d = 0; d < Dv; ++d) {
        int64_t s = 0;
        for (int64_t t = 0; t < T; ++t) s += table[pc[m * T + t]] * (v.i[t * Dv + d] - zv);
        pv[m * Dv + d] = s;
      }
    }
    const Json o = p.at("out");
    OutStage s;
    s.mult = o.at("mult").ints(Dv, 0, 1 << 16);
    s.shift = o.at("shift").ints(Dv, 1, 62);
    s.bits = o.at("bits").i64(2, 8);
    s.zero = o.at("zero").i64(0, (1 << s.bits) - 1);
    Tensor pt;
    pt.name = "p"; pt.dtype = "float32"; pt.shape = {M, T}; pt.f = pr;
    Tensor pct = int_tensor("p_codes", {M, T}, pc);
    return {int_tensor("s_acc", {M, T}, sacc), pt, pct, int_tensor("pv_acc", {M, Dv}, pv), output(s, pv, M, Dv)};
  }
  if (op == "tinyvit_block") return run_tinyvit_block(in, p);
  fail(F, "op '" + op + "' is not supported by this reader");
}

// ---------------------------------------------------------------------------------------------
// One case

static std::string run_case(const fs::path& dir) {
  const fs::path descPath = dir / "desc.json";
  const std::vector<uint8_t> db = read_bytes(descPath, "desc.json");
  const std::string text(db.begin(), db.end());
  mj::Value root;
  try { root = mj::parse(text, descPath.string()); } catch (const std::runtime_error& e) { throw CaseError(e.what()); }
  const Json desc{&root, descPath.string(), "desc"};
  if (root.kind != mj::Value::Kind::Object) fail(descPath.string(), "desc must be a JSON object");
  const std::string schema = desc.at("schema").str();
  if (schema != "ahcq-golden/1") fail(descPath.string(), "schema must be \"ahcq-golden/1\" (got \"" + schema + "\")");
  const std::string op = desc.at("op").str();
  Inputs in;
  const Json ins = desc.at("inputs");
  for (size_t k = 0; k < ins.size(); ++k) { Tensor t = load_tensor(dir, ins.item(k)); in[t.name] = t; }
  const Json outs = desc.at("outputs");
  const Json crcs = desc.at("expected").at("crc32");
  desc.at("expected").at("cycles");  // must exist (null until filled)
  std::vector<Tensor> got = run_op(op, in, desc.at("params"));
  for (size_t k = 0; k < outs.size(); ++k) {
    const Json od = outs.item(k);
    const Tensor want = load_tensor(dir, od);
    if (crcs.at(want.name).str() != od.at("crc32").str()) fail(descPath.string(), "expected.crc32." + want.name + " disagrees with " + od.path + ".crc32");
    auto it = std::find_if(got.begin(), got.end(), [&](const Tensor& t) { return t.name == want.name; });
    if (it == got.end()) fail(descPath.string(), od.path + ": op " + op + " has no output named " + want.name);
    if (it->shape != want.shape) fail(descPath.string(), od.path + ".shape disagrees with the recomputed output");
    const size_t n = want.numel();
    for (size_t j = 0; j < n; ++j) {
      if (want.is_float()) {
        uint32_t a, b;
        std::memcpy(&a, &it->f[j], 4);
        std::memcpy(&b, &want.f[j], 4);
        if (a != b) return want.name + "[" + std::to_string(j) + "]: recomputed " + hex8(a) + ", stored " + hex8(b);
      } else if (it->i[j] != want.i[j]) {
        return want.name + "[" + std::to_string(j) + "]: recomputed " + std::to_string(it->i[j]) + ", stored " + std::to_string(want.i[j]);
      }
    }
  }
  return "";
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: golden_reader GOLDEN_DIR [GOLDEN_DIR...]\n";
    return 2;
  }
  std::vector<fs::path> cases;
  for (int a = 1; a < argc; ++a) {
    const fs::path root(argv[a]);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) { std::cerr << argv[a] << ": not a directory\n"; return 2; }
    if (fs::exists(root / "desc.json")) { cases.push_back(root); continue; }
    for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); ++it)
      if (it->is_regular_file() && it->path().filename() == "desc.json") cases.push_back(it->path().parent_path());
  }
  std::sort(cases.begin(), cases.end());
  int passed = 0, failed = 0;
  for (const auto& c : cases) {
    std::string label = c.string();
    try {
      const std::string diff = run_case(c);
      if (diff.empty()) { ++passed; std::cout << "PASS " << label << "\n"; }
      else { ++failed; std::cout << "FAIL " << label << ": " << diff << "\n"; }
    } catch (const std::exception& e) {  // CaseError names file and field; anything else is reported too
      ++failed;
      std::cout << "FAIL " << label << ": " << e.what() << "\n";
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 && passed > 0 ? 0 : 1;
}
