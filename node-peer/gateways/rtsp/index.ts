// The RTSP gateway: stored media and channels to standard players (ffplay, VLC, ...). See docs/MEDIA.md.
import type { MediaSource } from '../../media/frames.ts';
import { type RtspOptions, type RtspServer, startRtsp } from './server.ts';

export { startRtsp, type RtspOptions, type RtspServer } from './server.ts';

export const DEFAULT_RTSP = { host: '127.0.0.1', port: 8554 } as const;

/**
 * `stateos serve`'s gateway. An address given explicitly must work (else this throws); the default one
 * (127.0.0.1:8554) is skipped with a warning when another process holds it, so a second server on the same
 * machine still starts.
 */
export async function startRtspGateway(
  source: MediaSource,
  address: { host: string; port: number } | undefined,
  opts: Omit<RtspOptions, 'host' | 'port'>,
): Promise<RtspServer | undefined> {
  try {
    return await startRtsp(source, { ...opts, ...(address ?? DEFAULT_RTSP) });
  } catch (e) {
    if (address || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    process.stderr.write(`stateos: RTSP port ${DEFAULT_RTSP.host}:${DEFAULT_RTSP.port} is in use; RTSP is off (choose another with --rtsp [HOST:]PORT)\n`);
    return undefined;
  }
}
