/**
 * `npm run golden:check`: regenerate every catalogue case into a temporary directory and byte-compare
 * it with the committed set (fixtures/golden). Prints one line per case, the differing files, and
 * `N passed, N failed`; exits 1 on any difference. `expected.cycles`, the one field the hardware model
 * fills in later (`setExpectedCycles`), is carried over from the committed desc.json before comparing.
 *
 * Usage: tsx src/golden/check.ts [--golden DIR]
 */
import { mkdtempSync, rmSync, readdirSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GOLDEN_CASES } from './cases';
import { writeGolden, setExpectedCycles } from './writer';
import type { GoldenCase } from './format';

// TYPES

export interface GoldenCheckResult {
  readonly passed: number;
  readonly failed: number;
  readonly lines: readonly string[];
}

// CONSTANTS

/** The committed golden root of this checkout. */
export const COMMITTED_GOLDEN_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'fixtures', 'golden');

// MAIN

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

function committedCycles(path: string): unknown {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { expected?: { cycles?: unknown } }).expected?.cycles ?? null;
  } catch {
    return null;
  }
}

/**
 * Regenerate `cases` and compare them file by file with `committedRoot`; also reports committed case
 * directories that no catalogue entry produces.
 * @equation pass(case) ⇔ files(regenerated) = files(committed) ∧ bytes equal
 * @precision exact (byte comparison)
 */
export function checkGolden(committedRoot: string, cases: readonly GoldenCase[] = GOLDEN_CASES): GoldenCheckResult {
  const tmp = mkdtempSync(join(tmpdir(), 'ahcq-golden-'));
  const lines: string[] = [];
  let passed = 0, failed = 0;
  try {
    writeGolden(tmp, cases);
    const known = new Set<string>();
    for (const c of cases) {
      const rel = join(c.suite, c.id);
      known.add(rel);
      const a = join(tmp, rel), b = join(committedRoot, rel);
      const cyc = committedCycles(join(b, 'desc.json'));
      if (cyc !== null && existsSync(join(b, 'desc.json'))) setExpectedCycles(a, cyc as number);
      const fa = filesUnder(a), fb = filesUnder(b);
      const problems: string[] = [];
      if (fb.length === 0) problems.push('missing from the committed set');
      else {
        for (const f of fa) if (!fb.includes(f)) problems.push(`${f}: missing`);
        for (const f of fb) if (!fa.includes(f)) problems.push(`${f}: not generated (stale)`);
        for (const f of fa) {
          if (!fb.includes(f)) continue;
          const x = readFileSync(join(a, f)), y = readFileSync(join(b, f));
          if (!x.equals(y)) {
            let i = 0;
            while (i < x.length && i < y.length && x[i] === y[i]) i++;
            problems.push(`${f}: differs at byte ${i} (generated ${x.length} bytes, committed ${y.length})`);
          }
        }
      }
      if (problems.length === 0) { passed++; lines.push(`PASS ${rel}`); }
      else { failed++; lines.push(`FAIL ${rel}`, ...problems.map((p) => `  ${p}`)); }
    }
    if (existsSync(committedRoot)) {
      for (const f of filesUnder(committedRoot)) {
        if (!f.endsWith('desc.json')) continue;
        const rel = relative(committedRoot, join(committedRoot, f, '..'));
        if (!known.has(rel) && statSync(join(committedRoot, f)).isFile()) { failed++; lines.push(`FAIL ${rel}`, '  committed case has no catalogue entry (stale)'); }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  lines.push(`${passed} passed, ${failed} failed`);
  return { passed, failed, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--golden');
  const root = i >= 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]!) : COMMITTED_GOLDEN_ROOT;
  const r = checkGolden(root);
  process.stdout.write(`${r.lines.join('\n')}\n`);
  process.exitCode = r.failed === 0 ? 0 : 1;
}
