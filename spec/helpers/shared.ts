/**
 * Test helper: locate the read-only shared reference material (`../shared` next to the repo root)
 * and load fixtures from it. Tests use `hasShared(...)` with `describe.skipIf` / `it.skipIf` so that
 * a checkout without the fixtures skips with a clear message instead of failing.
 */
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNpy } from '../../src/io/fs';
import type { DType, Tensor } from '../../src/tensor';

const HERE = resolve(fileURLToPath(new URL('.', import.meta.url)));

/** Repository root (two levels above spec/helpers). */
export const REPO_ROOT = resolve(HERE, '..', '..');

/** Absolute path of the shared reference directory; override with env AHCQ_SHARED_DIR. */
export const SHARED_DIR = process.env.AHCQ_SHARED_DIR ? resolve(process.env.AHCQ_SHARED_DIR) : resolve(REPO_ROOT, '..', 'shared');

/** Absolute path of `parts` inside the shared directory. */
export function sharedPath(...parts: string[]): string {
  return join(SHARED_DIR, ...parts);
}

/** True when `parts` (file or directory) exists inside the shared directory. */
export function hasShared(...parts: string[]): boolean {
  return existsSync(sharedPath(...parts));
}

/** Human-readable skip reason for a missing fixture. */
export function missingShared(...parts: string[]): string {
  return `shared fixture ${sharedPath(...parts)} is absent; skipping`;
}

/** Load a `.npy` fixture from the shared directory as a Tensor (any dtype). */
export function loadSharedNpy(...parts: string[]): Tensor<DType> {
  return loadNpy(sharedPath(...parts));
}
