/**
 * PyTorch checkpoints in the zip-based `torch.save` format (PyTorch ≥ 1.6): a ZIP archive with one
 * top-level folder `<archive>/` holding `data.pkl` (a pickle of the saved object), `data/<key>` (the raw
 * little-endian bytes of each storage), and optionally `byteorder` and `version`.
 *
 * The pickle is run by the safe VM of pickle.ts with exactly these globals allowed (the subset of
 * PyTorch's `weights_only=True` allow-list that state_dicts use): `collections.OrderedDict`,
 * `torch._utils._rebuild_tensor`, `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`,
 * `torch._utils._rebuild_parameter_with_state`, `torch.Size`, the storage classes below (as
 * references only), plus pickle.ts's own builtins (set/frozenset/_codecs.encode). Everything else is
 * a FormatError ("pickle global os.system is not allowed").
 *
 * Decisions:
 * - Persistent ids must be `('storage', <StorageClass>, key, location, numel)`; storage `key` is
 *   read from `<archive>/data/<key>` (CRC-checked) and must hold exactly numel × item size bytes.
 *   `byteorder`, when present, must be `little`.
 * - Tensors honour storage offset, size and stride (any non-negative strides, including 0); the
 *   addressed extent must lie inside the storage; the result is always a fresh contiguous copy.
 * - dtypes: Float → float32, Half / BFloat16 → float32 (exact widening), Double → float64,
 *   Long → float64 (FormatError if any value has |v| > 2^53), Int → int32, Short → int16,
 *   Char → int8, Byte → uint8, Bool → uint8.
 * - `backward_hooks` must be an empty dict; `requires_grad` and `metadata` are ignored.
 * - Output flattening rule (`loadPth`): the saved object must be a dict. If it has a key among
 *   `state_dict`, `model`, `model_state_dict` whose value is a dict, that sub-dict (the first such key
 *   in this order) is used *without* the wrapper prefix; otherwise the whole dict is used. Inside it,
 *   tensor values become entries; nested dicts contribute dotted keys (`{'a': {'b': t}}` → `a.b`);
 *   non-tensor leaves (numbers, strings, None, lists, tuples, sets) are skipped. Keys that collide after
 *   flattening, non-string/int dict keys on the path, or a result without any tensor are FormatErrors.
 *   Entry order is the pickle's insertion order.
 *
 * @source PyTorch torch/serialization.py (_save / _load zip layout, persistent_id tuple) and
 *   torch/_utils.py (_rebuild_tensor_v2 argument order) — read, not copied
 */
import { FormatError, numel, type ArrayFor, type DType, type Tensor } from '../tensor';
import { unpickle, type PyCallable, type PyDict, type PyValue } from './pickle';
import { bfloat16BitsToNumber, float16BitsToNumber } from './safetensors';
import { openZip, type ZipArchive, type ZipLimits } from './zip';

// TYPES

/** Bounds of `loadPth` (all optional). */
export interface PthLimits extends ZipLimits {
  /** Largest total number of bytes of tensor data materialised (default 4 GiB). */
  readonly maxTensorBytes?: number;
}

interface StorageInfo {
  readonly cls: string;
  readonly itemBytes: number;
  readonly out: DType;
  readonly read: (dv: DataView, byteOffset: number) => number;
}

interface Storage {
  readonly info: StorageInfo;
  readonly key: string;
  readonly numel: number;
  readonly dv: DataView;
}

// HELPERS

const STORAGES: Record<string, StorageInfo> = {
  FloatStorage: { cls: 'FloatStorage', itemBytes: 4, out: 'float32', read: (dv, o) => dv.getFloat32(o, true) },
  HalfStorage: { cls: 'HalfStorage', itemBytes: 2, out: 'float32', read: (dv, o) => float16BitsToNumber(dv.getUint16(o, true)) },
  BFloat16Storage: { cls: 'BFloat16Storage', itemBytes: 2, out: 'float32', read: (dv, o) => bfloat16BitsToNumber(dv.getUint16(o, true)) },
  DoubleStorage: { cls: 'DoubleStorage', itemBytes: 8, out: 'float64', read: (dv, o) => dv.getFloat64(o, true) },
  LongStorage: {
    cls: 'LongStorage',
    itemBytes: 8,
    out: 'float64',
    read: (dv, o) => {
      const v = dv.getBigInt64(o, true);
      return v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER) ? NaN : Number(v); // NaN → rejected by the caller
    },
  },
  IntStorage: { cls: 'IntStorage', itemBytes: 4, out: 'int32', read: (dv, o) => dv.getInt32(o, true) },
  ShortStorage: { cls: 'ShortStorage', itemBytes: 2, out: 'int16', read: (dv, o) => dv.getInt16(o, true) },
  CharStorage: { cls: 'CharStorage', itemBytes: 1, out: 'int8', read: (dv, o) => dv.getInt8(o) },
  ByteStorage: { cls: 'ByteStorage', itemBytes: 1, out: 'uint8', read: (dv, o) => dv.getUint8(o) },
  BoolStorage: { cls: 'BoolStorage', itemBytes: 1, out: 'uint8', read: (dv, o) => dv.getUint8(o) },
};

const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int16: Int16Array, int8: Int8Array, uint8: Uint8Array } as const;

const WRAPPERS = ['state_dict', 'model', 'model_state_dict'];

function kindOf(v: PyValue): string {
  if (v === null) return 'None';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind === 'object' ? v.type : v.kind;
  return typeof v;
}

function isTuple(v: PyValue): v is Extract<PyValue, { kind: 'tuple' }> {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && v.kind === 'tuple';
}

function isDict(v: PyValue): v is PyDict {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && v.kind === 'dict';
}

function asTensor(v: PyValue): Tensor<DType> | undefined {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && v.kind === 'object' && v.type === 'tensor' ? (v.value as Tensor<DType>) : undefined;
}

function natTuple(v: PyValue, what: string, source: string): number[] {
  if (!isTuple(v) || !v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    throw new FormatError(source, `pth: ${what} must be a tuple of non-negative integers (got ${kindOf(v)})`);
  }
  return v.items as number[];
}

/** Gather a (possibly strided) view of a storage into a fresh contiguous tensor. */
function rebuildTensor(args: readonly PyValue[], source: string, budget: { left: number }): PyValue {
  const [st, off, sizeV, strideV] = args;
  if (st === null || typeof st !== 'object' || st instanceof Uint8Array || st.kind !== 'object' || st.type !== 'storage') {
    throw new FormatError(source, `pth: _rebuild_tensor expects a storage as first argument (got ${kindOf(st ?? null)})`);
  }
  const s = st.value as Storage;
  if (typeof off !== 'number' || !Number.isSafeInteger(off) || off < 0) throw new FormatError(source, 'pth: storage_offset must be a non-negative integer');
  const size = natTuple(sizeV ?? null, 'size', source);
  const stride = natTuple(strideV ?? null, 'stride', source);
  if (size.length !== stride.length) throw new FormatError(source, `pth: size [${size}] and stride [${stride}] differ in rank`);
  const n = numel(size);
  if (!Number.isSafeInteger(n)) throw new FormatError(source, `pth: size [${size}] is too large`);
  if (n > 0) {
    let last = off;
    for (let d = 0; d < size.length; d++) last += (size[d]! - 1) * stride[d]!;
    if (last >= s.numel) throw new FormatError(source, `pth: tensor (offset ${off}, size [${size}], stride [${stride}]) reaches element ${last} of storage '${s.key}' with ${s.numel} elements`);
  }
  const bytes = n * s.info.itemBytes;
  budget.left -= bytes;
  if (budget.left < 0) throw new FormatError(source, 'pth: tensor data exceeds the materialisation limit');
  const out = new CTOR[s.info.out](n) as ArrayFor<DType>;
  // Row-major walk over the logical index, mapping to the strided storage offset.
  const idx = new Array<number>(size.length).fill(0);
  let src = off;
  for (let i = 0; i < n; i++) {
    const v = s.info.read(s.dv, src * s.info.itemBytes);
    if (Number.isNaN(v) && s.info.cls === 'LongStorage') throw new FormatError(source, `pth: int64 value in storage '${s.key}' is not exactly representable (|v| > 2^53)`);
    out[i] = v;
    for (let d = size.length - 1; d >= 0; d--) {
      idx[d]!++;
      src += stride[d]!;
      if (idx[d]! < size[d]!) break;
      src -= idx[d]! * stride[d]!;
      idx[d] = 0;
    }
  }
  const t: Tensor<DType> = { dtype: s.info.out, shape: [...size], data: out };
  return { kind: 'object', type: 'tensor', value: t };
}

function flatten(d: PyDict, prefix: string, out: Record<string, Tensor<DType>>, depth: number, source: string): void {
  if (depth > 32) throw new FormatError(source, 'pth: dict nesting deeper than 32 levels');
  for (const [k, v] of d.map) {
    if (typeof k !== 'string' && typeof k !== 'number') throw new FormatError(source, `pth: dict key ${String(k)} under '${prefix}' is not a string or int`);
    const key = `${prefix}${k}`;
    const t = asTensor(v);
    if (t) {
      if (key in out) throw new FormatError(source, `pth: key '${key}' occurs twice after flattening`);
      out[key] = t;
    } else if (isDict(v)) {
      flatten(v, `${key}.`, out, depth + 1, source);
    }
  }
}

// MAIN

/**
 * Unpickle a zip-based `torch.save` archive with the safe VM and return its tensors as a flat
 * state_dict (see the file header for the flattening rule); malformed or disallowed content throws
 * `FormatError` naming `source`.
 *
 * @source PyTorch torch/serialization.py#_load, torch/_utils.py#_rebuild_tensor_v2
 * @deviation int64 storages → float64 (exact, |v| ≤ 2^53 enforced); half/bfloat16 → float32
 * @precision exact
 */
export function loadPth(bytes: Uint8Array, source: string, limits: PthLimits = {}): Record<string, Tensor<DType>> {
  const zip = openZip(bytes, source, limits);
  const obj = unpickleTorchArchive(zip, source, limits);
  if (!isDict(obj)) throw new FormatError(source, `pth: the saved object is a ${kindOf(obj)}, expected a dict of tensors`);
  let root: PyDict = obj;
  for (const w of WRAPPERS) {
    const v = obj.map.get(w);
    if (v !== undefined && isDict(v)) {
      root = v;
      break;
    }
  }
  const out: Record<string, Tensor<DType>> = {};
  flatten(root, '', out, 0, source);
  if (Object.keys(out).length === 0) throw new FormatError(source, 'pth: the saved dict contains no tensors');
  return out;
}

/**
 * Run `<archive>/data.pkl` of an opened torch zip archive on the safe VM, resolving storages from
 * `<archive>/data/<key>`; returns the raw unpickled value (tensors are `PyObject` records of type 'tensor').
 *
 * @source PyTorch torch/serialization.py#_load (persistent_load)
 * @deviation none
 * @precision exact
 */
export function unpickleTorchArchive(zip: ZipArchive, source: string, limits: PthLimits = {}): PyValue {
  const pkls = [...zip.entries.keys()].filter((k) => /^[^/]+\/data\.pkl$/.test(k));
  if (pkls.length !== 1) throw new FormatError(source, `pth: expected exactly one '<archive>/data.pkl' entry (found ${pkls.length})`);
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  if (zip.entries.has(`${prefix}byteorder`)) {
    const bo = new TextDecoder().decode(zip.read(`${prefix}byteorder`));
    if (bo !== 'little') throw new FormatError(source, `pth: byteorder '${bo.slice(0, 16)}' is not supported (little only)`);
  }
  const storages = new Map<string, Storage>();
  const budget = { left: limits.maxTensorBytes ?? 2 ** 32 };
  const rebuild = (args: readonly PyValue[]): PyValue => rebuildTensor(args, source, budget);
  const parameter: PyCallable = (args) => {
    const t = asTensor(args[0] ?? null);
    if (!t) throw new FormatError(source, `pth: _rebuild_parameter expects a tensor (got ${kindOf(args[0] ?? null)})`);
    const hooks = args[2];
    if (hooks !== undefined && !(isDict(hooks) && hooks.map.size === 0)) throw new FormatError(source, 'pth: backward hooks must be an empty dict');
    return args[0]!;
  };
  const globals: Record<string, PyCallable | null> = {
    'torch._utils._rebuild_tensor': (args) => {
      if (args.length !== 4) throw new FormatError(source, `pth: _rebuild_tensor takes 4 arguments (got ${args.length})`);
      return rebuild(args);
    },
    'torch._utils._rebuild_tensor_v2': (args) => {
      if (args.length !== 6 && args.length !== 7) throw new FormatError(source, `pth: _rebuild_tensor_v2 takes 6 or 7 arguments (got ${args.length})`);
      const hooks = args[5]!;
      if (!(isDict(hooks) && hooks.map.size === 0)) throw new FormatError(source, 'pth: backward hooks must be an empty dict');
      return rebuild(args);
    },
    'torch._utils._rebuild_parameter': parameter,
    'torch._utils._rebuild_parameter_with_state': parameter,
    'torch.Size': (args) => {
      const [t] = args;
      if (args.length !== 1 || !isTuple(t ?? null)) throw new FormatError(source, 'pth: torch.Size takes one tuple');
      return t!;
    },
  };
  for (const cls of Object.keys(STORAGES)) globals[`torch.${cls}`] = null; // references only
  const persistentLoad = (pid: PyValue): PyValue => {
    if (!isTuple(pid) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
      throw new FormatError(source, `pth: persistent id must be ('storage', type, key, location, numel) (got ${kindOf(pid)})`);
    }
    const [, cls, key, , n] = pid.items;
    if (cls === null || typeof cls !== 'object' || cls instanceof Uint8Array || cls.kind !== 'global' || cls.module !== 'torch' || !(cls.name in STORAGES)) {
      throw new FormatError(source, `pth: persistent id storage type must be a torch.*Storage class (got ${kindOf(cls ?? null)})`);
    }
    if (typeof key !== 'string' || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new FormatError(source, 'pth: persistent id key must be a string and numel a non-negative integer');
    const info = STORAGES[cls.name]!;
    const cached = storages.get(key);
    if (cached) {
      if (cached.info !== info || cached.numel !== n) throw new FormatError(source, `pth: storage '${key}' is referenced with two different types or sizes`);
      return { kind: 'object', type: 'storage', value: cached };
    }
    const data = zip.read(`${prefix}data/${key}`);
    if (data.length !== n * info.itemBytes) throw new FormatError(source, `pth: storage '${key}' has ${data.length} bytes, ${info.cls} of ${n} elements needs ${n * info.itemBytes}`);
    const s: Storage = { info, key, numel: n, dv: new DataView(data.buffer, data.byteOffset, data.byteLength) };
    storages.set(key, s);
    return { kind: 'object', type: 'storage', value: s };
  };
  return unpickle(zip.read(pkls[0]!), source, { globals, persistentLoad });
}
