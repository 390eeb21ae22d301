/**
 * safetensors: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * `{"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …, "__metadata__": {str: str}}`,
 * then the raw little-endian tensor bytes; offsets are relative to the start of that byte buffer.
 *
 * Decisions (strict, as the reference Rust implementation validates; all failures are FormatError):
 * - N ≤ 100,000,000 and 8 + N ≤ file length; the header must be a JSON object (first byte '{',
 *   trailing spaces allowed); every tensor entry has exactly the fields dtype/shape/data_offsets with
 *   non-negative safe-integer shape entries and offsets; `__metadata__` (optional) maps str → str.
 * - The byte ranges, sorted by begin, must tile the buffer exactly: the first starts at 0, each next
 *   begins where the previous ended (no gap, no overlap), and the last ends at the buffer's end;
 *   end − begin = numel(shape) × item size.
 * - dtypes read: F64 → float64, F32 → float32, F16/BF16 → float32 (exact widening), I64 → float64
 *   (FormatError for |v| > 2^53, which float64 cannot hold exactly), I32 → int32, I16 → int16,
 *   I8 → int8, U8 → uint8, BOOL → uint8 (values must be 0/1). Other dtypes → FormatError.
 *   Duplicate names cannot be detected after JSON.parse (the last one wins).
 * - Writing: float64/float32/int32/int16/int8/uint8 → F64/F32/I32/I16/I8/U8; tensors are laid out in
 *   record order; the header lists `__metadata__` first (when given) then the tensors in record order,
 *   and is padded with spaces to a multiple of 8 bytes so the data is 8-byte aligned.
 *
 * @source safetensors@v0.4 (huggingface/safetensors) README "Format" and safetensors/src/tensor.rs#validate
 */
import { FormatError, numel, type ArrayFor, type DType, type Tensor } from '../tensor';

// TYPES

/** A parsed safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in data-offset order. */
  readonly tensors: Record<string, Tensor<DType>>;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Record<string, string>;
}

// HELPERS

const MAX_HEADER = 100_000_000;

const ITEM: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const WRITE: Record<DType, string> = { float64: 'F64', float32: 'F32', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8' };

/**
 * IEEE 754 binary16 bit pattern → its exact value.
 *
 * @source IEEE 754-2019 §3.4 (binary16: 1 sign, 5 exponent, 10 fraction bits, bias 15)
 * @deviation none
 * @precision exact
 */
export function float16BitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24; // subnormal (and ±0)
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * bfloat16 bit pattern (the upper 16 bits of a binary32) → its exact value.
 *
 * @source Google Brain bfloat16 (binary32 with the low 16 fraction bits dropped)
 * @deviation none
 * @precision exact
 */
export function bfloat16BitsToNumber(b: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, (b & 0xffff) << 16, false);
  return dv.getFloat32(0, false);
}

function isSafeNat(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

// MAIN

/**
 * Parse and strictly validate a safetensors file; malformed input throws `FormatError` naming `source`.
 *
 * @source safetensors@v0.4 safetensors/src/tensor.rs#validate
 * @deviation duplicate JSON keys are not detected (last wins); see the file header for dtype rules
 * @precision exact (half/bfloat16 widen exactly; I64 beyond 2^53 is rejected)
 */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  if (bytes.length < 8) throw new FormatError(source, `safetensors: file has ${bytes.length} bytes, needs ≥ 8 for the header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) throw new FormatError(source, `safetensors: header length ${n64} exceeds ${MAX_HEADER}`);
  const n = Number(n64);
  if (8 + n > bytes.length) throw new FormatError(source, `safetensors: header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  if (n < 2 || bytes[8] !== 0x7b) throw new FormatError(source, "safetensors: header must be a JSON object starting with '{'");
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new FormatError(source, `safetensors: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new FormatError(source, 'safetensors: header is not a JSON object');
  const bufStart = 8 + n;
  const bufLen = bytes.length - bufStart;
  const metadata: Record<string, string> = {};
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(source, 'safetensors: __metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw new FormatError(source, `safetensors: __metadata__['${k}'] must be a string`);
        metadata[k] = s;
      }
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(source, `safetensors: entry '${name}' is not an object`);
    const e = v as Record<string, unknown>;
    const keys = Object.keys(e).sort().join(',');
    if (keys !== 'data_offsets,dtype,shape') throw new FormatError(source, `safetensors: entry '${name}' must have exactly dtype, shape, data_offsets (got ${keys})`);
    const { dtype, shape, data_offsets: off } = e as { dtype: unknown; shape: unknown; data_offsets: unknown };
    if (typeof dtype !== 'string' || !(dtype in ITEM)) throw new FormatError(source, `safetensors: entry '${name}' has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isSafeNat)) throw new FormatError(source, `safetensors: entry '${name}' shape must be a list of non-negative integers`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isSafeNat) || off[0] > off[1]) {
      throw new FormatError(source, `safetensors: entry '${name}' data_offsets must be [begin, end] with 0 ≤ begin ≤ end`);
    }
    const need = numel(shape) * ITEM[dtype]!;
    if (!Number.isSafeInteger(need) || off[1] - off[0] !== need) {
      throw new FormatError(source, `safetensors: entry '${name}' spans ${off[1] - off[0]} bytes, ${dtype} [${shape}] needs ${need}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: off[0], end: off[1] });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expect = 0;
  for (const e of entries) {
    if (e.begin !== expect) {
      throw new FormatError(source, `safetensors: entry '${e.name}' begins at ${e.begin}, expected ${expect} (${e.begin < expect ? 'overlap' : 'gap'})`);
    }
    expect = e.end;
  }
  if (expect !== bufLen) throw new FormatError(source, `safetensors: tensors cover ${expect} bytes but the data buffer has ${bufLen}`);
  const tensors: Record<string, Tensor<DType>> = {};
  for (const e of entries) {
    const count = numel(e.shape);
    const p = bufStart + e.begin;
    const at = (fn: (i: number) => number, out: ArrayFor<DType>): ArrayFor<DType> => {
      for (let i = 0; i < count; i++) out[i] = fn(i);
      return out;
    };
    let t: Tensor<DType>;
    switch (e.dtype) {
      case 'F64': t = { dtype: 'float64', shape: e.shape, data: at((i) => dv.getFloat64(p + 8 * i, true), new Float64Array(count)) }; break;
      case 'F32': t = { dtype: 'float32', shape: e.shape, data: at((i) => dv.getFloat32(p + 4 * i, true), new Float32Array(count)) }; break;
      case 'F16': t = { dtype: 'float32', shape: e.shape, data: at((i) => float16BitsToNumber(dv.getUint16(p + 2 * i, true)), new Float32Array(count)) }; break;
      case 'BF16': t = { dtype: 'float32', shape: e.shape, data: at((i) => bfloat16BitsToNumber(dv.getUint16(p + 2 * i, true)), new Float32Array(count)) }; break;
      case 'I64':
        t = {
          dtype: 'float64',
          shape: e.shape,
          data: at((i) => {
            const v = dv.getBigInt64(p + 8 * i, true);
            if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(source, `safetensors: '${e.name}'[${i}] = ${v} is not exactly representable (|v| > 2^53)`);
            return Number(v);
          }, new Float64Array(count)),
        };
        break;
      case 'I32': t = { dtype: 'int32', shape: e.shape, data: at((i) => dv.getInt32(p + 4 * i, true), new Int32Array(count)) }; break;
      case 'I16': t = { dtype: 'int16', shape: e.shape, data: at((i) => dv.getInt16(p + 2 * i, true), new Int16Array(count)) }; break;
      case 'I8': t = { dtype: 'int8', shape: e.shape, data: at((i) => dv.getInt8(p + i), new Int8Array(count)) }; break;
      case 'U8': t = { dtype: 'uint8', shape: e.shape, data: at((i) => dv.getUint8(p + i), new Uint8Array(count)) }; break;
      default: // BOOL
        t = {
          dtype: 'uint8',
          shape: e.shape,
          data: at((i) => {
            const b = dv.getUint8(p + i);
            if (b > 1) throw new FormatError(source, `safetensors: BOOL '${e.name}'[${i}] = ${b} is not 0 or 1`);
            return b;
          }, new Uint8Array(count)),
        };
    }
    tensors[e.name] = t;
  }
  return { tensors, metadata };
}

/**
 * Encode tensors (record order) and optional string metadata as a safetensors file.
 *
 * @source safetensors@v0.4 README "Format"
 * @deviation tensors keep record order (the Rust writer sorts by dtype alignment, then name)
 * @precision exact
 */
export function encodeSafetensors(record: Readonly<Record<string, Tensor<DType>>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = { ...metadata };
  let offset = 0;
  const parts: { t: Tensor<DType>; at: number; bytes: number }[] = [];
  for (const [name, t] of Object.entries(record)) {
    if (name === '__metadata__') throw new FormatError('encodeSafetensors', "tensor name '__metadata__' is reserved");
    const dt = WRITE[t.dtype];
    if (!dt) throw new FormatError('encodeSafetensors', `tensor '${name}' has unsupported dtype ${t.dtype}`);
    if (t.data.length !== numel(t.shape)) throw new FormatError('encodeSafetensors', `tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = t.data.length * ITEM[dt]!;
    header[name] = { dtype: dt, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    parts.push({ t, at: offset, bytes });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let jb = enc.encode(json);
  const pad = (8 - (jb.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    jb = enc.encode(json);
  }
  const out = new Uint8Array(8 + jb.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(jb.length), true);
  out.set(jb, 8);
  const base = 8 + jb.length;
  for (const { t, at } of parts) {
    const p = base + at;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      switch (t.dtype) {
        case 'float64': dv.setFloat64(p + 8 * i, d[i]!, true); break;
        case 'float32': dv.setFloat32(p + 4 * i, d[i]!, true); break;
        case 'int32': dv.setInt32(p + 4 * i, d[i]!, true); break;
        case 'int16': dv.setInt16(p + 2 * i, d[i]!, true); break;
        case 'int8': dv.setInt8(p + i, d[i]!); break;
        default: dv.setUint8(p + i, d[i]!);
      }
    }
  }
  return out;
}
