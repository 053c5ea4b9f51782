// One writer per data folder: DIR/LOCK holds the writer's pid. A lock whose process is gone is taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class LockedError extends Error {
  readonly code = 'LOCKED';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock; returns its release function. */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new LockedError(`${dir} is in use by stateos process ${pid}; stop it first, or ask it over HTTP (/api/objects)`);
    }
    await rm(path, { force: true }); // stale: its process is gone
  }
  throw new LockedError(`could not lock ${dir}`);
}
