/**
 * Generator of the GEMM wasm module: an MR×8 register-tile micro-kernel (MR = 4 main, 3/2/1 for
 * the bottom edge), no k-unrolling, A read in place through MR row pointers, B prepacked into
 * k-major NR = 8 panels, and the K/N cache-blocking loop nest, all inside wasm so that one call
 * computes a whole row range (the unit of work of one thread).
 *
 * Kinds:
 * - `f32`: C = A·B with f32x4.mul + f32x4.add (no FMA; float32 rounding after each op);
 * - `f32-fma`: same with relaxed `f32x4.relaxed_madd` (only where `WebAssembly.validate` accepts it);
 * - `i8s` / `u8s`: int8 (resp. uint8) A codes × int16-widened int8 B codes; each k-pair is one
 *   `i32x4.dot_i16x8_s`: A pair loaded by `v128.load16_splat` and sign- (zero-) extended to i16x8.
 *
 * Packed-B layout (bytes; panel p covers columns 8p..8p+7, zero-padded past N):
 * - f32: panel p, step k → 8 f32 `B[k, 8p+0..7]` (32 bytes);
 * - int: panel p, step k2 (k = 2·k2, 2·k2+1) → 8 i16 pairs `(B[k,c], B[k+1,c])` for c = 8p..8p+7 (32 bytes);
 * panel stride = kSteps·32 bytes.
 *
 * Signature of the exported `gemm` (all i32; pointers and strides in bytes):
 *   gemm(a, lda, b, kSteps, c, ldc, m, n, mode, bias, scratch, kc, nc, zb, rs)
 * mode 0: C = A·B; mode 1: C += A·B; mode 2: C = bias + A·B (int: C = bias − zb·rs + A·B, per
 * column bias/zb vectors padded to panels, rs = one i32 per row). `kc` (k-steps) and `nc` (panels)
 * are the cache block sizes; `scratch` is 128 bytes private to the calling thread (edge tiles).
 * Preconditions (checked by the drivers, not here): m ≥ 1, n ≥ 1, kSteps ≥ 1, kc ≥ 1, nc ≥ 1.
 */
import { assembleModule, code, localFrame, op, type WasmFunc } from './wasm-asm';

// TYPES

/** The four generated kernel kinds. */
export type GemmKind = 'f32' | 'f32-fma' | 'i8s' | 'u8s';

// CONSTANTS

/** Register tile: MR rows × NR columns (NR = two 4-lane vectors). */
export const GEMM_MR = 4;
export const GEMM_NR = 8;
/** Bytes of one packed-B step (8 columns × 4 bytes). */
export const PANEL_STEP_BYTES = 32;
/** Scratch bytes each thread needs for edge tiles. */
export const GEMM_SCRATCH_BYTES = GEMM_MR * GEMM_NR * 4;
/** Number of i32 arguments of one `gemm` call (one record of a `gemm_list`). */
export const GEMM_CALL_WORDS = 15;

// MAIN

const isInt = (kind: GemmKind): boolean => kind === 'i8s' || kind === 'u8s';

/** Copy `left` 4-byte elements from (src) to (dst): a counted scalar loop. */
function copyWords(srcAddr: number[], dstAddr: number[], left: number, t: number): number[] {
  return code(
    op.i32Const(0), op.localSet(t),
    op.block(), op.loop(),
    op.localGet(t), op.localGet(left), op.i32GeS(), op.brIf(1),
    dstAddr, op.localGet(t), op.i32Const(2), op.i32Shl(), op.i32Add(),
    srcAddr, op.localGet(t), op.i32Const(2), op.i32Shl(), op.i32Add(),
    op.i32Load(), op.i32Store(),
    op.localGet(t), op.i32Const(1), op.i32Add(), op.localSet(t),
    op.br(0),
    op.end(), op.end(),
  );
}

/** Row-block function: MR rows × all panels of a (K-block, N-block). */
function rowBlockFunc(kind: GemmKind, mr: number): WasmFunc {
  const P = ['a', 'lda', 'b', 'pstride', 'c', 'ldc', 'ncols', 'klen', 'mode', 'bias', 'scratch', 'zb', 'rs'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const left = f.add('left', 'i32');
  const bp = f.add('bp', 'i32');
  const kk = f.add('kk', 'i32');
  const t = f.add('t', 'i32');
  const ar = Array.from({ length: mr }, (_, r) => f.add(`ar${r}`, 'i32'));
  const av = f.add('av', 'v128');
  const b0 = f.add('b0', 'v128');
  const b1 = f.add('b1', 'v128');
  const acc = Array.from({ length: mr }, (_, r) => [f.add(`acc${r}_0`, 'v128'), f.add(`acc${r}_1`, 'v128')] as const);
  const aStep = isInt(kind) ? 2 : 4;

  // address of C row r at the current panel: c + r·ldc
  const cRow = (r: number) => (r === 0 ? op.localGet(L('c')) : code(op.localGet(L('c')), op.localGet(L('ldc')), op.i32Const(r), op.i32Mul(), op.i32Add()));
  const scratchRow = (r: number) => code(op.localGet(L('scratch')), op.i32Const(r * 32), op.i32Add());
  const full = code(op.localGet(left), op.i32Const(GEMM_NR), op.i32GeS());

  // (1) accumulator initialisation
  const initFromC = code(
    full, op.if(),
    acc.map(([x0, x1], r) => code(cRow(r), op.v128Load(0), op.localSet(x0), cRow(r), op.v128Load(16), op.localSet(x1))),
    op.else(),
    // edge panel: zero the scratch tile, copy the `left` valid columns of C in, load from scratch
    acc.map((_, r) => code(scratchRow(r), op.v128Const0(), op.v128Store(0), scratchRow(r), op.v128Const0(), op.v128Store(16))),
    acc.map((_, r) => copyWords(cRow(r), scratchRow(r), left, t)),
    acc.map(([x0, x1], r) => code(scratchRow(r), op.v128Load(0), op.localSet(x0), scratchRow(r), op.v128Load(16), op.localSet(x1))),
    op.end(),
  );
  const initFromBias = isInt(kind)
    ? acc.map(([x0, x1], r) =>
        code(
          // acc = bias − zb · splat(rs[r])
          op.localGet(L('rs')), op.i32Load(r * 4), op.i32x4Splat(), op.localSet(av),
          op.localGet(L('bias')), op.v128Load(0), op.localGet(L('zb')), op.v128Load(0), op.localGet(av), op.i32x4Mul(), op.i32x4Sub(), op.localSet(x0),
          op.localGet(L('bias')), op.v128Load(16), op.localGet(L('zb')), op.v128Load(16), op.localGet(av), op.i32x4Mul(), op.i32x4Sub(), op.localSet(x1),
        ),
      )
    : acc.map(([x0, x1]) => code(op.localGet(L('bias')), op.v128Load(0), op.localSet(x0), op.localGet(L('bias')), op.v128Load(16), op.localSet(x1)));
  const initZero = acc.map(([x0, x1]) => code(op.v128Const0(), op.localSet(x0), op.v128Const0(), op.localSet(x1)));
  const init = code(
    op.localGet(L('mode')), op.i32Const(1), op.i32Eq(), op.if(),
    initFromC,
    op.else(),
    op.localGet(L('mode')), op.i32Const(2), op.i32Eq(), op.if(), initFromBias, op.else(), initZero, op.end(),
    op.end(),
  );

  // (2) k loop: acc[r] += a[r][k] · B[k, panel]   (one k-step per iteration, no unrolling)
  const loadA = (r: number) =>
    kind === 'f32' || kind === 'f32-fma'
      ? code(op.localGet(ar[r]!), op.v128Load32Splat())
      : code(op.localGet(ar[r]!), op.v128Load16Splat(), kind === 'i8s' ? op.i16x8ExtendLowI8x16S() : op.i16x8ExtendLowI8x16U());
  const madd = (x: number, bv: number) => {
    if (kind === 'f32') return code(op.localGet(x), op.localGet(av), op.localGet(bv), op.f32x4Mul(), op.f32x4Add(), op.localSet(x));
    if (kind === 'f32-fma') return code(op.localGet(av), op.localGet(bv), op.localGet(x), op.f32x4RelaxedMadd(), op.localSet(x));
    return code(op.localGet(x), op.localGet(av), op.localGet(bv), op.i32x4DotI16x8S(), op.i32x4Add(), op.localSet(x));
  };
  const kLoop = code(
    op.localGet(L('b')), op.localSet(bp),
    ar.map((p, r) => code(op.localGet(L('a')), op.localGet(L('lda')), op.i32Const(r), op.i32Mul(), op.i32Add(), op.localSet(p))),
    op.localGet(L('klen')), op.localSet(kk),
    op.loop(),
    op.localGet(bp), op.v128Load(0), op.localSet(b0),
    op.localGet(bp), op.v128Load(16), op.localSet(b1),
    acc.map(([x0, x1], r) => code(loadA(r), op.localSet(av), madd(x0, b0), madd(x1, b1), op.localGet(ar[r]!), op.i32Const(aStep), op.i32Add(), op.localSet(ar[r]!))),
    op.localGet(bp), op.i32Const(PANEL_STEP_BYTES), op.i32Add(), op.localSet(bp),
    op.localGet(kk), op.i32Const(1), op.i32Sub(), op.localTee(kk), op.brIf(0),
    op.end(),
  );

  // (3) store: full panels straight to C, the edge panel through scratch
  const store = code(
    full, op.if(),
    acc.map(([x0, x1], r) => code(cRow(r), op.localGet(x0), op.v128Store(0), cRow(r), op.localGet(x1), op.v128Store(16))),
    op.else(),
    acc.map(([x0, x1], r) => code(scratchRow(r), op.localGet(x0), op.v128Store(0), scratchRow(r), op.localGet(x1), op.v128Store(16))),
    acc.map((_, r) => copyWords(scratchRow(r), cRow(r), left, t)),
    op.end(),
  );

  const bump = (name: string, by: number[]) => code(op.localGet(L(name)), by, op.i32Add(), op.localSet(L(name)));
  const body = code(
    op.localGet(L('ncols')), op.localSet(left),
    op.loop(),
    init, kLoop, store,
    bump('b', op.localGet(L('pstride'))),
    bump('c', op.i32Const(32)),
    bump('bias', op.i32Const(32)),
    bump('zb', op.i32Const(32)),
    op.localGet(left), op.i32Const(GEMM_NR), op.i32Sub(), op.localTee(left),
    op.i32Const(0), op.i32GtS(), op.brIf(0),
    op.end(),
  );
  return { params: P.map(() => 'i32' as const), results: [], locals: f.locals, body };
}

/** The exported driver loop: K blocks × N blocks × row blocks, dispatching on the row-block height. */
function gemmFunc(kind: GemmKind, rowBlockIndex: (mr: number) => number): WasmFunc {
  const P = ['a', 'lda', 'b', 'ksteps', 'c', 'ldc', 'm', 'n', 'mode', 'bias', 'scratch', 'kc', 'nc', 'zb', 'rs'];
  const f = localFrame(P);
  const L = (n: string) => f.get(n);
  const kb0 = f.add('kb0', 'i32');
  const klen = f.add('klen', 'i32');
  const cmode = f.add('cmode', 'i32');
  const p0 = f.add('p0', 'i32');
  const npanels = f.add('npanels', 'i32');
  const ncols = f.add('ncols', 'i32');
  const r0 = f.add('r0', 'i32');
  const mr = f.add('mr', 'i32');
  const pstride = f.add('pstride', 'i32');
  const aStepLog2 = isInt(kind) ? 1 : 2;
  const min = (x: number[], y: number[]) => code(x, y, x, y, op.i32LtS(), op.select());

  const args = code(
    // a + r0·lda + kb0·aStep
    op.localGet(L('a')), op.localGet(r0), op.localGet(L('lda')), op.i32Mul(), op.i32Add(), op.localGet(kb0), op.i32Const(aStepLog2), op.i32Shl(), op.i32Add(),
    op.localGet(L('lda')),
    // b + p0·pstride + kb0·32
    op.localGet(L('b')), op.localGet(p0), op.localGet(pstride), op.i32Mul(), op.i32Add(), op.localGet(kb0), op.i32Const(5), op.i32Shl(), op.i32Add(),
    op.localGet(pstride),
    // c + r0·ldc + p0·32
    op.localGet(L('c')), op.localGet(r0), op.localGet(L('ldc')), op.i32Mul(), op.i32Add(), op.localGet(p0), op.i32Const(5), op.i32Shl(), op.i32Add(),
    op.localGet(L('ldc')),
    op.localGet(ncols), op.localGet(klen), op.localGet(cmode),
    op.localGet(L('bias')), op.localGet(p0), op.i32Const(5), op.i32Shl(), op.i32Add(),
    op.localGet(L('scratch')),
    op.localGet(L('zb')), op.localGet(p0), op.i32Const(5), op.i32Shl(), op.i32Add(),
    op.localGet(L('rs')), op.localGet(r0), op.i32Const(2), op.i32Shl(), op.i32Add(),
  );
  const dispatch = code(
    op.localGet(mr), op.i32Const(4), op.i32Eq(), op.if(), args, op.call(rowBlockIndex(4)), op.else(),
    op.localGet(mr), op.i32Const(3), op.i32Eq(), op.if(), args, op.call(rowBlockIndex(3)), op.else(),
    op.localGet(mr), op.i32Const(2), op.i32Eq(), op.if(), args, op.call(rowBlockIndex(2)), op.else(),
    args, op.call(rowBlockIndex(1)),
    op.end(), op.end(), op.end(),
  );
  const body = code(
    op.localGet(L('ksteps')), op.i32Const(5), op.i32Shl(), op.localSet(pstride),
    op.localGet(L('n')), op.i32Const(7), op.i32Add(), op.i32Const(3), op.i32ShrS(), op.localSet(npanels),
    op.i32Const(0), op.localSet(kb0),
    op.loop(), // K blocks
    min(op.localGet(L('kc')), code(op.localGet(L('ksteps')), op.localGet(kb0), op.i32Sub())), op.localSet(klen),
    op.localGet(L('mode')), op.i32Const(1), op.localGet(kb0), op.i32Eqz(), op.select(), op.localSet(cmode),
    op.i32Const(0), op.localSet(p0),
    op.loop(), // N blocks
    min(
      code(op.localGet(L('nc')), op.i32Const(3), op.i32Shl()),
      code(op.localGet(L('n')), op.localGet(p0), op.i32Const(3), op.i32Shl(), op.i32Sub()),
    ), op.localSet(ncols),
    op.i32Const(0), op.localSet(r0),
    op.loop(), // row blocks
    min(op.i32Const(GEMM_MR), code(op.localGet(L('m')), op.localGet(r0), op.i32Sub())), op.localSet(mr),
    dispatch,
    op.localGet(r0), op.i32Const(GEMM_MR), op.i32Add(), op.localTee(r0), op.localGet(L('m')), op.i32LtS(), op.brIf(0),
    op.end(),
    op.localGet(p0), op.localGet(L('nc')), op.i32Add(), op.localTee(p0), op.localGet(npanels), op.i32LtS(), op.brIf(0),
    op.end(),
    op.localGet(kb0), op.localGet(L('kc')), op.i32Add(), op.localTee(kb0), op.localGet(L('ksteps')), op.i32LtS(), op.brIf(0),
    op.end(),
  );
  return { exportName: 'gemm', params: P.map(() => 'i32' as const), results: [], locals: f.locals, body };
}

/** `gemm_list(list, count)`: run `count` gemm calls whose 15 i32 arguments are stored at list + 60·i. */
function gemmListFunc(gemmIndex: number): WasmFunc {
  const i = 2;
  const p = 3;
  const body = code(
    op.i32Const(0), op.localSet(i),
    op.block(), op.loop(),
    op.localGet(i), op.localGet(1), op.i32GeS(), op.brIf(1),
    op.localGet(0), op.localGet(i), op.i32Const(GEMM_CALL_WORDS * 4), op.i32Mul(), op.i32Add(), op.localSet(p),
    Array.from({ length: GEMM_CALL_WORDS }, (_, j) => code(op.localGet(p), op.i32Load(j * 4))),
    op.call(gemmIndex),
    op.localGet(i), op.i32Const(1), op.i32Add(), op.localSet(i),
    op.br(0),
    op.end(), op.end(),
  );
  return { exportName: 'gemm_list', params: ['i32', 'i32'], results: [], locals: ['i32', 'i32'], body };
}

/**
 * Emit the GEMM module of one kind: functions 0..3 are the row-block kernels for MR = 4, 3, 2, 1;
 * function 4 is the exported `gemm` loop nest, function 5 the exported `gemm_list` (a list of gemm calls). The memory is imported as `env.memory`, shared.
 * @source PERFORMANCE.md "Recommendation" (4×8 f32x4 tile, A in place, B prepacked k-major NR=8)
 * @equation C[i, j] (+)= Σ_k A[i, k]·B[k, j]   (int: + bias[j] − zb[j]·rs[i])
 * @deviation f32: float32 products and sums (no FMA), summation order k ascending within each K block
 * @precision f32: fp32-accumulate; int kinds: exact (int32, no overflow for K ≤ 32768)
 */
export function emitGemmModule(kind: GemmKind, memoryPages: { min: number; max: number }): Uint8Array {
  const mrs = [4, 3, 2, 1];
  const rowBlocks = mrs.map((mr) => rowBlockFunc(kind, mr));
  const gemm = gemmFunc(kind, (mr) => mrs.indexOf(mr));
  return assembleModule({
    memory: { module: 'env', name: 'memory', minPages: memoryPages.min, maxPages: memoryPages.max, shared: true },
    functions: [...rowBlocks, gemm, gemmListFunc(rowBlocks.length)],
  });
}
