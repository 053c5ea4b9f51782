// The server's persistent identity: a GUID made once and kept in DIR/server.json.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isGuid, newGuid, type Guid } from '../shared/stu/guid.ts';

export interface Identity {
  guid: Guid;
  createdAt: string;
}

export async function loadIdentity(dir: string, readOnly = false): Promise<Identity> {
  const path = join(dir, 'server.json');
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<Identity>;
    if (!isGuid(parsed.guid)) throw new Error(`${path} holds no valid server GUID`);
    return { guid: parsed.guid, createdAt: String(parsed.createdAt ?? '') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    if (readOnly) throw new Error(`${dir} is not a stateos data folder (no server.json)`);
  }
  await mkdir(dir, { recursive: true });
  const id: Identity = { guid: newGuid(), createdAt: new Date().toISOString() };
  await writeFile(`${path}.tmp`, JSON.stringify(id, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
  return id;
}
