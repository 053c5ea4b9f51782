// A cluster of sync hubs in one process: memory rings, the real engine, memory links (optionally with the
// fault shim on the signaling channel), fake but distinct DTLS fingerprints.
import { openMemoryRing, memoryDevices, type Ring } from '../../../shared/ring/index.ts';
import { StateEngine } from '../../../shared/state/index.ts';
import { TimeIndex } from '../../../shared/media/time-index.ts';
import { type Guid, isData, newGuid, stuId } from '../../../shared/stu/index.ts';
import { type FaultOptions, type FaultyChannel, withFaults } from '../../../shared/stx/fault.ts';
import { memoryPair } from '../../../shared/stx/memory-transport.ts';
import type { Channel, ChannelOptions, PeerLink } from '../../../shared/stx/transport.ts';
import { ClusterKey } from '../../../shared/sync/admission.ts';
import { type Dialable, SyncHub } from '../../../shared/sync/hub.ts';
import type { PeerSession, Role } from '../../../shared/sync/session.ts';
import { RingStore } from '../../../shared/sync/store.ts';
import { bytes, KV, kvApp, USERS } from '../state/helpers.ts';

export const KEY = 'test-cluster-key-0123456789';

export interface TestServer {
  guid: Guid;
  ring: Ring;
  engine: StateEngine;
  store: RingStore;
  hub: SyncHub;
  /** The media time index of the frames this server holds. */
  index: TimeIndex;
  fingerprint: string;
}

export async function makeServer(opts: { key?: string; role?: Role; guid?: Guid; syncIntervalMs?: number; metaBytes?: number; dataBytes?: number } = {}): Promise<TestServer> {
  const guid = opts.guid ?? newGuid();
  const ring = await openMemoryRing(memoryDevices(opts.metaBytes ?? 4 << 20, opts.dataBytes ?? 1 << 20), { fsync: { mode: 'none' } });
  const engine = new StateEngine();
  engine.register(kvApp('first-wins'));
  const index = new TimeIndex();
  const store = new RingStore(guid, ring, {
    engine,
    onAppend: (header, loc) => {
      if (isData(header)) index.addStu({ header, loc });
    },
  });
  index.attach(ring);
  const role = opts.role ?? 'server';
  const hub = new SyncHub({
    store,
    role,
    key: role === 'server' ? await ClusterKey.from(opts.key ?? KEY) : undefined,
    info: () => ({ version: 'test', apps: ['kv'] }),
    newLink: () => {
      throw new Error('memory clusters are wired by connect()');
    },
    mesh: false,
    syncIntervalMs: opts.syncIntervalMs ?? 200,
    gapDelayMs: 20,
    requestTimeoutMs: 2000,
    helloTimeoutMs: 2000,
  });
  return { guid, ring, engine, store, hub, index, fingerprint: `sha-256 ${guid.replaceAll('-', '').toUpperCase()}` };
}

/** A memory link that looks like a connected WebRTC link, its signaling channel behind the fault shim. */
function dialable(link: PeerLink, local: string, remote: string, faults?: FaultOptions, shims?: FaultyChannel[]): Dialable {
  const fp = (t: string) => ({ algorithm: t.split(' ')[0], value: t.split(' ')[1] });
  const wrap = (c: Channel): Channel => {
    if (c.label !== 'stx' || !faults) return c;
    const f = withFaults(c, faults);
    shims?.push(f);
    return f;
  };
  return {
    get state() {
      return link.state;
    },
    get maxMessageSize() {
      return link.maxMessageSize;
    },
    backend: 'memory',
    localFingerprint: fp(local),
    remoteFingerprint: fp(remote),
    openChannel: async (label: string, o: ChannelOptions) => wrap(await link.openChannel(label, o)),
    onChannel: (fn) => link.onChannel((c) => fn(wrap(c))),
    close: (r) => link.close(r),
    onClose: (fn) => link.onClose(fn),
    createOffer: () => Promise.reject(new Error('memory')),
    acceptOffer: () => Promise.reject(new Error('memory')),
    acceptAnswer: () => Promise.reject(new Error('memory')),
    connected: () => Promise.resolve(),
  };
}

export interface Connection {
  a: PeerSession;
  b: PeerSession;
  shims: FaultyChannel[];
}

/** Connects two servers; resolves once both sessions exist (admission may still fail: see admitted()). */
export async function connect(a: TestServer, b: TestServer, faults?: { a?: FaultOptions; b?: FaultOptions }): Promise<Connection> {
  const [la, lb] = memoryPair();
  const shims: FaultyChannel[] = [];
  const [sa, sb] = await Promise.all([
    a.hub.attach(dialable(la, a.fingerprint, b.fingerprint, faults?.a, shims), true, 'memory'),
    b.hub.attach(dialable(lb, b.fingerprint, a.fingerprint, faults?.b, shims), false, 'memory'),
  ]);
  return { a: sa, b: sb, shims };
}

/** Writes the next change of an object's key-value chain on this server (prevTs = its current tip). */
export async function write(s: TestServer, object: Guid, set: Record<string, string>): Promise<string> {
  const prevTs = s.engine.get(object)?.ts ?? 0n;
  const stored = await s.store.create({ type: KV, object, prevTs, user: USERS[0] }, bytes({ set }));
  return stuId(stored.header);
}

/** Metadata ids held, sorted: equal on every server once converged. */
export function heldIds(s: TestServer): string[] {
  return s.store.held
    .vector()
    .map((e) => `${e.type}:${e.origin}:${e.upTo}`)
    .sort();
}

export function objects(s: TestServer): string {
  return JSON.stringify(
    s.engine
      .list()
      .map((o) => ({ id: o.id, state: o.state, ts: String(o.ts) }))
      .sort((x, y) => (x.id < y.id ? -1 : 1)),
  );
}

export async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function closeAll(servers: TestServer[]): Promise<void> {
  for (const s of servers) await s.hub.close('test over');
  for (const s of servers) await s.ring.close();
}
