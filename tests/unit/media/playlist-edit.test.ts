// Editing playlists as the HTTP API and the CLI do: requests checked against the server's objects, one STU
// per request, clear errors with codes.
import { describe, expect, it } from 'vitest';
import { type CommandErrorCode, isCommandError } from '../../../shared/media/playlist-errors.ts';
import { commit, createPlaylist, deletePlaylist, editPlaylist, getPlaylist, listPlaylists } from '../../../shared/media/playlist-edit.ts';
import { encodePlaylistCommand } from '../../../shared/media/playlist.ts';
import { PLAYLIST } from '../../../shared/media/stu-types.ts';
import { MEDIA, server } from './playlist-helpers.ts';

async function fails(p: Promise<unknown>, code: CommandErrorCode, pattern?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(isCommandError(e), String(e)).toBe(true);
  expect((e as Error & { code: string }).code).toBe(code);
  if (pattern) expect((e as Error).message).toMatch(pattern);
}

describe('playlist edits', () => {
  it('creates a playlist with clips and shows titles and durations from the media', async () => {
    const s = await server([20, 10, 5]);
    const v = await createPlaylist(s.writer, {
      title: '  Lobby loop  ',
      clips: [{ media: MEDIA[0], startMs: 1000, endMs: 3000, title: 'Intro' }, { media: MEDIA[1] }, { media: MEDIA[2], startMs: 4000, endMs: 60_000 }],
    });
    expect(v).toMatchObject({
      title: 'Lobby loop',
      durationMs: 2000 + 10_000 + 1000,
      clips: [
        { media: MEDIA[0], title: 'Intro', startMs: 1000, endMs: 3000, durationMs: 2000 },
        { media: MEDIA[1], title: 'media 2', startMs: 0, durationMs: 10_000 },
        { media: MEDIA[2], title: 'media 3', startMs: 4000, endMs: 60_000, durationMs: 1000 },
      ],
    });
    expect(new Set(v.clips.map((c) => c.clip)).size).toBe(3);
    expect(v.clips[1].endMs).toBeUndefined();
    expect(listPlaylists(s.engine)).toEqual([v]);
    expect(s.engine.chainStatus(v.id, PLAYLIST)!.applied).toHaveLength(1);
  });

  it('adds, moves into place, changes, removes and renames, one STU per request', async () => {
    const s = await server();
    const p = await createPlaylist(s.writer, { title: 'p', clips: [{ media: MEDIA[0] }] });
    let v = await editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[1], startMs: 500, position: 0 }, { op: 'rename', title: 'q' }] });
    expect(v.title).toBe('q');
    expect(v.clips.map((c) => c.media)).toEqual([MEDIA[1], MEDIA[0]]);
    v = await editPlaylist(s.writer, p.id, { op: 'set', clip: v.clips[1].clip, startMs: 2000, endMs: 4000, title: 'middle' });
    expect(v.clips[1]).toMatchObject({ startMs: 2000, endMs: 4000, title: 'middle', durationMs: 2000 });
    v = await editPlaylist(s.writer, p.id, { ops: [{ op: 'set', clip: v.clips[1].clip, endMs: null }] });
    expect(v.clips[1].endMs).toBeUndefined();
    expect(v.clips[1].durationMs).toBe(18_000);
    v = await editPlaylist(s.writer, p.id, { ops: [{ op: 'remove', clip: v.clips[0].clip }] });
    expect(v.clips.map((c) => c.media)).toEqual([MEDIA[0]]);
    expect(s.engine.chainStatus(p.id, PLAYLIST)!.applied).toHaveLength(5);
    expect(s.engine.collisions()).toEqual([]);
  });

  it('refuses bad requests with a code and a clear message, and writes nothing', async () => {
    const s = await server([20]);
    const p = await createPlaylist(s.writer, { title: 'p', clips: [{ media: MEDIA[0], startMs: 0, endMs: 1000 }] });
    const clip = p.clips[0].clip;
    const stus = () => s.engine.chainStatus(p.id, PLAYLIST)!.applied.length;
    await fails(createPlaylist(s.writer, { title: '' }), 'BAD_INPUT', /title/);
    await fails(createPlaylist(s.writer, { title: 7 }), 'BAD_INPUT', /title: a string expected/);
    await fails(createPlaylist(s.writer, []), 'BAD_INPUT', /JSON object/);
    await fails(createPlaylist(s.writer, { title: 'x'.repeat(1025) }), 'BAD_INPUT', /longer/);
    await fails(createPlaylist(s.writer, { title: 'x', clips: [{ media: MEDIA[1] }] }), 'BAD_INPUT', /unknown media/);
    await fails(createPlaylist(s.writer, { title: 'x', clips: 'no' }), 'BAD_INPUT', /clips/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: 'nope' }] }), 'BAD_INPUT', /media GUID/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[2] }] }), 'BAD_INPUT', /unknown media/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[0], startMs: 5000, endMs: 5000 }] }), 'BAD_INPUT', /start \(5000 ms\) must be before end \(5000 ms\)/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[0], startMs: 20_000 }] }), 'BAD_INPUT', /past the end of media/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[0], startMs: -1 }] }), 'BAD_INPUT', /startMs/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[0], startMs: 1.5 }] }), 'BAD_INPUT', /startMs/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'add', media: MEDIA[0], position: 2 }] }), 'BAD_INPUT', /position 2 is past the end/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'set', clip, startMs: 1000 }] }), 'BAD_INPUT', /before end/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'set', clip }] }), 'BAD_INPUT', /give startMs/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'set', clip: 'zzz', startMs: 1 }] }), 'BAD_INPUT', /no clip zzz/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'remove', clip: 'zzz' }] }), 'BAD_INPUT', /no clip zzz/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'create', title: 'x' }] }), 'BAD_INPUT', /unknown op "create"/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'shuffle' }] }), 'BAD_INPUT', /unknown op "shuffle"/);
    await fails(editPlaylist(s.writer, p.id, { ops: [] }), 'BAD_INPUT', /non-empty/);
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'rename', title: '' }] }), 'BAD_INPUT', /non-empty/);
    // the second op fails: the first is not written either
    await fails(editPlaylist(s.writer, p.id, { ops: [{ op: 'rename', title: 'ok' }, { op: 'remove', clip: 'zzz' }] }), 'BAD_INPUT', /op 2: no clip/);
    expect(stus()).toBe(1);
    expect(getPlaylist(s.engine, p.id).state!.title).toBe('p');
    await fails(editPlaylist(s.writer, MEDIA[0], { op: 'rename', title: 'x' }), 'NOT_FOUND', /no playlist/);
    await fails(editPlaylist(s.writer, 'not-a-guid', { op: 'rename', title: 'x' }), 'NOT_FOUND');
  });

  it('deletes with a tombstone: the playlist is gone for edits and lists', async () => {
    const s = await server();
    const p = await createPlaylist(s.writer, { title: 'p' });
    expect(await deletePlaylist(s.writer, p.id)).toEqual({ id: p.id, deleted: true });
    expect(listPlaylists(s.engine)).toEqual([]);
    expect(s.engine.get(p.id, PLAYLIST)!.deleted).toBe(true);
    await fails(editPlaylist(s.writer, p.id, { op: 'rename', title: 'x' }), 'NOT_FOUND');
    await fails(deletePlaylist(s.writer, p.id), 'NOT_FOUND');
  });

  it('reports a change the engine refused', async () => {
    const s = await server();
    const p = await createPlaylist(s.writer, { title: 'p' });
    await deletePlaylist(s.writer, p.id);
    // a change written after the tombstone (as by a server that had not seen it yet): rejected as "deleted"
    const body = encodePlaylistCommand(p.id, [{ op: 'rename', title: 'late' }]);
    await fails(commit(s.writer, PLAYLIST, p.id, s.engine.get(p.id, PLAYLIST), body), 'REJECTED', /deleted/);
  });
});
