// Data-channel transfers (shared/stx/transfer.ts) between two real WebRTC peers in this process, over
// loopback: werift, node-datachannel, and werift offering to node-datachannel. 8 MiB of mixed-size STUs
// (packed small ones, cut large ones) arrive byte-exact and in order; a wrong key is refused.
import { afterEach, describe, expect, it } from 'vitest';
import { type Backend, connectPair, type WebrtcLink } from '../../../node-peer/webrtc/index.ts';
import { sendStus, TransferReceiver } from '../../../shared/stx/transfer.ts';
import { prng } from '../../../shared/util/prng.ts';

const KiB = 1024;
const MiB = 1024 * 1024;

/** Seeded STUs totalling at least `total` bytes: mostly 512 B - 4 KiB, some up to 64 KiB, a few up to 1 MiB. */
function mixedStus(total: number, seed: number): Uint8Array[] {
  const rnd = prng(seed);
  const out: Uint8Array[] = [];
  for (let sum = 0; sum < total; ) {
    const r = rnd();
    const size = r < 0.85 ? 512 + Math.floor(rnd() * 3.5 * KiB) : r < 0.97 ? 4 * KiB + Math.floor(rnd() * 60 * KiB) : 64 * KiB + Math.floor(rnd() * 960 * KiB);
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i += 4) b[i] = Math.floor(rnd() * 256);
    new DataView(b.buffer).setUint32(0, out.length, true);
    out.push(b);
    sum += size;
  }
  return out;
}

const pairs: [string, Backend | [Backend, Backend]][] = [
  ['werift', 'werift'],
  ['node-datachannel', 'datachannel'],
  ['werift offering to node-datachannel', ['werift', 'datachannel']],
];

for (const [name, backend] of pairs) {
  describe(`transfers over ${name}`, () => {
    let links: WebrtcLink[] = [];
    afterEach(() => {
      for (const l of links) l.close('test over');
      links = [];
    });
    const connect = async () => {
      const p = await connectPair(backend);
      links.push(...p);
      return p;
    };

    it('moves 8 MiB of mixed-size STUs byte-exact and in order', async () => {
      const [a, b] = await connect();
      const stus = mixedStus(8 * MiB, 42);
      const total = stus.reduce((n, s) => n + s.length, 0);
      const receiver = new TransferReceiver(b);
      let next = 0;
      let mismatches = 0;
      let views = 0;
      const exp = receiver.expect({
        onStu: (bytes) => {
          const want = stus[next++];
          if (!want || want.length !== bytes.length || Buffer.compare(want, bytes) !== 0) mismatches++;
          if (bytes.byteOffset !== 0 || bytes.buffer.byteLength !== bytes.length) views++; // onStu owns its bytes
        },
      });
      const t0 = performance.now();
      const sent = await sendStus(a, exp.ticket, stus);
      const done = await exp.done;
      const s = (performance.now() - t0) / 1000;
      console.log(`${name}: ${stus.length} STUs, ${(total / MiB).toFixed(1)} MiB in ${s.toFixed(2)} s = ${(total / MiB / s).toFixed(1)} MiB/s (channel limit ${a.maxMessageSize / KiB} KiB)`);
      expect(mismatches).toBe(0);
      expect(views).toBe(0);
      expect(next).toBe(stus.length);
      expect(sent).toMatchObject({ stus: stus.length, bytes: total });
      expect(done).toMatchObject({ stus: stus.length, bytes: total });
      expect(receiver.stats).toEqual({ admitted: 1, refused: 0, completed: 1, failed: 0 });
      receiver.close();
    });

    it('refuses a wrong key before any STU moves', async () => {
      const [a, b] = await connect();
      const receiver = new TransferReceiver(b);
      let calls = 0;
      const exp = receiver.expect({ onStu: () => void calls++ });
      const otherKey = receiver.expect({ onStu: () => void calls++ }).ticket.key;
      await expect(sendStus(a, { ...exp.ticket, key: otherKey }, [new Uint8Array(600)])).rejects.toMatchObject({ code: 'REFUSED' });
      expect(calls).toBe(0);
      expect(receiver.stats).toMatchObject({ admitted: 0, refused: 1 });
      // the channel was closed on both sides, and the ticket still admits its own key
      const sent = await sendStus(a, exp.ticket, [new Uint8Array(600).fill(7)]);
      expect(sent.stus).toBe(1);
      expect((await exp.done).stus).toBe(1);
      expect(calls).toBe(1);
      receiver.close();
    });
  });
}
