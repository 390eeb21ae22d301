/**
 * `ahcq conformance --vectors DIR [--json] [--verbose] [--component NAME]…`
 * Runs the authors-reference vectors through this implementation. Prints one line per component
 * (`uniform: 23 passed, 0 failed`) and a final line `N passed, N failed`; with `--json` prints the
 * case results as JSON instead. Exit code 0 all passed, 1 some failed, 2 bad usage / unreadable DIR.
 */
import { existsSync, statSync } from 'node:fs';
import { FormatError, SpecError } from '../tensor';
import { parseArgs, UsageError } from './args';
import { runConformance, summarize } from '../conformance/runner';

/**
 * Run the command; returns the exit code (0 all passed, 1 some failed, 2 bad usage / unreadable directory).
 * @source authors-reference README "Layout and format"
 * @deviation none
 * @precision per component, stated in src/conformance/<component>.ts
 */
export async function run(args: string[]): Promise<number> {
  let a;
  try {
    a = parseArgs('conformance', args, { vectors: { kind: 'string', required: true }, json: { kind: 'flag' }, verbose: { kind: 'flag' }, component: { kind: 'multi' } });
    if (a.positional.length > 0) throw new UsageError(`conformance: unexpected argument '${a.positional[0]}'`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`ahcq conformance: ${e.message}\nusage: ahcq conformance --vectors DIR [--json] [--verbose] [--component NAME]...\n`);
      return 2;
    }
    throw e;
  }
  const dir = a.strings['vectors']!;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(`ahcq conformance: --vectors ${dir} is not a readable directory\n`);
    return 2;
  }
  let results;
  try {
    const comps = a.multi['component']!;
    results = runConformance(dir, comps.length > 0 ? { components: comps } : {});
  } catch (e) {
    if (e instanceof FormatError || e instanceof SpecError) {
      process.stderr.write(`ahcq conformance: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const failed = results.filter((r) => !r.ok).length;
  if (a.flags['json']) {
    process.stdout.write(`${JSON.stringify(results, null, 1)}\n`);
    return failed > 0 ? 1 : 0;
  }
  const out: string[] = [];
  for (const s of summarize(results)) {
    out.push(`${s.component}: ${s.passed} passed, ${s.failed} failed`);
    for (const r of results.filter((x) => x.component === s.component)) {
      if (r.ok && !a.flags['verbose']) continue;
      out.push(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.case}${r.error ? `: ${r.error}` : ''}`);
      for (const k of r.checks) if (!k.ok || a.flags['verbose']) out.push(`       ${k.ok ? 'ok  ' : 'FAIL'} ${k.name} [${k.tolerance}] ${k.detail}`);
    }
  }
  out.push(`${results.length - failed} passed, ${failed} failed`);
  process.stdout.write(`${out.join('\n')}\n`);
  return failed > 0 ? 1 : 0;
}
