/**
 * `ahcq golden --out DIR [--seed N] [--suite S]…`
 * Writes the golden-vector catalogue (docs/formats/golden-vectors.md) under DIR/<suite>/<id>/.
 * `--seed N` offsets every case's seed (recorded in desc.json generator.seed; N = 0 reproduces
 * fixtures/golden); `--suite` restricts to the named suites. Exit code 0 ok, 2 bad usage.
 */
import { parseArgs, intOption, UsageError } from './args';
import { GOLDEN_CASES, GOLDEN_SUITES } from '../golden/cases';
import { writeGolden } from '../golden/writer';

const USAGE = 'usage: ahcq golden --out DIR [--seed N] [--suite S]...';

/** Run the command; returns the exit code. */
export async function run(args: string[]): Promise<number> {
  let out: string, seed: number, suites: string[];
  try {
    const a = parseArgs('golden', args, { out: { kind: 'string', required: true }, seed: { kind: 'string' }, suite: { kind: 'multi' } });
    if (a.positional.length > 0) throw new UsageError(`golden: unexpected argument '${a.positional[0]}'`);
    out = a.strings['out']!;
    seed = intOption('seed', a.strings['seed'], 0, 0, 2 ** 32 - 1);
    suites = a.multi['suite']!;
    for (const s of suites) if (!GOLDEN_SUITES.includes(s)) throw new UsageError(`--suite ${s} is unknown (known: ${GOLDEN_SUITES.join(', ')})`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`ahcq golden: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const cases = suites.length > 0 ? GOLDEN_CASES.filter((c) => suites.includes(c.suite)) : GOLDEN_CASES;
  const dirs = writeGolden(out, cases, seed);
  process.stdout.write(`wrote ${dirs.length} golden cases under ${out}\n`);
  return 0;
}
