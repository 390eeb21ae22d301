/**
 * Test helper: build and run the RTL core (fpga/rtl) under Verilator (--binary) or Icarus Verilog
 * (-g2012) on tile jobs, in a cache directory keyed by the RTL sources and parameters.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rtlConfigHex, parseRtlOutput } from '../src/rtl-vectors';
import type { TileJob, TileResult } from '../src/types';

export type Simulator = 'verilator' | 'iverilog';
export interface RtlParams { R: number; C: number; KMAX: number; NBMAX: number }

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = ['fpga/rtl/ahcq_core.sv', 'fpga/rtl/tb/tb_core.sv'].map((p) => path.join(ROOT, p));

export function hasTool(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Build (or reuse) a simulator executable for the parameters; returns the command to run it. */
export function buildSim(sim: Simulator, p: RtlParams): string[] {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(readFileSync(f));
  h.update(JSON.stringify([sim, p]));
  const dir = path.join(tmpdir(), `ahcq-rtl-${h.digest('hex').slice(0, 16)}`);
  const gparams = Object.entries(p);
  if (sim === 'iverilog') {
    const out = path.join(dir, 'sim.vvp');
    if (!existsSync(out)) {
      mkdirSync(dir, { recursive: true });
      execFileSync('iverilog', ['-g2012', '-o', out + '.tmp', ...gparams.flatMap(([k, v]) => ['-P', `tb_core.${k}=${v}`]), ...SOURCES], { stdio: 'pipe' });
      execFileSync('mv', [out + '.tmp', out]);
    }
    return ['vvp', '-n', out];
  }
  const exe = path.join(dir, 'obj', 'Vtb_core');
  if (!existsSync(exe)) {
    rmSync(path.join(dir, 'obj'), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('verilator', ['--binary', '-j', '2', '--unroll-count', '1000000', '-Wno-fatal', '-Wno-lint', '-Wno-style', '--top-module', 'tb_core', ...gparams.map(([k, v]) => `-G${k}=${v}`), '-Mdir', path.join(dir, 'obj'), ...SOURCES], { stdio: 'pipe' });
  }
  return [exe];
}

/** Run one job in `caseDir` (cfg.hex in, rtl_out.txt out) and parse the result. */
export function runRtl(cmd: string[], p: RtlParams, job: TileJob, caseDir: string): TileResult {
  mkdirSync(caseDir, { recursive: true });
  writeFileSync(path.join(caseDir, 'cfg.hex'), rtlConfigHex(job, p.KMAX, p.NBMAX));
  rmSync(path.join(caseDir, 'rtl_out.txt'), { force: true });
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: caseDir, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
  const outPath = path.join(caseDir, 'rtl_out.txt');
  return parseRtlOutput(readFileSync(outPath, 'utf8'), job, outPath);
}
