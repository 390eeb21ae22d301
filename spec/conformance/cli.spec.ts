import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/conformance';
import { runConformance } from '../../src/conformance/runner';

const TMP = mkdtempSync(join(tmpdir(), 'ahcq-conf-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

function vectors(name: string, cases: { component: string; case: string; body: unknown }[]): string {
  const dir = join(TMP, name);
  mkdirSync(join(dir, 'c'), { recursive: true });
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ cases: cases.map((c) => ({ component: c.component, case: c.case, file: `c/${c.case}.json` })) }));
  for (const c of cases) writeFileSync(join(dir, 'c', `${c.case}.json`), typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
  return dir;
}

// a hand-computed calc_qparams case: [−1, 2] at 4 bits → s = 3/15 = 0.2 (float32), z = round(5) = 5
const GOOD = {
  component: 'uniform',
  case: 'calc_qparams_asym_b4',
  body: {
    params: { bit: 4, symmetric: false },
    inputs: { min_val: { shape: [1], dtype: 'float32', data: [-1] }, max_val: { shape: [1], dtype: 'float32', data: [2] } },
    outputs: { scale: { shape: [1], dtype: 'float32', data: [Math.fround(0.2)] }, zero_point: { shape: [1], dtype: 'float32', data: [5] } },
  },
};

async function capture(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await run(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('ahcq conformance CLI', () => {
  describe('edge cases', () => {
    it('missing --vectors and unknown options exit 2 with a usage message', async () => {
      expect((await capture([])).code).toBe(2);
      const r = await capture(['--vectors', TMP, '--bogus']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/unknown option --bogus/);
    });
    it('an unreadable directory exits 2', async () => {
      const r = await capture(['--vectors', join(TMP, 'nope')]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/not a readable directory/);
    });
    it('a directory without a valid index.json exits 2', async () => {
      const d = join(TMP, 'noindex');
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'index.json'), '{not json');
      const r = await capture(['--vectors', d]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/not valid JSON/);
    });
  });

  describe('laws', () => {
    it('a passing set prints one line per component and the final "N passed, N failed" line, exit 0', async () => {
      const r = await capture(['--vectors', vectors('good', [GOOD])]);
      expect(r.code).toBe(0);
      expect(r.out.trim().split('\n')).toEqual(['uniform: 1 passed, 0 failed', '1 passed, 0 failed']);
    });
    it('uninterpretable cases are failures with a reason, never skips (exit 1)', async () => {
      const dir = vectors('bad', [
        GOOD,
        { component: 'martian', case: 'x', body: { params: {}, inputs: {}, outputs: {} } },
        { component: 'uniform', case: 'mystery_case', body: { params: {}, inputs: {}, outputs: {} } },
        { component: 'uniform', case: 'broken', body: '{oops' },
        { component: 'hluq', case: 'forward_missing', body: { params: { bit: 4 }, inputs: {}, outputs: {} } },
      ]);
      const res = runConformance(dir);
      expect(res.map((r) => r.ok)).toEqual([true, false, false, false, false]);
      expect(res[1]!.error).toMatch(/no checker for component 'martian'/);
      expect(res[2]!.error).toMatch(/no interpretation for case 'mystery_case'/);
      expect(res[3]!.error).toMatch(/not valid JSON/);
      expect(res[4]!.error).toMatch(/cannot interpret case/);
      const r = await capture(['--vectors', dir]);
      expect(r.code).toBe(1);
      expect(r.out.trim().split('\n').at(-1)).toBe('1 passed, 4 failed');
    });
    it('a wrong reference value is reported with the worst element (exit 1); --json emits the results', async () => {
      const wrong = { ...GOOD, body: { ...GOOD.body, outputs: { ...GOOD.body.outputs, zero_point: { shape: [1], dtype: 'float32', data: [6] } } } };
      const dir = vectors('wrong', [wrong]);
      const r = await capture(['--vectors', dir, '--verbose']);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/FAIL zero_point \[exact\] 1\/1 outside; worst at \[0\]: 5 vs 6/);
      const j = await capture(['--vectors', dir, '--json']);
      expect(j.code).toBe(1);
      expect(JSON.parse(j.out)[0]).toMatchObject({ component: 'uniform', case: 'calc_qparams_asym_b4', ok: false });
    });
  });
});
