/**
 * `ahcq` command-line entry. Each sub-command lives in its own file and exports
 * `run(args: string[]): Promise<number>` (the exit code). Exit codes: 0 ok, 1 check failed,
 * 2 bad input (a typed error naming the problem).
 */
import { FormatError, SpecError } from '../tensor';

type Command = { summary: string; load: () => Promise<{ run: (args: string[]) => Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  segment: { summary: 'segment a photo from point/box prompts (writes mask and overlay PNGs)', load: () => import('./segment') },
  demo: { summary: 'segment the bundled photos with MobileSAM and write overlays to out/demo/', load: () => import('./demo') },
  quantize: { summary: 'calibration-only PTQ of a SAM model (writes a quantized-model file)', load: () => import('./quantize') },
  eval: { summary: 'fidelity of a quantized model vs FP32 (mask IoU, SQNR, per-layer table)', load: () => import('./eval') },
  golden: { summary: 'write golden vectors for hardware teams (docs/formats/golden-vectors.md)', load: () => import('./golden') },
  'hw-report': { summary: 'FP32/INT8/INT4 FPGA estimates from the hardware model, beside the paper table', load: () => import('./hw-report') },
  bench: { summary: 'performance figures against onnxruntime-node, measured in one run (see src/cli/bench.ts)', load: () => import('./bench') },
  conformance: { summary: "run the authors' reference vectors (--vectors DIR) through the quantizers", load: () => import('./conformance') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(12)} ${c.summary}`);
  return `usage: ahcq <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Run the CLI; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`ahcq: unknown command '${cmd}'\n${usage()}`);
    return 2;
  }
  try {
    const mod = await c.load();
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof SpecError || e instanceof FormatError || (e as Error).name === 'UsageError') {
      process.stderr.write(`ahcq ${cmd}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
