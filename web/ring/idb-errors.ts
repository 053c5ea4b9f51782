// IndexedDB failures as errors a caller can act on: a quota refusal becomes RingError 'QUOTA', whether it
// surfaces on a request, as the transaction's error, or as the AbortError of a transaction the browser
// aborted for quota. Every transaction goes through `settle`, so no failure path goes unwired.
import { RingError } from '../../shared/ring/types.ts';

const QUOTA_NAMES = new Set(['QuotaExceededError', 'NS_ERROR_DOM_QUOTA_REACHED']);

function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'name' in e && typeof e.name === 'string' ? e.name : undefined;
}

/** True when `e`, or an error in its `cause` chain, is the browser refusing a write for lack of quota. */
export function isQuotaError(e: unknown): boolean {
  for (let x = e, depth = 0; x !== undefined && x !== null && depth < 5; depth++) {
    if (QUOTA_NAMES.has(errorName(x) ?? '')) return true;
    x = (x as { cause?: unknown }).cause;
  }
  return false;
}

export function quotaError(ring: string, what: string, cause: unknown): RingError {
  return new RingError(
    'QUOTA',
    `browser storage quota exceeded while ${what} in IndexedDB ring "${ring}". Everything acknowledged before ` +
      'is kept, but this ring takes no more appends: free storage for this site (delete other data or open the ring ' +
      'smaller), or ask the user to grant persistent storage, then reopen it',
    { cause },
  );
}

/** The one error to report from what a failed transaction produced: quota first, then the root cause. */
export function storageError(ring: string, what: string, errors: unknown[]): unknown {
  const quota = errors.find(isQuotaError);
  if (quota !== undefined) return quotaError(ring, what, quota);
  const ringError = errors.find((e) => e instanceof RingError);
  if (ringError !== undefined) return ringError;
  // A request's AbortError only says the transaction died; its own error says why.
  const cause = errors.find((e) => errorName(e) !== 'AbortError') ?? errors[0];
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new Error(`IndexedDB ring "${ring}": ${what} failed: ${detail}`, { cause });
}

/** What settle needs of an idb transaction. */
interface Tx {
  readonly done: Promise<void>;
  readonly error: DOMException | null;
  abort(): void;
}

/**
 * Runs `work` against `tx` and resolves only once the transaction has committed. Any failure (a request's
 * error, the transaction's error or abort, an exception in `work`, which aborts the transaction) rejects
 * with `storageError`.
 */
export async function settle<T>(tx: Tx, ring: string, what: string, work: () => Promise<T>): Promise<T> {
  const run = (async () => {
    try {
      return await work();
    } catch (e) {
      abort(tx);
      throw e;
    }
  })();
  const [result, done] = await Promise.allSettled([run, tx.done]);
  if (result.status === 'fulfilled' && done.status === 'fulfilled') return result.value;
  const errors: unknown[] = [];
  if (tx.error) errors.push(tx.error);
  if (done.status === 'rejected') errors.push(done.reason);
  if (result.status === 'rejected') errors.push(result.reason);
  throw storageError(ring, what, errors);
}

function abort(tx: Tx): void {
  try {
    tx.abort();
  } catch (e) {
    // InvalidStateError: the transaction is already aborting (a failed request aborts it) or finished.
    if (errorName(e) !== 'InvalidStateError') throw e;
  }
}
