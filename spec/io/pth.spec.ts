import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadPth } from '../../src/io/pth';
import { openZip } from '../../src/io/zip';
import { FormatError, type DType, type Tensor } from '../../src/tensor';
import { hasShared, loadSharedNpy, sharedPath } from '../helpers/shared';
import { op, pickle, tensorRef, type W } from './pickle-writer';
import { naiveCrc32, writeZip, type WEntry } from './zip-writer';

const VT = ['fixtures', 'sam-reference', 'vit-tiny'];
const havePth = hasShared(...VT, 'weights.pth');
if (!havePth) console.warn(`${sharedPath(...VT, 'weights.pth')} is absent; skipping pth conformance`);

const f32 = (xs: number[]): Uint8Array => {
  const b = new Uint8Array(4 * xs.length);
  xs.forEach((x, i) => new DataView(b.buffer).setFloat32(4 * i, x, true));
  return b;
};

/** A torch-style archive: `archive/data.pkl` + `archive/data/<key>` + version, written by the naive oracles. */
function archive(pkl: W, storages: Record<string, Uint8Array>, extra: WEntry[] = []): Uint8Array {
  const entries: WEntry[] = [{ name: 'archive/data.pkl', data: pickle(pkl) }];
  for (const [k, b] of Object.entries(storages)) entries.push({ name: `archive/data/${k}`, data: b });
  entries.push({ name: 'archive/version', data: new TextEncoder().encode('3\n') }, ...extra);
  return writeZip(entries, { descriptor: true });
}
/** OrderedDict() then SETITEMS of (key, body) pairs. */
function odict(items: [string, W][]): W {
  return [...op.global('collections', 'OrderedDict'), ...op.emptyTuple(), ...op.reduce(), ...op.mark(), ...items.flatMap(([k, v]) => [...op.str(k), ...v]), ...op.setitems()];
}
const values = (t: Tensor<DType> | undefined): number[] => Array.from(t!.data);

describe('edge cases', () => {
  const ok = tensorRef({ storage: 'FloatStorage', key: '0', numel: 4, offset: 0, size: [2, 2], stride: [2, 1] });
  const s0 = { '0': f32([1, 2, 3, 4]) };
  it('a disallowed global inside data.pkl names it', () => {
    const evil = [...op.global('os', 'system'), ...op.mark(), ...op.str('id'), ...op.tuple(), ...op.reduce()];
    expect(() => loadPth(archive(odict([['w', evil]]), s0), 'evil.pth')).toThrow(/evil\.pth: pickle: global os\.system is not allowed/);
    const sneaky = [...op.global('torch', 'load'), ...op.emptyTuple(), ...op.reduce()];
    expect(() => loadPth(archive(odict([['w', sneaky]]), s0), 'e')).toThrow(/global torch\.load is not allowed/);
  });
  it('storage problems are named', () => {
    expect(() => loadPth(archive(odict([['w', ok]]), {}), 'x')).toThrow(/no entry named 'archive\/data\/0'/);
    expect(() => loadPth(archive(odict([['w', ok]]), { '0': f32([1, 2, 3]) }), 'x')).toThrow(/storage '0' has 12 bytes, FloatStorage of 4 elements needs 16/);
    const bad = tensorRef({ storage: 'FloatStorage', key: '0', numel: 4, offset: 1, size: [2, 2], stride: [2, 1] });
    expect(() => loadPth(archive(odict([['w', bad]]), s0), 'x')).toThrow(/reaches element 4 of storage '0' with 4 elements/);
    const fake = tensorRef({ storage: 'PretendStorage', key: '0', numel: 4, offset: 0, size: [4], stride: [1] });
    expect(() => loadPth(archive(odict([['w', fake]]), s0), 'x')).toThrow(/global torch\.PretendStorage is not allowed/);
    const rank = tensorRef({ storage: 'FloatStorage', key: '0', numel: 4, offset: 0, size: [4], stride: [1, 1] });
    expect(() => loadPth(archive(odict([['w', rank]]), s0), 'x')).toThrow(/differ in rank/);
  });
  it('non-empty backward hooks are refused', () => {
    const hooks = [...op.emptyDict(), ...op.int(1), ...op.none(), 0x73];
    const t = tensorRef({ storage: 'FloatStorage', key: '0', numel: 4, offset: 0, size: [4], stride: [1], hooks });
    expect(() => loadPth(archive(odict([['w', t]]), s0), 'x')).toThrow(/backward hooks must be an empty dict/);
  });
  it('archive-level problems', () => {
    expect(() => loadPth(archive(op.int(3), {}), 'x')).toThrow(/saved object is a number, expected a dict/);
    expect(() => loadPth(archive(odict([['epoch', op.int(3)]]), {}), 'x')).toThrow(/contains no tensors/);
    const big = archive(odict([['w', ok]]), s0, [{ name: 'archive/byteorder', data: new TextEncoder().encode('big') }]);
    expect(() => loadPth(big, 'x')).toThrow(/byteorder 'big' is not supported/);
    const two = writeZip([{ name: 'a/data.pkl', data: pickle(odict([])) }, { name: 'b/data.pkl', data: pickle(odict([])) }]);
    expect(() => loadPth(two, 'x')).toThrow(/exactly one '<archive>\/data\.pkl' entry \(found 2\)/);
    expect(() => loadPth(new TextEncoder().encode('not a zip'), 'x')).toThrow(FormatError);
  });
  it('the materialisation limit is enforced', () => {
    expect(() => loadPth(archive(odict([['w', ok]]), s0), 'x', { maxTensorBytes: 15 })).toThrow(/materialisation limit/);
  });
});

describe('oracle (archives written by the naive zip + pickle writers)', () => {
  it('strides, offsets, zero strides and scalars are honoured (copied to contiguous)', () => {
    const s = { '0': f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) };
    const sd = loadPth(
      archive(
        odict([
          ['contig', tensorRef({ storage: 'FloatStorage', key: '0', numel: 12, offset: 0, size: [3, 4], stride: [4, 1] })],
          ['transposed', tensorRef({ storage: 'FloatStorage', key: '0', numel: 12, offset: 0, size: [4, 3], stride: [1, 4] })],
          ['offset_col', tensorRef({ storage: 'FloatStorage', key: '0', numel: 12, offset: 2, size: [3], stride: [4] })],
          ['expanded', tensorRef({ storage: 'FloatStorage', key: '0', numel: 12, offset: 5, size: [2, 3], stride: [0, 1] })],
          ['scalar', tensorRef({ storage: 'FloatStorage', key: '0', numel: 12, offset: 7, size: [], stride: [] })],
          ['empty', tensorRef({ storage: 'FloatStorage', key: '0', numel: 12, offset: 0, size: [0, 3], stride: [3, 1] })],
        ]),
        s,
      ),
      'o',
    );
    expect(values(sd['contig'])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(sd['transposed']!.shape).toEqual([4, 3]);
    expect(values(sd['transposed'])).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(values(sd['offset_col'])).toEqual([2, 6, 10]);
    expect(values(sd['expanded'])).toEqual([5, 6, 7, 5, 6, 7]);
    expect(sd['scalar']!.shape).toEqual([]);
    expect(values(sd['scalar'])).toEqual([7]);
    expect(sd['empty']!.shape).toEqual([0, 3]);
    expect(sd['transposed']!.data).not.toBe(sd['contig']!.data);
  });
  it('dtypes: half, bfloat16, double, long, int, bool, byte', () => {
    const b = (xs: number[]): Uint8Array => Uint8Array.from(xs);
    const storages = {
      h: b([0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b]), // 1, -2, 2^-24, 65504
      bf: b([0x80, 0x3f, 0x40, 0xc0]), // 1, -3
      d: (() => { const x = new Uint8Array(8); new DataView(x.buffer).setFloat64(0, 0.1, true); return x; })(),
      l: (() => { const x = new Uint8Array(16); const v = new DataView(x.buffer); v.setBigInt64(0, -5n, true); v.setBigInt64(8, 2n ** 53n - 1n, true); return x; })(),
      i: b([0xff, 0xff, 0xff, 0xff]),
      q: b([0, 1, 1]),
      u: b([255]),
    };
    const one = (storage: string, key: string, n: number): W => tensorRef({ storage, key, numel: n, offset: 0, size: [n], stride: [1] });
    const sd = loadPth(
      archive(odict([['h', one('HalfStorage', 'h', 4)], ['bf', one('BFloat16Storage', 'bf', 2)], ['d', one('DoubleStorage', 'd', 1)], ['l', one('LongStorage', 'l', 2)], ['i', one('IntStorage', 'i', 1)], ['q', one('BoolStorage', 'q', 3)], ['u', one('ByteStorage', 'u', 1)]]), storages),
      'dt',
    );
    expect([sd['h']!.dtype, ...values(sd['h'])]).toEqual(['float32', 1, -2, 2 ** -24, 65504]);
    expect([sd['bf']!.dtype, ...values(sd['bf'])]).toEqual(['float32', 1, -3]);
    expect([sd['d']!.dtype, ...values(sd['d'])]).toEqual(['float64', 0.1]);
    expect([sd['l']!.dtype, ...values(sd['l'])]).toEqual(['float64', -5, 2 ** 53 - 1]);
    expect([sd['i']!.dtype, ...values(sd['i'])]).toEqual(['int32', -1]);
    expect([sd['q']!.dtype, ...values(sd['q'])]).toEqual(['uint8', 0, 1, 1]);
    expect([sd['u']!.dtype, ...values(sd['u'])]).toEqual(['uint8', 255]);
    const big = { l: (() => { const x = new Uint8Array(8); new DataView(x.buffer).setBigInt64(0, 2n ** 60n, true); return x; })() };
    expect(() => loadPth(archive(odict([['l', one('LongStorage', 'l', 1)]]), big), 'x')).toThrow(/not exactly representable/);
  });
  it('flattening: wrappers are unwrapped, nested dicts become dotted keys, non-tensors are skipped', () => {
    const s = { '0': f32([1, 2]) };
    const t = (o: number): W => tensorRef({ storage: 'FloatStorage', key: '0', numel: 2, offset: o, size: [1], stride: [1] });
    const param = (o: number): W => [...op.global('torch._utils', '_rebuild_parameter'), ...op.mark(), ...t(o), ...op.bool(true), ...odict([]), ...op.tuple(), ...op.reduce()];
    const wrapped = odict([['epoch', op.int(7)], ['state_dict', odict([['enc', odict([['w', param(0)]])], ['b', t(1)]])], ['optimizer', odict([['lr', op.float(0.1)]])]]);
    expect(Object.keys(loadPth(archive(wrapped, s), 'w'))).toEqual(['enc.w', 'b']);
    const model = odict([['model', odict([['a', t(0)]])], ['ema', odict([['a', t(1)]])]]);
    expect(Object.keys(loadPth(archive(model, s), 'm'))).toEqual(['a']);
    const nested = odict([['enc', odict([['a', t(0)], ['cfg', op.str('x')]])], ['dec', odict([['b', t(1)]])]]);
    const sd = loadPth(archive(nested, s), 'n');
    expect(Object.keys(sd)).toEqual(['enc.a', 'dec.b']);
    expect(values(sd['dec.b'])).toEqual([2]);
    const clash = odict([['a.b', t(0)], ['a', odict([['b', t(1)]])]]);
    expect(() => loadPth(archive(clash, s), 'c')).toThrow(/key 'a\.b' occurs twice/);
  });
});

describe.skipIf(!havePth)('laws and conformance: PyTorch-written vit-tiny weights.pth', () => {
  const bytes = havePth ? new Uint8Array(readFileSync(sharedPath(...VT, 'weights.pth'))) : new Uint8Array(0);
  it('all 65 tensors equal weights/<key>.npy exactly (dtype, shape, every bit), in state_dict order', () => {
    const sd = loadPth(bytes, 'weights.pth');
    const files = readdirSync(sharedPath(...VT, 'weights')).filter((f) => f.endsWith('.npy'));
    expect(files.length).toBe(65);
    expect(Object.keys(sd).length).toBe(65);
    expect(Object.keys(sd).slice(0, 3)).toEqual(['pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias']);
    for (const f of files) {
      const key = f.slice(0, -4);
      const ref = loadSharedNpy(...VT, 'weights', f);
      const t = sd[key];
      expect(t, key).toBeDefined();
      expect([t!.dtype, t!.shape], key).toEqual([ref.dtype, ref.shape]);
      const a = new Uint8Array(t!.data.buffer, t!.data.byteOffset, t!.data.byteLength);
      const b = new Uint8Array(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength);
      expect(Buffer.compare(Buffer.from(a), Buffer.from(b)), key).toBe(0); // exact: a relabelling of bytes
    }
  });
  it('fuzz: random byte flips and truncations give FormatError or (flip in a byte ZIP ignores) an identical result', () => {
    const ref = loadPth(bytes, 'ref');
    const same = (sd: Record<string, Tensor<DType>>): boolean =>
      Object.keys(sd).length === Object.keys(ref).length &&
      Object.entries(ref).every(([k, t]) => sd[k] !== undefined && sd[k]!.data.length === t.data.length && sd[k]!.data.every((v, i) => Object.is(v, t.data[i])));
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, truncate) => {
        const c = truncate ? bytes.slice(0, at) : bytes.slice();
        if (!truncate) c[at] ^= x;
        try {
          return same(loadPth(c, 'fuzz'));
        } catch (e) {
          return e instanceof FormatError;
        }
      }),
      { numRuns: 40 },
    );
  });
  it('fuzz: flips inside data.pkl (CRC recomputed so the VM sees them) give FormatError or a result, never a crash', () => {
    // Re-pack once with the naive writer, then flip pickle bytes in place and patch both CRC fields
    // (local header +14, first central record +16) so that every flipped pickle reaches the VM.
    const z0 = openZip(bytes, 'ref');
    const pkl = z0.read('vit_tiny_weights/data.pkl');
    const storages = [...z0.entries.keys()].filter((k) => k.includes('/data/')).map((k) => ({ name: k, data: z0.read(k) }));
    const base = writeZip([{ name: 'vit_tiny_weights/data.pkl', data: pkl }, ...storages]);
    const dv0 = new DataView(base.buffer);
    const cd = dv0.getUint32(base.length - 22 + 16, true);
    const start = 30 + 'vit_tiny_weights/data.pkl'.length;
    fc.assert(
      fc.property(fc.nat(pkl.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const z = base.slice();
        z[start + at]! ^= x;
        const crc = naiveCrc32(z.subarray(start, start + pkl.length));
        const dv = new DataView(z.buffer);
        dv.setUint32(14, crc, true);
        dv.setUint32(cd + 16, crc, true);
        try {
          loadPth(z, 'pklfuzz');
          return true;
        } catch (e) {
          return e instanceof FormatError;
        }
      }),
      { numRuns: 60 }, // ~60 ms per load; bounded to keep the area under ~10 s
    );
  });
});
