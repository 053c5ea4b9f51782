// The RTSP gateway in-process, on a real StateNode with ffmpeg-made media and our raw client: PAUSE/PLAY and
// what is recorded as played, 504 for missing frames (and BYE when they go missing mid-play), channels (on
// demand: clips in order; live: where the schedule is now, the same for two viewers), the limits on
// connections and sessions, and session timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/log.ts';
import { H264Nal } from '../../../shared/media/rtp/h264.ts';
import { splitLengthPrefixed } from '../../../shared/media/rtp/nal.ts';
import { rtcpTypes } from '../../../shared/media/rtp/rtcp.ts';
import type { ChannelSchedule } from '../../../shared/media/schedule.ts';
import type { Guid } from '../../../shared/stu/guid.ts';
import { type Interleaved, RtspClient, setupAll } from '../../../node-peer/gateways/rtsp/client.ts';
import { startRtsp, type RtspServer } from '../../../node-peer/gateways/rtsp/index.ts';
import { type MediaSource, MediaUnavailableError, NodeMediaSource, type Play } from '../../../node-peer/media/frames.ts';
import { StateNode } from '../../../node-peer/node.ts';
import { ffmpeg, SRC, TempDir } from '../media/helpers.ts';

const tmp = new TempDir();
const log = createLogger('silent', () => undefined);
let node: StateNode;
let A: Guid;
let B: Guid;
const plays: Play[] = [];
let real: NodeMediaSource;

const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '2', '-g', '25', '-keyint_min', '25', '-sc_threshold', '0', '-c:a', 'aac', '-b:a', '48k'];

beforeAll(async () => {
  ffmpeg([...SRC.video(3, '160x90', 25), ...SRC.audio(3), ...X264, tmp.file('a.mp4')]);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=160x90:rate=25:duration=3', ...SRC.audio(3), ...X264, tmp.file('b.mp4')]);
  node = await StateNode.open({ dir: tmp.file('data'), metaBytes: 8 << 20, dataBytes: 32 << 20, fsync: { mode: 'none' }, log });
  A = (await node.ingestFile(tmp.file('a.mp4'))).id;
  B = (await node.ingestFile(tmp.file('b.mp4'))).id;
  real = new NodeMediaSource(node, { recordPlay: (p) => plays.push(p) });
});
afterAll(async () => {
  await node?.close();
  tmp.cleanup();
});

async function withServer<T>(source: MediaSource, opts: Partial<Parameters<typeof startRtsp>[1]>, fn: (s: RtspServer) => Promise<T>): Promise<T> {
  const s = await startRtsp(source, { host: '127.0.0.1', port: 0, log, ...opts });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

const rtp = (p: Interleaved) => ({ seq: p.data.readUInt16BE(2), ts: p.data.readUInt32BE(4), marker: (p.data[1] & 0x80) !== 0, payload: p.data.subarray(12) });
const isBye = (p: Interleaved) => p.channel % 2 === 1 && (rtcpTypes(p.data) ?? []).includes(203);
/** The IDR slices sent: single NAL unit packets and FU-A starts, from the byte after the NAL header. */
const idrs = (video: ReturnType<typeof rtp>[]) =>
  video
    .filter((v) => (v.payload[0] & 0x1f) === H264Nal.IDR || ((v.payload[0] & 0x1f) === H264Nal.FU_A && (v.payload[1] & 0x9f) === 0x85))
    .map((v) => Buffer.from(v.payload.subarray((v.payload[0] & 0x1f) === H264Nal.IDR ? 1 : 2).subarray(0, 60)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(20);
  }
};

describe('RTSP gateway (in process)', () => {
  it('PLAY from a range starts at the key frame before it; PAUSE stops the packets, PLAY resumes them; TEARDOWN records what was played', async () => {
    await withServer(real, {}, async (s) => {
      const c = await RtspClient.connect(`${s.url}/media/${A}`);
      const got: Interleaved[] = [];
      c.onPacket((p) => got.push(p));
      const { streams } = await setupAll(c);
      expect(streams.map((x) => x.encoding)).toEqual(['H264', 'MPEG4-GENERIC']);
      const play = await c.request('PLAY', `${s.url}/media/${A}/`, { Range: 'npt=1.5-' });
      expect(play.status).toBe(200);
      expect(play.headers.get('range')).toBe('npt=1.000-3.000'); // key frames every second
      const info = play.headers.get('rtp-info')!.split(',').map((x) => Object.fromEntries(x.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
      expect(info.map((i) => i.url)).toEqual(streams.map((x) => x.control));
      await sleep(600);
      const video = got.filter((p) => p.channel === 0 && !isBye(p)).map(rtp);
      expect(video[0].seq).toBe(Number(info[0].seq));
      expect(video[0].ts).toBe(Number(info[0].rtptime)); // the key frame's time is the npt start
      expect(video[0].payload[0] & 0x1f).toBe(H264Nal.SPS);
      const paused = await c.request('PAUSE', `${s.url}/media/${A}/`);
      expect(paused.status).toBe(200);
      const at = Number(/npt=([\d.]+)-/.exec(paused.headers.get('range') ?? '')?.[1]);
      expect(at).toBeGreaterThan(1.4);
      expect(at).toBeLessThan(2);
      const before = got.length;
      await sleep(500);
      expect(got.length).toBe(before); // nothing while paused (not even a sender report)
      const lastSeq = got.filter((p) => p.channel === 0).map(rtp).at(-1)!.seq;
      const resumed = await c.request('PLAY', `${s.url}/media/${A}/`);
      expect(resumed.status).toBe(200);
      expect(resumed.headers.get('range')).toBe(`npt=${at.toFixed(3)}-`);
      expect(resumed.headers.get('rtp-info')).toContain(`seq=${(lastSeq + 1) & 0xffff}`);
      await sleep(400);
      expect(got.length).toBeGreaterThan(before);
      plays.length = 0;
      expect((await c.request('TEARDOWN', `${s.url}/media/${A}/`)).status).toBe(200);
      expect(plays).toHaveLength(1);
      expect(plays[0]).toMatchObject({ gateway: 'rtsp', media: A, startMs: 1000 });
      expect(plays[0].durationMs).toBeGreaterThan(850); // ~0.6 s + ~0.4 s played, the pause not counted
      expect(plays[0].durationMs).toBeLessThan(1400);
      expect((await c.request('GET_PARAMETER', `${s.url}/media/${A}/`)).status).toBe(454);
      c.close();
    });
  });

  it('frames that cannot be had: 504 with the reason at PLAY; BYE when they go missing mid-play', async () => {
    let failAfter = 0;
    let calls = 0;
    const flaky: MediaSource = {
      metadata: (id) => real.metadata(id),
      list: () => real.list(),
      recordPlay: (p) => plays.push(p),
      frames: async (...args) => {
        if (calls++ >= failAfter) throw new MediaUnavailableError('frames 10-20 are on no server that answered');
        return real.frames(...args);
      },
    };
    await withServer(flaky, {}, async (s) => {
      const c = await RtspClient.connect(`${s.url}/media/${A}`);
      await setupAll(c);
      const r = await c.request('PLAY', `${s.url}/media/${A}/`);
      expect(r.status).toBe(504);
      expect(r.body).toContain('frames 10-20 are on no server that answered');
      expect((await c.request('OPTIONS', '*')).status).toBe(200); // the connection stays
      // Now the first read comes (1 s of both streams), the next fails: what was read is sent, in time, then
      // the play ends with SR + BYE.
      failAfter = calls + 2;
      const got: Interleaved[] = [];
      c.onPacket((p) => got.push(p));
      plays.length = 0;
      const t0 = performance.now();
      expect((await c.request('PLAY', `${s.url}/media/${A}/`)).status).toBe(200);
      await until(() => got.filter(isBye).length === 2);
      expect(got.find(isBye)!.at - t0).toBeGreaterThan(800);
      expect(got.filter((p) => p.channel === 0).map(rtp).filter((v) => v.marker)).toHaveLength(25); // the frames of 0-1 s
      expect((await c.request('TEARDOWN', `${s.url}/media/${A}/`)).status).toBe(200);
      expect(plays).toHaveLength(1);
      c.close();
    });
  });

  it('channels: on demand plays the clips in order and ends with BYE; live starts where the schedule is, the same for two viewers', async () => {
    const schedules: Record<string, ChannelSchedule> = {
      film: { name: 'film', live: false, startedAt: 0, clips: [{ media: A, startMs: 0, endMs: 1000 }, { media: B, startMs: 1000, endMs: 2000 }] },
    };
    await withServer(real, { schedules: (n) => schedules[n] }, async (s) => {
      plays.length = 0;
      const c = await RtspClient.connect(`${s.url}/channel/film`);
      const got: Interleaved[] = [];
      c.onPacket((p) => got.push(p));
      const { sdp } = await setupAll(c);
      expect(sdp).toContain('a=range:npt=0-2.000');
      const r = await c.request('PLAY', `${s.url}/channel/film/`);
      expect(r.headers.get('range')).toBe('npt=0.000-2.000');
      await until(() => got.filter(isBye).length === 2);
      const video = got.filter((p) => p.channel === 0).map(rtp);
      expect(video.filter((v) => v.marker)).toHaveLength(50); // 25 frames of A, 25 of B
      const audio = got.filter((p) => p.channel === 2).map(rtp);
      for (let i = 1; i < audio.length; i++) expect((audio[i].ts - audio[i - 1].ts) >>> 0).toBeLessThan(2048); // forward across the cut
      // the first IDR of clip B is B's first frame
      const bFrame0 = (await real.frames(B, 0, 1, 1.04))[0]; // clip B starts at 1 s, a key frame
      const bIdr = splitLengthPrefixed(bFrame0.data, 4).find((n) => (n[0] & 0x1f) === H264Nal.IDR)!;
      const sent = idrs(video);
      expect(sent).toHaveLength(2);
      expect(sent[1]).toEqual(Buffer.from(bIdr.subarray(1, 61)));
      c.close(); // the connection goes: its session ends and the play is recorded
      await until(() => plays.length === 1);
      expect(plays[0]).toMatchObject({ gateway: 'rtsp', channel: 'film', startMs: 0 });
      expect(plays[0].media).toBeUndefined();
      expect(Math.abs(plays[0].durationMs - 2000)).toBeLessThan(100);

      // 2.5 s into a schedule of two 2 s clips: clip B, 0.5 s in; B's key frame at 0 s is where play starts
      schedules.tv = { name: 'tv', live: true, startedAt: Date.now() - 2500, clips: [{ media: A, startMs: 0, endMs: 2000 }, { media: B, startMs: 0, endMs: 2000 }] };
      const firstIdr = async () => {
        const v = await RtspClient.connect(`${s.url}/channel/tv`);
        const pk: Interleaved[] = [];
        v.onPacket((p) => pk.push(p));
        await setupAll(v);
        const pr = await v.request('PLAY', `${s.url}/channel/tv/`);
        expect(pr.headers.get('range')).toBe('npt=now-');
        await until(() => idrs(pk.filter((p) => p.channel === 0).map(rtp)).length > 0);
        v.close();
        return idrs(pk.filter((p) => p.channel === 0).map(rtp))[0];
      };
      const one = await firstIdr();
      await sleep(150);
      const two = await firstIdr();
      expect(one).toEqual(two);
      const live0 = (await real.frames(B, 0, 0, 0.04))[0];
      expect(one).toEqual(Buffer.from(splitLengthPrefixed(live0.data, 4).find((n) => (n[0] & 0x1f) === H264Nal.IDR)!.subarray(1, 61)));
      expect((await (async () => {
        const x = await RtspClient.connect(`${s.url}/channel/none`);
        const d = await x.request('DESCRIBE');
        x.close();
        return d.status;
      })())).toBe(404);
    });
    // without schedules, channel URLs are 404
    await withServer(real, {}, async (s) => {
      const c = await RtspClient.connect(`${s.url}/channel/tv`);
      expect((await c.request('DESCRIBE')).status).toBe(404);
      c.close();
    });
  });

  it('caps connections and sessions per connection; a silent session times out with BYE', async () => {
    await withServer(real, { maxConnections: 2, maxSessionsPerConnection: 1, sessionTimeoutMs: 700 }, async (s) => {
      const a = await RtspClient.connect(`${s.url}/media/${A}`);
      const b = await RtspClient.connect(`${s.url}/media/${A}`);
      await until(() => s.stats().connections === 2);
      const third = await RtspClient.connect(`${s.url}/media/${A}`);
      const refused = await third.next();
      expect(refused.status).toBe(503);
      await third.closed;
      await setupAll(a);
      const firstSession = a.session;
      a.session = undefined;
      const second = await a.request('SETUP', `${s.url}/media/${A}/trackID=0`, { Transport: 'RTP/AVP/TCP;unicast;interleaved=4-5' });
      expect(second.status).toBe(503);
      a.session = firstSession;
      const got: Interleaved[] = [];
      a.onPacket((p) => got.push(p));
      plays.length = 0;
      expect((await a.request('PLAY', `${s.url}/media/${A}/`)).status).toBe(200);
      // no request and no RTCP from the client: after 0.7 s the session ends, with BYE
      await until(() => got.filter(isBye).length === 2, 3000);
      expect((await a.request('GET_PARAMETER', `${s.url}/media/${A}/`)).status).toBe(454);
      expect(plays).toHaveLength(1);
      expect(plays[0].durationMs).toBeGreaterThan(500);
      expect(plays[0].durationMs).toBeLessThan(1500);
      a.close();
      b.close();
    });
  });
});
