/**
 * The fast backend's preconditions must read exactly like the reference's: one check for both paths.
 */
import { expect } from 'vitest';
import { SpecError } from '../../src/tensor';
import { referenceBackend, type Backend } from '../../src/kernels/backend';

/** The reference backend rejects `call` with a SpecError, and `fast` rejects it with exactly the same message. */
export function expectSameSpecError(call: (b: Backend) => unknown, fast: Backend): void {
  let msg = '';
  try {
    call(referenceBackend);
  } catch (e) {
    expect(e).toBeInstanceOf(SpecError);
    msg = (e as Error).message;
  }
  expect(msg).not.toBe('');
  expect(() => call(fast)).toThrow(msg);
}
