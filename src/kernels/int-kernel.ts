/**
 * Generator of the integer-inference elementwise wasm module (issue 7): the steps around the integer
 * GEMM that were JS loops — activation encoding (uniform quantizer codes, threshold-table codes for
 * HLUQ / LNQ), the uniform fake-quantizer of the taps that stay float, and the float64 rescale of the
 * int32 accumulators with the CAG / HLUQ group combine. One module, instantiated on the calling
 * thread over the runtime's shared memory (these passes are memory-bound; the GEMM keeps the pool).
 *
 * Every kernel reproduces the float32 / float64 operation sequence of its JS reference exactly:
 * - uniform: q = clamp(⌊f32(f64(x) / s)⌉ + z, qmin, qmax) with `f32x4.nearest` (ties to even), the
 *   division in float64 then one rounding to float32 (= JS `Math.fround(x / s)`), fake value
 *   f32(f64(q − z)·s) — src/quant/uniform.ts#quantizeKernel / #fakeQuantKernel;
 * - threshold count: code = #{k : x ≥ θ_k} (src/int/threshold-encoder.ts), then a lookup;
 * - rescale: y = f32(ob[n] + Σ_g scale[g, n]·f64(acc_g)) with float64 products and sums in g order.
 *
 * Legend: x float32 input, n4 / n16 blocks of 4 / 16 elements (tails are the driver's), s scale (f64),
 * z zero point, θ thresholds (f32), t₁ / t₂ 16-entry byte tables, G groups, N columns.
 * Non-finite inputs: each kernel returns 1 when some processed x had x − x ≠ 0, else 0 (the driver
 * then raises the typed error; outputs are unspecified).
 *
 * Exports (pointers are byte addresses; params i32 unless marked):
 *   uq_fake(x, n4, s:f64, z:f32, qmin:f32, qmax:f32, y) → bad          y[i] = fake(x[i])   (f32)
 *   uq_code(x, n4, s:f64, z:f32, qmin:f32, qmax:f32, q) → bad          q[i] = code(x[i])   (u8)
 *   uq_code_cols(x, rows, K, perm, sc, zp, qmin:f32, qmax:f32, q) → bad
 *       q[r·K + j] = code(x[r·K + perm[j]]; sc[j] f64, zp[j] f32)       (u8, CAG gather)
 *   thr_tab16(x, n16, thr, nthr, tc:f32, cc, t1, t2, q1, q2, qc) → bad  (nthr ≤ 15: codes < 16)
 *       c = #{θ ≤ x}, c = cc where x ≥ tc; q1[i] = t1[c], q2[i] = t2[c], qc[i] = c when qc ≠ 0
 *   thr_lut_f32(x, n4, thr, nthr, table, y) → bad                       y[i] = table[#{θ ≤ x}]
 *   rescale(acc, gstride, G, rows, N, sc, ob, y)                        y = f32(ob + Σ_g sc·acc_g)
 */
import { assembleModule, code, localFrame, op, type ValType, type WasmFunc } from './wasm-asm';

// CONSTANTS: opcodes the shared assembler does not name (SIMD sub-opcodes after 0xFD; 0xFC prefix)

const simd = (sub: number): number[] => (sub < 0x80 ? [0xfd, sub] : [0xfd, (sub & 0x7f) | 0x80, sub >> 7]);
const X = {
  f32Nearest: (): number[] => [0x90],
  f32Ne: (): number[] => [0x5c],
  f32Ge: (): number[] => [0x60],
  f64Load: (offset = 0): number[] => [0x2b, 3, ...uleb7(offset)],
  i32TruncSatF32S: (): number[] => [0xfc, 0x00],
  i8x16Shuffle: (lanes: readonly number[]): number[] => [...simd(0x0d), ...lanes],
  i8x16Swizzle: (): number[] => simd(0x0e),
  f64x2Splat: (): number[] => simd(0x14),
  f32x4Ne: (): number[] => simd(0x42),
  v128Or: (): number[] => simd(0x50),
  v128AnyTrue: (): number[] => simd(0x53),
  v128Store32Lane: (lane: number): number[] => [...simd(0x5a), 2, 0, lane],
  v128Store64Lane: (lane: number): number[] => [...simd(0x5b), 3, 0, lane],
  v128Load64Zero: (): number[] => [...simd(0x5d), 3, 0],
  f32x4DemoteF64x2Zero: (): number[] => simd(0x5e),
  f64x2PromoteLowF32x4: (): number[] => simd(0x5f),
  i8x16NarrowI16x8U: (): number[] => simd(0x66),
  i16x8NarrowI32x4U: (): number[] => simd(0x86),
  f64x2Add: (): number[] => simd(0xf0),
  f64x2Mul: (): number[] => simd(0xf2),
  f64x2Div: (): number[] => simd(0xf3),
  f64x2ConvertLowI32x4S: (): number[] => simd(0xfe),
} as const;

function uleb7(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

/** Lanes 0..7 of a then 0..7 of b (two demoted f64x2 halves → one f32x4). */
const LOW_LOW = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
/** Lanes 8..15 of a, twice (the high f32 pair moved down for promote_low). */
const HIGH_DOWN = [8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15];

// HELPERS

/** A counted loop: `body` runs while i < n (i from 0, step 1); i and n are locals. */
function forLoop(i: number, n: number, body: number[]): number[] {
  return code(
    op.i32Const(0), op.localSet(i),
    op.block(), op.loop(),
    op.localGet(i), op.localGet(n), op.i32GeS(), op.brIf(1),
    body,
    op.localGet(i), op.i32Const(1), op.i32Add(), op.localSet(i),
    op.br(0),
    op.end(), op.end(),
  );
}

const bump = (local: number, by: number): number[] => code(op.localGet(local), op.i32Const(by), op.i32Add(), op.localSet(local));

/** v (f32x4 on the stack) → f32x4 of f32(f64(vᵢ) ⊙ s) for a float64 splat s (⊙ = div or mul). */
function f64Lanewise(v: number, s: number, tmp: number, opF64: () => number[]): number[] {
  return code(
    op.localGet(v), X.f64x2PromoteLowF32x4(), op.localGet(s), opF64(), X.f32x4DemoteF64x2Zero(), op.localSet(tmp),
    op.localGet(tmp),
    op.localGet(v), op.localGet(v), X.i8x16Shuffle(HIGH_DOWN), X.f64x2PromoteLowF32x4(), op.localGet(s), opF64(), X.f32x4DemoteF64x2Zero(),
    X.i8x16Shuffle(LOW_LOW),
  );
}

/** bad |= (v − v ≠ 0) lanes (non-finite detection). */
const flagNonFinite = (v: number, bad: number): number[] =>
  code(op.localGet(bad), op.localGet(v), op.localGet(v), op.f32x4Sub(), op.v128Const0(), X.f32x4Ne(), X.v128Or(), op.localSet(bad));

/** Uniform quantizer on 4 lanes: leaves clamp(nearest(f32(x/s)) + z, qmin, qmax) (f32x4) in `q`. */
function uniformLanes(L: (n: string) => number, v: number, q: number, tmp: number): number[] {
  return code(
    f64Lanewise(v, L('S'), tmp, X.f64x2Div), op.f32x4Nearest(), op.localGet(L('Z')), op.f32x4Add(),
    op.localGet(L('QMAX')), op.f32x4Min(), op.localGet(L('QMIN')), op.f32x4Max(), op.localSet(q),
  );
}

function uniformFunc(kind: 'fake' | 'code'): WasmFunc {
  const P = ['x', 'n4', 's', 'z', 'qmin', 'qmax', 'out'];
  const T: ValType[] = ['i32', 'i32', 'f64', 'f32', 'f32', 'f32', 'i32'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const i = f.add('i', 'i32');
  const S = f.add('S', 'v128'), Z = f.add('Z', 'v128'), QMIN = f.add('QMIN', 'v128'), QMAX = f.add('QMAX', 'v128');
  const v = f.add('v', 'v128'), q = f.add('q', 'v128'), tmp = f.add('tmp', 'v128'), bad = f.add('bad', 'v128');
  void [S, Z, QMIN, QMAX];
  const store = kind === 'fake'
    ? code(
        op.localGet(L('out')),
        op.localGet(q), op.localGet(L('Z')), op.f32x4Sub(), op.localSet(q), // q − z (exact small integers)
        f64Lanewise(q, L('S'), tmp, X.f64x2Mul),
        op.v128Store(0), bump(L('out'), 16),
      )
    : code(
        op.localGet(L('out')),
        op.localGet(q), op.i32x4TruncSatF32x4S(), op.localTee(q), op.localGet(q), X.i16x8NarrowI32x4U(), op.localTee(q), op.localGet(q), X.i8x16NarrowI16x8U(),
        X.v128Store32Lane(0), bump(L('out'), 4),
      );
  const body = code(
    op.localGet(L('s')), X.f64x2Splat(), op.localSet(L('S')),
    op.localGet(L('z')), op.f32x4Splat(), op.localSet(L('Z')),
    op.localGet(L('qmin')), op.f32x4Splat(), op.localSet(L('QMIN')),
    op.localGet(L('qmax')), op.f32x4Splat(), op.localSet(L('QMAX')),
    forLoop(i, L('n4'), code(
      op.localGet(L('x')), op.v128Load(0), op.localSet(v), bump(L('x'), 16),
      flagNonFinite(v, bad),
      uniformLanes(L, v, q, tmp),
      store,
    )),
    op.localGet(bad), X.v128AnyTrue(),
  );
  return { exportName: kind === 'fake' ? 'uq_fake' : 'uq_code', params: T, results: ['i32'], locals: f.locals, body };
}

function uniformColsFunc(): WasmFunc {
  const P = ['x', 'rows', 'K', 'perm', 'sc', 'zp', 'qmin', 'qmax', 'out'];
  const T: ValType[] = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'f32', 'f32', 'i32'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const r = f.add('r', 'i32'), j = f.add('j', 'i32'), bad = f.add('bad', 'i32');
  const v = f.add('v', 'f32');
  const jw = (sh: number) => code(op.localGet(j), op.i32Const(sh), op.i32Shl());
  const body = code(
    forLoop(r, L('rows'), code(
      forLoop(j, L('K'), code(
        // v = x[r·K + perm[j]]
        op.localGet(L('x')), op.localGet(L('perm')), jw(2), op.i32Add(), op.i32Load(), op.i32Const(2), op.i32Shl(), op.i32Add(), op.f32Load(), op.localSet(v),
        op.localGet(bad), op.localGet(v), op.localGet(v), op.f32Sub(), op.f32Const(0), X.f32Ne(), op.i32Or(), op.localSet(bad),
        op.localGet(L('out')), op.localGet(j), op.i32Add(),
        op.localGet(v), op.f64PromoteF32(), op.localGet(L('sc')), jw(3), op.i32Add(), X.f64Load(), op.f64Div(), op.f32DemoteF64(), X.f32Nearest(),
        op.localGet(L('zp')), jw(2), op.i32Add(), op.f32Load(), op.f32Add(),
        op.localGet(L('qmax')), op.f32Min(), op.localGet(L('qmin')), op.f32Max(),
        X.i32TruncSatF32S(), op.i32Store8(),
      )),
      op.localGet(L('x')), op.localGet(L('K')), op.i32Const(2), op.i32Shl(), op.i32Add(), op.localSet(L('x')),
      op.localGet(L('out')), op.localGet(L('K')), op.i32Add(), op.localSet(L('out')),
    )),
    op.localGet(bad),
  );
  return { exportName: 'uq_code_cols', params: T, results: ['i32'], locals: f.locals, body };
}

function thrTab16Func(): WasmFunc {
  const P = ['x', 'n16', 'thr', 'nthr', 'tc', 'cc', 't1', 't2', 'q1', 'q2', 'qc'];
  const T: ValType[] = ['i32', 'i32', 'i32', 'i32', 'f32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const i = f.add('i', 'i32'), k = f.add('k', 'i32'), tp = f.add('tp', 'i32');
  const xs = [0, 1, 2, 3].map((u) => f.add(`x${u}`, 'v128'));
  const cs = [0, 1, 2, 3].map((u) => f.add(`c${u}`, 'v128'));
  const th = f.add('th', 'v128'), bad = f.add('bad', 'v128'), TC = f.add('TC', 'v128'), CC = f.add('CC', 'v128');
  const T1 = f.add('T1', 'v128'), T2 = f.add('T2', 'v128'), cb = f.add('cb', 'v128');
  const body = code(
    op.localGet(L('tc')), op.f32x4Splat(), op.localSet(TC),
    op.localGet(L('cc')), op.i32x4Splat(), op.localSet(CC),
    op.localGet(L('t1')), op.v128Load(0), op.localSet(T1),
    op.localGet(L('t2')), op.v128Load(0), op.localSet(T2),
    forLoop(i, L('n16'), code(
      xs.map((xv, u) => code(op.localGet(L('x')), op.v128Load(16 * u), op.localSet(xv), flagNonFinite(xv, bad), op.v128Const0(), op.localSet(cs[u]!))),
      bump(L('x'), 64),
      // c −= (x ≥ θ_k) for every threshold (a true lane is −1)
      op.localGet(L('thr')), op.localSet(tp),
      forLoop(k, L('nthr'), code(
        op.localGet(tp), op.v128Load32Splat(), op.localSet(th), bump(tp, 4),
        xs.map((xv, u) => code(op.localGet(cs[u]!), op.localGet(xv), op.localGet(th), op.f32x4Ge(), op.i32x4Sub(), op.localSet(cs[u]!))),
      )),
      // compatibility override: x ≥ tc → c = cc
      xs.map((xv, u) => code(op.localGet(CC), op.localGet(cs[u]!), op.localGet(xv), op.localGet(TC), op.f32x4Ge(), op.v128Bitselect(), op.localSet(cs[u]!))),
      // 16 codes → 16 bytes (all < 16), then the two table lookups
      op.localGet(cs[0]!), op.localGet(cs[1]!), X.i16x8NarrowI32x4U(), op.localGet(cs[2]!), op.localGet(cs[3]!), X.i16x8NarrowI32x4U(), X.i8x16NarrowI16x8U(), op.localSet(cb),
      op.localGet(L('q1')), op.localGet(T1), op.localGet(cb), X.i8x16Swizzle(), op.v128Store(0), bump(L('q1'), 16),
      op.localGet(L('q2')), op.localGet(T2), op.localGet(cb), X.i8x16Swizzle(), op.v128Store(0), bump(L('q2'), 16),
      op.localGet(L('qc')), op.if(), op.localGet(L('qc')), op.localGet(cb), op.v128Store(0), bump(L('qc'), 16), op.end(),
    )),
    op.localGet(bad), X.v128AnyTrue(),
  );
  return { exportName: 'thr_tab16', params: T, results: ['i32'], locals: f.locals, body };
}

function thrLutF32Func(): WasmFunc {
  const P = ['x', 'n4', 'thr', 'nthr', 'table', 'y'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const i = f.add('i', 'i32'), k = f.add('k', 'i32'), tp = f.add('tp', 'i32');
  const v = f.add('v', 'v128'), c = f.add('c', 'v128'), bad = f.add('bad', 'v128');
  const lookup = (lane: number) => code(
    op.localGet(L('y')),
    op.localGet(L('table')), op.localGet(c), op.i32x4ExtractLane(lane), op.i32Const(2), op.i32Shl(), op.i32Add(), op.f32Load(),
    op.f32Store(4 * lane),
  );
  const body = code(
    forLoop(i, L('n4'), code(
      op.localGet(L('x')), op.v128Load(0), op.localSet(v), bump(L('x'), 16),
      flagNonFinite(v, bad),
      op.v128Const0(), op.localSet(c),
      op.localGet(L('thr')), op.localSet(tp),
      forLoop(k, L('nthr'), code(
        op.localGet(c), op.localGet(v), op.localGet(tp), op.v128Load32Splat(), op.f32x4Ge(), op.i32x4Sub(), op.localSet(c), bump(tp, 4),
      )),
      lookup(0), lookup(1), lookup(2), lookup(3),
      bump(L('y'), 16),
    )),
    op.localGet(bad), X.v128AnyTrue(),
  );
  return { exportName: 'thr_lut_f32', params: P.map(() => 'i32' as const), results: ['i32'], locals: f.locals, body };
}

function rescaleFunc(): WasmFunc {
  const P = ['acc', 'gstride', 'G', 'rows', 'N', 'sc', 'ob', 'y'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const r = f.add('r', 'i32'), n = f.add('n', 'i32'), g = f.add('g', 'i32'), pairs = f.add('pairs', 'i32');
  const ap = f.add('ap', 'i32'), sp = f.add('sp', 'i32'), rowAcc = f.add('rowAcc', 'i32');
  const s = f.add('s', 'v128'), ss = f.add('ss', 'f64');
  // ap = rowAcc + 4n (group 0), sp = sc + 8n (group 0); both step by one group per g
  const setPtrs = code(
    op.localGet(rowAcc), op.localGet(n), op.i32Const(2), op.i32Shl(), op.i32Add(), op.localSet(ap),
    op.localGet(L('sc')), op.localGet(n), op.i32Const(3), op.i32Shl(), op.i32Add(), op.localSet(sp),
  );
  const nextGroup = code(
    op.localGet(ap), op.localGet(L('gstride')), op.i32Add(), op.localSet(ap),
    op.localGet(sp), op.localGet(L('N')), op.i32Const(3), op.i32Shl(), op.i32Add(), op.localSet(sp),
  );
  const yAt = code(op.localGet(L('y')), op.localGet(n), op.i32Const(2), op.i32Shl(), op.i32Add());
  const body = code(
    op.localGet(L('N')), op.i32Const(1), op.i32ShrS(), op.localSet(pairs),
    op.localGet(L('acc')), op.localSet(rowAcc),
    forLoop(r, L('rows'), code(
      // column pairs: s = ob[n:n+2] + Σ_g sc[g, n:n+2]·f64(acc_g[r, n:n+2])
      forLoop(n, pairs, code(
        op.localGet(n), op.i32Const(1), op.i32Shl(), op.localSet(n),
        setPtrs,
        op.localGet(L('ob')), op.localGet(n), op.i32Const(3), op.i32Shl(), op.i32Add(), op.v128Load(0), op.localSet(s),
        forLoop(g, L('G'), code(
          op.localGet(s),
          op.localGet(ap), X.v128Load64Zero(), X.f64x2ConvertLowI32x4S(), op.localGet(sp), op.v128Load(0), X.f64x2Mul(),
          X.f64x2Add(), op.localSet(s),
          nextGroup,
        )),
        yAt, op.localGet(s), X.f32x4DemoteF64x2Zero(), X.v128Store64Lane(0),
        op.localGet(n), op.i32Const(1), op.i32ShrS(), op.localSet(n),
      )),
      // odd N: the last column in scalar float64
      op.localGet(L('N')), op.i32Const(1), op.i32And(), op.if(),
      op.localGet(L('N')), op.i32Const(1), op.i32Sub(), op.localSet(n),
      setPtrs,
      op.localGet(L('ob')), op.localGet(n), op.i32Const(3), op.i32Shl(), op.i32Add(), X.f64Load(), op.localSet(ss),
      forLoop(g, L('G'), code(
        op.localGet(ss), op.localGet(ap), op.i32Load(), op.f64ConvertI32S(), op.localGet(sp), X.f64Load(), op.f64Mul(), op.f64Add(), op.localSet(ss),
        nextGroup,
      )),
      yAt, op.localGet(ss), op.f32DemoteF64(), op.f32Store(),
      op.end(),
      op.localGet(rowAcc), op.localGet(L('N')), op.i32Const(2), op.i32Shl(), op.i32Add(), op.localSet(rowAcc),
      op.localGet(L('y')), op.localGet(L('N')), op.i32Const(2), op.i32Shl(), op.i32Add(), op.localSet(L('y')),
    )),
  );
  return { exportName: 'rescale', params: P.map(() => 'i32' as const), results: [], locals: f.locals, body };
}

// MAIN

/**
 * Emit the integer-inference elementwise module (memory imported as `env.memory`, shared).
 * @source PERFORMANCE.md "Recommendation" (kernels over tensors resident in one shared memory);
 *   src/quant/uniform.ts, src/int/threshold-encoder.ts, src/quant-sam/int-layer.ts (the JS semantics reproduced)
 * @equation see the module header (uq_fake, uq_code, uq_code_cols, thr_tab16, thr_lut_f32, rescale)
 * @deviation none: every kernel reproduces its JS reference bit for bit on finite inputs
 * @precision exact (codes, lookups); float64 division / products / sums with one float32 rounding, as the JS code
 */
export function emitIntModule(memoryPages: { min: number; max: number }): Uint8Array {
  return assembleModule({
    memory: { module: 'env', name: 'memory', minPages: memoryPages.min, maxPages: memoryPages.max, shared: true },
    functions: [uniformFunc('fake'), uniformFunc('code'), uniformColsFunc(), thrTab16Func(), thrLutF32Func(), rescaleFunc()],
  });
}
