/**
 * ONNX model decoding: `ModelProto` bytes → a plain, read-only `OnnxGraph` record of initializers,
 * `Constant` node outputs, nodes (with decoded attributes) and graph inputs/outputs. Nothing here runs
 * the graph; it only exposes what the file holds, so that weight mappers (e.g. sam-decoder-weights.ts)
 * can turn it into official state_dict tensors.
 *
 * Decisions:
 * - Protobuf decoding is delegated to `onnx-proto` (protobufjs 6). Any exception it throws, and any
 *   inconsistency we find afterwards (raw data length ≠ numel × item size, unsupported data type,
 *   external data), becomes a `FormatError` naming `source`.
 * - Tensor dtypes: FLOAT → float32; FLOAT16 and BFLOAT16 → float32 (exact widening); DOUBLE → float64;
 *   INT32 → int32; INT16 → int16; INT8 → int8; UINT8 and BOOL → uint8; INT64, UINT16, UINT32 →
 *   float64. INT64 is widened to float64 because the tensor core has no int64 dtype; the value is exact
 *   for |v| ≤ 2^53 and rounds to nearest otherwise (Slice's INT64_MAX sentinel reads as 2^63). UINT64,
 *   STRING, COMPLEX and external-data tensors are rejected with a FormatError.
 * - Attribute values: FLOAT → number, INT → number (int64 via the same float64 rule), STRING → string
 *   (UTF-8), TENSOR → Tensor, FLOATS/INTS → number[], STRINGS → string[]. GRAPH / SPARSE_TENSOR /
 *   TYPE_PROTO attributes (control-flow subgraphs) are not decoded and are omitted from `attributes`.
 * - Shapes of graph inputs/outputs: `dim_value` → number, `dim_param` → its symbolic name (string),
 *   neither → '?'.
 *
 * @source ONNX onnx/onnx.proto (IR version 8) — ModelProto, GraphProto, NodeProto, TensorProto,
 *   AttributeProto, ValueInfoProto field meanings and TensorProto.DataType numbering.
 */
import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { readFileOrThrow } from '../io/fs';
import { bfloat16BitsToNumber, float16BitsToNumber } from '../io/safetensors';
import { FormatError, numel, type DType, type Tensor } from '../tensor';

// onnx-proto is CommonJS: take the namespace from its default export (works under tsx and vitest).
const onnxRt = onnxProto.onnx;

// TYPES

/** A decoded attribute value (see the file header for the mapping from AttributeProto types). */
export type OnnxAttribute = number | string | number[] | string[] | Tensor<DType>;

/** One graph node, with its attributes decoded. */
export interface OnnxNode {
  readonly name: string;
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, OnnxAttribute>>;
}

/** A graph input or output: its name and its (possibly symbolic) shape. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly shape: readonly (number | string)[];
}

/** The decoded content of an ONNX model file. */
export interface OnnxGraph {
  readonly irVersion: number;
  /** Opset version of the default ('' or 'ai.onnx') domain; 0 when absent. */
  readonly opsetVersion: number;
  readonly producer: string;
  /** Initializers by name, in file order. */
  readonly initializers: ReadonlyMap<string, Tensor<DType>>;
  /** Output name → value tensor of every `Constant` node that carries a `value` attribute. */
  readonly constants: ReadonlyMap<string, Tensor<DType>>;
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

// HELPERS

/** TensorProto.DataType numbering (onnx.proto). */
const DT = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType numbering (onnx.proto). */
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** protobufjs decodes int64 fields as `number` or as a `Long` {low, high, unsigned}. */
type Int64Like = number | { low: number; high: number; unsigned?: boolean };

function int64ToNumber(v: Int64Like): number {
  if (typeof v === 'number') return v;
  const lo = v.low >>> 0;
  const hi = v.unsigned ? v.high >>> 0 : v.high | 0;
  return hi * 4294967296 + lo;
}

const ITEM_BYTES: Record<number, number> = {
  [DT.FLOAT]: 4,
  [DT.UINT8]: 1,
  [DT.INT8]: 1,
  [DT.UINT16]: 2,
  [DT.INT16]: 2,
  [DT.INT32]: 4,
  [DT.INT64]: 8,
  [DT.BOOL]: 1,
  [DT.FLOAT16]: 2,
  [DT.DOUBLE]: 8,
  [DT.UINT32]: 4,
  [DT.BFLOAT16]: 2,
};

/** Decode one TensorProto into a Tensor (see header for the dtype rules). */
function decodeTensor(t: onnx.ITensorProto, source: string, what: string): Tensor<DType> {
  const name = `${what} '${t.name ?? ''}'`;
  if (t.dataLocation === onnxRt.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new FormatError(source, `${name} uses external data, which is not supported`);
  }
  const shape = (t.dims ?? []).map((d) => int64ToNumber(d as Int64Like));
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(source, `${name} has invalid dim ${d}`);
  }
  const n = numel(shape);
  const dt = t.dataType ?? 0;
  const item = ITEM_BYTES[dt];
  if (item === undefined) throw new FormatError(source, `${name} has unsupported data type ${dt}`);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (raw && raw.length !== n * item) {
    throw new FormatError(source, `${name} raw_data has ${raw.length} bytes, shape [${shape}] needs ${n * item}`);
  }
  const dv = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  // Typed-field fallbacks (onnx.proto: which repeated field carries which data type).
  const typed = (arr: ArrayLike<unknown> | null | undefined, field: string): ArrayLike<unknown> => {
    const a = arr ?? [];
    if (a.length !== n) throw new FormatError(source, `${name} ${field} has ${a.length} values, shape [${shape}] needs ${n}`);
    return a;
  };
  switch (dt) {
    case DT.FLOAT: {
      const out = new Float32Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      else out.set(typed(t.floatData, 'float_data') as ArrayLike<number>);
      return { dtype: 'float32', shape, data: out };
    }
    case DT.DOUBLE: {
      const out = new Float64Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      else out.set(typed(t.doubleData, 'double_data') as ArrayLike<number>);
      return { dtype: 'float64', shape, data: out };
    }
    case DT.FLOAT16:
    case DT.BFLOAT16: {
      const conv = dt === DT.FLOAT16 ? float16BitsToNumber : bfloat16BitsToNumber;
      const out = new Float32Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = conv(dv.getUint16(2 * i, true));
      else {
        const a = typed(t.int32Data, 'int32_data') as ArrayLike<number>;
        for (let i = 0; i < n; i++) out[i] = conv(a[i]!);
      }
      return { dtype: 'float32', shape, data: out };
    }
    case DT.INT32: {
      const out = new Int32Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 * i, true);
      else out.set(typed(t.int32Data, 'int32_data') as ArrayLike<number>);
      return { dtype: 'int32', shape, data: out };
    }
    case DT.INT16: {
      const out = new Int16Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
      else out.set(typed(t.int32Data, 'int32_data') as ArrayLike<number>);
      return { dtype: 'int16', shape, data: out };
    }
    case DT.INT8: {
      const out = new Int8Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getInt8(i);
      else out.set(typed(t.int32Data, 'int32_data') as ArrayLike<number>);
      return { dtype: 'int8', shape, data: out };
    }
    case DT.UINT8:
    case DT.BOOL: {
      const out = new Uint8Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getUint8(i);
      else out.set(typed(t.int32Data, 'int32_data') as ArrayLike<number>);
      return { dtype: 'uint8', shape, data: out };
    }
    case DT.UINT16:
    case DT.UINT32: {
      const out = new Float64Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = dt === DT.UINT16 ? dv.getUint16(2 * i, true) : dv.getUint32(4 * i, true);
      else {
        const a = typed(dt === DT.UINT16 ? t.int32Data : t.uint64Data, dt === DT.UINT16 ? 'int32_data' : 'uint64_data');
        for (let i = 0; i < n; i++) out[i] = int64ToNumber(a[i] as Int64Like);
      }
      return { dtype: 'float64', shape, data: out };
    }
    case DT.INT64: {
      const out = new Float64Array(n);
      if (dv) for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(8 * i, true));
      else {
        const a = typed(t.int64Data, 'int64_data');
        for (let i = 0; i < n; i++) out[i] = int64ToNumber(a[i] as Int64Like);
      }
      return { dtype: 'float64', shape, data: out };
    }
    default:
      throw new FormatError(source, `${name} has unsupported data type ${dt}`);
  }
}

function decodeAttribute(a: onnx.IAttributeProto, source: string, node: string): OnnxAttribute | undefined {
  const utf8 = new TextDecoder('utf-8');
  switch (a.type) {
    case AT.FLOAT:
      return a.f ?? 0;
    case AT.INT:
      return int64ToNumber((a.i ?? 0) as Int64Like);
    case AT.STRING:
      return utf8.decode(a.s ?? new Uint8Array(0));
    case AT.TENSOR:
      if (!a.t) throw new FormatError(source, `node '${node}' attribute '${a.name}' of type TENSOR has no tensor`);
      return decodeTensor(a.t, source, `node '${node}' attribute`);
    case AT.FLOATS:
      return [...(a.floats ?? [])];
    case AT.INTS:
      return (a.ints ?? []).map((v) => int64ToNumber(v as Int64Like));
    case AT.STRINGS:
      return (a.strings ?? []).map((s) => utf8.decode(s));
    default:
      return undefined; // GRAPH, SPARSE_TENSOR, TYPE_PROTO…: not decoded (see header)
  }
}

function valueInfo(v: onnx.IValueInfoProto): OnnxValueInfo {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  const shape = dims.map((d) => {
    // `value` is protobufjs's virtual oneof discriminator ('dimValue' | 'dimParam' | undefined).
    const which = (d as { value?: string }).value;
    if (which === 'dimValue' && d.dimValue !== undefined && d.dimValue !== null) return int64ToNumber(d.dimValue as Int64Like);
    if (which === 'dimParam' && d.dimParam) return d.dimParam;
    return '?';
  });
  return { name: v.name ?? '', shape };
}

// MAIN

/**
 * Decode ONNX `ModelProto` bytes into an `OnnxGraph`; malformed bytes throw `FormatError` naming `source`.
 *
 * @source ONNX onnx/onnx.proto#ModelProto
 * @deviation none (read-only view; GRAPH-typed attributes are omitted, see the file header)
 * @precision exact (float16/bfloat16 widen exactly to float32; int64 → float64 exact for |v| ≤ 2^53)
 */
export function decodeOnnxModel(bytes: Uint8Array, source: string): OnnxGraph {
  let model: onnx.ModelProto;
  try {
    model = onnxRt.ModelProto.decode(bytes);
  } catch (e) {
    throw new FormatError(source, `not a valid ONNX ModelProto (${(e as Error).message})`);
  }
  const g = model.graph;
  if (!g) throw new FormatError(source, 'ONNX model has no graph');
  let opsetVersion = 0;
  for (const o of model.opsetImport ?? []) {
    if (!o.domain || o.domain === 'ai.onnx') opsetVersion = int64ToNumber((o.version ?? 0) as Int64Like);
  }
  const initializers = new Map<string, Tensor<DType>>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (initializers.has(name)) throw new FormatError(source, `duplicate initializer '${name}'`);
    initializers.set(name, decodeTensor(t, source, 'initializer'));
  }
  const constants = new Map<string, Tensor<DType>>();
  const nodes: OnnxNode[] = [];
  for (const n of g.node ?? []) {
    const name = n.name ?? '';
    const attributes: Record<string, OnnxAttribute> = {};
    for (const a of n.attribute ?? []) {
      const v = decodeAttribute(a, source, name);
      if (v !== undefined) attributes[a.name ?? ''] = v;
    }
    const node: OnnxNode = {
      name,
      opType: n.opType ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attributes,
    };
    nodes.push(node);
    const value = attributes['value'];
    if (node.opType === 'Constant' && value !== undefined && typeof value === 'object' && !Array.isArray(value)) {
      const out = node.outputs[0];
      if (out !== undefined) constants.set(out, value);
    }
  }
  return {
    irVersion: int64ToNumber((model.irVersion ?? 0) as Int64Like),
    opsetVersion,
    producer: `${model.producerName ?? ''}${model.producerVersion ? ' ' + model.producerVersion : ''}`,
    initializers,
    constants,
    nodes,
    inputs: (g.input ?? []).map(valueInfo).filter((v) => !initializers.has(v.name)),
    outputs: (g.output ?? []).map(valueInfo),
  };
}

/**
 * The nodes that consume `tensorName` as one of their inputs, in graph order.
 *
 * @source ONNX onnx/onnx.proto#NodeProto (input names)
 * @deviation none
 * @precision exact
 */
export function consumersOf(graph: OnnxGraph, tensorName: string): OnnxNode[] {
  return graph.nodes.filter((n) => n.inputs.includes(tensorName));
}

/**
 * sha256 (lowercase hex) of a tensor's values as float32 little-endian bytes, the checksum used by the
 * shared fixtures (e.g. onnx_mapping.json).
 *
 * @source project fixture convention (/work/shared/fixtures/sam-reference/README.md)
 * @deviation none
 * @precision exact (non-float32 tensors are converted to float32 first)
 */
export function sha256Hex(t: Tensor<DType>): string {
  const n = t.data.length;
  const buf = new Uint8Array(4 * n);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) dv.setFloat32(4 * i, t.data[i]!, true);
  return createHash('sha256').update(buf).digest('hex');
}

/**
 * Read and decode an ONNX file; a missing, unreadable or corrupt file throws `FormatError` naming `path`.
 *
 * @source ONNX onnx/onnx.proto#ModelProto
 * @deviation none
 * @precision exact
 */
export function loadOnnxFile(path: string): OnnxGraph {
  return decodeOnnxModel(readFileOrThrow(path, 'ONNX file'), path);
}
