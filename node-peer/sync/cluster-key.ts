// The cluster key: from --cluster-key, else STATEOS_CLUSTER_KEY, else DIR/cluster.key, else a new one
// written there (mode 0600) and printed, so the next server can be started with it.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterKey } from '../../shared/sync/admission.ts';

export const KEY_FILE = 'cluster.key';

export interface ResolvedKey {
  secret: string;
  source: 'flag' | 'env' | 'file' | 'generated';
}

export async function resolveClusterKey(dir: string, flag: string | undefined, env = process.env.STATEOS_CLUSTER_KEY): Promise<ResolvedKey> {
  if (flag) return { secret: flag, source: 'flag' };
  if (env) return { secret: env, source: 'env' };
  const path = join(dir, KEY_FILE);
  const kept = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (kept !== undefined) {
    const secret = kept.trim();
    if (secret) return { secret, source: 'file' };
  }
  const secret = ClusterKey.generate();
  await writeFile(path, secret + '\n', { mode: 0o600 });
  return { secret, source: 'generated' };
}
