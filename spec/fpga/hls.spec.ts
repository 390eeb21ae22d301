/**
 * HLS C++ kernels (fpga/hls) in C-simulation: compiled with g++ (pragmas ignored) and run on every
 * golden case in fixtures/golden; must report "N passed, 0 failed" with N > 0. Skips with a message
 * when g++ or the fixtures are absent.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { findGoldenCaseDirs } from '../../src/golden/reader';

const ROOT = path.resolve(__dirname, '../..');
/** Golden ops the C-sim implements (all ops of ahcq-golden/1). */
const IMPLEMENTED = ['gemm_uniform', 'gemm_cag', 'gemm_hluq', 'requant', 'encode', 'gelu_hluq', 'lnq_attention', 'tinyvit_block'];
const GOLDEN = path.join(ROOT, 'fixtures/golden');
const hasGpp = spawnSync('sh', ['-c', 'command -v g++'], { stdio: 'ignore' }).status === 0;
const ready = hasGpp && existsSync(GOLDEN);
const why = !hasGpp ? "g++ is not installed (apt-get install -y g++)" : 'fixtures/golden is absent (run the golden export)';

describe('edge cases', () => {
  it.skipIf(!hasGpp)('the shim wraps like ap_int (AP_WRAP) and apply_scale rounds half up (−1.5 → −1)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ahcq-hls-'));
    try {
      const src = path.join(dir, 't.cpp');
      writeFileSync(src, `#include "ahcq_types.hpp"
#include <cstdio>
int main(){ hint<4,true> a = 7; a += 1; hint<4,false> u = -1; hint<8,true> s = 200;
 std::printf("%lld %lld %lld %lld %lld\\n", (long long)(int64_t)a, (long long)(int64_t)u, (long long)(int64_t)s,
   (long long)ahcq::apply_scale(-3, 1, 1), (long long)ahcq::apply_scale(5, 1, 1)); }`);
      execFileSync('g++', ['-std=c++17', '-I', path.join(ROOT, 'fpga/hls/include'), src, '-o', path.join(dir, 't')]);
      // 7+1 wraps to −8 in 4 signed bits; −1 → 15 unsigned; 200 → −56; (−3+1)>>1 = −1; (5+1)>>1 = 3
      expect(execFileSync(path.join(dir, 't'), { encoding: 'utf8' }).trim()).toBe('-8 15 -56 -1 3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!ready)(`conformance${ready ? '' : ` — SKIPPED: ${why}`}`, () => {
  it('csim replays every golden case bit-exactly (incl. the float32 outputs of gelu_hluq, lnq_attention and the whole tinyvit_block): "N passed, 0 failed", skips only unimplemented ops', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ahcq-hls-'));
    try {
      const exe = path.join(dir, 'csim');
      execFileSync('g++', ['-std=c++17', '-O2', '-Wall', '-Wno-unknown-pragmas', '-Wno-unused-label', '-ffp-contract=off', '-I', path.join(ROOT, 'fpga/hls/include'), path.join(ROOT, 'fpga/hls/tb/csim_main.cpp'), '-o', exe], { stdio: 'pipe' });
      const r = spawnSync(exe, [GOLDEN], { encoding: 'utf8' });
      const m = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      expect(Number(m![2]), r.stdout).toBe(0);
      expect(Number(m![1])).toBeGreaterThan(0);
      expect(r.status).toBe(0);
      // every op of ahcq-golden/1 has a kernel (tinyvit_block included); only ops added later may be skipped
      expect(r.stdout).not.toContain("op 'tinyvit_block'");
      const skippedOps = [...r.stdout.matchAll(/^SKIP .* \(no HLS kernel for op '([^']+)'\)$/gm)].map((x) => x[1]!);
      expect(skippedOps.length, r.stdout).toBe(Number(m![3]));
      for (const op of skippedOps) expect(IMPLEMENTED, `op '${op}' was skipped`).not.toContain(op);
      expect(Number(m![1]) + Number(m![3])).toBe(findGoldenCaseDirs(GOLDEN).length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
