/**
 * Golden-vector writer: runs each catalogue case (seeded `make`, then `run`) and writes
 * fixtures/golden/<suite>/<id>/ — desc.json plus .npy/.bin/.hex (and .packed.bin) per tensor.
 * Deterministic: same catalogue + seed offset → byte-identical files.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createRng, specRequire, FormatError } from '../tensor';
import { writeFileAtomic } from '../io/fs';
import { canonicalJson, type Json, type JsonObject } from './json';
import { GOLDEN_SCHEMA, GOLDEN_GENERATOR_VERSION, GOLDEN_TOOL, PACKING_RULE, DEFAULT_ARCH, tensorFiles, tensorDescJson, type GoldenCase, type GoldenTensor } from './format';

// TYPES

/** Expected cycle counts filled in by the hardware model (null until then). */
export type ExpectedCycles = number | { readonly [k: string]: number } | null;

export interface GeneratedCase {
  readonly dir: string;
  readonly files: ReadonlyMap<string, Uint8Array | string>;
}

// MAIN

/** Seed actually used for a case: (case.seed + offset) mod 2^32. */
export function effectiveSeed(c: GoldenCase, seedOffset: number): number {
  return (c.seed + seedOffset) >>> 0;
}

/**
 * Generate one case in memory: directory (relative to the output root) and every file's bytes.
 * @equation inputs, params = make(rng(seed));  outputs = run(inputs, params)
 * @precision byte-identical for equal (case, seedOffset)
 */
export function generateCase(c: GoldenCase, seedOffset = 0): GeneratedCase {
  specRequire(/^[a-z0-9-]+\/[a-z0-9_]+$/.test(c.id), { fn: 'generateCase', what: 'id', rule: 'be <component>/<case> in [a-z0-9-]/[a-z0-9_]', got: c.id });
  const seed = effectiveSeed(c, seedOffset);
  const data = c.make(createRng(seed));
  const outputs = c.run(new Map(data.inputs.map((t) => [t.name, t])), data.params);
  const files = new Map<string, Uint8Array | string>();
  const describe = (ts: readonly GoldenTensor[]): Json[] => ts.map((t) => {
    const f = tensorFiles(t);
    for (const [name, bytes] of f.files) {
      specRequire(!files.has(name), { fn: 'generateCase', what: `tensor ${t.name}`, rule: 'have a unique name within the case', got: name });
      files.set(name, bytes);
    }
    return tensorDescJson(f.desc);
  });
  const inputs = describe(data.inputs);
  const outDescs = describe(outputs);
  const crc: Record<string, Json> = {};
  for (const d of outDescs as JsonObject[]) crc[d['name'] as string] = d['crc32']!;
  const desc: Record<string, Json> = {
    schema: GOLDEN_SCHEMA, id: c.id, suite: c.suite, op: c.op, citation: c.citation,
    layout: { order: 'row-major (C order)', endianness: 'little', packing: PACKING_RULE, hex: 'one element per line, ⌈bits/4⌉ hex digits, two\'s complement / IEEE-754 bit pattern' },
    arch: { ...DEFAULT_ARCH },
    inputs, outputs: outDescs, params: data.params,
    expected: { cycles: null, crc32: crc },
    generator: { tool: GOLDEN_TOOL, version: GOLDEN_GENERATOR_VERSION, seed },
  };
  if (c.notes !== undefined) desc['notes'] = c.notes;
  files.set('desc.json', canonicalJson(desc));
  return { dir: join(c.suite, c.id), files };
}

/**
 * Write cases under `outRoot` (each file atomically); returns the case directories written.
 * @precision deterministic
 */
export function writeGolden(outRoot: string, cases: readonly GoldenCase[], seedOffset = 0): string[] {
  const dirs: string[] = [];
  for (const c of cases) {
    const g = generateCase(c, seedOffset);
    const dir = join(outRoot, g.dir);
    for (const [name, bytes] of g.files) writeFileAtomic(join(dir, name), bytes);
    dirs.push(dir);
  }
  return dirs;
}

/**
 * Record expected cycle counts in a case's desc.json (rewritten canonically and atomically); the
 * only field a consumer may change. `golden:check` carries it over when comparing.
 * @equation desc.expected.cycles ← cycles
 * @precision deterministic
 */
export function setExpectedCycles(caseDir: string, cycles: ExpectedCycles): void {
  const path = join(caseDir, 'desc.json');
  if (cycles !== null) {
    const vals = typeof cycles === 'number' ? [cycles] : Object.values(cycles);
    specRequire(vals.length > 0 && vals.every((v) => Number.isSafeInteger(v) && v >= 0), { fn: 'setExpectedCycles', what: 'cycles', rule: 'be a non-negative integer or a non-empty record of them', got: cycles });
  }
  let desc: Record<string, Json>;
  try {
    desc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Json>;
  } catch (e) {
    throw new FormatError(path, `cannot read desc.json (${(e as Error).message})`);
  }
  if (desc['schema'] !== GOLDEN_SCHEMA) throw new FormatError(path, `schema must be "${GOLDEN_SCHEMA}" (got ${JSON.stringify(desc['schema'])})`);
  const expected = desc['expected'];
  if (expected === null || typeof expected !== 'object' || Array.isArray(expected)) throw new FormatError(path, 'expected must be an object');
  desc['expected'] = { ...(expected as JsonObject), cycles: cycles as Json };
  writeFileAtomic(path, canonicalJson(desc));
}
