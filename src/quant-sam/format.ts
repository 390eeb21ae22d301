/**
 * The quantized-model file (`ahcq-quantized-model`, version 1; docs/formats/quantized-model.md):
 *
 *   bytes 0..7   magic "AHCQQM01"
 *   bytes 8..11  uint32 LE: header length H
 *   bytes 12..   H bytes of UTF-8 JSON (padded with spaces so the blob starts 8-aligned)
 *   then         the blob: every tensor listed in header.tensors at its byte offset (little-endian)
 *
 * The JSON holds the plan, the preset, every activation quantizer's parameters, BIG signs, the ACNR log
 * and a table of tensors (integer weight codes, per-channel scales and zero points, float32 biases) with
 * dtype, shape, offset and length — readable with any JSON parser and a typed-array view.
 */
import { FormatError, type Tensor } from '../tensor';
import { readFileOrThrow, writeFileAtomic } from '../io/fs';
import type { QuantizedModel } from './pipeline';
import type { QuantizedWeight } from './weight-range';
import type { ActParams } from './act-quant';

// TYPES

/** Entry of the tensor table. */
export interface TensorEntry {
  readonly dtype: 'uint8' | 'int32' | 'float32';
  readonly shape: readonly number[];
  readonly offset: number;
  readonly length: number;
}

// CONSTANTS

export const QM_MAGIC = 'AHCQQM01';
export const QM_FORMAT = 'ahcq-quantized-model';
export const QM_VERSION = 1;

// HELPERS

const BYTES = { uint8: 1, int32: 4, float32: 4 } as const;

function bytesOf(a: Uint8Array | Int32Array | Float32Array): Uint8Array {
  const le = new Uint8Array(a.byteLength);
  const dv = new DataView(le.buffer);
  if (a instanceof Uint8Array) le.set(a);
  else if (a instanceof Int32Array) a.forEach((v, i) => dv.setInt32(4 * i, v, true));
  else a.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return le;
}

// MAIN

/**
 * Serialise a quantized model (deterministic: same model → same bytes).
 * @source this project (docs/formats/quantized-model.md)
 * @equation file = magic ‖ u32(H) ‖ JSON ‖ blob
 * @deviation none
 * @precision exact (float32 values stored bit for bit; JSON numbers round-trip float64 exactly)
 */
export function encodeQuantizedModel(qm: QuantizedModel): Uint8Array {
  const tensors: Record<string, TensorEntry> = {};
  const parts: Uint8Array[] = [];
  let off = 0;
  const add = (name: string, dtype: TensorEntry['dtype'], shape: readonly number[], a: Uint8Array | Int32Array | Float32Array): void => {
    const b = bytesOf(a);
    const pad = (8 - (off % 8)) % 8;
    if (pad) parts.push(new Uint8Array(pad));
    off += pad;
    tensors[name] = { dtype, shape: [...shape], offset: off, length: b.length };
    parts.push(b);
    off += b.length;
  };
  for (const l of qm.plan.weights) {
    const e = qm.weights[l.layer]!;
    add(`${l.layer}.codes`, 'uint8', e.q.shape, e.q.codes);
    add(`${l.layer}.scales`, 'float32', [e.q.scales.length], e.q.scales);
    add(`${l.layer}.zero_points`, 'int32', [e.q.zeroPoints.length], e.q.zeroPoints);
    if (e.bias) add(`${l.layer}.bias`, 'float32', e.bias.shape, e.bias.data as Float32Array);
  }
  const header = {
    format: QM_FORMAT,
    version: QM_VERSION,
    model: qm.model,
    method: qm.plan.preset.method,
    bits: qm.plan.preset.bits,
    seed: qm.seed,
    calibImages: qm.calibImages,
    plan: qm.plan,
    acts: qm.acts,
    big: qm.big,
    acnr: qm.acnr,
    tensors,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padH = (8 - ((12 + json.length) % 8)) % 8;
  if (padH) {
    const j = new Uint8Array(json.length + padH).fill(0x20);
    j.set(json);
    json = j;
  }
  const out = new Uint8Array(12 + json.length + off);
  out.set(new TextEncoder().encode(QM_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let p = 12 + json.length;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/**
 * Parse a quantized-model file; `expectModel` (if given) must match the file's model identity.
 * @source this project (docs/formats/quantized-model.md)
 * @equation inverse of encodeQuantizedModel
 * @deviation none
 * @precision exact
 */
export function decodeQuantizedModel(bytes: Uint8Array, source: string, expectModel?: string): QuantizedModel {
  const bad = (msg: string): never => {
    throw new FormatError(source, msg);
  };
  if (bytes.length < 12) bad(`too short for a quantized-model file (${bytes.length} bytes)`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== QM_MAGIC) bad(`not an AHCQ quantized-model file (magic '${magic.replace(/[^\x20-\x7e]/g, '?')}', expected '${QM_MAGIC}')`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const H = dv.getUint32(8, true);
  if (12 + H > bytes.length) bad(`header length ${H} exceeds the file size ${bytes.length}`);
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + H))) as Record<string, unknown>;
  } catch (e) {
    return bad(`header is not valid JSON (${(e as Error).message})`);
  }
  if (h.format !== QM_FORMAT) bad(`header.format must be '${QM_FORMAT}' (got ${JSON.stringify(h.format)})`);
  if (h.version !== QM_VERSION) bad(`format version ${JSON.stringify(h.version)} is not supported (this reader reads version ${QM_VERSION})`);
  if (expectModel !== undefined && h.model !== expectModel) bad(`file was made for model '${String(h.model)}', not '${expectModel}'`);
  const plan = h.plan as QuantizedModel['plan'];
  if (!plan || !Array.isArray(plan.weights) || !Array.isArray(plan.activations)) bad('header.plan is missing or malformed');
  const tensors = (h.tensors ?? {}) as Record<string, TensorEntry>;
  const blob = 12 + H;
  const read = (name: string, dtype: TensorEntry['dtype'], optional = false): { data: Uint8Array | Int32Array | Float32Array; shape: number[] } | null => {
    const e = tensors[name];
    if (!e) return optional ? null : bad(`tensor '${name}' is missing from header.tensors`);
    if (e.dtype !== dtype) bad(`tensor '${name}' must be ${dtype} (got ${String(e.dtype)})`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.length !== n * BYTES[dtype] || blob + e.offset + e.length > bytes.length) {
      bad(`tensor '${name}' (offset ${e.offset}, length ${e.length}, shape [${e.shape.join(',')}]) does not fit the file`);
    }
    const src = bytes.subarray(blob + e.offset, blob + e.offset + e.length);
    if (dtype === 'uint8') return { data: Uint8Array.from(src), shape: [...e.shape] };
    const v = new DataView(src.buffer, src.byteOffset, src.byteLength);
    if (dtype === 'int32') return { data: Int32Array.from({ length: n }, (_, i) => v.getInt32(4 * i, true)), shape: [...e.shape] };
    return { data: Float32Array.from({ length: n }, (_, i) => v.getFloat32(4 * i, true)), shape: [...e.shape] };
  };
  const bits = plan.preset.bits;
  const weights: Record<string, { q: QuantizedWeight; bias: Tensor | null }> = {};
  for (const l of plan.weights) {
    const c = read(`${l.layer}.codes`, 'uint8')!;
    const s = read(`${l.layer}.scales`, 'float32')!;
    const z = read(`${l.layer}.zero_points`, 'int32')!;
    const b = read(`${l.layer}.bias`, 'float32', true);
    const C = c.shape[0]!;
    if (s.data.length !== C || z.data.length !== C) bad(`layer '${l.layer}': ${C} output channels but ${s.data.length} scales / ${z.data.length} zero points`);
    weights[l.layer] = {
      q: { shape: c.shape, bits, codes: c.data as Uint8Array, scales: s.data as Float32Array, zeroPoints: z.data as Int32Array },
      bias: b ? { dtype: 'float32', shape: b.shape, data: b.data as Float32Array } : null,
    };
  }
  const acts = (h.acts ?? {}) as Record<string, ActParams>;
  for (const a of plan.activations) if (!acts[a.site]) bad(`header.acts lacks the parameters of site '${a.site}'`);
  return {
    model: String(h.model),
    plan,
    seed: Number(h.seed),
    acts,
    weights,
    big: (h.big ?? {}) as QuantizedModel['big'],
    acnr: (h.acnr ?? {}) as QuantizedModel['acnr'],
    calibImages: (h.calibImages ?? []) as string[],
  };
}

/**
 * Write a quantized model atomically (temp file + rename).
 * @source this project
 * @deviation none
 * @precision exact
 */
export function saveQuantizedModel(path: string, qm: QuantizedModel): void {
  writeFileAtomic(path, encodeQuantizedModel(qm));
}

/**
 * Read a quantized model; typed FormatError for unreadable, foreign, other-version or other-model files.
 * @source this project
 * @deviation none
 * @precision exact
 */
export function loadQuantizedModel(path: string, expectModel?: string): QuantizedModel {
  return decodeQuantizedModel(readFileOrThrow(path, 'quantized-model file'), path, expectModel);
}
