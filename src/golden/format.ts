/**
 * The golden-vector format "ahcq-golden/1" (docs/formats/golden-vectors.md): types of a case and of
 * its tensors, and the byte encodings of each tensor (.npy, raw .bin, $readmemh .hex, 4-bit packed).
 *
 * Storage dtype of a tensor follows from its logical element type: float32 → `float32`;
 * unsigned integers of ≤ 8 bits (codes) → `uint8`; every other integer → `int32`. All multi-byte
 * values are little-endian; tensors are row-major (C order).
 */
import { specRequire, type Tensor, type DType } from '../tensor';
import { encodeNpy } from '../io/npy';
import type { Json, JsonObject } from './json';
import type { Rng } from '../tensor';
import { crc32Hex } from './crc32';

// CONSTANTS

export const GOLDEN_SCHEMA = 'ahcq-golden/1';
/** Generator version, bumped whenever a case's bytes change on purpose. */
export const GOLDEN_GENERATOR_VERSION = '1.0.0';
export const GOLDEN_TOOL = 'ahcq golden (src/golden/writer.ts)';
export const PACKING_RULE = 'unsigned codes of ≤ 4 bits: two per byte, element 0 in the low nibble (bits 3..0), element 1 in the high nibble; an odd count leaves the last high nibble 0';
/** Default array geometry recorded for the hardware model (R × C output-stationary PEs). */
export const DEFAULT_ARCH = { R: 8, C: 8 } as const;

// TYPES

export type GoldenOp = 'gemm_uniform' | 'gemm_cag' | 'gemm_hluq' | 'requant' | 'encode' | 'lnq_attention' | 'gelu_hluq' | 'tinyvit_block';

/** A named tensor with its logical element type. Integer tensors hold Int32Array data. */
export interface GoldenTensor {
  readonly name: string;
  readonly tensor: Tensor<'int32'> | Tensor<'float32'>;
  /** Logical width: code bits (≤ 8, unsigned), 32 for int32 accumulators and float32. */
  readonly bits: number;
  readonly signed: boolean;
}

/** The data a case generates: inputs and integer/bit-pattern parameters (everything a SUT needs). */
export interface GoldenCaseData {
  readonly inputs: readonly GoldenTensor[];
  readonly params: JsonObject;
}

/** One catalogue entry (the same definition feeds the writer, the CLI and spec/golden). */
export interface GoldenCase {
  /** `<component>/<case>`; the directory is fixtures/golden/<suite>/<id>. */
  readonly id: string;
  readonly suite: string;
  readonly op: GoldenOp;
  readonly citation: string;
  readonly seed: number;
  readonly notes?: string;
  readonly make: (rng: Rng) => GoldenCaseData;
  readonly run: (inputs: ReadonlyMap<string, GoldenTensor>, params: JsonObject) => readonly GoldenTensor[];
}

/** Tensor entry of desc.json. */
export interface TensorDesc {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly bits: number;
  readonly signed: boolean;
  readonly npy: string;
  readonly bin: string;
  readonly hex: string;
  readonly packed: string | null;
  readonly crc32: string;
}

// MAIN

/** Storage dtype of a logical tensor. */
export function storageDtype(t: GoldenTensor): DType {
  if (t.tensor.dtype === 'float32') return 'float32';
  return !t.signed && t.bits <= 8 ? 'uint8' : 'int32';
}

/**
 * The tensor in its storage dtype, range-checked against its logical type.
 * @equation codes: 0 ≤ v < 2^bits;  int32: −2^31 ≤ v < 2^31
 * @precision exact
 */
export function storageTensor(t: GoldenTensor): Tensor<DType> {
  const fn = 'storageTensor';
  const dt = storageDtype(t);
  specRequire(/^[a-z][a-z0-9_]*$/.test(t.name), { fn, what: 'name', rule: 'match [a-z][a-z0-9_]*', got: t.name });
  specRequire(t.tensor.data.length > 0, { fn, what: `${t.name}.shape`, rule: 'be non-empty', got: t.tensor.shape });
  if (dt === 'float32') return t.tensor;
  const lo = t.signed ? -(2 ** (t.bits - 1)) : 0, hi = t.signed ? 2 ** (t.bits - 1) - 1 : 2 ** t.bits - 1;
  for (let i = 0; i < t.tensor.data.length; i++) {
    const v = t.tensor.data[i]!;
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) specRequire(false, { fn, what: `${t.name}[${i}]`, rule: `be an integer in [${lo}, ${hi}] (${t.bits}-bit ${t.signed ? 'signed' : 'unsigned'})`, got: v });
  }
  return dt === 'uint8' ? { dtype: 'uint8', shape: t.tensor.shape, data: Uint8Array.from(t.tensor.data) } : { dtype: 'int32', shape: t.tensor.shape, data: Int32Array.from(t.tensor.data) };
}

/** Raw little-endian bytes of a storage tensor (the .bin mirror; also what CRC-32 covers). */
export function rawBytes(t: Tensor<DType>): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
}

/** Number of hex digits per element in the .hex mirror: ⌈bits/4⌉ (8 for int32 and float32 bit patterns). */
export function hexDigits(t: GoldenTensor): number {
  return Math.ceil(t.bits / 4);
}

/**
 * `$readmemh` text: one element per line, two's complement (integers) or IEEE bit pattern (float32),
 * ⌈bits/4⌉ lower-case hex digits, no address markers, '\n' line ends.
 * @equation line_i = hex(v_i mod 2^(4·digits))
 * @precision exact
 */
export function hexText(t: GoldenTensor): string {
  const digits = hexDigits(t);
  const st = storageTensor(t);
  const lines: string[] = new Array(st.data.length);
  const u32 = st.dtype === 'float32' ? new Uint32Array((st.data as Float32Array).slice().buffer) : null;
  const mod = 2 ** (4 * digits);
  for (let i = 0; i < st.data.length; i++) {
    const v = u32 ? u32[i]! : ((st.data[i]! % mod) + mod) % mod;
    lines[i] = v.toString(16).padStart(digits, '0');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Pack unsigned ≤ 4-bit codes two per byte, element 0 in the low nibble.
 * @equation byte_j = c_{2j} | (c_{2j+1} ≪ 4)
 * @precision exact
 */
export function packNibbles(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    specRequire(Number.isInteger(c) && c >= 0 && c < 16, { fn: 'packNibbles', what: `codes[${i}]`, rule: 'be an integer in [0, 15]', got: c });
    out[i >> 1] = out[i >> 1]! | (c << ((i & 1) * 4));
  }
  return out;
}

/** Inverse of `packNibbles` for `n` elements. */
export function unpackNibbles(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf;
  return out;
}

/** True when a tensor also gets a 4-bit packed mirror. */
export function isPacked(t: GoldenTensor): boolean {
  return t.tensor.dtype === 'int32' && !t.signed && t.bits <= 4;
}

/** All files of one tensor: name → bytes, plus its desc entry. */
export function tensorFiles(t: GoldenTensor): { files: [string, Uint8Array | string][]; desc: TensorDesc } {
  const st = storageTensor(t);
  const raw = rawBytes(st);
  const files: [string, Uint8Array | string][] = [
    [`${t.name}.npy`, encodeNpy(st)],
    [`${t.name}.bin`, raw],
    [`${t.name}.hex`, hexText(t)],
  ];
  const packed = isPacked(t) ? `${t.name}.packed.bin` : null;
  if (packed) files.push([packed, packNibbles(st.data)]);
  return {
    files,
    desc: { name: t.name, dtype: st.dtype, shape: [...st.shape], bits: t.bits, signed: t.signed, npy: `${t.name}.npy`, bin: `${t.name}.bin`, hex: `${t.name}.hex`, packed, crc32: crc32Hex(raw) },
  };
}

/** Float32 bit pattern as "0x" + 8 hex digits (how desc.json stores float constants and thresholds). */
export function f32Hex(x: number): string {
  const u = new Uint32Array(Float32Array.of(x).buffer)[0]!;
  return `0x${u.toString(16).padStart(8, '0')}`;
}

/** Inverse of `f32Hex`. */
export function hexF32(s: string): number {
  specRequire(/^0x[0-9a-f]{8}$/.test(s), { fn: 'hexF32', what: 'value', rule: 'be "0x" + 8 lower-case hex digits', got: s });
  return new Float32Array(Uint32Array.of(Number.parseInt(s.slice(2), 16)).buffer)[0]!;
}

/** A desc.json tensor entry as JSON. */
export function tensorDescJson(d: TensorDesc): Json {
  return { ...d, shape: [...d.shape] };
}
