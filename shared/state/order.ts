// The one ordering every replica uses: timestamp, then origin GUID, then origin sequence number.
import { crc32c, type StuHeader } from '../stu/index.ts';

type Keyed = Pick<StuHeader, 'ts' | 'origin' | 'seq'>;

export function compareKey(a: Keyed, b: Keyed): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Everything that makes an STU itself, as one string: two STUs with one id and different canonical forms
 * are a conflict. Fields are fixed-width or separated, so the string order is deterministic.
 */
export function canonical(h: StuHeader): string {
  return [h.object, h.type, h.ts, h.prevTs, h.flags, h.user, h.bodySize, h.bodyCrc, crc32c(h.ext)].join('|');
}
