import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GOLDEN_CASES } from '../../src/golden/cases';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const GOLDEN = join(ROOT, 'fixtures', 'golden');
const SRC = join(ROOT, 'fpga', 'tb', 'golden_reader.cpp');

function hasGxx(): boolean {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const GXX = hasGxx();
if (!GXX) console.warn('spec/fpga/golden-reader: g++ is not installed; the C++ golden reader tests are SKIPPED');

describe.skipIf(!GXX || !existsSync(GOLDEN))('fpga/tb/golden_reader.cpp (g++ -std=c++17 -O2 -Wall -Wextra -ffp-contract=off)', () => {
  let tmp = '', exe = '';
  const run = (...args: string[]) => spawnSync(exe, args, { encoding: 'utf8' });
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'golden-cpp-'));
    exe = join(tmp, 'golden_reader');
    const r = spawnSync('g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-ffp-contract=off', '-o', exe, SRC], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`g++ failed:\n${r.stderr}`);
    // -Wall -Wextra must be clean
    expect(r.stderr).toBe('');
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  describe('edge cases', () => {
    it('no arguments → usage, exit 2; a missing directory → exit 2', () => {
      expect(run().status).toBe(2);
      expect(run(join(tmp, 'nope')).status).toBe(2);
    });
    it('a corrupted .bin, a wrong schema and a truncated params array each FAIL naming file and field, exit 1', () => {
      const mk = (rel: string): string => { const d = join(tmp, `c${Math.random().toString(36).slice(2)}`); cpSync(join(GOLDEN, rel), d, { recursive: true }); return d; };
      const a = mk('ops/gemm-cag/b4_g4_m4k32n8');
      const b = readFileSync(join(a, 'acc.bin')); b[5] ^= 0x40; writeFileSync(join(a, 'acc.bin'), b);
      let r = run(a);
      expect(r.status).toBe(1);
      expect(r.stdout).toMatch(/FAIL .*acc\.bin: CRC32 0x[0-9a-f]{8} does not match desc\.json desc\.outputs\[0\]\.crc32/);
      const c = mk('ops/lnq-attention/b4_m8t8d4');
      const d = JSON.parse(readFileSync(join(c, 'desc.json'), 'utf8'));
      d.params.lnq.table.pop();
      writeFileSync(join(c, 'desc.json'), JSON.stringify(d));
      r = run(c);
      expect(r.stdout).toMatch(/desc\.json: desc\.params\.lnq\.table must have 16 entries \(got 15\)/);
      d.schema = 'ahcq-golden/9';
      writeFileSync(join(c, 'desc.json'), JSON.stringify(d));
      expect(run(c).stdout).toMatch(/schema must be "ahcq-golden\/1"/);
      writeFileSync(join(c, 'desc.json'), '{"schema": "ahcq-golden/1", "op": [}');
      expect(run(c).stdout).toMatch(/desc\.json: invalid JSON at byte \d+/);
    });
  });
  describe('conformance', () => {
    it('recomputes every committed case bit for bit (integer ops and the float32 vector unit)', () => {
      const r = run(GOLDEN);
      expect(r.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
      expect(r.stdout).toContain(`${GOLDEN_CASES.length} passed, 0 failed`);
      expect(r.status).toBe(0);
    });
  });
});
