// Test media made with ffmpeg (lavfi sources), small and quick.
import { execFileSync } from 'node:child_process';

export function makeClip(path: string, opts: { seconds?: number; size?: string; args?: string[] } = {}): string {
  const seconds = String(opts.seconds ?? 4);
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${opts.size ?? '320x180'}:rate=25`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', seconds,
    ...(opts.args ?? ['-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-c:a', 'aac', '-b:a', '64k']),
    path,
  ]);
  return path;
}
