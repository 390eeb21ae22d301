/**
 * Test helper: build and run the RTL core (fpga/rtl) under Verilator (--binary) or Icarus Verilog
 * (-g2012) on tile jobs, in a cache directory keyed by the RTL sources and parameters.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rtlConfigHex, rtlStallHex, parseRtlOutput, type RtlTileResult } from '../src/rtl-vectors';
import type { AccLoadJob, TileJob } from '../src/types';

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

/** Run one job in `caseDir` (cfg.hex in, rtl_out.txt out) with an optional stall pattern, and parse the result. */
export function runRtl(cmd: string[], p: RtlParams, job: TileJob | AccLoadJob, caseDir: string, stall: readonly boolean[] = []): RtlTileResult {
  mkdirSync(caseDir, { recursive: true });
  writeFileSync(path.join(caseDir, 'cfg.hex'), rtlConfigHex(job, p.KMAX, p.NBMAX, p.C) + rtlStallHex(stall));
  rmSync(path.join(caseDir, 'rtl_out.txt'), { force: true });
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: caseDir, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (${r.status}): ${r.stderr}`);
  const outPath = path.join(caseDir, 'rtl_out.txt');
  return parseRtlOutput(readFileSync(outPath, 'utf8'), job, outPath);
}

const GOLDEN_SOURCES = ['fpga/rtl/ahcq_core.sv', 'fpga/rtl/ahcq_encoder.sv', 'fpga/rtl/tb/tb_golden.sv'].map((p) => path.join(ROOT, p));

/** Build (or reuse) the golden-vector testbench (tb_golden.sv) for the parameters; returns the command. */
export function buildGoldenSim(sim: Simulator, p: RtlParams): string[] {
  const h = createHash('sha256');
  for (const f of GOLDEN_SOURCES) h.update(readFileSync(f));
  h.update(JSON.stringify(['golden', sim, p]));
  const dir = path.join(tmpdir(), `ahcq-rtlg-${h.digest('hex').slice(0, 16)}`);
  const gparams = Object.entries(p);
  if (sim === 'iverilog') {
    const out = path.join(dir, 'sim.vvp');
    if (!existsSync(out)) {
      mkdirSync(dir, { recursive: true });
      execFileSync('iverilog', ['-g2012', '-o', out + '.tmp', ...gparams.flatMap(([k, v]) => ['-P', `tb_golden.${k}=${v}`]), ...GOLDEN_SOURCES], { stdio: 'pipe' });
      execFileSync('mv', [out + '.tmp', out]);
    }
    return ['vvp', '-n', out];
  }
  const exe = path.join(dir, 'obj', 'Vtb_golden');
  if (!existsSync(exe)) {
    rmSync(path.join(dir, 'obj'), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('verilator', ['--binary', '-j', '2', '--unroll-count', '1000000', '-Wno-fatal', '-Wno-lint', '-Wno-style', '--top-module', 'tb_golden', ...gparams.map(([k, v]) => `-G${k}=${v}`), '-Mdir', path.join(dir, 'obj'), ...GOLDEN_SOURCES], { stdio: 'pipe' });
  }
  return [exe];
}

export interface GoldenRtlRun {
  readonly tiles: number;
  readonly accMismatch: number;
  readonly yMismatch: number;
  readonly missing: number;
  readonly cycles: number;
  readonly stalls: number;
  readonly pass: boolean;
  readonly log: string;
}

/** Run the golden testbench on one case directory with a parameter image file (extra plusargs, e.g. `+xname=gelu +qname=q`). */
export function runGoldenRtl(cmd: string[], caseDir: string, paramsFile: string, stallPct = 0, seed = 1, extra: readonly string[] = []): GoldenRtlRun {
  const args = [...cmd.slice(1), `+case=${caseDir}`, `+params=${paramsFile}`, `+stall_pct=${stallPct}`, `+seed=${seed}`, ...extra];
  const r = spawnSync(cmd[0]!, args, { encoding: 'utf8', timeout: 300_000 });
  const log = (r.stdout ?? '') + (r.stderr ?? '');
  const m = /RESULT tiles=(\d+) acc_mismatch=(\d+) y_mismatch=(\d+) missing=(\d+) cycles=(\d+) stalls=(\d+)/.exec(log);
  if (r.status !== 0 || !m) throw new Error(`${cmd.join(' ')} ${caseDir} failed (${r.status}): ${log.slice(-2000)}`);
  const [tiles, accMismatch, yMismatch, missing, cycles, stalls] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { tiles, accMismatch, yMismatch, missing, cycles, stalls, pass: /^PASS$/m.test(log), log };
}
