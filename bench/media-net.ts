// Media between servers, in one run: (1) data discovery fetching a media's frames from one source next
// to two sources at once (three state servers in this process over node-datachannel, file rings);
// (2) the data funnel: a viewer playing in real time gets segments over WebRTC at the media's own rate
// (bytes delivered after the initial lead, per second, divided by the media's bit rate; goal 1.00 ± 0.05).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../shared/log.ts';
import { encodeFrameExt } from '../shared/media/frame.ts';
import { SegmentClient } from '../shared/media/segment-service.ts';
import { FRAME } from '../shared/media/stu-types.ts';
import { memoryDevices, openMemoryRing } from '../shared/ring/index.ts';
import { Flag, newGuid, NIL_GUID } from '../shared/stu/index.ts';
import { ClusterKey } from '../shared/sync/admission.ts';
import { Discovery } from '../shared/sync/discovery.ts';
import { SyncHub } from '../shared/sync/hub.ts';
import { RingStore } from '../shared/sync/store.ts';
import { StateNode } from '../node-peer/node.ts';
import { serve } from '../node-peer/serve.ts';
import { connectPair, makeLink } from '../node-peer/webrtc/index.ts';
import type { Figure } from './figure.ts';

const MiB = 1024 * 1024;
const log = (s: string) => process.stderr.write(`  ${s}\n`);
const silent = createLogger('silent', () => undefined);

async function server(dir: string, key: ClusterKey): Promise<{ node: StateNode; hub: SyncHub; discovery: Discovery }> {
  const node = await StateNode.open({ dir, metaBytes: 16 * MiB, dataBytes: 600 * MiB, fsync: { mode: 'none' }, log: silent });
  const hub = new SyncHub({ store: node.stus, role: 'server', key, info: () => ({ version: 'bench', apps: [] }), newLink: () => makeLink('datachannel'), mesh: false, syncIntervalMs: 3_600_000, log: silent });
  return { node, hub, discovery: new Discovery({ hub, holder: node.index, log: silent }) };
}

async function link(x: { hub: SyncHub }, y: { hub: SyncHub }): Promise<void> {
  const [la, lb] = await connectPair('datachannel');
  const [sa, sb] = await Promise.all([x.hub.attach(la, true, 'bench'), y.hub.attach(lb, false, 'bench')]);
  await Promise.all([sa.admitted(), sb.admitted()]);
}

async function multiSource(quick: boolean, tmp: string): Promise<Figure[]> {
  const frames = quick ? 1024 : 4096;
  const size = 64 * 1024;
  const key = await ClusterKey.from('bench-media-net-key-0123');
  const [a, b] = [await server(join(tmp, 'a'), key), await server(join(tmp, 'b'), key)];
  const media = newGuid();
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 7) & 0xff;
  for (const s of [a, b]) {
    for (let n = 0; n < frames; n += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, frames - n) }, (_, k) => {
          const i = n + k;
          const ext = encodeFrameExt({ stream: 0, timescale: 1000, dts: i * 40, pts: i * 40, duration: 40, key: i % 25 === 0, sample: i });
          return s.node.stus.create({ type: FRAME, flags: Flag.DATA, object: media, user: NIL_GUID, ext }, body);
        }),
      );
    }
  }
  const out: Figure[] = [];
  const rates: number[] = [];
  for (const sources of [1, 2]) {
    const c = await server(join(tmp, `c${sources}`), key);
    await link(a, c);
    if (sources === 2) {
      await link(b, c);
      await link(a, b);
    }
    const t0 = performance.now();
    await c.discovery.download(media, 0, [{ from: 0, to: frames }], AbortSignal.timeout(600_000));
    const rate = (frames * size) / MiB / ((performance.now() - t0) / 1000);
    rates.push(rate);
    log(`${sources} source(s): ${((frames * size) / MiB).toFixed(0)} MiB in ${((performance.now() - t0) / 1000).toFixed(2)} s, ${rate.toFixed(1)} MiB/s`);
    await c.hub.close();
    await c.node.close();
  }
  out.push({ name: `data discovery fetch, ${(frames * size) / MiB} MiB, one source`, value: rates[0], unit: 'MiB/s' });
  out.push({ name: `data discovery fetch, two sources at once`, value: rates[1], unit: 'MiB/s', baseline: rates[0], baselineName: 'one source', ratio: rates[1] / rates[0] });
  for (const s of [a, b]) {
    await s.hub.close();
    await s.node.close();
  }
  return out;
}

async function funnel(tmp: string): Promise<Figure[]> {
  const running = await serve({ dir: join(tmp, 'f'), metaBytes: 16 * MiB, dataBytes: 64 * MiB, fsync: { mode: 'none' }, log: silent, host: '127.0.0.1', port: 0, sample: true, rtsp: false, clusterKey: 'bench-media-net-key-0123' });
  const hub = new SyncHub({ store: new RingStore(newGuid(), await openMemoryRing(memoryDevices(MiB, MiB))), role: 'viewer', mesh: false, newLink: () => makeLink('datachannel'), info: () => ({ version: 'bench', apps: [] }) });
  try {
    hub.join(running.url);
    while (hub.sessions().length === 0) await new Promise((r) => setTimeout(r, 20));
    const client = new SegmentClient(hub.sessions()[0]);
    const media = running.node.index.list()[0].id;
    const playlist = await client.playlist(media);
    const durations = [...playlist.matchAll(/^#EXTINF:([\d.]+),/gm)].map((m) => Number(m[1]));
    const total = durations.reduce((x, y) => x + y, 0);
    await client.segment(media, 'init', 0);
    // a player at 1x from the first segment's arrival, asking for the next segment as soon as it has one
    const arrivals: number[] = [];
    const sizes: number[] = [];
    const held: boolean[] = [];
    let t0 = 0;
    for (let i = 0; i < durations.length; i++) {
      const r = await client.segment(media, i, t0 ? (performance.now() - t0) / 1000 : 0);
      if (!t0) t0 = performance.now();
      arrivals.push(performance.now());
      sizes.push(r.bytes.length);
      held.push(r.delayMs > 0);
    }
    // once the lead is used up, segments k..n-1 cover media [s_k, s_n) and arrive between arrival_k and arrival_n
    const k = held.indexOf(true);
    const n = durations.length - 1;
    const starts = durations.map((_, i) => durations.slice(0, i).reduce((x, y) => x + y, 0));
    const bytes = sizes.slice(k, n).reduce((x, y) => x + y, 0);
    const mediaRate = bytes / (starts[n] - starts[k]);
    const paced = bytes / ((arrivals[n] - arrivals[k]) / 1000);
    log(`media ${total.toFixed(1)} s; after the ${k} segments of the lead: ${((8 * mediaRate) / 1000).toFixed(0)} kbit/s of media delivered at ${((8 * paced) / 1000).toFixed(0)} kbit/s`);
    return [{ name: 'funnel: paced delivery rate / media bit rate', value: paced / mediaRate, unit: 'x', baseline: 1, baselineName: 'media rate', ratio: paced / mediaRate, goal: '1.00 ± 0.05' }];
  } finally {
    await hub.close();
    await running.stop();
  }
}

export async function benchMediaNet({ quick }: { quick: boolean }): Promise<Figure[]> {
  const tmp = mkdtempSync(join(tmpdir(), 'stateos-bench-media-net-'));
  try {
    return [...(await multiSource(quick, tmp)), ...(await funnel(tmp))];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
