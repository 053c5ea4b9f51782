// The stateos command and its first server, run as real processes on real files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, stateos } from '../../helpers/cli.ts';
import { makeClip } from '../../helpers/media.ts';

const tmp = mkdtempSync(join(tmpdir(), 'stateos-cli-'));
const small = ['--meta-size', '8M', '--data-size', '32M'];
let clip = '';

beforeAll(() => {
  clip = makeClip(join(tmp, 'clip.mp4'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Dump {
  stus: { section: string; type: string; object: string; bodySize: number }[];
  corrupt: unknown[];
}

describe('stateos CLI', () => {
  it('prints help and refuses unknown commands and flags with usage errors', async () => {
    const help = await stateos(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['ingest', 'ls', 'dump', 'serve', '--data', '--http']) expect(help.stdout).toContain(word);
    const bad = await stateos(['frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
    const flag = await stateos(['ls', '--no-such-flag']);
    expect(flag.code).toBe(2);
    const size = await stateos(['ls', '--data-size', 'lots', '--data', join(tmp, 'x')]);
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--data-size');
    const owner = await stateos(['ingest', clip, '--owner', 'alice', '--data', join(tmp, 'x')]);
    expect(owner.code).toBe(2);
    expect(owner.stderr).toContain('--owner goes with --private');
  });

  it('ingests a file, lists it, and dumps its STU headers', async () => {
    const data = join(tmp, 'a');
    const ing = await stateos(['ingest', clip, '--title', 'Clip A', '--data', data, ...small]);
    expect(ing.code, ing.stderr).toBe(0);
    expect(ing.stderr).toMatch(/frames/);
    const id = ing.stdout.split('\t')[0];
    const ls = await stateos(['ls', '--data', data, '--json']);
    expect(ls.code).toBe(0);
    const objects = JSON.parse(ls.stdout) as { id: string; type: string; title: string; media: { frames: number; localFrames: number } }[];
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({ id, type: 'media', title: 'Clip A' });
    expect(objects[0].media.localFrames).toBe(objects[0].media.frames);
    const dump = await stateos(['dump', '--data', data, '--json']);
    expect(dump.code).toBe(0);
    const d = JSON.parse(dump.stdout) as Dump;
    expect(d.stus.filter((s) => s.section === 'meta')).toHaveLength(1);
    expect(d.stus.filter((s) => s.section === 'data')).toHaveLength(objects[0].media.frames);
    expect(d.stus.every((s) => s.object === id)).toBe(true);
    expect(d.corrupt).toEqual([]);
    const text = await stateos(['dump', '--data', data]);
    expect(text.stdout).toMatch(/\d+ STUs \(1 metadata, \d+ data\), 0 corrupt regions/);
  });

  it('refuses a file that is not media, clearly, and leaves no object behind', async () => {
    const data = join(tmp, 'b');
    const junk = join(tmp, 'junk.mp4');
    writeFileSync(junk, 'this is not a movie\n'.repeat(100));
    const r = await stateos(['ingest', junk, '--data', data, ...small]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a media file|unsupported/i);
    const ls = await stateos(['ls', '--data', data, '--json']);
    expect(JSON.parse(ls.stdout)).toEqual([]);
    const dump = JSON.parse((await stateos(['dump', '--data', data, '--json'])).stdout) as Dump;
    expect(dump.stus.filter((s) => s.section === 'meta')).toHaveLength(0);
  });

  it('reports a corrupt region in dump and keeps serving the rest', async () => {
    const data = join(tmp, 'c');
    expect((await stateos(['ingest', clip, '--data', data, ...small])).code).toBe(0);
    const { openSync, writeSync, closeSync } = await import('node:fs');
    const fd = openSync(join(data, 'meta.ring'), 'r+');
    writeSync(fd, Buffer.from([0xff, 0xee]), 0, 2, 8192 + 24 + 600); // inside the metadata STU's body
    closeSync(fd);
    const dump = await stateos(['dump', '--data', data, '--json']);
    expect(dump.code).toBe(3);
    const d = JSON.parse(dump.stdout) as Dump & { corrupt: { section: string; offset: number }[] };
    expect(d.corrupt).toEqual([expect.objectContaining({ section: 'meta', offset: 0 })]);
    const ls = JSON.parse((await stateos(['ls', '--data', data, '--json'])).stdout) as unknown[];
    expect(ls).toEqual([]);
  });
});

describe('stateos serve', () => {
  it('answers /api/health and /api/objects, refuses bad requests, survives restarts', async () => {
    const data = join(tmp, 'd');
    const ing = await stateos(['ingest', clip, '--title', 'Served', '--data', data, ...small]);
    expect(ing.code, ing.stderr).toBe(0);
    let s = await serve(['--data', data]);
    try {
      const health = (await (await fetch(`${s.url}/api/health`)).json()) as { status: string; server: string; objects: number; boot: { snapshot: string } };
      expect(health).toMatchObject({ status: 'ok', objects: 1 });
      expect(health.boot.snapshot).toBe('restored');
      const res = await fetch(`${s.url}/api/objects`);
      expect(res.headers.get('content-type')).toContain('application/json');
      const objects = (await res.json()) as { id: string; type: string; title: string }[];
      expect(objects).toEqual([expect.objectContaining({ type: 'media', title: 'Served', id: ing.stdout.split('\t')[0] })]);
      expect((await fetch(`${s.url}/api/objects`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${s.url}/api/nothing`)).status).toBe(404);
      const raw = await rawRequest(s.url, 'BLAH / HTTP/1.1\r\nHost: x\r\nX: ' + 'a'.repeat(20000) + '\r\n\r\n');
      expect(raw).toMatch(/^HTTP\/1\.1 4\d\d/);
      expect((await fetch(`${s.url}/api/health`)).status).toBe(200);
      const locked = await stateos(['ingest', clip, '--data', data]);
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain('in use by stateos process');
    } finally {
      expect(await s.stop('SIGKILL')).toBe(null);
    }
    s = await serve(['--data', data]);
    try {
      const health = (await (await fetch(`${s.url}/api/health`)).json()) as { objects: number; boot: { snapshot: string } };
      expect(health.objects).toBe(1);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });
});

async function rawRequest(url: string, text: string): Promise<string> {
  const { connect } = await import('node:net');
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.write(text));
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('error', (e) => (got ? resolve(got) : reject(e)));
    sock.on('close', () => resolve(got));
  });
}


describe('npm start (serve --sample)', () => {
  it('ingests the bundled sample once, however often it starts', async () => {
    const data = join(tmp, 'sample');
    for (let run = 0; run < 2; run++) {
      const s = await serve(['--data', data, '--sample']);
      try {
        const objects = (await (await fetch(`${s.url}/api/objects`)).json()) as { title: string; media: { duration: number; frames: number } }[];
        expect(objects).toHaveLength(1);
        expect(objects[0].title).toBe('stateos sample clip');
        expect(objects[0].media.duration).toBeGreaterThan(15);
      } finally {
        expect(await s.stop()).toBe(0);
      }
    }
  });
});
