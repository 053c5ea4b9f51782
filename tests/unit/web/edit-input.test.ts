// The editors' pure parts (web/app/edit/input.ts): times typed in seconds, a clip's range checked like the
// server checks it, channel names, the ops that move and trim a clip, versions compared.
import { describe, expect, it } from 'vitest';
import { atLeast, channelNameProblem, type ClipRef, clipRange, formatSeconds, moveClipOps, parseSeconds, trimOp } from '../../../web/app/edit/input.ts';

const ms = (text: string) => {
  const r = parseSeconds(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};
const problem = (text: string) => {
  const r = parseSeconds(text);
  return r.ok ? undefined : r.error;
};

describe('parseSeconds', () => {
  it('reads seconds, decimals, a trailing s, m:ss and h:mm:ss as milliseconds', () => {
    expect(ms('')).toBeUndefined();
    expect(ms('   ')).toBeUndefined();
    expect(ms('0')).toBe(0);
    expect(ms('12')).toBe(12_000);
    expect(ms(' 12.5 ')).toBe(12_500);
    expect(ms('12,5')).toBe(12_500);
    expect(ms('.25')).toBe(250);
    expect(ms('3.')).toBe(3000);
    expect(ms('1.5s')).toBe(1500);
    expect(ms('1.0004')).toBe(1000);
    expect(ms('1.0005')).toBe(1001);
    expect(ms('1:30')).toBe(90_000);
    expect(ms('0:05.5')).toBe(5500);
    expect(ms('90:00')).toBe(5_400_000);
    expect(ms('1:02:03.5')).toBe(3_723_500);
  });

  it('refuses what is not a time, negative times, seconds or minutes past 59, and times too large', () => {
    for (const bad of ['abc', '-1', '1e3', '1:2:3:4', '1::2', '12 s s', 'NaN', 'Infinity', '+5', '0x10']) expect(problem(bad), bad).toMatch(/is not a time: use seconds/);
    expect(problem('1:60')).toMatch(/go up to 59/);
    expect(problem('1:60:00')).toMatch(/go up to 59/);
    expect(problem('9'.repeat(20))).toMatch(/too large/);
  });

  it('formatSeconds gives back what parseSeconds reads', () => {
    for (const v of [0, 1, 250, 8000, 12_500, 3_723_500]) expect(ms(formatSeconds(v))).toBe(v);
    expect(formatSeconds(undefined)).toBe('');
    expect(formatSeconds(12_500)).toBe('12.5');
  });
});

describe('clipRange', () => {
  it('defaults: start 0, no end (to the end of the media)', () => {
    expect(clipRange('', '')).toEqual({ ok: true, value: { startMs: 0, endMs: undefined } });
    expect(clipRange('2', '7.5', 20_000)).toEqual({ ok: true, value: { startMs: 2000, endMs: 7500 } });
    // an end past the media's end is allowed: the server cuts the clip to the media
    expect(clipRange('2', '60', 20_000)).toEqual({ ok: true, value: { startMs: 2000, endMs: 60_000 } });
  });

  it('names the field that is wrong', () => {
    expect(clipRange('x', '5')).toMatchObject({ ok: false, field: 'start', error: expect.stringMatching(/^Start: "x" is not a time/) });
    expect(clipRange('1', 'y')).toMatchObject({ ok: false, field: 'end', error: expect.stringMatching(/^End: "y" is not a time/) });
    expect(clipRange('8', '5')).toEqual({ ok: false, field: 'end', error: 'End (5 s) must be after start (8 s)' });
    expect(clipRange('5', '5')).toMatchObject({ ok: false, field: 'end' });
    expect(clipRange('', '0')).toMatchObject({ ok: false, field: 'end' });
    expect(clipRange('20', '', 20_000)).toEqual({ ok: false, field: 'start', error: 'Start (20 s) is past the end of the media (0:20)' });
    // without the media's length only the order is checked
    expect(clipRange('20', '')).toMatchObject({ ok: true });
  });
});

describe('channelNameProblem', () => {
  it('accepts what the server accepts, and explains the rest', () => {
    for (const ok of ['lobby', 'a', '0', 'news-24', 'x_y', 'a'.repeat(64)]) expect(channelNameProblem(ok), ok).toBeUndefined();
    expect(channelNameProblem('')).toBe('A name is required');
    for (const bad of ['Lobby', '-a', '_a', 'a.b', 'a b', 'é', 'a'.repeat(65), 'a/b']) expect(channelNameProblem(bad), bad).toMatch(/^Use 1 to 64 of a–z/);
  });
});

describe('clip ops', () => {
  const clips: ClipRef[] = [
    { clip: 'aaaaaaaa', media: '11111111-2222-4333-8444-555555555555', title: 'Sample', startMs: 0, endMs: 5000 },
    { clip: 'bbbbbbbb', media: '11111111-2222-4333-8444-555555555555', title: 'Intro', startMs: 8000, endMs: undefined },
    { clip: 'cccccccc', media: '66666666-7777-4888-8999-aaaaaaaaaaaa', title: '66666666', startMs: 1000, endMs: 2000 },
  ];

  it('moving is a remove and an add of the same stretch at the new index', () => {
    expect(moveClipOps(clips, 1, -1, 'Sample')).toEqual([
      { op: 'remove', clip: 'bbbbbbbb' },
      { op: 'add', media: clips[1].media, startMs: 8000, position: 0, title: 'Intro' },
    ]);
    // a clip titled like its media has no title of its own: it gets none
    expect(moveClipOps(clips, 0, 1, 'Sample')).toEqual([
      { op: 'remove', clip: 'aaaaaaaa' },
      { op: 'add', media: clips[0].media, startMs: 0, endMs: 5000, position: 1 },
    ]);
    // a media not known here shows as its GUID's start: not a title either
    expect(moveClipOps(clips, 2, -1, undefined)).toEqual([
      { op: 'remove', clip: 'cccccccc' },
      { op: 'add', media: clips[2].media, startMs: 1000, endMs: 2000, position: 1 },
    ]);
  });

  it('does not move past either end', () => {
    expect(moveClipOps(clips, 0, -1, 'Sample')).toBeUndefined();
    expect(moveClipOps(clips, 2, 1, undefined)).toBeUndefined();
    expect(moveClipOps(clips, 5, -1, undefined)).toBeUndefined();
    expect(moveClipOps([], 0, 1, undefined)).toBeUndefined();
  });

  it('trimming sends only what changed; an emptied end is null (to the end)', () => {
    expect(trimOp(clips[0], { startMs: 0, endMs: 5000 })).toBeUndefined();
    expect(trimOp(clips[0], { startMs: 1000, endMs: 5000 })).toEqual({ op: 'set', clip: 'aaaaaaaa', startMs: 1000 });
    expect(trimOp(clips[0], { startMs: 0, endMs: undefined })).toEqual({ op: 'set', clip: 'aaaaaaaa', endMs: null });
    expect(trimOp(clips[1], { startMs: 8000, endMs: 9000 })).toEqual({ op: 'set', clip: 'bbbbbbbb', endMs: 9000 });
  });
});

describe('atLeast', () => {
  it('compares HLC timestamps as big integers, not as text', () => {
    expect(atLeast('1000', '999')).toBe(true);
    expect(atLeast('999', '1000')).toBe(false);
    expect(atLeast('7386592735117377536', '7386592735117377536')).toBe(true);
    expect(atLeast('7386592735117377537', '7386592735117377536')).toBe(true);
    expect(atLeast(undefined, '1')).toBe(false);
    expect(atLeast('x', 'x')).toBe(true);
    expect(atLeast('x', 'y')).toBe(false);
  });
});
