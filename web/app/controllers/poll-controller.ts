// Polls something (the server's /api/peers, /api/health) while the host is connected, one request at a
// time: a request still running when the next is due is not doubled, and an answer that arrives after the
// host disconnected is dropped. Named statuses, rendered by the host with an exhaustive switch.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export const PollStatus = { waiting: 'waiting', ok: 'ok', error: 'error' } as const;
export type PollStatusName = (typeof PollStatus)[keyof typeof PollStatus];

export interface PollOptions<T> {
  /** One load; aborted when the host disconnects or the load takes longer than twice the interval. */
  load(signal: AbortSignal): Promise<T>;
  intervalMs: number;
  /** Each value as it arrives, with the time it was asked for (performance.now()). */
  onValue?(value: T, at: number): void;
}

export class PollController<T> implements ReactiveController {
  status: PollStatusName = 'waiting';
  value: T | undefined;
  error: string | undefined;
  /** performance.now() of the request whose answer `value` is. */
  at = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private abort: AbortController | undefined;
  /** Bumped at every connect and disconnect: a load of an older generation is stale. */
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly opts: PollOptions<T>,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.stop();
    void this.tick(this.generation);
  }

  hostDisconnected(): void {
    this.stop();
  }

  private stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private async tick(generation: number): Promise<void> {
    const stale = () => generation !== this.generation;
    const abort = (this.abort = new AbortController());
    const timeout = setTimeout(() => abort.abort(), this.opts.intervalMs * 2);
    const at = performance.now();
    try {
      const value = await this.opts.load(abort.signal);
      if (stale()) return;
      this.value = value;
      this.at = at;
      this.status = 'ok';
      this.error = undefined;
      this.opts.onValue?.(value, at);
    } catch (e) {
      if (stale()) return;
      this.status = 'error';
      this.error = abort.signal.aborted ? 'no answer in time' : (e as Error).message;
    } finally {
      clearTimeout(timeout);
    }
    this.host.requestUpdate();
    this.timer = setTimeout(() => void this.tick(generation), Math.max(0, this.opts.intervalMs - (performance.now() - at)));
  }
}

/** GET a JSON document; throws with the server's message on a non-2xx answer. */
export async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { signal, cache: 'no-store' });
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const msg = body && typeof body === 'object' && 'error' in body ? String((body as { error: unknown }).error) : res.statusText;
    throw new Error(`${url}: ${res.status} ${msg}`);
  }
  return body;
}
