/**
 * Golden-vector reader and validator (the TypeScript SUT). `readGoldenCase` checks desc.json against
 * the schema and every tensor file against desc.json (dtype, shape, .bin mirror, CRC-32, .hex mirror,
 * 4-bit packing), throwing `FormatError` that names the file and the field. `verifyGoldenCase`
 * recomputes the outputs from the inputs and params and compares them bit for bit.
 */
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { FormatError, type Tensor, type DType } from '../tensor';
import { readFileOrThrow } from '../io/fs';
import { parseNpy } from '../io/npy';
import { crc32Hex } from './crc32';
import { GOLDEN_SCHEMA, rawBytes, hexText, packNibbles, isPacked, type GoldenOp, type GoldenTensor, type TensorDesc } from './format';
import type { Json, JsonObject } from './json';
import { runGoldenOp } from './ops';

// TYPES

export interface GoldenDesc {
  readonly schema: string;
  readonly id: string;
  readonly suite: string;
  readonly op: GoldenOp;
  readonly arch: { readonly R: number; readonly C: number };
  readonly inputs: readonly TensorDesc[];
  readonly outputs: readonly TensorDesc[];
  readonly params: JsonObject;
  readonly expected: { readonly cycles: Json; readonly crc32: { readonly [name: string]: string } };
  readonly generator: { readonly tool: string; readonly version: string; readonly seed: number };
}

export interface GoldenCaseRead {
  readonly dir: string;
  readonly desc: GoldenDesc;
  readonly inputs: ReadonlyMap<string, GoldenTensor>;
  readonly outputs: ReadonlyMap<string, GoldenTensor>;
}

/** One difference between recomputed and stored outputs. */
export interface GoldenMismatch {
  readonly output: string;
  readonly index: number;
  readonly expected: number;
  readonly got: number;
}

// CONSTANTS

const OPS: readonly GoldenOp[] = ['gemm_uniform', 'gemm_cag', 'gemm_hluq', 'requant', 'encode', 'lnq_attention', 'gelu_hluq', 'tinyvit_block'];
const DTYPES: readonly DType[] = ['uint8', 'int32', 'float32'];

// HELPERS

function obj(v: Json | undefined, src: string, field: string): JsonObject {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(src, `${field} must be an object`);
  return v as JsonObject;
}
function str(o: JsonObject, k: string, src: string, field: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new FormatError(src, `${field}.${k} must be a string (got ${JSON.stringify(v)})`);
  return v;
}
function int(o: JsonObject, k: string, src: string, field: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new FormatError(src, `${field}.${k} must be an integer (got ${JSON.stringify(v)})`);
  return v;
}

function tensorDesc(v: Json, src: string, field: string): TensorDesc {
  const o = obj(v, src, field);
  const name = str(o, 'name', src, field);
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new FormatError(src, `${field}.name must match [a-z][a-z0-9_]* (got ${JSON.stringify(name)})`);
  const dtype = str(o, 'dtype', src, field) as DType;
  if (!DTYPES.includes(dtype)) throw new FormatError(src, `${field}.dtype must be one of ${DTYPES.join(', ')} (got ${JSON.stringify(dtype)})`);
  const shape = o['shape'];
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 1)) {
    throw new FormatError(src, `${field}.shape must be a non-empty array of positive integers (got ${JSON.stringify(shape)})`);
  }
  const bits = int(o, 'bits', src, field);
  if (bits < 1 || bits > 32) throw new FormatError(src, `${field}.bits must be in [1, 32] (got ${bits})`);
  if (typeof o['signed'] !== 'boolean') throw new FormatError(src, `${field}.signed must be a boolean`);
  const crc = str(o, 'crc32', src, field);
  if (!/^0x[0-9a-f]{8}$/.test(crc)) throw new FormatError(src, `${field}.crc32 must be "0x" + 8 lower-case hex digits (got ${JSON.stringify(crc)})`);
  const packed = o['packed'];
  if (packed !== null && typeof packed !== 'string') throw new FormatError(src, `${field}.packed must be a file name or null`);
  const files = ['npy', 'bin', 'hex'].map((k) => str(o, k, src, field));
  for (const f of [...files, ...(packed ? [packed] : [])]) if (f.includes('/') || f.includes('\\') || f.startsWith('.')) throw new FormatError(src, `${field} file name ${JSON.stringify(f)} must be a plain file name inside the case directory`);
  return { name, dtype, shape: shape as number[], bits, signed: o['signed'] as boolean, npy: files[0]!, bin: files[1]!, hex: files[2]!, packed: packed as string | null, crc32: crc };
}

/** Parse and validate desc.json (schema version, fields, types). */
export function parseGoldenDesc(text: string, src: string): GoldenDesc {
  let raw: Json;
  try {
    raw = JSON.parse(text) as Json;
  } catch (e) {
    throw new FormatError(src, `not valid JSON (${(e as Error).message})`);
  }
  const o = obj(raw, src, 'desc');
  const schema = o['schema'];
  if (schema !== GOLDEN_SCHEMA) throw new FormatError(src, `schema must be "${GOLDEN_SCHEMA}" (got ${JSON.stringify(schema)}); this reader supports only that version`);
  const op = str(o, 'op', src, 'desc') as GoldenOp;
  if (!OPS.includes(op)) throw new FormatError(src, `op must be one of ${OPS.join(', ')} (got ${JSON.stringify(op)})`);
  const arch = obj(o['arch'], src, 'arch');
  const list = (k: 'inputs' | 'outputs'): TensorDesc[] => {
    const a = o[k];
    if (!Array.isArray(a) || a.length === 0) throw new FormatError(src, `${k} must be a non-empty array`);
    return a.map((t, i) => tensorDesc(t, src, `${k}[${i}]`));
  };
  const inputs = list('inputs'), outputs = list('outputs');
  const expected = obj(o['expected'], src, 'expected');
  const crc = obj(expected['crc32'], src, 'expected.crc32');
  for (const t of outputs) if (crc[t.name] !== t.crc32) throw new FormatError(src, `expected.crc32.${t.name} must equal outputs[].crc32 ${t.crc32} (got ${JSON.stringify(crc[t.name])})`);
  if (!('cycles' in expected)) throw new FormatError(src, 'expected.cycles is missing (null until the hardware model fills it)');
  const gen = obj(o['generator'], src, 'generator');
  return {
    schema: GOLDEN_SCHEMA, id: str(o, 'id', src, 'desc'), suite: str(o, 'suite', src, 'desc'), op,
    arch: { R: int(arch, 'R', src, 'arch'), C: int(arch, 'C', src, 'arch') },
    inputs, outputs, params: obj(o['params'], src, 'params'),
    expected: { cycles: expected['cycles']!, crc32: crc as { [k: string]: string } },
    generator: { tool: str(gen, 'tool', src, 'generator'), version: str(gen, 'version', src, 'generator'), seed: int(gen, 'seed', src, 'generator') },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function loadTensor(dir: string, d: TensorDesc, field: string): GoldenTensor {
  const npyPath = join(dir, d.npy);
  const t = parseNpy(readFileOrThrow(npyPath, `${field} .npy`), npyPath);
  if (t.dtype !== d.dtype) throw new FormatError(npyPath, `dtype ${t.dtype} disagrees with desc.json ${field}.dtype ${d.dtype}`);
  if (t.shape.length !== d.shape.length || t.shape.some((s, i) => s !== d.shape[i])) throw new FormatError(npyPath, `shape [${t.shape}] disagrees with desc.json ${field}.shape [${d.shape}]`);
  const raw = rawBytes(t);
  const binPath = join(dir, d.bin);
  const bin = readFileOrThrow(binPath, `${field} .bin`);
  const at = sameBytes(bin, raw);
  if (at >= 0) throw new FormatError(binPath, bin.length !== raw.length ? `length ${bin.length} bytes disagrees with ${field} (${raw.length} bytes from shape and dtype)` : `byte ${at} differs from ${d.npy}`);
  const crc = crc32Hex(bin);
  if (crc !== d.crc32) throw new FormatError(binPath, `CRC32 ${crc} does not match desc.json ${field}.crc32 ${d.crc32}`);
  const g: GoldenTensor = {
    name: d.name, bits: d.bits, signed: d.signed,
    tensor: t.dtype === 'float32' ? (t as Tensor<'float32'>) : { dtype: 'int32', shape: t.shape, data: Int32Array.from(t.data as ArrayLike<number>) },
  };
  const hexPath = join(dir, d.hex);
  if (new TextDecoder().decode(readFileOrThrow(hexPath, `${field} .hex`)) !== hexText(g)) throw new FormatError(hexPath, `contents disagree with ${d.npy} (one ⌈bits/4⌉-digit element per line expected)`);
  if ((d.packed !== null) !== isPacked(g)) throw new FormatError(join(dir, 'desc.json'), `${field}.packed must be ${isPacked(g) ? 'a file name (unsigned ≤ 4-bit codes)' : 'null'}`);
  if (d.packed !== null) {
    const pPath = join(dir, d.packed);
    if (sameBytes(readFileOrThrow(pPath, `${field} packed`), packNibbles(g.tensor.data)) >= 0) throw new FormatError(pPath, `does not match ${d.npy} packed two codes per byte, element 0 in the low nibble`);
  }
  return g;
}

// MAIN

/**
 * Read and validate one case directory.
 * @equation every tensor: npy.dtype/shape = desc; bin = raw(npy); crc32(bin) = desc.crc32; hex = hexText(npy); packed = pack(npy)
 * @deviation none
 * @precision exact
 */
export function readGoldenCase(dir: string): GoldenCaseRead {
  const descPath = join(dir, 'desc.json');
  const desc = parseGoldenDesc(new TextDecoder().decode(readFileOrThrow(descPath, 'desc.json')), descPath);
  const load = (ds: readonly TensorDesc[], k: string): Map<string, GoldenTensor> => {
    const m = new Map<string, GoldenTensor>();
    ds.forEach((d, i) => {
      if (m.has(d.name)) throw new FormatError(descPath, `${k}[${i}].name ${d.name} is repeated`);
      m.set(d.name, loadTensor(dir, d, `${k}[${i}]`));
    });
    return m;
  };
  return { dir, desc, inputs: load(desc.inputs, 'inputs'), outputs: load(desc.outputs, 'outputs') };
}

/**
 * Recompute a case's outputs from its inputs and params and compare bit for bit (floats by bit pattern).
 * @equation mismatch ⇔ bits(run(inputs, params)[o][i]) ≠ bits(stored[o][i])
 * @precision exact
 */
export function verifyGoldenCase(c: GoldenCaseRead, maxReport = 10): GoldenMismatch[] {
  const descPath = join(c.dir, 'desc.json');
  const got = runGoldenOp(c.desc.op, c.inputs, c.desc.params, descPath);
  const out: GoldenMismatch[] = [];
  for (const [name, want] of c.outputs) {
    const g = got.find((t) => t.name === name);
    if (!g) throw new FormatError(descPath, `outputs: op ${c.desc.op} produces no output named ${name}`);
    if (g.tensor.data.length !== want.tensor.data.length || g.tensor.dtype !== want.tensor.dtype) throw new FormatError(descPath, `outputs.${name}: recomputed ${g.tensor.dtype}[${g.tensor.shape}] vs stored ${want.tensor.dtype}[${want.tensor.shape}]`);
    const a = bitsOf(g.tensor), b = bitsOf(want.tensor);
    for (let i = 0; i < a.length && out.length < maxReport; i++) if (a[i] !== b[i]) out.push({ output: name, index: i, expected: want.tensor.data[i]!, got: g.tensor.data[i]! });
  }
  return out;
}

function bitsOf(t: Tensor<'int32'> | Tensor<'float32'>): ArrayLike<number> {
  return t.dtype === 'float32' ? new Uint32Array(Float32Array.from(t.data).buffer) : t.data;
}

/** Every case directory (one holding a desc.json) under a golden root, sorted by path. */
export function findGoldenCaseDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (existsSync(join(d, 'desc.json'))) { out.push(d); return; }
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) if (e.isDirectory()) walk(join(d, e.name));
  };
  if (!existsSync(root)) throw new FormatError(root, 'golden root does not exist');
  walk(root);
  return out;
}
