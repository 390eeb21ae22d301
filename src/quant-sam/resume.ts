/**
 * Resume state of an interrupted `ahcq quantize` run: each finished pipeline stage is saved under
 * `<out>.partial/` (a JSON record + one .npy per overridden weight, every file written atomically);
 * a rerun with the same settings continues after the last saved stage; the folder is removed on success.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../tensor';
import { loadNpy, saveNpy, writeFileAtomic } from '../io/fs';
import type { StageCheckpoint, StageState } from './pipeline';

// MAIN

/**
 * A checkpoint store in `dir`, valid only for runs with the same `fingerprint` (settings + inputs).
 * @source this project
 * @deviation none
 * @precision exact (float32 weights stored bit for bit)
 */
export function folderCheckpoint(dir: string, fingerprint: string): StageCheckpoint & { readonly clear: () => void } {
  const fpFile = join(dir, 'fingerprint.txt');
  if (existsSync(dir)) {
    const same = existsSync(fpFile) && readFileSync(fpFile, 'utf8') === fingerprint;
    if (!same) rmSync(dir, { recursive: true, force: true });
  }
  return {
    load: (stage) => {
      const f = join(dir, `${stage}.json`);
      if (!existsSync(f)) return undefined;
      const j = JSON.parse(readFileSync(f, 'utf8')) as Omit<StageState, 'weights'> & { weights: string[] };
      const weights: Record<string, Tensor> = {};
      for (const k of j.weights) weights[k] = loadNpy(join(dir, `${stage}.${k}.npy`)) as Tensor;
      return { acts: j.acts, big: j.big, acnr: j.acnr, weights };
    },
    save: (stage, st) => {
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(fpFile, fingerprint);
      for (const [k, t] of Object.entries(st.weights)) saveNpy(join(dir, `${stage}.${k}.npy`), t);
      writeFileAtomic(join(dir, `${stage}.json`), JSON.stringify({ acts: st.acts, big: st.big, acnr: st.acnr, weights: Object.keys(st.weights) }));
    },
    clear: () => rmSync(dir, { recursive: true, force: true }),
  };
}
