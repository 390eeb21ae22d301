/**
 * Minimal, strict command-line option parsing shared by every `ahcq` sub-command.
 * Unknown options and missing values are `UsageError`s (exit code 2), never silently ignored.
 */

// TYPES

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  /** `string` takes a value; `flag` takes none; `multi` takes a value and may repeat. */
  readonly kind: 'string' | 'flag' | 'multi';
  readonly required?: boolean;
}

export interface ParsedArgs {
  readonly strings: Record<string, string | undefined>;
  readonly flags: Record<string, boolean>;
  readonly multi: Record<string, string[]>;
  readonly positional: string[];
}

// MAIN

/** Parse `--name value`, `--name=value` and `--flag` options against `spec`. */
export function parseArgs(cmd: string, argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const strings: Record<string, string | undefined> = {};
  const flags: Record<string, boolean> = {};
  const multi: Record<string, string[]> = {};
  const positional: string[] = [];
  for (const [k, s] of Object.entries(spec)) {
    if (s.kind === 'flag') flags[k] = false;
    if (s.kind === 'multi') multi[k] = [];
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(' ')})`);
    if (s.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let v: string | undefined;
    if (eq >= 0) v = a.slice(eq + 1);
    else {
      v = argv[i + 1];
      i++;
    }
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    if (s.kind === 'multi') multi[name]!.push(v);
    else {
      if (strings[name] !== undefined) throw new UsageError(`--${name} given twice`);
      strings[name] = v;
    }
  }
  for (const [k, s] of Object.entries(spec)) {
    if (s.required && s.kind === 'string' && strings[k] === undefined) throw new UsageError(`${cmd}: --${k} is required`);
  }
  return { strings, flags, multi, positional };
}

/** Parse an integer option value within [lo, hi]. */
export function intOption(name: string, v: string | undefined, dflt: number, lo: number, hi: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--${name} must be an integer in [${lo}, ${hi}] (got ${v})`);
  return n;
}
