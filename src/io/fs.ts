/**
 * File-system helpers for the I/O boundary. Every write goes to a temporary file in the same
 * directory and is renamed into place, so a failure never leaves a half-written output.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { FormatError, type Tensor, type DType } from '../tensor';
import { parseNpy, encodeNpy } from './npy';

/** Write `bytes` atomically (temp file + rename). Creates the parent directory. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Read a file, turning "not found" / "not readable" into a `FormatError` naming the path. */
export function readFileOrThrow(path: string, what = 'file'): Uint8Array {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'is not readable' : String((e as Error).message);
    throw new FormatError(path, `${what} ${why}`);
  }
}

/** Load a `.npy` file. */
export function loadNpy(path: string): Tensor<DType> {
  return parseNpy(readFileOrThrow(path, '.npy file'), path);
}

/** Save a `.npy` file atomically. */
export function saveNpy(path: string, t: Tensor<DType>): void {
  writeFileAtomic(path, encodeNpy(t));
}
