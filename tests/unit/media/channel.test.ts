// Channels: the XML command, applying in order, unique names across servers, channelSchedule (what the
// gateways play), and edits as the HTTP API and CLI make them.
import { describe, expect, it } from 'vitest';
import { createChannel, deleteChannel, editChannel, getChannel, listChannelViews } from '../../../shared/media/channel-edit.ts';
import {
  applyChannelOps,
  channelApp,
  channelByName,
  channelSchedule,
  type ChannelOp,
  type ChannelState,
  encodeChannelCommand,
  parseChannelCommand,
  scheduleByName,
} from '../../../shared/media/channel.ts';
import { CommandError, type CommandErrorCode, isCommandError } from '../../../shared/media/playlist-errors.ts';
import { createPlaylist, editPlaylist } from '../../../shared/media/playlist-edit.ts';
import type { PlaylistState } from '../../../shared/media/playlist.ts';
import { scheduleLengthMs } from '../../../shared/media/schedule.ts';
import { CHANNEL, PLAYLIST } from '../../../shared/media/stu-types.ts';
import { Flag, type Guid } from '../../../shared/stu/index.ts';
import { decoded, engineWithApps, MEDIA, originAt, server, SERVERS, stu } from './playlist-helpers.ts';

const C: Guid = 'c0000000-0000-4000-8000-000000000001';
const C2: Guid = 'c0000000-0000-4000-8000-000000000002';
const PL: Guid[] = ['b1000000-0000-4000-8000-000000000001', 'b1000000-0000-4000-8000-000000000002', 'b1000000-0000-4000-8000-000000000003'];
const enc = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function fails(p: Promise<unknown>, code: CommandErrorCode, pattern?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isCommandError(e), String(e)).toBe(true);
  expect((e as CommandError).code).toBe(code);
  if (pattern) expect((e as Error).message).toMatch(pattern);
}

describe('channel command XML', () => {
  it('has the documented bytes and reads back', () => {
    const ops: ChannelOp[] = [
      { op: 'create', name: 'finance', title: 'Finance <live>', mode: 'live', startMs: 1_735_689_600_000 },
      { op: 'add', playlist: PL[0] },
      { op: 'add', playlist: PL[1], position: 0 },
    ];
    const body = encodeChannelCommand(C, ops);
    expect(text(body)).toBe(
      '<channel version="1" object="c0000000-0000-4000-8000-000000000001">' +
        '<create name="finance" title="Finance &lt;live&gt;" mode="live" start="1735689600000"/>' +
        '<add playlist="b1000000-0000-4000-8000-000000000001"/><add playlist="b1000000-0000-4000-8000-000000000002" position="0"/></channel>',
    );
    expect(parseChannelCommand(body)).toEqual({ object: C, ops });
    const change: ChannelOp[] = [{ op: 'remove', playlist: PL[0] }, { op: 'set', mode: 'on-demand', title: 'F' }, { op: 'set', startMs: 5 }];
    expect(text(encodeChannelCommand(C, change))).toBe(
      `<channel version="1" object="${C}"><remove playlist="${PL[0]}"/><set title="F" mode="on-demand"/><set start="5"/></channel>`,
    );
    expect(parseChannelCommand(encodeChannelCommand(C, change)).ops).toEqual(change);
  });

  it('refuses DTDs, entities, bad names and modes, and a created time outside a summary', () => {
    const refused = (inner: string, code: CommandError['code'], re: RegExp, summary = false) => {
      const body = enc.encode(inner.startsWith('<channel') || inner.startsWith('<!') ? inner : `<channel version="1" object="${C}">${inner}</channel>`);
      expect(() => parseChannelCommand(body, summary)).toThrow(re);
      try {
        parseChannelCommand(body, summary);
      } catch (e) {
        expect((e as CommandError).code).toBe(code);
      }
    };
    refused(`<!DOCTYPE channel [<!ENTITY e SYSTEM "file:///etc/passwd">]><channel version="1" object="${C}"><create name="&e;" title="x" mode="live"/></channel>`, 'BAD_XML', /DOCTYPE/);
    refused('<create name="a&e;" title="x" mode="live" start="1"/>', 'BAD_XML', /entity/);
    refused('<create name="Finance" title="x" mode="on-demand"/>', 'BAD_COMMAND', /channel name/);
    refused('<create name="../etc" title="x" mode="on-demand"/>', 'BAD_COMMAND', /channel name/);
    refused(`<create name="${'a'.repeat(65)}" title="x" mode="on-demand"/>`, 'BAD_COMMAND', /channel name/);
    refused('<create name="a" title="x" mode="vod"/>', 'BAD_COMMAND', /live, on-demand/);
    refused('<create name="a" title="x" mode="live" created="5"/>', 'BAD_COMMAND', /unknown attribute created/);
    refused('<set/>', 'BAD_COMMAND', /changes nothing/);
    refused('<add playlist="x"/>', 'BAD_COMMAND', /GUID/);
    refused('<add playlist="b1000000-0000-4000-8000-000000000001" position="999"/>', 'BAD_COMMAND', /position/);
    expect(parseChannelCommand(enc.encode(`<channel version="1" object="${C}"><create name="a" title="x" mode="on-demand" created="5"/></channel>`), true).ops[0]).toMatchObject({ created: 5n });
  });
});

describe('channels in the engine', () => {
  it('applies create, add, remove and set in order; a live channel needs a start', () => {
    let s = applyChannelOps(C, undefined, [{ op: 'create', name: 'lobby', title: 'Lobby', mode: 'on-demand' }], 10n);
    s = applyChannelOps(C, s, [{ op: 'add', playlist: PL[0] }, { op: 'add', playlist: PL[1] }, { op: 'add', playlist: PL[2], position: 1 }], 20n);
    expect(s.playlists).toEqual([PL[0], PL[2], PL[1]]);
    s = applyChannelOps(C, s, [{ op: 'remove', playlist: PL[0] }, { op: 'remove', playlist: PL[0] }, { op: 'add', playlist: PL[1] }], 30n);
    expect(s.playlists).toEqual([PL[2], PL[1]]);
    expect(() => applyChannelOps(C, s, [{ op: 'set', mode: 'live' }], 40n)).toThrow(/needs a start/);
    s = applyChannelOps(C, s, [{ op: 'set', mode: 'live', startMs: 1000, title: 'Lobby TV' }], 40n);
    expect(s).toEqual({ id: C, name: 'lobby', title: 'Lobby TV', mode: 'live', startMs: 1000, playlists: [PL[2], PL[1]], created: 10n });
    const fresh: ChannelState | undefined = undefined;
    const again = channelApp.apply(fresh, stu({ type: CHANNEL, object: C, ts: 99n, flags: Flag.SUMMARY }, channelApp.summarize!(s)));
    expect(again).toEqual(s);
  });

  it('gives a name to the channel created first, on every server, whatever arrives first', () => {
    let t = 1_700_000_000_000;
    const a = originAt(SERVERS[0], () => t);
    const b = originAt(SERVERS[1], () => t + 3);
    const mk = (o: typeof a, id: Guid, title: string) => decoded(o.create({ type: CHANNEL, object: id }, encodeChannelCommand(id, [{ op: 'create', name: 'news', title, mode: 'on-demand' }])));
    const first = mk(a, C2, 'from a');
    t += 1;
    const second = mk(b, C, 'from b');
    for (const order of [[first, second], [second, first]]) {
      const e = engineWithApps();
      e.ingestAll(order);
      expect(channelByName(e, 'news')?.title).toBe('from a');
      expect(getChannel(e, 'news').object.id).toBe(C2);
      expect(getChannel(e, C).shadowedBy).toBe(C2);
      expect(listChannelViews(e).map((v) => [v.id, v.shadowedBy])).toEqual([
        [C, C2],
        [C2, undefined],
      ]);
    }
  });
});

describe('channelSchedule', () => {
  const playlists: Record<string, PlaylistState> = {
    [PL[0]]: {
      id: PL[0],
      title: 'one',
      clips: [
        { clip: 'a', media: MEDIA[0], startMs: 0, endMs: 5000, title: '' },
        { clip: 'b', media: MEDIA[1], startMs: 2000, title: '' }, // to the end of the media
        { clip: 'c', media: MEDIA[2], startMs: 1000, endMs: 99_000, title: '' }, // cut to the media
      ],
    },
    [PL[1]]: {
      id: PL[1],
      title: 'two',
      clips: [
        { clip: 'd', media: MEDIA[2], startMs: 6000, endMs: 7000, title: '' }, // past the media's end: left out
        { clip: 'e', media: 'eeeeeeee-0000-4000-8000-000000000000', startMs: 0, endMs: 3000, title: '' }, // unknown length: kept as written
        { clip: 'f', media: 'eeeeeeee-0000-4000-8000-000000000000', startMs: 0, title: '' }, // unknown length, no end: left out
      ],
    },
  };
  const durations: Record<string, number> = { [MEDIA[0]]: 20_000, [MEDIA[1]]: 10_000, [MEDIA[2]]: 5000 };
  const channel: ChannelState = { id: C, name: 'lobby', title: 'Lobby', mode: 'live', startMs: 1234, playlists: [PL[0], PL[2], PL[1], PL[0]], created: 1n };

  it('lists the clips of the playlists in order, cut to the media, skipping what cannot play', () => {
    const s = channelSchedule(channel, (id) => playlists[id], (m) => durations[m]);
    expect(s).toEqual({
      name: 'lobby',
      live: true,
      startedAt: 1234,
      clips: [
        { media: MEDIA[0], startMs: 0, endMs: 5000 },
        { media: MEDIA[1], startMs: 2000, endMs: 10_000 },
        { media: MEDIA[2], startMs: 1000, endMs: 5000 },
        { media: 'eeeeeeee-0000-4000-8000-000000000000', startMs: 0, endMs: 3000 },
        { media: MEDIA[0], startMs: 0, endMs: 5000 },
        { media: MEDIA[1], startMs: 2000, endMs: 10_000 },
        { media: MEDIA[2], startMs: 1000, endMs: 5000 },
      ],
    });
    expect(scheduleLengthMs(s)).toBe(2 * (5000 + 8000 + 4000) + 3000);
    expect(channelSchedule({ ...channel, mode: 'on-demand', startMs: undefined, playlists: [] }, () => undefined)).toEqual({ name: 'lobby', live: false, startedAt: 0, clips: [] });
    // without durations, clips keep their written ends and open-ended ones are left out
    expect(channelSchedule({ ...channel, playlists: [PL[0]] }, (id) => playlists[id]).clips).toEqual([
      { media: MEDIA[0], startMs: 0, endMs: 5000 },
      { media: MEDIA[2], startMs: 1000, endMs: 99_000 },
    ]);
  });

  it('is what StateNode.schedules gives a gateway: by name, from the objects a server holds', async () => {
    const s = await server([20, 10, 5]);
    const p = await createPlaylist(s.writer, { title: 'p', clips: [{ media: MEDIA[1], startMs: 1000 }, { media: MEDIA[2], endMs: 50_000 }] });
    await createChannel(s.writer, { name: 'lobby', mode: 'live', startMs: 42, playlists: [p.id] });
    expect(scheduleByName(s.engine, 'lobby')).toEqual({
      name: 'lobby',
      live: true,
      startedAt: 42,
      clips: [
        { media: MEDIA[1], startMs: 1000, endMs: 10_000 },
        { media: MEDIA[2], startMs: 0, endMs: 5000 },
      ],
    });
    expect(scheduleByName(s.engine, 'nothing')).toBeUndefined();
    await editPlaylist(s.writer, p.id, { ops: [{ op: 'remove', clip: getPlaylistClip(s, p.id) }] });
    expect(scheduleByName(s.engine, 'lobby')!.clips).toEqual([{ media: MEDIA[2], startMs: 0, endMs: 5000 }]);
  });
});

function getPlaylistClip(s: Awaited<ReturnType<typeof server>>, id: Guid): string {
  return s.engine.get<PlaylistState>(id, PLAYLIST)!.state!.clips[0].clip;
}

describe('channel edits', () => {
  it('creates, adds, removes and sets, refusing what cannot be written', async () => {
    const s = await server();
    const p1 = await createPlaylist(s.writer, { title: 'one', clips: [{ media: MEDIA[0] }] });
    const p2 = await createPlaylist(s.writer, { title: 'two', clips: [{ media: MEDIA[1], endMs: 3000 }] });
    const c = await createChannel(s.writer, { name: 'lobby', playlists: [p1.id] });
    expect(c).toMatchObject({ name: 'lobby', title: 'lobby', mode: 'on-demand', playlists: [{ id: p1.id, title: 'one' }], schedule: { lengthMs: 20_000 } });
    expect(c.startMs).toBeUndefined();
    let v = await editChannel(s.writer, 'lobby', { ops: [{ op: 'add', playlist: p2.id, position: 0 }] });
    expect(v.playlists.map((p) => p.id)).toEqual([p2.id, p1.id]);
    expect(v.schedule.lengthMs).toBe(23_000);
    v = await editChannel(s.writer, c.id, { op: 'set', mode: 'live', title: 'Lobby TV' });
    expect(v).toMatchObject({ mode: 'live', title: 'Lobby TV', startMs: 1_700_000_000_000, start: '2023-11-14T22:13:20.000Z' });
    v = await editChannel(s.writer, 'lobby', { op: 'remove', playlist: p2.id });
    expect(v.playlists).toEqual([{ id: p1.id, title: 'one' }]);

    await fails(createChannel(s.writer, { name: 'lobby' }), 'NAME_TAKEN', /lobby exists/);
    await fails(createChannel(s.writer, { name: 'Lobby' }), 'BAD_INPUT', /name/);
    await fails(createChannel(s.writer, { name: 'a b' }), 'BAD_INPUT', /URLs/);
    await fails(createChannel(s.writer, { name: 'x', mode: 'vod' }), 'BAD_INPUT', /mode/);
    await fails(createChannel(s.writer, { name: 'x', playlists: [MEDIA[0]] }), 'BAD_INPUT', /unknown playlist/);
    await fails(createChannel(s.writer, { name: 'x', playlists: 'no' }), 'BAD_INPUT', /playlists/);
    await fails(editChannel(s.writer, 'lobby', { op: 'add', playlist: p1.id }), 'BAD_INPUT', /already/);
    await fails(editChannel(s.writer, 'lobby', { op: 'add', playlist: p2.id, position: 5 }), 'BAD_INPUT', /position/);
    await fails(editChannel(s.writer, 'lobby', { op: 'remove', playlist: p2.id }), 'BAD_INPUT', /not in the channel/);
    await fails(editChannel(s.writer, 'lobby', { op: 'set' }), 'BAD_INPUT', /give title/);
    await fails(editChannel(s.writer, 'lobby', { op: 'rename', title: 'x' }), 'BAD_INPUT', /unknown op/);
    await fails(editChannel(s.writer, 'nothing', { op: 'set', title: 'x' }), 'NOT_FOUND', /no channel nothing/);

    const live = await createChannel(s.writer, { name: 'news', mode: 'live' });
    expect(live.startMs).toBe(1_700_000_000_000);
    expect(await deleteChannel(s.writer, 'news')).toEqual({ id: live.id, name: 'news', deleted: true });
    await fails(editChannel(s.writer, 'news', { op: 'set', title: 'x' }), 'NOT_FOUND');
    const reborn = await createChannel(s.writer, { name: 'news' }); // the name is free again
    expect(reborn.id).not.toBe(live.id);
    expect(s.engine.rejected()).toEqual([]);
    expect(s.engine.chainStatus(c.id, CHANNEL)!.applied.map((id) => id.split('/')[1])).toEqual(['0103', '0103', '0103', '0103']);
  });
});
