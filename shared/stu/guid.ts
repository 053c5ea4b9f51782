// 16-byte GUIDs (RFC 9562 v4 layout when random), written as lowercase hex with dashes.

export type Guid = string;

export const NIL_GUID: Guid = '00000000-0000-0000-0000-000000000000';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function newGuid(): Guid {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return guidFromBytes(b, 0);
}

export function guidFromBytes(b: Uint8Array, at: number): Guid {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[at + i]];
  }
  return s;
}

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isGuid(s: unknown): s is Guid {
  return typeof s === 'string' && GUID_RE.test(s);
}

/** Bytes of recently written GUIDs: a server writes the same few (itself, the object, the user) again and again. */
const recent = new Map<string, Uint8Array>();

/** Writes `g` into `b` at `at`. Throws on a malformed GUID: callers build GUIDs, peers never do. */
export function writeGuid(b: Uint8Array, at: number, g: Guid): void {
  let bytes = recent.get(g);
  if (!bytes) {
    if (!isGuid(g)) throw new TypeError(`not a GUID: ${String(g)}`);
    bytes = new Uint8Array(16);
    const hex = g.replace(/-/g, '');
    for (let i = 0; i < 16; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    if (recent.size >= 256) recent.clear();
    recent.set(g, bytes);
  }
  b.set(bytes, at);
}
