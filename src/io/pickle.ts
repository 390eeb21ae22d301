/**
 * A safe Python pickle reader: a stack machine that builds plain data records and NEVER executes
 * anything. Only the opcodes listed in `OPS` below are accepted, and a `GLOBAL` is resolved only
 * against an explicit allow-list supplied by the caller (plus a tiny built-in set of harmless
 * constructors); anything else is a `FormatError` naming it, e.g. "pickle global os.system is not
 * allowed". This mirrors the policy of PyTorch's `torch.load(weights_only=True)` unpickler.
 *
 * Accepted opcodes (protocols 0–5, the subset that data-only pickles such as `torch.save` use):
 *   framing   PROTO FRAME STOP
 *   stack     MARK POP POP_MARK DUP
 *   scalars   NONE NEWTRUE NEWFALSE INT(only "00"/"01"/decimal) BININT BININT1 BININT2 LONG1 BINFLOAT
 *   text      BINUNICODE SHORT_BINUNICODE BINUNICODE8 SHORT_BINSTRING BINSTRING (latin-1)
 *   bytes     BINBYTES SHORT_BINBYTES BINBYTES8
 *   builders  EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS EMPTY_DICT DICT
 *             SETITEM SETITEMS EMPTY_SET ADDITEMS FROZENSET
 *   memo      PUT BINPUT LONG_BINPUT GET BINGET LONG_BINGET MEMOIZE
 *   objects   GLOBAL STACK_GLOBAL REDUCE BUILD (allow-listed targets only), PERSID BINPERSID (via the
 *             caller's `persistentLoad`)
 * Rejected: INST OBJ NEWOBJ NEWOBJ_EX EXT1/2/4 LONG LONG4 FLOAT STRING UNICODE BYTEARRAY8
 * NEXT_BUFFER READONLY_BUFFER and any unknown byte.
 *
 * Resource bounds (all FormatError when exceeded): memo index ≤ `maxMemo` (default 10^6), stack
 * items + open marks ≤ `maxStack` (default 10^6), bytes allocated for strings/bytes/containers ≤
 * `maxAllocBytes` (default 1 GiB), and container nesting depth ≤ `maxDepth` (default 100; checked when
 * a container is placed inside another, so self-referential or deeply nested structures are refused).
 * Every opcode consumes at least one input byte, so the machine always terminates.
 *
 * Value model: None → null, bool → boolean, int → number (|v| ≤ 2^53, else FormatError), float →
 * number, str → string, bytes → Uint8Array, tuple/list/dict/set → tagged records, dict keys are
 * limited to None/bool/int/float/str (others → FormatError); dicts keep insertion order (so
 * OrderedDict ≡ dict here). Objects made by allow-listed constructors are `PyObject` records.
 *
 * @source CPython Lib/pickle.py and Lib/pickletools.py (opcode table and semantics; read, not copied)
 * @source PyTorch torch/_weights_only_unpickler.py (allow-list policy; read, not copied)
 */
import { FormatError } from '../tensor';

// TYPES

export type PyKey = null | boolean | number | string;
export interface PyTuple {
  readonly kind: 'tuple';
  readonly items: readonly PyValue[];
}
export interface PyList {
  readonly kind: 'list';
  readonly items: PyValue[];
}
export interface PyDict {
  readonly kind: 'dict';
  readonly map: Map<PyKey, PyValue>;
  /** The argument of a BUILD applied to this dict (e.g. OrderedDict `_metadata`), if any. */
  state?: PyValue;
}
export interface PySet {
  readonly kind: 'set';
  readonly items: PyValue[];
}
/** A resolved, allow-listed global (a class or function reference), not yet called. */
export interface PyGlobal {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}
/** A host value made by an allow-listed constructor or by `persistentLoad` (e.g. a tensor). */
export interface PyObject {
  readonly kind: 'object';
  readonly type: string;
  readonly value: unknown;
}
export type PyValue = null | boolean | number | string | Uint8Array | PyTuple | PyList | PyDict | PySet | PyGlobal | PyObject;

/** What REDUCE does with an allow-listed global; absent → the global may be referenced but not called. */
export type PyCallable = (args: readonly PyValue[], ctx: UnpickleContext) => PyValue;

/** Services the VM offers to callables. */
export interface UnpickleContext {
  readonly source: string;
  /** Charge `bytes` against the allocation budget (FormatError when exhausted). */
  alloc(bytes: number): void;
}

export interface UnpickleOptions {
  /** Allow-listed globals, keyed "module.name" (e.g. "torch._utils._rebuild_tensor_v2"). */
  readonly globals?: Readonly<Record<string, PyCallable | null>>;
  /** Resolves PERSID / BINPERSID ids; absent → those opcodes are rejected. */
  readonly persistentLoad?: (pid: PyValue, ctx: UnpickleContext) => PyValue;
  readonly maxMemo?: number;
  readonly maxStack?: number;
  readonly maxAllocBytes?: number;
  readonly maxDepth?: number;
}

// HELPERS

/** Harmless constructors every data pickle may use (protocol-2 spellings of dict/set/bytes). */
const BUILTIN_GLOBALS: Record<string, PyCallable> = {
  'collections.OrderedDict': (args, ctx) => {
    const d: PyDict = { kind: 'dict', map: new Map() };
    if (args.length === 0) return d;
    const it = args[0];
    if (args.length === 1 && it !== null && typeof it === 'object' && 'kind' in it && (it.kind === 'list' || it.kind === 'tuple')) {
      for (const pair of it.items) {
        if (pair === null || typeof pair !== 'object' || !('kind' in pair) || pair.kind !== 'tuple' || pair.items.length !== 2) {
          throw new FormatError(ctx.source, 'pickle: OrderedDict items must be (key, value) pairs');
        }
        d.map.set(asKey(pair.items[0]!, ctx.source), pair.items[1]!);
      }
      return d;
    }
    throw new FormatError(ctx.source, 'pickle: OrderedDict takes no arguments or one list of pairs');
  },
  'builtins.set': (args, ctx) => makeSet(args, ctx.source),
  'builtins.frozenset': (args, ctx) => makeSet(args, ctx.source),
  '__builtin__.set': (args, ctx) => makeSet(args, ctx.source),
  '__builtin__.frozenset': (args, ctx) => makeSet(args, ctx.source),
  // Protocol 2 pickles bytes as _codecs.encode(str, 'latin1').
  '_codecs.encode': (args, ctx) => {
    const [s, enc] = args;
    if (typeof s !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) throw new FormatError(ctx.source, "pickle: _codecs.encode only supports (str, 'latin1')");
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw new FormatError(ctx.source, 'pickle: _codecs.encode latin1 input has a character above U+00FF');
      out[i] = c;
    }
    ctx.alloc(out.length);
    return out;
  },
};

function makeSet(args: readonly PyValue[], source: string): PySet {
  if (args.length === 0) return { kind: 'set', items: [] };
  const it = args[0];
  if (args.length === 1 && it !== null && typeof it === 'object' && 'kind' in it && (it.kind === 'list' || it.kind === 'tuple' || it.kind === 'set')) {
    return { kind: 'set', items: [...it.items] };
  }
  throw new FormatError(source, 'pickle: set/frozenset take one list argument');
}

function asKey(v: PyValue, source: string): PyKey {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  throw new FormatError(source, `pickle: unsupported dict key of type ${v instanceof Uint8Array ? 'bytes' : v.kind}`);
}

// MAIN

/**
 * Run the pickle in `bytes` on a data-only stack machine and return the top-level value; any
 * disallowed opcode or global, malformed stream or exceeded bound throws `FormatError` naming `source`.
 *
 * @source CPython Lib/pickletools.py (opcode semantics)
 * @deviation dict keys restricted to scalars; ints beyond ±2^53 rejected (see the file header)
 * @precision exact (BINFLOAT is IEEE binary64 big-endian)
 */
export function unpickle(bytes: Uint8Array, source: string, opts: UnpickleOptions = {}): PyValue {
  const maxMemo = opts.maxMemo ?? 1_000_000;
  const maxStack = opts.maxStack ?? 1_000_000;
  const maxAlloc = opts.maxAllocBytes ?? 2 ** 30;
  const maxDepth = opts.maxDepth ?? 100;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (msg: string): never => {
    throw new FormatError(source, `pickle: ${msg}`);
  };
  let allocated = 0;
  const ctx: UnpickleContext = {
    source,
    alloc(n: number): void {
      allocated += n;
      if (allocated > maxAlloc) fail(`allocation exceeds the limit of ${maxAlloc} bytes`);
    },
  };
  let pos = 0;
  const take = (n: number, what: string): number => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated stream reading ${what} at offset ${pos}`);
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = (what: string): number => bytes[take(1, what)]!;
  const u16 = (what: string): number => dv.getUint16(take(2, what), true);
  const u32 = (what: string): number => dv.getUint32(take(4, what), true);
  const u64 = (what: string): number => {
    const v = dv.getBigUint64(take(8, what), true);
    if (v > BigInt(bytes.length)) fail(`${what} ${v} exceeds the stream length`);
    return Number(v);
  };
  const line = (what: string): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated stream: no newline ending ${what}`);
    let s = '';
    for (let i = pos; i < end; i++) s += String.fromCharCode(bytes[i]!);
    pos = end + 1;
    return s;
  };
  const latin1 = (n: number, what: string): string => {
    const p = take(n, what);
    ctx.alloc(n);
    let s = '';
    for (let i = p; i < p + n; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  };
  const utf8dec = new TextDecoder('utf-8', { fatal: true });
  const utf8 = (n: number, what: string): string => {
    const p = take(n, what);
    ctx.alloc(2 * n);
    try {
      return utf8dec.decode(bytes.subarray(p, p + n));
    } catch {
      return fail(`${what} is not valid UTF-8`);
    }
  };
  const raw = (n: number, what: string): Uint8Array => {
    const p = take(n, what);
    ctx.alloc(n);
    return bytes.slice(p, p + n);
  };

  /** Nesting depth of each container made in this run (containers record theirs on creation). */
  const DEPTH = new WeakMap<object, number>();
  const depthOf = (v: PyValue): number => (v !== null && typeof v === 'object' ? (DEPTH.get(v) ?? 1) : 0);
  let stack: PyValue[] = [];
  const marks: PyValue[][] = [];
  const memo = new Map<number, PyValue>();
  const push = (v: PyValue): void => {
    if (stack.length + marks.length >= maxStack) fail(`stack depth exceeds the limit of ${maxStack}`);
    stack.push(v);
  };
  const pop = (what: string): PyValue => {
    if (stack.length === 0) fail(`stack underflow (${what})`);
    return stack.pop()!;
  };
  const top = (what: string): PyValue => {
    if (stack.length === 0) fail(`stack underflow (${what})`);
    return stack[stack.length - 1]!;
  };
  const popMark = (what: string): PyValue[] => {
    if (marks.length === 0) fail(`${what} without a MARK`);
    const items = stack;
    stack = marks.pop()!;
    return items;
  };
  /** Record nesting depth of a new container built from `items`. */
  const contain = <T extends object>(c: T, items: readonly PyValue[]): T => {
    let d = 0;
    for (const it of items) d = Math.max(d, depthOf(it));
    if (d + 1 > maxDepth) fail(`nesting depth exceeds the limit of ${maxDepth}`);
    DEPTH.set(c, d + 1);
    ctx.alloc(16 + 8 * items.length);
    return c;
  };
  /** Adding `items` to an existing container: re-check its depth (covers self-reference). */
  const grow = (c: object, items: readonly PyValue[]): void => {
    let d = DEPTH.get(c) ?? 1;
    for (const it of items) {
      if (it === c) fail('a container may not contain itself');
      d = Math.max(d, depthOf(it) + 1);
    }
    if (d > maxDepth) fail(`nesting depth exceeds the limit of ${maxDepth}`);
    DEPTH.set(c, d);
    ctx.alloc(8 * items.length);
  };
  const tuple = (items: PyValue[]): PyTuple => contain({ kind: 'tuple', items }, items);
  const memoPut = (i: number): void => {
    if (i >= maxMemo) fail(`memo index ${i} exceeds the limit of ${maxMemo}`);
    memo.set(i, top('PUT'));
  };
  const memoGet = (i: number): void => {
    if (!memo.has(i)) fail(`memo index ${i} was never stored`);
    push(memo.get(i)!);
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const key = `${module}.${name}`;
    if (!(key in BUILTIN_GLOBALS) && !(opts.globals && Object.prototype.hasOwnProperty.call(opts.globals, key))) {
      fail(`global ${key} is not allowed`);
    }
    return { kind: 'global', module, name };
  };
  const isKind = <K extends string>(v: PyValue, k: K): v is Extract<PyValue, { kind: K }> =>
    v !== null && typeof v === 'object' && !(v instanceof Uint8Array) && v.kind === k;
  const setItems = (d: PyValue, kv: PyValue[], what: string): void => {
    if (!isKind(d, 'dict')) fail(`${what} target is not a dict`);
    if (kv.length % 2 !== 0) fail(`${what} has an odd number of items`);
    const dict = d as PyDict;
    grow(dict, kv);
    for (let i = 0; i < kv.length; i += 2) dict.map.set(asKey(kv[i]!, source), kv[i + 1]!);
  };
  const appendItems = (l: PyValue, items: PyValue[], what: string): void => {
    if (!isKind(l, 'list') && !isKind(l, 'set')) fail(`${what} target is not a list`);
    const list = l as PyList | PySet;
    grow(list, items);
    list.items.push(...items);
  };
  const int = (v: bigint | number, what: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) fail(`${what} ${v} is outside ±2^53`);
    return n;
  };

  for (;;) {
    if (pos >= bytes.length) fail('truncated stream: no STOP opcode');
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8('PROTO version');
        if (v > 5) fail(`unsupported protocol ${v}`);
        break;
      }
      case 0x95: // FRAME (length is advisory; the opcodes inside are read normally)
        u64('FRAME length');
        break;
      case 0x2e: { // STOP
        if (marks.length !== 0) fail('STOP inside an open MARK');
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack (expected 1)`);
        return stack[0]!;
      }
      case 0x28: // MARK
        if (stack.length + marks.length >= maxStack) fail(`stack depth exceeds the limit of ${maxStack}`);
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop('POP');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        push(top('DUP'));
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x49: { // INT (text)
        const s = line('INT');
        if (s === '00') push(false);
        else if (s === '01') push(true);
        else if (/^[+-]?\d{1,16}$/.test(s)) push(int(Number(s), 'INT'));
        else fail(`malformed INT '${s.slice(0, 20)}'`);
        break;
      }
      case 0x4a: // BININT
        push(dv.getInt32(take(4, 'BININT'), true));
        break;
      case 0x4b: // BININT1
        push(u8('BININT1'));
        break;
      case 0x4d: // BININT2
        push(u16('BININT2'));
        break;
      case 0x8a: { // LONG1: n-byte little-endian two's complement
        const n = u8('LONG1 length');
        if (n > 8) fail(`LONG1 of ${n} bytes is outside ±2^53`);
        const p = take(n, 'LONG1');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[p + i]!);
        if (n > 0 && bytes[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        push(int(v, 'LONG1'));
        break;
      }
      case 0x47: // BINFLOAT (big-endian binary64)
        push(dv.getFloat64(take(8, 'BINFLOAT'), false));
        break;
      case 0x58: // BINUNICODE
        push(utf8(u32('BINUNICODE length'), 'BINUNICODE'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8(u8('SHORT_BINUNICODE length'), 'SHORT_BINUNICODE'));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8(u64('BINUNICODE8 length'), 'BINUNICODE8'));
        break;
      case 0x55: // SHORT_BINSTRING (py2 str, read as latin-1)
        push(latin1(u8('SHORT_BINSTRING length'), 'SHORT_BINSTRING'));
        break;
      case 0x54: { // BINSTRING
        const n = dv.getInt32(take(4, 'BINSTRING length'), true);
        if (n < 0) fail('negative BINSTRING length');
        push(latin1(n, 'BINSTRING'));
        break;
      }
      case 0x42: // BINBYTES
        push(raw(u32('BINBYTES length'), 'BINBYTES'));
        break;
      case 0x43: // SHORT_BINBYTES
        push(raw(u8('SHORT_BINBYTES length'), 'SHORT_BINBYTES'));
        break;
      case 0x8e: // BINBYTES8
        push(raw(u64('BINBYTES8 length'), 'BINBYTES8'));
        break;
      case 0x29: // EMPTY_TUPLE
        push(tuple([]));
        break;
      case 0x74: // TUPLE
        push(tuple(popMark('TUPLE')));
        break;
      case 0x85: // TUPLE1
        push(tuple([pop('TUPLE1')]));
        break;
      case 0x86: { // TUPLE2
        const b = pop('TUPLE2');
        const a = pop('TUPLE2');
        push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop('TUPLE3');
        const b = pop('TUPLE3');
        const a = pop('TUPLE3');
        push(tuple([a, b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        push(contain<PyList>({ kind: 'list', items: [] }, []));
        break;
      case 0x6c: { // LIST
        const items = popMark('LIST');
        push(contain<PyList>({ kind: 'list', items }, items));
        break;
      }
      case 0x61: { // APPEND
        const v = pop('APPEND');
        appendItems(top('APPEND'), [v], 'APPEND');
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark('APPENDS');
        appendItems(top('APPENDS'), items, 'APPENDS');
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(contain<PyDict>({ kind: 'dict', map: new Map() }, []));
        break;
      case 0x64: { // DICT
        const kv = popMark('DICT');
        const d = contain<PyDict>({ kind: 'dict', map: new Map() }, []);
        setItems(d, kv, 'DICT');
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        setItems(top('SETITEM'), [k, v], 'SETITEM');
        break;
      }
      case 0x75: { // SETITEMS
        const kv = popMark('SETITEMS');
        setItems(top('SETITEMS'), kv, 'SETITEMS');
        break;
      }
      case 0x8f: // EMPTY_SET
        push(contain<PySet>({ kind: 'set', items: [] }, []));
        break;
      case 0x90: { // ADDITEMS
        const items = popMark('ADDITEMS');
        const s = top('ADDITEMS');
        if (!isKind(s, 'set')) fail('ADDITEMS target is not a set');
        appendItems(s, items, 'ADDITEMS');
        break;
      }
      case 0x91: { // FROZENSET
        const items = popMark('FROZENSET');
        push(contain<PySet>({ kind: 'set', items }, items));
        break;
      }
      case 0x70: { // PUT (text index)
        const s = line('PUT');
        if (!/^\d{1,10}$/.test(s)) fail(`malformed PUT index '${s.slice(0, 20)}'`);
        memoPut(Number(s));
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8('BINPUT'));
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32('LONG_BINPUT'));
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x67: { // GET (text index)
        const s = line('GET');
        if (!/^\d{1,10}$/.test(s)) fail(`malformed GET index '${s.slice(0, 20)}'`);
        memoGet(Number(s));
        break;
      }
      case 0x68: // BINGET
        memoGet(u8('BINGET'));
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32('LONG_BINGET'));
        break;
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line('GLOBAL module');
        const name = line('GLOBAL name');
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop('REDUCE');
        const fn = pop('REDUCE');
        if (!isKind(fn, 'global')) fail('REDUCE target is not an allowed global');
        if (!isKind(args, 'tuple')) fail('REDUCE arguments are not a tuple');
        const g = fn as PyGlobal;
        const key = `${g.module}.${g.name}`;
        const call = BUILTIN_GLOBALS[key] ?? opts.globals?.[key];
        if (!call) fail(`global ${key} is not callable here`);
        const out = call!((args as PyTuple).items, ctx);
        if (out !== null && typeof out === 'object' && !DEPTH.has(out)) DEPTH.set(out, depthOf(args) + 1);
        push(out);
        break;
      }
      case 0x62: { // BUILD: only state on dicts (kept) and on host objects (ignored) is allowed
        const state = pop('BUILD');
        const obj = top('BUILD');
        if (isKind(obj, 'dict')) (obj as PyDict).state = state;
        else if (!isKind(obj, 'object')) fail('BUILD is only allowed on dicts and allow-listed objects');
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop('BINPERSID');
        if (!opts.persistentLoad) fail('persistent ids are not allowed here');
        push(opts.persistentLoad!(pid, ctx));
        break;
      }
      case 0x50: { // PERSID (text id)
        const pid = line('PERSID');
        if (!opts.persistentLoad) fail('persistent ids are not allowed here');
        push(opts.persistentLoad!(pid, ctx));
        break;
      }
      default: {
        const names: Record<number, string> = {
          0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
          0x4c: 'LONG', 0x8b: 'LONG4', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x96: 'BYTEARRAY8',
          0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
        };
        fail(`opcode ${names[op] ?? '0x' + op.toString(16).padStart(2, '0')} at offset ${pos - 1} is not allowed`);
      }
    }
  }
}
