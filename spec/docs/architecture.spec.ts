/**
 * The layering of docs/architecture.md, checked: every relative import in src/ and hw-model/src goes
 * to a folder its own folder may import.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/** folder → folders it may import (its own folder is always allowed). */
const ALLOWED: Record<string, string[]> = {
  'src/tensor': [],
  'src/ops': ['src/tensor'],
  'src/nn': ['src/ops', 'src/tensor'],
  'src/linalg': ['src/tensor'],
  'src/io': ['src/tensor'],
  'src/onnx': ['src/tensor', 'src/io', 'src/sam'],
  'src/sam': ['src/nn', 'src/ops', 'src/tensor'],
  'src/quant': ['src/ops', 'src/tensor'],
  'src/calib': ['src/quant', 'src/linalg', 'src/ops', 'src/tensor'],
  'src/int': ['src/quant', 'src/tensor'],
  'src/kernels': ['src/ops', 'src/nn', 'src/tensor'],
  'src/conformance': ['src/calib', 'src/quant', 'src/linalg', 'src/io', 'src/tensor'],
  'src/golden': ['src/int', 'src/quant', 'src/calib', 'src/ops', 'src/io', 'src/onnx', 'src/sam', 'src/tensor'],
  'src/quant-sam': ['src/sam', 'src/nn', 'src/quant', 'src/calib', 'src/linalg', 'src/int', 'src/kernels', 'src/ops', 'src/io', 'src/onnx', 'src/tensor'],
  'src/bench': ['src/*', 'hw-model/src'],
  'src/cli': ['src/*', 'hw-model/src'],
  'hw-model/src': ['src/int', 'src/golden', 'src/quant', 'src/sam', 'src/tensor'],
};
/** Documented single-file exceptions. */
const EXCEPTIONS: Record<string, string[]> = {
  'src/io/checkpoint.ts': ['src/onnx'],
  'src/sam/sam-model.ts': ['src/io', 'src/onnx'],
  'src/ops/backend.ts': ['src/nn'], // the seam also carries nn's denseImagePe (reference) so the fast backend can cache it
  'src/kernels/int-ops.ts': ['src/quant', 'src/int'], // fast quantizer kernels: tails and threshold tables come from the reference definitions
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mjs)$/.test(e)) out.push(p);
  }
  return out;
}

/** The top folder (key of ALLOWED) a repository-relative path belongs to. */
function layerOf(rel: string): string | undefined {
  return Object.keys(ALLOWED).find((k) => rel === k || rel.startsWith(`${k}/`));
}

describe('architecture — import directions (docs/architecture.md)', () => {
  const all = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'hw-model/src'))];
  it('every src/ and hw-model/src file belongs to a documented layer', () => {
    const unknown = all.map((f) => relative(ROOT, f)).filter((r) => !layerOf(r));
    expect(unknown).toEqual([]);
  });
  it('every relative import goes to an allowed layer, and nothing imports spec/', () => {
    const bad: string[] = [];
    for (const f of all) {
      const rel = relative(ROOT, f);
      const own = layerOf(rel)!;
      const allowed = [...ALLOWED[own]!, ...(EXCEPTIONS[rel] ?? []), own];
      for (const m of readFileSync(f, 'utf8').matchAll(/from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)) {
        const target = relative(ROOT, resolve(dirname(f), m[1] ?? m[2]!));
        if (target.startsWith('spec')) { bad.push(`${rel} → ${target} (spec/)`); continue; }
        // data, not code: hw-model reads the committed Yosys resource figures
        if (own === 'hw-model/src' && target.startsWith('fpga/') && target.endsWith('.json')) continue;
        const layer = layerOf(target);
        const ok = layer !== undefined && allowed.some((a) => a === layer || (a === 'src/*' && layer.startsWith('src/') && layer !== 'src/cli'));
        if (!ok) bad.push(`${rel} → ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
