/**
 * Comparison of implementation outputs against reference vectors, one `OutputCheck` per output.
 *
 * Tolerance kinds (the strings appear in reports and in docs/paper-map.md):
 *   exact        bit-identical (after +0 normalisation of −0);
 *   ulp:n        |Δ| ≤ n float32 ulps of the reference value;
 *   rel:r        |Δ| ≤ r·|ref| element-wise (r·max|ref| when ref = 0);
 *   abs:a        |Δ| ≤ a;
 *   abs-each     |Δᵢ| ≤ aᵢ with a per-element bound derived in the checker (named in `why`);
 *   lnq-ulp:n    LNQ values: |Δ| ≤ n·ulp32(1 + α·|ref|)/α + ulp32(ref) — a 1-ulp difference of the
 *                float32 exp(·) ∈ [1, 1 + α·s] is divided by α (authors-reference README, Numerics).
 */
import { f32 } from '../tensor';
import { decodeArray, isArrayValue, type VecArray } from './arrays';
import type { ConformanceCase, OutputCheck } from './types';

// TYPES

export type Tolerance =
  | { readonly kind: 'exact' }
  | { readonly kind: 'ulp'; readonly n: number }
  | { readonly kind: 'rel'; readonly r: number }
  | { readonly kind: 'abs'; readonly a: number }
  | { readonly kind: 'lnq-ulp'; readonly n: number; readonly alpha: number }
  | { readonly kind: 'abs-each'; readonly a: ArrayLike<number>; readonly why: string };

// MAIN

/**
 * Size of one float32 ulp at |v| (the gap to the next float32 away from zero).
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function ulp32(v: number): number {
  const a = Math.abs(f32(v));
  if (a === 0) return 2 ** -149;
  const e = Math.floor(Math.log2(a));
  // guard against log2 rounding at exact powers of two
  const base = 2 ** e > a ? e - 1 : 2 ** (e + 1) <= a ? e + 1 : e;
  return 2 ** Math.max(base - 23, -149);
}

/**
 * Human-readable tolerance string.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function toleranceName(t: Tolerance): string {
  switch (t.kind) {
    case 'exact':
      return 'exact';
    case 'ulp':
      return `ulp:${t.n}`;
    case 'rel':
      return `rel:${t.r}`;
    case 'abs':
      return `abs:${t.a}`;
    case 'lnq-ulp':
      return `lnq-ulp:${t.n}`;
    case 'abs-each':
      return `abs-each(${t.why})`;
  }
}

function allowed(t: Tolerance, ref: number, refScale: number, i: number): number {
  switch (t.kind) {
    case 'exact':
      return 0;
    case 'ulp':
      return t.n * ulp32(ref);
    case 'rel':
      return t.r * (ref === 0 ? refScale : Math.abs(ref));
    case 'abs':
      return t.a;
    case 'lnq-ulp':
      return (t.n * ulp32(1 + t.alpha * Math.abs(ref))) / t.alpha + ulp32(ref);
    case 'abs-each':
      return t.a[i]!;
  }
}

/**
 * Compare two arrays element-wise under a tolerance.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function compareArrays(name: string, got: ArrayLike<number>, ref: ArrayLike<number>, tol: Tolerance, shapes?: { got: readonly number[]; ref: readonly number[] }): OutputCheck {
  const tolerance = toleranceName(tol);
  if (shapes && (shapes.got.length !== shapes.ref.length || shapes.got.some((d, i) => d !== shapes.ref[i]))) {
    return { name, ok: false, tolerance, detail: `shape [${shapes.got}] vs reference [${shapes.ref}]` };
  }
  if (got.length !== ref.length) return { name, ok: false, tolerance, detail: `length ${got.length} vs reference ${ref.length}` };
  let refScale = 0;
  for (let i = 0; i < ref.length; i++) refScale = Math.max(refScale, Math.abs(ref[i]!));
  let bad = 0;
  let worst = -1;
  let worstD = -1;
  let maxD = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = got[i]!;
    const r = ref[i]!;
    const d = g === r ? 0 : Math.abs(g - r);
    if (Number.isNaN(d) || d > allowed(tol, r, refScale, i)) {
      bad++;
      if (Number.isNaN(d) || d > worstD) {
        worstD = Number.isNaN(d) ? Infinity : d;
        worst = i;
      }
    }
    if (d > maxD) maxD = d;
  }
  if (bad === 0) return { name, ok: true, tolerance, detail: maxD === 0 ? `all ${ref.length} equal` : `max |Δ| ${maxD.toExponential(2)} over ${ref.length}` };
  return { name, ok: false, tolerance, detail: `${bad}/${ref.length} outside; worst at [${worst}]: ${got[worst]} vs ${ref[worst]} (|Δ| ${worstD.toExponential(2)})` };
}

/**
 * Compare two scalars under a tolerance.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function compareScalar(name: string, got: number, ref: number, tol: Tolerance): OutputCheck {
  const c = compareArrays(name, [got], [ref], tol);
  return c.ok ? { ...c, detail: `${got} vs ${ref}` } : { ...c, detail: `${got} vs reference ${ref}` };
}

/**
 * Compare two JSON-like values for equality (strings, integers, flags).
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function compareValue(name: string, got: unknown, ref: unknown): OutputCheck {
  const g = JSON.stringify(got);
  const r = JSON.stringify(ref);
  return { name, ok: g === r, tolerance: 'exact', detail: g === r ? g : `${g} vs reference ${r}` };
}

/**
 * Decode an ARRAY at `where` ("inputs.x", "outputs.round_loss.b20", "outputs.stages[2].y").
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function getArray(c: ConformanceCase, where: string): VecArray {
  return decodeArray(getValue(c, where), c.dir, `${c.component}/${c.case}: ${where}`);
}

/**
 * Float32 data of an ARRAY.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function getF32(c: ConformanceCase, where: string): { shape: readonly number[]; data: Float32Array } {
  const a = getArray(c, where);
  return { shape: a.shape, data: Float32Array.from(a.data) };
}

/**
 * Resolve a dotted path with [i] indices inside the case.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function getValue(c: ConformanceCase, where: string): unknown {
  const parts = where.split('.').flatMap((p) => p.split(/\[(\d+)\]/).filter((s) => s !== ''));
  let v: unknown = c;
  for (const p of parts) {
    if (v === null || typeof v !== 'object') throw new Error(`${c.component}/${c.case}: '${where}' not found (at '${p}')`);
    v = /^\d+$/.test(p) && Array.isArray(v) ? v[Number(p)] : (v as Record<string, unknown>)[p];
    if (v === undefined) throw new Error(`${c.component}/${c.case}: '${where}' not found (at '${p}')`);
  }
  return v;
}

/**
 * A number stored either as a JSON scalar or as a shape-[] / [1] ARRAY.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function getNumber(c: ConformanceCase, where: string): number {
  const v = getValue(c, where);
  if (typeof v === 'number') return v;
  if (isArrayValue(v)) {
    const a = decodeArray(v, c.dir, where);
    if (a.data.length === 1) return a.data[0]!;
  }
  throw new Error(`${c.component}/${c.case}: '${where}' is not a number`);
}

/**
 * A required numeric parameter.
 * @source authors-reference README "Numerics: what matching means"
 * @deviation none
 * @precision exact
 */
export function param(c: ConformanceCase, name: string): number {
  const v = c.params[name];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${c.component}/${c.case}: params.${name} missing or not a number (got ${JSON.stringify(v)})`);
  return v;
}
