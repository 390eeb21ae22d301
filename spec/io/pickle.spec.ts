import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unpickle, type PyValue } from '../../src/io/pickle';
import { FormatError } from '../../src/tensor';
import { op, pickle, writePlain, type Plain } from './pickle-writer';

const hex = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const bytesOf = (s: string): number[] => Array.from(new TextEncoder().encode(s));

/** Py value → comparable plain JS (tags spelled out). */
function js(v: PyValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return { bytes: Array.from(v) };
  switch (v.kind) {
    case 'tuple':
      return { tuple: v.items.map(js) };
    case 'list':
      return v.items.map(js);
    case 'dict':
      return { dict: [...v.map].map(([k, x]) => [k, js(x)]) };
    case 'set':
      return { set: v.items.map(js) };
    case 'global':
      return { global: `${v.module}.${v.name}` };
    default:
      return { object: v.type };
  }
}
/** Plain (writer input) → the same comparable form. */
function plainJs(v: Plain): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plainJs);
  if ('tuple' in v) return { tuple: v.tuple.map(plainJs) };
  return { dict: v.dict.map(([k, x]) => [k, plainJs(x)]) };
}

const fmt = (b: Uint8Array | number[], re: RegExp): void => {
  const bytes = b instanceof Uint8Array ? b : Uint8Array.from(b);
  expect(() => unpickle(bytes, 'evil.pkl')).toThrow(FormatError);
  expect(() => unpickle(bytes, 'evil.pkl')).toThrow(re);
};

describe('edge cases (hostile pickles)', () => {
  it('GLOBAL os.system + REDUCE is refused at the GLOBAL, naming it', () => {
    // c os\nsystem\n  (X 'echo pwned' t) R .
    fmt([0x80, 2, ...op.global('os', 'system'), ...op.mark(), ...op.str('echo pwned'), ...op.tuple(), ...op.reduce(), ...op.stop()], /evil\.pkl: pickle: global os\.system is not allowed/);
    fmt([...op.global('builtins', 'eval'), ...op.stop()], /global builtins\.eval is not allowed/);
    fmt([...op.str('posix'), ...op.str('system'), 0x93, ...op.stop()], /global posix\.system is not allowed/);
    fmt([...op.global('torch._utils', '_rebuild_tensor_v2'), ...op.stop()], /global torch\._utils\._rebuild_tensor_v2 is not allowed/); // not in the default allow-list
  });
  it('object-construction opcodes are refused by name', () => {
    fmt([0x80, 2, 0x69, ...bytesOf('os\nsystem\n'), 0x2e], /opcode INST/);
    fmt([0x80, 2, ...op.mark(), 0x6f, 0x2e], /opcode OBJ/);
    fmt([0x80, 2, ...op.global('collections', 'OrderedDict'), ...op.emptyTuple(), 0x81, 0x2e], /opcode NEWOBJ/);
    fmt([0x80, 2, 0x82, 1, 0x2e], /opcode EXT1/);
    fmt([0xff], /opcode 0xff at offset 0/);
  });
  it('huge memo indices are refused without allocating', () => {
    fmt([...op.none(), ...op.longBinput(0xffffffff), ...op.stop()], /memo index 4294967295 exceeds the limit/);
    fmt([...op.longBinget(123456), ...op.stop()], /memo index 123456 was never stored/);
  });
  it('recursion bombs: deep nesting and self-containment are refused', () => {
    const deepTuple = [...op.emptyTuple(), ...new Array(1000).fill(0x85), ...op.stop()];
    fmt(deepTuple, /nesting depth exceeds the limit of 100/);
    const deepList = [...Array(1000).fill(0x5d).flat(), ...Array(999).fill(0x61), ...op.stop()];
    fmt(deepList, /nesting depth exceeds the limit of 100/);
    fmt([...op.emptyList(), ...op.binput(0), ...op.binget(0), 0x61, ...op.stop()], /may not contain itself/);
    const marks = Uint8Array.from([...new Array(2000).fill(0x28), ...op.stop()]);
    expect(() => unpickle(marks, 'm', { maxStack: 1000 })).toThrow(/stack depth exceeds the limit of 1000/);
  });
  it('allocation is bounded', () => {
    const big = [0x42, ...[0, 0, 0x10, 0], ...new Array(0x100000).fill(1), ...op.stop()]; // BINBYTES of 1 MiB
    expect(() => unpickle(Uint8Array.from(big), 'a', { maxAllocBytes: 1000 })).toThrow(/allocation exceeds the limit of 1000 bytes/);
  });
  it('truncated and malformed streams', () => {
    const good = pickle(writePlain({ dict: [['a', [1, 2, 'x']]] }));
    for (let cut = 0; cut < good.length; cut++) expect(() => unpickle(good.subarray(0, cut), 't')).toThrow(FormatError);
    fmt([0x58, 0xff, 0xff, 0xff, 0xff, 0x41], /truncated stream reading BINUNICODE/);
    fmt([0x58, 2, 0, 0, 0, 0xc3, 0x28, 0x2e], /not valid UTF-8/);
    fmt([0x2e], /STOP with 0 values/);
    fmt([...op.none(), ...op.none(), ...op.stop()], /STOP with 2 values/);
    fmt([0x61, 0x2e], /stack underflow/);
    fmt([0x74, 0x2e], /TUPLE without a MARK/);
    fmt([...op.none(), ...op.emptyTuple(), ...op.reduce(), ...op.stop()], /REDUCE target is not an allowed global/);
    fmt([...op.none(), ...op.none(), ...op.build(), ...op.stop()], /BUILD is only allowed/);
    fmt([...op.none(), ...op.binpersid(), ...op.stop()], /persistent ids are not allowed/);
    fmt([...op.emptyDict(), ...op.emptyTuple(), ...op.none(), 0x73, ...op.stop()], /unsupported dict key of type tuple/);
    fmt([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x2e], /LONG1 of 9 bytes/);
    fmt([0x80, 9, 0x2e], /unsupported protocol 9/);
  });
});

describe('oracle (bytes written by CPython 3.11 pickle.dumps)', () => {
  // v = {'a': [1, -2, 3.5, None, True, False, 2**40, -2**31-1], 'b': (b'xy', 'é', ()),
  //      'c': OrderedDict([('k', (1, 2, 3))]), 'd': {1: 'one'}, 'e': frozenset()}
  const expected = {
    dict: [
      ['a', [1, -2, 3.5, null, true, false, 2 ** 40, -(2 ** 31) - 1]],
      ['b', { tuple: [{ bytes: [0x78, 0x79] }, 'é', { tuple: [] }] }],
      ['c', { dict: [['k', { tuple: [1, 2, 3] }]] }],
      ['d', { dict: [[1, 'one']] }],
      ['e', { set: [] }],
    ],
  };
  it('protocol 2', () => {
    const p2 =
      '80027d71002858010000006171015d7102284b014afeffffff47400c0000000000004e88898a060000000000018a05ffffff7fff655801000000627103635f636f646563730a656e636f64650a710458020000007879710558060000006c6174696e3171068671075271085802000000c3a971092987710a580100000063710b63636f6c6c656374696f6e730a4f726465726564446963740a710c2952710d58010000006b710e4b014b024b0387710f7358010000006471107d71114b0158030000006f6e657112735801000000657113635f5f6275696c74696e5f5f0a66726f7a656e7365740a71145d7115857116527117752e';
    expect(js(unpickle(hex(p2), 'p2'))).toEqual(expected);
  });
  it('protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL, FROZENSET)', () => {
    const p4 =
      '80049588000000000000007d94288c0161945d94284b014afeffffff47400c0000000000004e88898a060000000000018a05ffffff7fff658c01629443027879948c02c3a9942987948c0163948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b014b024b038794738c0164947d944b018c036f6e6594738c016594289194752e';
    expect(js(unpickle(hex(p4), 'p4'))).toEqual(expected);
  });
  it('memo sharing: (x, x) with x = [1] gives one shared list', () => {
    const v = unpickle(hex('80025d71004b016168008671012e'), 's');
    expect(js(v)).toEqual({ tuple: [[1], [1]] });
    const t = v as Extract<PyValue, { kind: 'tuple' }>;
    expect(t.items[0]).toBe(t.items[1]);
  });
});

describe('laws', () => {
  const plain: fc.Arbitrary<Plain> = fc.letrec<{ v: Plain }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.double({ noNaN: true }).filter((x) => !Number.isInteger(x)),
      fc.string(),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.record({ tuple: fc.array(tie('v'), { maxLength: 4 }) }),
      fc.record({ dict: fc.uniqueArray(fc.tuple(fc.string(), tie('v')), { selector: (e) => e[0], maxLength: 4 }) }),
    ),
  })).v;
  it('unpickle(naive protocol-2 writer(v)) reproduces v', () => {
    fc.assert(
      fc.property(plain, (v) => {
        expect(js(unpickle(pickle(writePlain(v)), 'law'))).toEqual(plainJs(v));
      }),
    );
  });
  it('arbitrary bytes only ever produce a value or a FormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          unpickle(b, 'fuzz');
          return true;
        } catch (e) {
          return e instanceof FormatError;
        }
      }),
      { numRuns: 500 },
    );
  });
  it('unpickling is deterministic', () => {
    fc.assert(
      fc.property(plain, (v) => {
        expect(js(unpickle(pickle(writePlain(v)), 'a'))).toEqual(js(unpickle(pickle(writePlain(v)), 'b')));
      }),
    );
  });
});
