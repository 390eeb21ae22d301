/**
 * The CLI's one explicit backend choice (`--backend fast|reference`), opened for the duration of a
 * command and disposed at its end (the fast backend owns worker threads).
 */
import { UsageError } from './args';
import type { Backend } from '../ops/backend';
import { referenceBackend } from '../ops/backend';

export type BackendChoice = 'fast' | 'reference';

/** Open a backend; `dispose` must be awaited so worker threads end. */
export async function openBackend(choice: BackendChoice): Promise<{ backend: Backend; dispose: () => Promise<void> }> {
  if (choice === 'reference') return { backend: referenceBackend, dispose: async () => undefined };
  if (choice !== 'fast') throw new UsageError(`--backend must be fast or reference (got '${choice}')`);
  const { createFastBackend } = await import('../kernels/backend');
  const b = await createFastBackend();
  return { backend: b, dispose: () => b.dispose() };
}
