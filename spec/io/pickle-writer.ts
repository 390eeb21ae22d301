/**
 * Test oracle: a naive protocol-2 pickle writer for plain data and torch-style tensor references,
 * written from the opcode table in CPython's pickletools documentation. Shares no code with
 * src/io/pickle.ts.
 */
export type W = number[];

const u32 = (n: number): W => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

export const op = {
  proto: (): W => [0x80, 2],
  stop: (): W => [0x2e],
  mark: (): W => [0x28],
  none: (): W => [0x4e],
  bool: (b: boolean): W => [b ? 0x88 : 0x89],
  int: (n: number): W => {
    if (n >= 0 && n < 256) return [0x4b, n];
    if (n >= 0 && n < 65536) return [0x4d, n & 0xff, n >> 8];
    if (n >= -(2 ** 31) && n < 2 ** 31) return [0x4a, ...u32(n >>> 0)];
    // LONG1 with 8 bytes two's complement
    let v = BigInt.asUintN(64, BigInt(n));
    const b: number[] = [];
    for (let i = 0; i < 8; i++) (b.push(Number(v & 0xffn)), (v >>= 8n));
    return [0x8a, 8, ...b];
  },
  float: (x: number): W => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return [0x47, ...b];
  },
  str: (s: string): W => {
    const b = Array.from(new TextEncoder().encode(s));
    return [0x58, ...u32(b.length), ...b];
  },
  global: (module: string, name: string): W => [0x63, ...Array.from(new TextEncoder().encode(`${module}\n${name}\n`))],
  emptyTuple: (): W => [0x29],
  tuple: (): W => [0x74],
  emptyList: (): W => [0x5d],
  appends: (): W => [0x65],
  emptyDict: (): W => [0x7d],
  setitems: (): W => [0x75],
  reduce: (): W => [0x52],
  build: (): W => [0x62],
  binpersid: (): W => [0x51],
  binput: (i: number): W => [0x71, i],
  binget: (i: number): W => [0x68, i],
  longBinput: (i: number): W => [0x72, ...u32(i)],
  longBinget: (i: number): W => [0x6a, ...u32(i)],
};

/** Plain JSON-like values the naive writer can emit. */
export type Plain = null | boolean | number | string | Plain[] | { tuple: Plain[] } | { dict: [string, Plain][] };

export function writePlain(v: Plain): W {
  if (v === null) return op.none();
  if (typeof v === 'boolean') return op.bool(v);
  if (typeof v === 'number') return Number.isInteger(v) ? op.int(v) : op.float(v);
  if (typeof v === 'string') return op.str(v);
  if (Array.isArray(v)) return [...op.emptyList(), ...op.mark(), ...v.flatMap(writePlain), ...op.appends()];
  if ('tuple' in v) return [...op.mark(), ...v.tuple.flatMap(writePlain), ...op.tuple()];
  return [...op.emptyDict(), ...op.mark(), ...v.dict.flatMap(([k, x]) => [...op.str(k), ...writePlain(x)]), ...op.setitems()];
}

export function pickle(body: W): Uint8Array {
  return Uint8Array.from([...op.proto(), ...body, ...op.stop()]);
}

/** A torch tensor reference: _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()). */
export function tensorRef(o: { storage: string; key: string; numel: number; offset: number; size: number[]; stride: number[]; hooks?: W }): W {
  const tup = (xs: number[]): W => [...op.mark(), ...xs.flatMap(op.int), ...op.tuple()];
  return [
    ...op.global('torch._utils', '_rebuild_tensor_v2'),
    ...op.mark(),
    ...op.mark(), ...op.str('storage'), ...op.global('torch', o.storage), ...op.str(o.key), ...op.str('cpu'), ...op.int(o.numel), ...op.tuple(),
    ...op.binpersid(),
    ...op.int(o.offset),
    ...tup(o.size),
    ...tup(o.stride),
    ...op.bool(false),
    ...(o.hooks ?? [...op.global('collections', 'OrderedDict'), ...op.emptyTuple(), ...op.reduce()]),
    ...op.tuple(),
    ...op.reduce(),
  ];
}
