/**
 * Keeps docs/paper-map.md honest (STYLE.md §6.4.5): every `@paper` citation under src/quant and
 * src/calib must have a row; every row's Code entries must be exported symbols of existing files, and
 * its Spec tests must exist; citation keys must be known.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/shared';

const KNOWN_KEYS = new Set(['AHCQ-SAM:v4', 'PTQ4SAM']);

/** Citation refs of one `@paper` tag: `AHCQ-SAM:v4 §X` per § token outside parentheses, or a bare key. */
export function refsOfTag(tag: string): { refs: string[]; unknown: string[] } {
  const body = tag.replace(/\([^)]*\)/g, ' ');
  const refs: string[] = [];
  const unknown: string[] = [];
  for (const seg of body.split(';')) {
    const key = seg.trim().split(/\s+/)[0];
    if (!key) continue;
    if (!KNOWN_KEYS.has(key)) {
      unknown.push(key);
      continue;
    }
    const secs = [...seg.matchAll(/§([A-Za-z0-9.]*[A-Za-z0-9])/g)].map((m) => m[1]!);
    if (secs.length === 0) refs.push(key);
    for (const s of secs) refs.push(`${key} §${s}`);
  }
  return { refs, unknown };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

interface Row {
  ref: string;
  code: string[];
  specs: string[];
}

function parseMap(): Row[] {
  const md = readFileSync(join(REPO_ROOT, 'docs', 'paper-map.md'), 'utf8');
  const lines = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Ref') && !l.startsWith('|---'));
  return lines.map((l) => {
    const cells = l.split('|').slice(1, -1).map((c) => c.trim());
    if (cells.length !== 5) throw new Error(`paper-map row must have 5 cells: ${l}`);
    const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
    return { ref: cells[0]!, code: split(cells[3]!), specs: split(cells[4]!) };
  });
}

describe('docs/paper-map.md', () => {
  const rows = parseMap();
  const mapped = new Set(rows.map((r) => r.ref));

  describe('edge cases', () => {
    it('the tag parser ignores METHOD.md sections in parentheses and splits multiple refs', () => {
      expect(refsOfTag('AHCQ-SAM:v4 §HLUQ (METHOD.md §3.2)').refs).toEqual(['AHCQ-SAM:v4 §HLUQ']);
      expect(refsOfTag('AHCQ-SAM:v4 §1, §3, §5 (METHOD.md §1, §5.2)').refs).toEqual(['AHCQ-SAM:v4 §1', 'AHCQ-SAM:v4 §3', 'AHCQ-SAM:v4 §5']);
      expect(refsOfTag('PTQ4SAM (arXiv:2405.03144) BIG; AHCQ-SAM:v4 §4.1 (METHOD.md)').refs).toEqual(['PTQ4SAM', 'AHCQ-SAM:v4 §4.1']);
      expect(refsOfTag('SAM2 §3').unknown).toEqual(['SAM2']);
    });
  });

  describe('laws', () => {
    const tags: { file: string; tag: string }[] = [];
    for (const f of [...sourceFiles('src/quant'), ...sourceFiles('src/calib')]) {
      const text = readFileSync(join(REPO_ROOT, f), 'utf8');
      for (const m of text.matchAll(/@paper ([^\n]*)/g)) tags.push({ file: f, tag: m[1]!.trim() });
    }
    it('there are @paper tags to check', () => {
      expect(tags.length).toBeGreaterThan(50);
    });
    it('every cited ref has a row and every citation key is known', () => {
      const missing: string[] = [];
      const unknown: string[] = [];
      for (const { file, tag } of tags) {
        const r = refsOfTag(tag);
        for (const ref of r.refs) if (!mapped.has(ref)) missing.push(`${file}: ${ref}`);
        for (const k of r.unknown) unknown.push(`${file}: ${k}`);
      }
      expect([...new Set(missing)]).toEqual([]);
      expect([...new Set(unknown)]).toEqual([]);
    });
    it('every Code entry names an exported symbol of an existing file', () => {
      const bad: string[] = [];
      for (const r of rows) {
        for (const c of r.code) {
          const [file, sym] = c.split('#');
          const path = join(REPO_ROOT, file!);
          if (!existsSync(path)) {
            bad.push(`${r.ref}: ${file} does not exist`);
            continue;
          }
          const re = new RegExp(`export (async )?(function|const|interface|type) ${sym}\\b`);
          if (!sym || !re.test(readFileSync(path, 'utf8'))) bad.push(`${r.ref}: ${c} is not exported`);
        }
      }
      expect(bad).toEqual([]);
    });
    it('every Spec test exists', () => {
      const bad = rows.flatMap((r) => r.specs.filter((s) => !existsSync(join(REPO_ROOT, s))).map((s) => `${r.ref}: ${s}`));
      expect(bad).toEqual([]);
    });
  });
});
