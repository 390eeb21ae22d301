/**
 * A minimal WebAssembly binary assembler: LEB128, the type/import/function/export/code sections,
 * one imported (optionally shared) linear memory, and the scalar + SIMD128 opcodes the fast
 * kernels need. Instructions are plain byte arrays (`number[]`) composed by concatenation; a
 * module is a plain record assembled by one pure function. No toolchain, no dependency.
 *
 * Legend: `memarg` = (log2 alignment, byte offset); SIMD opcodes are 0xFD followed by a ULEB128
 * sub-opcode; relaxed-SIMD opcodes are only valid where `WebAssembly.validate` accepts them.
 *
 * @source WebAssembly Core Specification 2.0, §5 (binary format), and the SIMD / relaxed-SIMD proposals
 */
import { specRequire } from '../tensor';

// TYPES

/** Value types of the binary format. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

/** One function of a module: signature, extra locals (after the params) and body (no final `end`). */
export interface WasmFunc {
  /** Export name; omitted = internal function. */
  readonly exportName?: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly locals: readonly ValType[];
  readonly body: readonly number[];
}

/** The imported linear memory of a module. */
export interface WasmMemoryImport {
  readonly module: string;
  readonly name: string;
  readonly minPages: number;
  readonly maxPages: number;
  readonly shared: boolean;
}

/** A whole module: an optional imported memory and the functions (index = position). */
export interface WasmModuleSpec {
  readonly memory?: WasmMemoryImport;
  readonly functions: readonly WasmFunc[];
}

// MAIN: LEB128

/**
 * Unsigned LEB128 encoding of a non-negative integer below 2^32.
 * @source WebAssembly Core Spec 2.0 §5.2.2 (integers)
 * @equation n = Σ_i (byte_i & 0x7F)·2^(7i); high bit set on every byte but the last
 * @deviation none
 * @precision exact
 */
export function uleb(n: number): number[] {
  specRequire(Number.isInteger(n) && n >= 0 && n < 2 ** 32, { fn: 'uleb', what: 'n', rule: 'be an integer in [0, 2^32)', got: n });
  const out: number[] = [];
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/**
 * Signed LEB128 encoding of an integer in [−2^31, 2^31) (two's complement, sign-extended).
 * @source WebAssembly Core Spec 2.0 §5.2.2 (integers)
 * @equation n = Σ_i (byte_i & 0x7F)·2^(7i) − s·2^(7·len), s = bit 6 of the last byte
 * @deviation none
 * @precision exact
 */
export function sleb(n: number): number[] {
  specRequire(Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31, { fn: 'sleb', what: 'n', rule: 'be an integer in [-2^31, 2^31)', got: n });
  const out: number[] = [];
  let v = n;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7; // arithmetic shift keeps the sign
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

// MAIN: module layout

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };
const MAGIC_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const SEC = { type: 1, import: 2, function: 3, export: 7, code: 10 } as const;

function utf8Name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: readonly number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function funcType(f: WasmFunc): number[] {
  return [0x60, ...uleb(f.params.length), ...f.params.map((t) => VALTYPE[t]), ...uleb(f.results.length), ...f.results.map((t) => VALTYPE[t])];
}

function codeEntry(f: WasmFunc): number[] {
  // Locals are run-length encoded: (count, type) pairs in order.
  const groups: number[][] = [];
  for (let i = 0; i < f.locals.length; ) {
    let j = i;
    while (j < f.locals.length && f.locals[j] === f.locals[i]) j++;
    groups.push([...uleb(j - i), VALTYPE[f.locals[i]!]]);
    i = j;
  }
  const body = [...vec(groups), ...f.body, 0x0b];
  return [...uleb(body.length), ...body];
}

/**
 * Assemble a module record into WebAssembly binary bytes (types deduplicated, functions exported
 * by name, memory imported as `(import module name (memory min max shared?))`).
 * @source WebAssembly Core Spec 2.0 §5.5 (modules); threads proposal (limits flag 0x03 = shared with max)
 * @equation module = magic ‖ version ‖ type ‖ import ‖ function ‖ export ‖ code sections
 * @deviation none
 * @precision exact
 */
export function assembleModule(spec: WasmModuleSpec): Uint8Array {
  const m = spec.memory;
  if (m) {
    const fn = 'assembleModule';
    specRequire(Number.isInteger(m.minPages) && m.minPages >= 0 && m.minPages <= 65536, { fn, what: 'memory.minPages', rule: 'be an integer in [0, 65536]', got: m.minPages });
    specRequire(Number.isInteger(m.maxPages) && m.maxPages >= m.minPages && m.maxPages <= 65536, { fn, what: 'memory.maxPages', rule: 'be an integer in [minPages, 65536]', got: m.maxPages });
  }
  // type section: one entry per distinct signature
  const typeKeys: string[] = [];
  const typeBytes: number[][] = [];
  const typeIndexOf = spec.functions.map((f) => {
    const bytes = funcType(f);
    const key = bytes.join(',');
    let idx = typeKeys.indexOf(key);
    if (idx < 0) {
      idx = typeKeys.length;
      typeKeys.push(key);
      typeBytes.push(bytes);
    }
    return idx;
  });
  const out: number[] = [...MAGIC_VERSION];
  out.push(...section(SEC.type, vec(typeBytes)));
  if (m) {
    // limits: 0x01 = min+max, 0x03 = min+max shared
    const limits = [m.shared ? 0x03 : 0x01, ...uleb(m.minPages), ...uleb(m.maxPages)];
    out.push(...section(SEC.import, vec([[...utf8Name(m.module), ...utf8Name(m.name), 0x02, ...limits]])));
  }
  out.push(...section(SEC.function, vec(typeIndexOf.map((t) => uleb(t)))));
  const exports = spec.functions.flatMap((f, i) => (f.exportName === undefined ? [] : [[...utf8Name(f.exportName), 0x00, ...uleb(i)]]));
  out.push(...section(SEC.export, vec(exports)));
  out.push(...section(SEC.code, vec(spec.functions.map(codeEntry))));
  return Uint8Array.from(out);
}

// MAIN: instructions (each returns the bytes of one instruction)

/** Block type byte: 0x40 = no result. */
const EMPTY = 0x40;
const simd = (sub: number): number[] => [0xfd, ...uleb(sub)];
const memarg = (alignLog2: number, offset: number): number[] => [...uleb(alignLog2), ...uleb(offset)];

/**
 * The instruction encoders used by the kernel generators: control flow, locals, i32/f32 scalar
 * arithmetic and memory, and SIMD128 (plus two relaxed-SIMD opcodes).
 * @source WebAssembly Core Spec 2.0 §5.4 (instructions); SIMD proposal opcode table; relaxed-SIMD proposal
 * @deviation none
 * @precision exact
 */
export const op = {
  // control
  block: (): number[] => [0x02, EMPTY],
  loop: (): number[] => [0x03, EMPTY],
  if: (): number[] => [0x04, EMPTY],
  else: (): number[] => [0x05],
  end: (): number[] => [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  return: (): number[] => [0x0f],
  call: (funcIndex: number): number[] => [0x10, ...uleb(funcIndex)],
  drop: (): number[] => [0x1a],
  select: (): number[] => [0x1b],
  // locals
  localGet: (i: number): number[] => [0x20, ...uleb(i)],
  localSet: (i: number): number[] => [0x21, ...uleb(i)],
  localTee: (i: number): number[] => [0x22, ...uleb(i)],
  // scalar memory
  i32Load: (offset = 0): number[] => [0x28, ...memarg(2, offset)],
  f32Load: (offset = 0): number[] => [0x2a, ...memarg(2, offset)],
  i32Load8S: (offset = 0): number[] => [0x2c, ...memarg(0, offset)],
  i32Load8U: (offset = 0): number[] => [0x2d, ...memarg(0, offset)],
  i32Load16S: (offset = 0): number[] => [0x2e, ...memarg(1, offset)],
  i32Store: (offset = 0): number[] => [0x36, ...memarg(2, offset)],
  f32Store: (offset = 0): number[] => [0x38, ...memarg(2, offset)],
  i32Store8: (offset = 0): number[] => [0x3a, ...memarg(0, offset)],
  i32Store16: (offset = 0): number[] => [0x3b, ...memarg(1, offset)],
  // constants
  i32Const: (n: number): number[] => [0x41, ...sleb(n | 0)],
  f32Const: (x: number): number[] => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    return [0x43, ...b];
  },
  // i32 compare / arithmetic
  i32Eqz: (): number[] => [0x45],
  i32Eq: (): number[] => [0x46],
  i32Ne: (): number[] => [0x47],
  i32LtS: (): number[] => [0x48],
  i32LtU: (): number[] => [0x49],
  i32GtS: (): number[] => [0x4a],
  i32GtU: (): number[] => [0x4b],
  i32LeS: (): number[] => [0x4c],
  i32GeS: (): number[] => [0x4e],
  i32GeU: (): number[] => [0x4f],
  i32Add: (): number[] => [0x6a],
  i32Sub: (): number[] => [0x6b],
  i32Mul: (): number[] => [0x6c],
  i32And: (): number[] => [0x71],
  i32Or: (): number[] => [0x72],
  i32Shl: (): number[] => [0x74],
  i32ShrS: (): number[] => [0x75],
  i32ShrU: (): number[] => [0x76],
  f64Const: (x: number): number[] => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return [0x44, ...b];
  },
  // f32 / f64 arithmetic and conversions
  f32Sqrt: (): number[] => [0x91],
  f32Div: (): number[] => [0x95],
  f32Min: (): number[] => [0x96],
  f64Sqrt: (): number[] => [0x9f],
  f64Add: (): number[] => [0xa0],
  f64Sub: (): number[] => [0xa1],
  f64Mul: (): number[] => [0xa2],
  f64Div: (): number[] => [0xa3],
  f32DemoteF64: (): number[] => [0xb6],
  f64ConvertI32S: (): number[] => [0xb7],
  f64PromoteF32: (): number[] => [0xbb],
  f32ReinterpretI32: (): number[] => [0xbe],
  f32Add: (): number[] => [0x92],
  f32Sub: (): number[] => [0x93],
  f32Mul: (): number[] => [0x94],
  f32Max: (): number[] => [0x97],
  // SIMD memory
  v128Load: (offset = 0): number[] => [...simd(0x00), ...memarg(4, offset)],
  v128Load16Splat: (offset = 0): number[] => [...simd(0x08), ...memarg(1, offset)],
  v128Load32Splat: (offset = 0): number[] => [...simd(0x09), ...memarg(2, offset)],
  v128Store: (offset = 0): number[] => [...simd(0x0b), ...memarg(4, offset)],
  v128Const0: (): number[] => [...simd(0x0c), ...new Array<number>(16).fill(0)],
  // SIMD lanes
  i32x4Splat: (): number[] => simd(0x11),
  f32x4Splat: (): number[] => simd(0x13),
  f32x4Lt: (): number[] => simd(0x43),
  f32x4Gt: (): number[] => simd(0x44),
  f32x4Le: (): number[] => simd(0x45),
  f32x4Ge: (): number[] => simd(0x46),
  v128And: (): number[] => simd(0x4e),
  v128Bitselect: (): number[] => simd(0x52),
  f32x4Nearest: (): number[] => simd(0x6a),
  i32x4Shl: (): number[] => simd(0xab),
  i32x4TruncSatF32x4S: (): number[] => simd(0xf8),
  f32x4ConvertI32x4S: (): number[] => simd(0xfa),
  i32x4ExtractLane: (lane: number): number[] => [...simd(0x1b), lane],
  f32x4ExtractLane: (lane: number): number[] => [...simd(0x1f), lane],
  // SIMD integer
  i16x8ExtendLowI8x16S: (): number[] => simd(0x87),
  i16x8ExtendLowI8x16U: (): number[] => simd(0x89),
  i32x4Add: (): number[] => simd(0xae),
  i32x4Sub: (): number[] => simd(0xb1),
  i32x4Mul: (): number[] => simd(0xb5),
  i32x4DotI16x8S: (): number[] => simd(0xba),
  // SIMD float
  f32x4Add: (): number[] => simd(0xe4),
  f32x4Sub: (): number[] => simd(0xe5),
  f32x4Mul: (): number[] => simd(0xe6),
  f32x4Max: (): number[] => simd(0xe9),
  f32x4Min: (): number[] => simd(0xe8),
  f32x4Abs: (): number[] => simd(0xe0),
  f32x4Div: (): number[] => simd(0xe7),
  // relaxed SIMD (validate before use)
  f32x4RelaxedMadd: (): number[] => simd(0x105),
  i32x4RelaxedDotI8x16I7x16AddS: (): number[] => simd(0x113),
} as const;

/**
 * A local-variable allocator for one function: parameters (by name) first, then named locals.
 * @source WebAssembly Core Spec 2.0 §2.4.7 (local indices: parameters, then declared locals)
 * @deviation none
 * @precision exact
 */
export function localFrame(params: readonly string[]): { add(name: string, t: ValType): number; get(name: string): number; readonly locals: ValType[] } {
  const names = new Map<string, number>(params.map((p, i) => [p, i]));
  const locals: ValType[] = [];
  return {
    add(name: string, t: ValType): number {
      const idx = params.length + locals.length;
      names.set(name, idx);
      locals.push(t);
      return idx;
    },
    get(name: string): number {
      const i = names.get(name);
      if (i === undefined) throw new Error(`localFrame: unknown local ${name}`);
      return i;
    },
    locals,
  };
}

/**
 * Concatenate instruction byte arrays (nested arrays flatten), so that generators read as code.
 * @source (assembler helper)
 * @deviation none
 * @precision exact
 */
export function code(...parts: (number[] | readonly number[] | (number[] | readonly number[])[])[]): number[] {
  const out: number[] = [];
  for (const p of parts) {
    for (const x of p) {
      if (typeof x === 'number') out.push(x);
      else out.push(...x);
    }
  }
  return out;
}
