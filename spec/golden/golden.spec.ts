import { describe, it, expect } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GOLDEN_CASES } from '../../src/golden/cases';
import { generateCase, setExpectedCycles, writeGolden } from '../../src/golden/writer';
import { readGoldenCase, verifyGoldenCase, findGoldenCaseDirs } from '../../src/golden/reader';
import { checkGolden } from '../../src/golden/check';
import { FormatError, type Tensor } from '../../src/tensor';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const GOLDEN = join(ROOT, 'fixtures', 'golden');
const HAVE = existsSync(GOLDEN);
const CASE = join('ops', 'gemm-uniform', 'b4_m4k16n8');

/** A scratch copy of one committed case (the committed files are never touched). */
function scratch(rel = CASE): { dir: string; done: () => void } {
  const t = mkdtempSync(join(tmpdir(), 'golden-spec-'));
  const dir = join(t, 'case');
  cpSync(join(GOLDEN, rel), dir, { recursive: true });
  return { dir, done: () => rmSync(t, { recursive: true, force: true }) };
}
const editDesc = (dir: string, f: (d: Record<string, any>) => void): void => {
  const d = JSON.parse(readFileSync(join(dir, 'desc.json'), 'utf8'));
  f(d);
  writeFileSync(join(dir, 'desc.json'), JSON.stringify(d));
};

describe('golden vectors', () => {
  describe.skipIf(!HAVE)('edge cases (reader errors name the file and the field)', () => {
    it('wrong schema version', () => {
      const s = scratch();
      try {
        editDesc(s.dir, (d) => { d.schema = 'ahcq-golden/2'; });
        expect(() => readGoldenCase(s.dir)).toThrow(FormatError);
        expect(() => readGoldenCase(s.dir)).toThrow(/desc\.json.*schema must be "ahcq-golden\/1"/);
      } finally { s.done(); }
    });
    it('CRC mismatch after one flipped byte in a .bin (and the .npy left alone)', () => {
      const s = scratch();
      try {
        const p = join(s.dir, 'y.bin');
        const b = readFileSync(p); b[0] ^= 1; writeFileSync(p, b);
        expect(() => readGoldenCase(s.dir)).toThrow(/y\.bin.*byte 0 differs/);
        // a desc.json whose recorded CRC disagrees with the bytes: the CRC check names both
        const q = scratch();
        try {
          editDesc(q.dir, (d) => { d.outputs[1].crc32 = '0x00000000'; d.expected.crc32.y = '0x00000000'; });
          expect(() => readGoldenCase(q.dir)).toThrow(/y\.bin: CRC32 0x[0-9a-f]{8} does not match desc\.json outputs\[1\]\.crc32 0x00000000/);
        } finally { q.done(); }
      } finally { s.done(); }
    });
    it('truncated .npy, shape disagreeing with desc.json, missing params field, inconsistent expected.crc32', () => {
      const s = scratch();
      try {
        const p = join(s.dir, 'x.npy');
        const b = readFileSync(p); writeFileSync(p, b.subarray(0, b.length - 3));
        expect(() => readGoldenCase(s.dir)).toThrow(/x\.npy.*truncated/);
      } finally { s.done(); }
      const t = scratch();
      try {
        editDesc(t.dir, (d) => { d.inputs[0].shape = [16, 4]; });
        expect(() => readGoldenCase(t.dir)).toThrow(/x\.npy: shape \[4,16\] disagrees with desc\.json inputs\[0\]\.shape \[16,4\]/);
        editDesc(t.dir, (d) => { d.inputs[0].shape = [4, 16]; delete d.params.zx; });
        expect(() => verifyGoldenCase(readGoldenCase(t.dir))).toThrow(/desc\.json: params\.zx is missing/);
        editDesc(t.dir, (d) => { d.params.zx = 3; d.expected.crc32.y = '0x12345678'; });
        expect(() => readGoldenCase(t.dir)).toThrow(/expected\.crc32\.y/);
      } finally { t.done(); }
    });
    it('malformed JSON and missing files name the file', () => {
      const s = scratch();
      try {
        rmSync(join(s.dir, 'w.hex'));
        expect(() => readGoldenCase(s.dir)).toThrow(/w\.hex/);
        writeFileSync(join(s.dir, 'desc.json'), '{"schema": ');
        expect(() => readGoldenCase(s.dir)).toThrow(/desc\.json: not valid JSON/);
      } finally { s.done(); }
    });
  });

  describe.skipIf(!HAVE)('oracle (naive loops over the stored tensors)', () => {
    it('every uniform GEMM case: stored acc = Σ_k (w − zw[n])·(x − zx)', () => {
      const dirs = findGoldenCaseDirs(GOLDEN).filter((d) => d.includes('gemm-uniform'));
      expect(dirs.length).toBeGreaterThanOrEqual(8);
      for (const d of dirs) {
        const c = readGoldenCase(d);
        const x = c.inputs.get('x')!.tensor as Tensor<'int32'>, w = c.inputs.get('w')!.tensor as Tensor<'int32'>, acc = c.outputs.get('acc')!.tensor;
        const [M, K] = x.shape as [number, number], N = w.shape[0]!;
        const zw = c.desc.params['zw'] as number[], zx = c.desc.params['zx'] as number;
        for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += (w.data[n * K + k]! - zw[n]!) * (x.data[m * K + k]! - zx);
          expect(acc.data[m * N + n]).toBe(s);
        }
      }
    });
  });

  describe('laws', () => {
    it('regeneration is deterministic; a different seed offset changes the data', () => {
      for (const c of GOLDEN_CASES.slice(0, 6)) {
        const a = generateCase(c), b = generateCase(c), d = generateCase(c, 7);
        expect([...a.files.keys()]).toEqual([...b.files.keys()]);
        for (const [k, v] of a.files) expect(Buffer.from(b.files.get(k)!)).toEqual(Buffer.from(v));
        expect(d.files.get('desc.json')).not.toEqual(a.files.get('desc.json'));
      }
    });
    it('catalogue ids are unique and every case writes, reads back and verifies in a fresh directory (seed offset 12345)', () => {
      expect(new Set(GOLDEN_CASES.map((c) => `${c.suite}/${c.id}`)).size).toBe(GOLDEN_CASES.length);
      const t = mkdtempSync(join(tmpdir(), 'golden-regen-'));
      try {
        const dirs = writeGolden(t, GOLDEN_CASES, 12345);
        for (const d of dirs) expect(verifyGoldenCase(readGoldenCase(d))).toEqual([]);
      } finally { rmSync(t, { recursive: true, force: true }); }
    });
    it.skipIf(!HAVE)('setExpectedCycles rewrites desc.json canonically; the reader and golden:check accept it', () => {
      const s = scratch();
      try {
        setExpectedCycles(s.dir, { tile: 30, layer: 41 });
        const once = readFileSync(join(s.dir, 'desc.json'), 'utf8');
        setExpectedCycles(s.dir, { layer: 41, tile: 30 });
        expect(readFileSync(join(s.dir, 'desc.json'), 'utf8')).toBe(once);
        expect(readGoldenCase(s.dir).desc.expected.cycles).toEqual({ layer: 41, tile: 30 });
        expect(() => setExpectedCycles(s.dir, -1)).toThrow(/cycles/);
      } finally { s.done(); }
    });
  });

  describe.skipIf(!HAVE)('conformance (the committed set)', () => {
    it('golden:check — regenerating the catalogue reproduces fixtures/golden byte for byte', () => {
      const r = checkGolden(GOLDEN);
      expect(r.lines.filter((l) => l.startsWith('FAIL') || l.startsWith('  '))).toEqual([]);
      expect(r.passed).toBe(GOLDEN_CASES.length);
    });
    it('every committed case validates and its outputs recompute bit for bit (TS SUT)', () => {
      const dirs = findGoldenCaseDirs(GOLDEN);
      expect(dirs.length).toBe(GOLDEN_CASES.length);
      for (const d of dirs) expect({ d, m: verifyGoldenCase(readGoldenCase(d)) }).toEqual({ d, m: [] });
    });
    it('the committed set stays small (≤ 2 MB of file contents)', () => {
      let bytes = 0;
      for (const d of findGoldenCaseDirs(GOLDEN)) for (const [, v] of generateCase(GOLDEN_CASES.find((c) => d.endsWith(join(c.suite, c.id)))!).files) bytes += typeof v === 'string' ? Buffer.byteLength(v) : v.length;
      expect(bytes).toBeLessThan(2 * 2 ** 20);
    });
  });
});
