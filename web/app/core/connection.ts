// The viewer's link to its server as a user sees it: connecting, live, reconnecting (with the reason), or
// refused. Built from the hub's events (a session admitted, a session ended with its code and reason) and
// from what the hub logs when a dial fails ("could not reach peer", with the error and the retry delay):
// pass `connection.logger(...)` as the viewer's logger. One setter changes the state, and emits.
import { createLogger, type Logger } from '../../../shared/log.ts';
import type { Guid } from '../../../shared/stu/index.ts';
import type { SyncHub } from '../../../shared/sync/hub.ts';
import type { PeerSession } from '../../../shared/sync/session.ts';
import { Emitter } from '../../../shared/util/emitter.ts';

export const ConnectionStates = {
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  refused: 'refused',
  failed: 'failed',
} as const;
export type ConnectionStateName = (typeof ConnectionStates)[keyof typeof ConnectionStates];

export interface ConnectionState {
  state: ConnectionStateName;
  server: string;
  /** The server's GUID once admitted. */
  peer: string | undefined;
  /** Why we are not live (the last error or end reason). */
  reason: string | undefined;
  /** When the next attempt is due (epoch ms), while reconnecting. */
  retryAt: number | undefined;
  /** Attempts that failed since the last live session. */
  failures: number;
  /** The last STU this browser could not store (a full storage quota first of all), until the next one is stored. */
  storage: string | undefined;
  since: number;
}

export class ConnectionModel {
  readonly changed = new Emitter<ConnectionState>();
  private current: ConnectionState;
  private offs: (() => void)[] = [];

  constructor(server: string) {
    this.current = { state: 'connecting', server, peer: undefined, reason: undefined, retryAt: undefined, failures: 0, storage: undefined, since: Date.now() };
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** A logger for the viewer's hub: its warnings about failed dials become the state; `sink` gets every line. */
  logger(sink: (line: string) => void = () => undefined): Logger {
    const base = createLogger('warn', sink);
    const watch = (msg: string, fields?: Record<string, unknown>) => {
      if (msg === 'could not reach peer') {
        const retry = typeof fields?.retryMs === 'number' ? fields.retryMs : undefined;
        this.set({
          state: this.current.state === 'connecting' && this.current.failures === 0 ? 'connecting' : 'reconnecting',
          reason: typeof fields?.error === 'string' ? fields.error : 'the server did not answer',
          retryAt: retry === undefined ? undefined : Date.now() + retry,
          failures: this.current.failures + 1,
        });
      } else if (msg === 'STU from peer not stored') {
        const why = typeof fields?.error === 'string' ? fields.error : 'the browser refused the write';
        this.set({ storage: fields?.code === 'QUOTA' ? `storage full: ${why}` : `could not store: ${why}` });
      } else if (msg.startsWith('peer refused us')) {
        this.set({ state: 'refused', reason: typeof fields?.reason === 'string' ? fields.reason : msg, retryAt: undefined });
      }
    };
    const wrap = (l: Logger): Logger => ({
      debug: l.debug,
      info: l.info,
      warn: (msg, fields) => {
        watch(msg, fields);
        l.warn(msg, fields);
      },
      error: (msg, fields) => {
        watch(msg, fields);
        l.error(msg, fields);
      },
      child: (fields) => wrap(l.child(fields)),
    });
    return wrap(base);
  }

  /** Follows the hub's sessions; returns the function that stops following. */
  follow(hub: SyncHub): () => void {
    const admitted = (s: PeerSession) => {
      // the server the page joined: not the others a player reaches through it while this one is live
      if (this.current.state === 'live' && this.current.peer !== s.peer && hub.session(this.current.peer as Guid)) return;
      this.set({ state: 'live', peer: s.peer, reason: undefined, retryAt: undefined, failures: 0 });
    };
    const ended = (s: PeerSession) => {
      if (hub.sessions().length > 0) return;
      const refused = s.endCode === 'refused';
      this.set({ state: refused ? 'refused' : 'reconnecting', reason: endReason(s.endCode, s.endReason), retryAt: undefined });
    };
    this.offs.push(hub.events.admitted.on(admitted), hub.events.ended.on(ended));
    const live = hub.sessions()[0];
    if (live) admitted(live);
    return () => this.stop();
  }

  /** Follows the viewer's store: an STU stored again clears a storage error. */
  followStore(store: { onStored(fn: () => void): () => void }): void {
    this.offs.push(
      store.onStored(() => {
        if (this.current.storage !== undefined) this.set({ storage: undefined });
      }),
    );
  }

  /** The viewer could not start at all (no IndexedDB, ...). */
  fail(reason: string): void {
    this.set({ state: 'failed', reason, retryAt: undefined });
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private set(patch: Partial<ConnectionState>): void {
    const next = { ...this.current, ...patch };
    if (next.state !== this.current.state) next.since = Date.now();
    this.current = next;
    this.changed.emit(next);
  }
}

/** Why a session ended, in words: the code says who ended it, the reason (the peer's words) why. */
export function endReason(code: string | undefined, reason: string | undefined): string {
  const why = reason ? `: ${reason}` : '';
  switch (code) {
    case 'unregistered':
      return `the server left${why}`;
    case 'lost':
      return `the connection was lost${why}`;
    case 'refused':
      return `refused${why}`;
    case 'duplicate':
      return 'another session of this viewer took over';
    default:
      return reason ?? code ?? 'the session ended';
  }
}
