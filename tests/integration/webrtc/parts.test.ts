// The pure parts of the Node WebRTC transports: SDP reading, the link control codec, the werift reassembly
// fix, and the negotiation rules a link enforces before any packet moves.
import { describe, expect, it } from 'vitest';
import { decodeControl, encodeBye, encodeClose, encodeClosed, encodePing, encodePong } from '../../../shared/stx/link/control.ts';
import { makeLink } from '../../../node-peer/webrtc/index.ts';
import { toNdcIceServers } from '../../../node-peer/webrtc/ndc-link.ts';
import { checkRemoteSdp, negotiatedMaxMessageSize, parseFingerprint, parseIceUrl, parseMaxMessageSize } from '../../../shared/stx/link/sdp.ts';
import { popMessages } from '../../../node-peer/webrtc/werift-fixes.ts';

const SDP = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=fingerprint:sha-256 4a:5a:8e:9c:fe:d7:12:36:74:e8:b4:a2:0f:f9:41:aa:1e:bd:3a:f6:1c:6e:33:14:4d:ac:35:6a:79:06:e2:5d',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
  '',
].join('\r\n');

describe('SDP', () => {
  it('reads the sha-256 fingerprint (upper case) and max-message-size', () => {
    expect(parseFingerprint(SDP)).toEqual({ algorithm: 'sha-256', value: '4A:5A:8E:9C:FE:D7:12:36:74:E8:B4:A2:0F:F9:41:AA:1E:BD:3A:F6:1C:6E:33:14:4D:AC:35:6A:79:06:E2:5D' });
    expect(parseFingerprint(SDP.replace(/a=fingerprint:sha-256.*\r\n/, ''))?.algorithm).toBe('sha-1');
    expect(parseFingerprint('v=0\r\n')).toBeUndefined();
    expect(parseMaxMessageSize(SDP)).toBe(262144);
    expect(parseMaxMessageSize('v=0\r\n')).toBe(65536);
  });

  it('negotiates the smaller max-message-size, 0 meaning no limit', () => {
    expect(negotiatedMaxMessageSize(65536, 262144)).toBe(65536);
    expect(negotiatedMaxMessageSize(262144, 0)).toBe(262144);
    expect(negotiatedMaxMessageSize(0, 0)).toBe(65536);
  });

  it('refuses descriptions that are not a bounded data-channel offer with a fingerprint', () => {
    expect(() => checkRemoteSdp(SDP, 'offer')).not.toThrow();
    for (const bad of [42, 'hello', SDP.replace('m=application', 'm=audio'), SDP.replace(/a=fingerprint.*\r\n/g, ''), SDP + 'a=x\r\n'.repeat(20_000)]) {
      expect(() => checkRemoteSdp(bad, 'offer')).toThrow(expect.objectContaining({ code: 'BAD_PARAM' }));
    }
  });

  it('parses STUN and TURN URLs for node-datachannel', () => {
    expect(parseIceUrl('stun:stun.example.org')).toEqual({ scheme: 'stun', host: 'stun.example.org', port: 3478, transport: undefined });
    expect(parseIceUrl('turn:[::1]:3479?transport=tcp')).toEqual({ scheme: 'turn', host: '::1', port: 3479, transport: 'tcp' });
    expect(() => parseIceUrl('http://example.org')).toThrow(TypeError);
    expect(toNdcIceServers([{ urls: ['stun:127.0.0.1:3478', 'turns:relay.example.org'], username: 'u', credential: 'p' }])).toEqual([
      { hostname: '127.0.0.1', port: 3478 },
      { hostname: 'relay.example.org', port: 5349, username: 'u', password: 'p', relayType: 'TurnTls' },
    ]);
  });
});

describe('link control messages', () => {
  it('round-trip, and unknown or malformed ones decode to undefined', () => {
    expect(decodeControl(encodePing())).toEqual({ type: 'ping' });
    expect(decodeControl(encodePong())).toEqual({ type: 'pong' });
    expect(decodeControl(encodeBye('shutting down'))).toEqual({ type: 'bye', reason: 'shutting down' });
    expect(encodeBye('x'.repeat(1000)).length).toBe(201);
    expect(decodeControl(encodeClose(1023, 2 ** 32 + 5))).toEqual({ type: 'close', stream: 1023, count: 5 });
    expect(decodeControl(encodeClosed(7))).toEqual({ type: 'closed', stream: 7 });
    expect(decodeControl(Uint8Array.of(3, 1, 2))).toBeUndefined();
    expect(decodeControl(Uint8Array.of(99))).toBeUndefined();
    expect(decodeControl(new Uint8Array(0))).toBeUndefined();
  });
});

describe('werift reassembly fix', () => {
  const chunk = (tsn: number, ssn: number, flags = 0x03, data = [ssn]) => ({ tsn, flags, streamId: 5, streamSeqNum: ssn, protocol: 53, userData: Buffer.from(data) });
  const stream = (chunks: ReturnType<typeof chunk>[], ssn = 0) => ({ reassembly: chunks, streamSequenceNumber: ssn, popMessages });
  const drain = (s: ReturnType<typeof stream>) => [...s.popMessages()].map(([, , d]) => [...d]);

  it('delivers later messages already received when the missing one arrives (upstream #706)', () => {
    // Messages 1-3 of this stream at TSNs 10, 21, 22 (other channels' chunks between): 1 arrives last.
    // werift's own popMessages delivers 1 and leaves 2 and 3 waiting for good.
    const s = stream([chunk(21, 2), chunk(22, 3)], 1);
    expect(drain(s)).toEqual([]);
    s.reassembly.unshift(chunk(10, 1));
    expect(drain(s)).toEqual([[1], [2], [3]]);
    expect(s.streamSequenceNumber).toBe(4);
    expect(s.reassembly).toEqual([]);
  });

  it('reassembles fragments and waits for missing ones', () => {
    const s = stream([chunk(1, 0, 0x02, [1, 2]), chunk(3, 0, 0x01, [5])]);
    expect(drain(s)).toEqual([]);
    s.reassembly.splice(1, 0, chunk(2, 0, 0x00, [3, 4]));
    expect(drain(s)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('delivers complete unordered messages around incomplete ones', () => {
    const s = stream([chunk(1, 0, 0x06, [1]), chunk(3, 0, 0x07, [9])]);
    expect(drain(s)).toEqual([[9]]);
    expect(s.reassembly).toHaveLength(1);
  });
});

describe('negotiation rules', () => {
  it('refuses a bad offer or answer with BAD_PARAM and closes the link', async () => {
    const link = makeLink('datachannel');
    await expect(link.acceptOffer('v=0\r\nnot an offer')).rejects.toMatchObject({ code: 'BAD_PARAM' });
    expect(link.state).toBe('closed');
    const offerer = makeLink('werift');
    await offerer.createOffer();
    await expect(offerer.acceptAnswer(SDP.replace(/a=fingerprint.*\r\n/g, ''))).rejects.toMatchObject({ code: 'BAD_PARAM' });
    expect(offerer.state).toBe('closed');
    await expect(offerer.connected()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('refuses steps out of order and limits the advertised message size', async () => {
    const link = makeLink('werift');
    await expect(link.acceptAnswer(SDP)).rejects.toMatchObject({ code: 'BAD_PARAM' });
    const offer = await link.createOffer();
    expect(parseFingerprint(offer)).toEqual(link.localFingerprint);
    expect(offer).not.toMatch(/typ srflx|typ relay/); // no STUN server was asked
    await expect(link.createOffer()).rejects.toMatchObject({ code: 'BAD_PARAM' });
    link.close();
    expect(() => makeLink('werift', { maxMessageSize: 2 * 1024 * 1024 })).toThrow(RangeError);
    expect(() => makeLink('datachannel', { maxMessageSize: 32 * 1024 * 1024 })).toThrow(RangeError);
  });

  it('closes a link that does not connect in time', async () => {
    const link = makeLink('datachannel', { connectTimeoutMs: 200 });
    await link.createOffer();
    await expect(link.connected()).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(link.closeReason).toMatch(/not connected after 200 ms/);
  });
});
