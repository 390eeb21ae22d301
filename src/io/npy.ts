/**
 * NumPy `.npy` format, version 1.0 (and 2.0 on read): magic `\x93NUMPY`, a little-endian header
 * length, a Python-literal dict header `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }`
 * padded with spaces to a multiple of 64 bytes and ending in `\n`, then the raw C-order data.
 *
 * @source NumPy NEP 1 "A simple file format for NumPy arrays" (numpy/lib/format.py)
 */
import { FormatError, type Tensor, type DType, type ArrayFor, numel } from '../tensor';

// TYPES

/** Extra dtypes `.npy` can carry that the tensor core does not need (bool reads as uint8). */
const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<i4': 'int32',
  '<i2': 'int16',
  '|i1': 'int8',
  '|u1': 'uint8',
  '|b1': 'uint8',
};
const DTYPE_TO_DESCR: Record<DType, string> = {
  float32: '<f4',
  float64: '<f8',
  int32: '<i4',
  int16: '<i2',
  int8: '|i1',
  uint8: '|u1',
};
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, int16: 2, int8: 1, uint8: 1 };

// MAIN

/** Parse `.npy` bytes. Throws `FormatError` naming `source` on any malformed or unsupported field. */
export function parseNpy(bytes: Uint8Array, source = '<npy>'): Tensor<DType> {
  if (bytes.length < 10) throw new FormatError(source, `truncated .npy (${bytes.length} bytes, need ≥ 10)`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  for (let i = 0; i < 6; i++) if (bytes[i] !== magic[i]) throw new FormatError(source, 'not a .npy file (bad magic)');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let offset: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    offset = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new FormatError(source, 'truncated .npy header');
    headerLen = dv.getUint32(8, true);
    offset = 12;
  } else {
    throw new FormatError(source, `unsupported .npy version ${major}`);
  }
  if (offset + headerLen > bytes.length) throw new FormatError(source, 'truncated .npy header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(offset, offset + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) {
    throw new FormatError(source, `malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') throw new FormatError(source, 'fortran_order=True is not supported (C order only)');
  const dtype = DESCR_TO_DTYPE[descr];
  if (!dtype) throw new FormatError(source, `unsupported dtype descr '${descr}'`);
  const shape = shapeStr
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new FormatError(source, `bad shape entry '${s}'`);
      return n;
    });
  const n = numel(shape);
  const dataStart = offset + headerLen;
  const need = n * BYTES[dtype];
  if (bytes.length - dataStart < need) {
    throw new FormatError(source, `truncated .npy data: ${bytes.length - dataStart} bytes, shape [${shape}] ${descr} needs ${need}`);
  }
  // Copy into an aligned buffer (little-endian host assumed; checked once below).
  const raw = bytes.slice(dataStart, dataStart + need);
  const data = makeArray(dtype, raw.buffer, n);
  return { dtype, shape, data };
}

function makeArray(dtype: DType, buf: ArrayBufferLike, n: number): ArrayFor<DType> {
  switch (dtype) {
    case 'float32': return new Float32Array(buf, 0, n);
    case 'float64': return new Float64Array(buf, 0, n);
    case 'int32': return new Int32Array(buf, 0, n);
    case 'int16': return new Int16Array(buf, 0, n);
    case 'int8': return new Int8Array(buf, 0, n);
    case 'uint8': return new Uint8Array(buf, 0, n);
  }
}

/** Serialise a tensor as `.npy` v1.0 (little-endian, C order). Byte-identical for equal tensors. */
export function encodeNpy(t: Tensor<DType>): Uint8Array {
  const shapeStr = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${DTYPE_TO_DESCR[t.dtype]}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = 10 + header.length + 1;
  const pad = (64 - (total % 64)) % 64;
  header = header + ' '.repeat(pad) + '\n';
  const out = new Uint8Array(10 + header.length + t.data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 10 + header.length);
  return out;
}

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('npy: big-endian hosts are not supported');
}
