/**
 * Canonical JSON for golden-vector descriptors: object keys sorted (code-point order), two-space
 * indentation, arrays of scalars on one line, a trailing newline. Same value → same bytes.
 */
import { specRequire } from '../tensor';

// TYPES

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type JsonObject = { readonly [k: string]: Json };

// MAIN

/**
 * Serialise a JSON value canonically (finite numbers only; integers print without exponent up to 2^53).
 * @equation keys sorted; scalar arrays inline; nested values indented by two spaces
 * @precision exact (JS shortest round-trip number formatting)
 */
export function canonicalJson(v: Json): string {
  return `${render(v, '')}\n`;
}

function isScalar(v: Json): boolean {
  return v === null || typeof v !== 'object';
}

function render(v: Json, ind: string): string {
  if (v === null) return 'null';
  if (typeof v === 'number') {
    specRequire(Number.isFinite(v), { fn: 'canonicalJson', what: 'number', rule: 'be finite (store float bit patterns as hex strings)', got: v });
    return JSON.stringify(v + 0);
  }
  if (typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  const next = `${ind}  `;
  if (Array.isArray(v)) {
    const a = v as readonly Json[];
    if (a.length === 0) return '[]';
    if (a.every(isScalar)) return `[${a.map((x) => render(x, next)).join(', ')}]`;
    return `[\n${a.map((x) => next + render(x, next)).join(',\n')}\n${ind}]`;
  }
  const o = v as { readonly [k: string]: Json };
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${next}${JSON.stringify(k)}: ${render(o[k]!, next)}`).join(',\n')}\n${ind}}`;
}
