/**
 * Generator of the row/elementwise wasm module: GELU (erf form), softmax over rows and LayerNorm
 * over rows, f32x4 SIMD, with a vector `exp` (Cody–Waite range reduction + degree-7 polynomial)
 * for the softmax and a rational erf (odd degree-13 over even degree-8 in z, |z| clamped to 4) for GELU.
 *
 * Exports (all pointers are byte addresses; rows are padded to a multiple of 4 floats by the driver):
 * - `gelu(x, y, nv)`: nv vectors (4 floats each), elementwise;
 * - `softmax(x, y, rows, cv)`: rows of cv vectors; padding lanes must hold −∞;
 * - `layernorm(x, y, rows, cv, c, gamma, beta, epsBits)`: rows of cv vectors, c true length; mean and
 *   biased variance accumulated in f64 (scalar), normalisation in f32x4; gamma/beta padded with 0;
 *   ε passed as its float32 bit pattern (every pooled argument is an i32);
 * - `dwconv(x, xps, wp, w, b, y, yps, planes, ho, wv, kh, kw, dh, dw)`: stride-1 depthwise conv over
 *   zero-padded input planes (row stride wp floats, plane stride xps bytes), one kh×kw filter and one
 *   bias per plane, output rows of 4·wv floats (plane stride yps bytes); f32 accumulation from the bias.
 */
import { assembleModule, code, localFrame, op, type WasmFunc } from './wasm-asm';

// CONSTANTS

/**
 * erf(z) ≈ z·P(z²)/Q(z²) for |z| ≤ 4 (z clamped there; |erf(4) − 1| < 1.6e-8): the rational fit of
 * Eigen's `generic_fast_erf_float`, coefficients highest power first. Measured in float32 arithmetic
 * on x ∈ [−16, 16] (z = x/√2): |erf error| ≤ 3.9e-7 and GELU error ≤ 2.5e-7·|x| against
 * @stdlib/math-base-special-erf (spec/kernels/rows.spec.ts bounds it by 4e-7·|x|).
 */
const ERF_P = [-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02];
const ERF_Q = [-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03, -1.42647390514189e-02];
const ERF_CLAMP = 4;
const LOG2E = 1.4426950408889634;
/** ln 2 split so that n·LN2_HI is exact for |n| ≤ 2^8 (Cody–Waite). */
const LN2_HI = 0.693359375;
const LN2_LO = -2.1219444005469057e-4;
/** exp arguments below this are flushed to 0 (2^-126 ≈ e^-87.3 is the smallest normal float32). */
const EXP_MIN = -87;

// MAIN

const splat = (x: number) => code(op.f32Const(x), op.f32x4Splat());

/**
 * Emit code computing exp of the v128 in local `a` (lanes ≤ 88) into local `out`, with `n`, `r`, `p`
 * as v128 temporaries; lanes below EXP_MIN give 0.
 */
function vexp(a: number, out: number, n: number, r: number, p: number): number[] {
  const horner = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];
  return code(
    // n = nearest(max(a, EXP_MIN)·log2 e); r = a' − n·ln2 (two steps)
    op.localGet(a), splat(EXP_MIN), op.f32x4Max(), op.localSet(r),
    op.localGet(r), splat(LOG2E), op.f32x4Mul(), op.f32x4Nearest(), op.localSet(n),
    op.localGet(r), op.localGet(n), splat(LN2_HI), op.f32x4Mul(), op.f32x4Sub(),
    op.localGet(n), splat(LN2_LO), op.f32x4Mul(), op.f32x4Sub(), op.localSet(r),
    // p = Σ_{i ≤ 7} rⁱ/i! by Horner
    splat(horner[0]!), op.localSet(p),
    horner.slice(1).map((c) => code(op.localGet(p), op.localGet(r), op.f32x4Mul(), splat(c), op.f32x4Add(), op.localSet(p))),
    // 2ⁿ as float bits: (n + 127) << 23
    op.localGet(p),
    op.localGet(n), op.i32x4TruncSatF32x4S(), op.i32Const(127), op.i32x4Splat(), op.i32x4Add(), op.i32Const(23), op.i32x4Shl(),
    op.f32x4Mul(),
    // flush lanes with a < EXP_MIN to 0
    op.localGet(a), splat(EXP_MIN), op.f32x4Ge(), op.v128And(),
    op.localSet(out),
  );
}

function geluFunc(): WasmFunc {
  const f = localFrame(['x', 'y', 'nv']);
  const L = (s: string) => f.get(s);
  const i = f.add('i', 'i32');
  const v = f.add('v', 'v128');
  const z = f.add('z', 'v128');
  const z2 = f.add('z2', 'v128');
  const pp = f.add('pp', 'v128');
  const qq = f.add('qq', 'v128');
  const g = f.add('g', 'v128');
  const horner = (acc: number, coef: readonly number[]) => code(
    splat(coef[0]!), op.localSet(acc),
    coef.slice(1).map((c) => code(op.localGet(acc), op.localGet(z2), op.f32x4Mul(), splat(c), op.f32x4Add(), op.localSet(acc))),
  );
  const body = code(
    op.i32Const(0), op.localSet(i),
    op.block(), op.loop(),
    op.localGet(i), op.localGet(L('nv')), op.i32GeS(), op.brIf(1),
    op.localGet(L('x')), op.localGet(i), op.i32Const(4), op.i32Shl(), op.i32Add(), op.v128Load(), op.localSet(v),
    // z = clamp(v/√2, −4, 4); erf(z) ≈ z·P(z²)/Q(z²)
    op.localGet(v), splat(Math.SQRT1_2), op.f32x4Mul(), splat(ERF_CLAMP), op.f32x4Min(), splat(-ERF_CLAMP), op.f32x4Max(), op.localSet(z),
    op.localGet(z), op.localGet(z), op.f32x4Mul(), op.localSet(z2),
    horner(pp, ERF_P), horner(qq, ERF_Q),
    op.localGet(z), op.localGet(pp), op.f32x4Mul(), op.localGet(qq), op.f32x4Div(), op.localSet(g),
    // gelu = ½·v·(1 + erf); v > 15 → v and v < −15 → −0 exactly, as the reference (also maps ±∞ like it)
    splat(0.5), op.localGet(v), op.f32x4Mul(), splat(1), op.localGet(g), op.f32x4Add(), op.f32x4Mul(), op.localSet(g),
    op.localGet(v), op.localGet(g), op.localGet(v), splat(15), op.f32x4Gt(), op.v128Bitselect(), op.localSet(g),
    op.localGet(L('y')), op.localGet(i), op.i32Const(4), op.i32Shl(), op.i32Add(),
    splat(-0), op.localGet(g), op.localGet(v), splat(-15), op.f32x4Lt(), op.v128Bitselect(),
    op.v128Store(),
    op.localGet(i), op.i32Const(1), op.i32Add(), op.localSet(i),
    op.br(0),
    op.end(), op.end(),
  );
  return { exportName: 'gelu', params: ['i32', 'i32', 'i32'], results: [], locals: f.locals, body };
}

/** Horizontal reduction of the 4 lanes of local `v` with the scalar f32 binary op `bin`. */
function hreduce(v: number, bin: number[]): number[] {
  return code(op.localGet(v), op.f32x4ExtractLane(0), op.localGet(v), op.f32x4ExtractLane(1), bin, op.localGet(v), op.f32x4ExtractLane(2), bin, op.localGet(v), op.f32x4ExtractLane(3), bin);
}

/** `for (j = 0; j < count; j++) { body }` over local j. */
function forLoop(j: number, count: number[], body: number[]): number[] {
  return code(op.i32Const(0), op.localSet(j), op.block(), op.loop(), op.localGet(j), count, op.i32GeS(), op.brIf(1), body, op.localGet(j), op.i32Const(1), op.i32Add(), op.localSet(j), op.br(0), op.end(), op.end());
}

function softmaxFunc(): WasmFunc {
  const f = localFrame(['x', 'y', 'rows', 'cv']);
  const L = (s: string) => f.get(s);
  const row = f.add('row', 'i32');
  const j = f.add('j', 'i32');
  const xr = f.add('xr', 'i32');
  const yr = f.add('yr', 'i32');
  const mx = f.add('mx', 'v128');
  const sv = f.add('sv', 'v128');
  const a = f.add('a', 'v128');
  const e = f.add('e', 'v128');
  const n = f.add('n', 'v128');
  const r = f.add('r', 'v128');
  const p = f.add('p', 'v128');
  const s = f.add('s', 'f32');
  const at = (base: number) => code(op.localGet(base), op.localGet(j), op.i32Const(4), op.i32Shl(), op.i32Add());
  const body = forLoop(
    row,
    op.localGet(L('rows')),
    code(
      op.localGet(L('x')), op.localGet(row), op.localGet(L('cv')), op.i32Mul(), op.i32Const(4), op.i32Shl(), op.i32Add(), op.localSet(xr),
      op.localGet(L('y')), op.localGet(row), op.localGet(L('cv')), op.i32Mul(), op.i32Const(4), op.i32Shl(), op.i32Add(), op.localSet(yr),
      // (1) row max
      op.localGet(xr), op.v128Load(), op.localSet(mx),
      forLoop(j, op.localGet(L('cv')), code(op.localGet(mx), at(xr), op.v128Load(), op.f32x4Max(), op.localSet(mx))),
      hreduce(mx, op.f32Max()), op.f32x4Splat(), op.localSet(mx),
      // (2) e = exp(x − max), stored, summed per lane
      op.v128Const0(), op.localSet(sv),
      forLoop(j, op.localGet(L('cv')), code(at(xr), op.v128Load(), op.localGet(mx), op.f32x4Sub(), op.localSet(a), vexp(a, e, n, r, p), at(yr), op.localGet(e), op.v128Store(), op.localGet(sv), op.localGet(e), op.f32x4Add(), op.localSet(sv))),
      // (3) y = e / Σe
      hreduce(sv, op.f32Add()), op.localSet(s),
      op.f32Const(1), op.localGet(s), op.f32Div(), op.f32x4Splat(), op.localSet(sv),
      forLoop(j, op.localGet(L('cv')), code(at(yr), at(yr), op.v128Load(), op.localGet(sv), op.f32x4Mul(), op.v128Store())),
    ),
  );
  return { exportName: 'softmax', params: ['i32', 'i32', 'i32', 'i32'], results: [], locals: f.locals, body };
}

function layerNormFunc(): WasmFunc {
  const f = localFrame(['x', 'y', 'rows', 'cv', 'c', 'gamma', 'beta', 'epsBits']);
  const L = (s: string) => f.get(s);
  const row = f.add('row', 'i32');
  const j = f.add('j', 'i32');
  const xr = f.add('xr', 'i32');
  const yr = f.add('yr', 'i32');
  const sum = f.add('sum', 'f64');
  const mean = f.add('mean', 'f64');
  const d = f.add('d', 'f64');
  const mv = f.add('mv', 'v128');
  const rv = f.add('rv', 'v128');
  const xAt = code(op.localGet(xr), op.localGet(j), op.i32Const(2), op.i32Shl(), op.i32Add(), op.f32Load(), op.f64PromoteF32());
  const vAt = (base: number) => code(op.localGet(base), op.localGet(j), op.i32Const(4), op.i32Shl(), op.i32Add());
  const body = forLoop(
    row,
    op.localGet(L('rows')),
    code(
      op.localGet(L('x')), op.localGet(row), op.localGet(L('cv')), op.i32Mul(), op.i32Const(4), op.i32Shl(), op.i32Add(), op.localSet(xr),
      op.localGet(L('y')), op.localGet(row), op.localGet(L('cv')), op.i32Mul(), op.i32Const(4), op.i32Shl(), op.i32Add(), op.localSet(yr),
      // (1) mean (f64)
      op.f64Const(0), op.localSet(sum),
      forLoop(j, op.localGet(L('c')), code(op.localGet(sum), xAt, op.f64Add(), op.localSet(sum))),
      op.localGet(sum), op.localGet(L('c')), op.f64ConvertI32S(), op.f64Div(), op.localSet(mean),
      // (2) biased variance (f64, two-pass)
      op.f64Const(0), op.localSet(sum),
      forLoop(j, op.localGet(L('c')), code(xAt, op.localGet(mean), op.f64Sub(), op.localSet(d), op.localGet(sum), op.localGet(d), op.localGet(d), op.f64Mul(), op.f64Add(), op.localSet(sum))),
      // (3) rstd = 1/√(var + ε), rounded to f32 once
      op.f64Const(1), op.localGet(sum), op.localGet(L('c')), op.f64ConvertI32S(), op.f64Div(), op.localGet(L('epsBits')), op.f32ReinterpretI32(), op.f64PromoteF32(), op.f64Add(), op.f64Sqrt(), op.f64Div(), op.f32DemoteF64(), op.f32x4Splat(), op.localSet(rv),
      op.localGet(mean), op.f32DemoteF64(), op.f32x4Splat(), op.localSet(mv),
      // (4) y = (x − mean)·rstd·γ + β  (f32x4)
      forLoop(
        j,
        op.localGet(L('cv')),
        code(vAt(yr), vAt(xr), op.v128Load(), op.localGet(mv), op.f32x4Sub(), op.localGet(rv), op.f32x4Mul(), vAt(L('gamma')), op.v128Load(), op.f32x4Mul(), vAt(L('beta')), op.v128Load(), op.f32x4Add(), op.v128Store()),
      ),
    ),
  );
  return { exportName: 'layernorm', params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], results: [], locals: f.locals, body };
}

function dwconvFunc(): WasmFunc {
  const P = ['x', 'xps', 'wp', 'w', 'b', 'y', 'yps', 'planes', 'ho', 'wv', 'kh', 'kw', 'dh', 'dw'];
  const f = localFrame(P);
  const L = (s: string) => f.get(s);
  const c = f.add('c', 'i32');
  const py = f.add('py', 'i32');
  const v = f.add('v', 'i32');
  const i = f.add('i', 'i32');
  const j = f.add('j', 'i32');
  const xc = f.add('xc', 'i32');
  const yc = f.add('yc', 'i32');
  const wc = f.add('wc', 'i32');
  const row = f.add('row', 'i32');
  const bv = f.add('bv', 'v128');
  const acc = f.add('acc', 'v128');
  const get = (s: string) => op.localGet(L(s));
  const body = forLoop(
    c,
    get('planes'),
    code(
      get('x'), op.localGet(c), get('xps'), op.i32Mul(), op.i32Add(), op.localSet(xc),
      get('y'), op.localGet(c), get('yps'), op.i32Mul(), op.i32Add(), op.localSet(yc),
      get('w'), op.localGet(c), get('kh'), op.i32Mul(), get('kw'), op.i32Mul(), op.i32Const(2), op.i32Shl(), op.i32Add(), op.localSet(wc),
      get('b'), op.localGet(c), op.i32Const(2), op.i32Shl(), op.i32Add(), op.f32Load(), op.f32x4Splat(), op.localSet(bv),
      forLoop(
        py,
        get('ho'),
        forLoop(
          v,
          get('wv'),
          code(
            op.localGet(bv), op.localSet(acc),
            forLoop(
              i,
              get('kh'),
              code(
                // row = xc + ((py + i·dh)·wp + 4v)·4
                op.localGet(xc), op.localGet(py), op.localGet(i), get('dh'), op.i32Mul(), op.i32Add(), get('wp'), op.i32Mul(), op.localGet(v), op.i32Const(2), op.i32Shl(), op.i32Add(), op.i32Const(2), op.i32Shl(), op.i32Add(), op.localSet(row),
                forLoop(
                  j,
                  get('kw'),
                  code(
                    // acc += splat(w[i, j]) · x[row + j·dw : +4]
                    op.localGet(acc),
                    op.localGet(wc), op.localGet(i), get('kw'), op.i32Mul(), op.localGet(j), op.i32Add(), op.i32Const(2), op.i32Shl(), op.i32Add(), op.v128Load32Splat(),
                    op.localGet(row), op.localGet(j), get('dw'), op.i32Mul(), op.i32Const(2), op.i32Shl(), op.i32Add(), op.v128Load(),
                    op.f32x4Mul(), op.f32x4Add(), op.localSet(acc),
                  ),
                ),
              ),
            ),
            // y[py, 4v : 4v+4] = acc
            op.localGet(yc), op.localGet(py), get('wv'), op.i32Mul(), op.localGet(v), op.i32Add(), op.i32Const(4), op.i32Shl(), op.i32Add(), op.localGet(acc), op.v128Store(),
          ),
        ),
      ),
    ),
  );
  return { exportName: 'dwconv', params: P.map(() => 'i32' as const), results: [], locals: f.locals, body };
}

/**
 * Emit the row-kernel module (gelu, softmax, layernorm, dwconv) on an imported shared memory.
 * @source PyTorch F.gelu (approximate="none"), F.softmax, F.layer_norm; Eigen generic_fast_erf_float (rational erf coefficients); Cody–Waite exp reduction
 * @equation gelu(x) = ½x(1 + erf(x/√2)); softmax(x)ᵢ = e^(xᵢ−max)/Σe^(x−max); LN(x) = (x − μ)/√(σ² + ε)·γ + β
 * @deviation erf and exp are approximations (see `fastRowBounds`); exp flushes arguments < −87 to 0
 * @precision f32x4 arithmetic; LayerNorm statistics in f64
 */
export function emitRowsModule(memoryPages: { min: number; max: number }): Uint8Array {
  return assembleModule({
    memory: { module: 'env', name: 'memory', minPages: memoryPages.min, maxPages: memoryPages.max, shared: true },
    functions: [geluFunc(), softmaxFunc(), layerNormFunc(), dwconvFunc()],
  });
}
