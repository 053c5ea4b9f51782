// Standard base64 (RFC 4648, with padding) for codec configurations in metadata XML. No Buffer, no atob:
// the same code in Node and browsers, and a decoder that reports bad input instead of guessing.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function toBase64(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += ALPHABET[n >>> 18] + ALPHABET[(n >>> 12) & 63] + ALPHABET[(n >>> 6) & 63] + ALPHABET[n & 63];
  }
  if (i < b.length) {
    const n = (b[i] << 16) | ((i + 1 < b.length ? b[i + 1] : 0) << 8);
    s += ALPHABET[n >>> 18] + ALPHABET[(n >>> 12) & 63];
    s += i + 1 < b.length ? ALPHABET[(n >>> 6) & 63] + '=' : '==';
  }
  return s;
}

/** Decodes base64 (whitespace ignored); undefined when the text is not valid base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  const s = text.replace(/[\t\n\r ]/g, '');
  if (s.length % 4 !== 0) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const c = [0, 1, 2, 3].map((k) => {
      const ch = s.charCodeAt(i + k);
      if (last && ch === 61 /* = */ && k >= 4 - pad) return 0;
      return ch < 128 ? LOOKUP[ch] : -1;
    });
    if (c.some((x) => x < 0)) return undefined;
    const n = (c[0] << 18) | (c[1] << 12) | (c[2] << 6) | c[3];
    if (o < out.length) out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** base64url without padding (RFC 4648 §5): tokens, proofs, bindings. */
export const toBase64Url = (b: Uint8Array): string => toBase64(b).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');

/** Decodes base64url without padding; undefined when the text is not exactly that. */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  const s = text.replaceAll('-', '+').replaceAll('_', '/');
  const out = fromBase64(s + '='.repeat((4 - (s.length % 4)) % 4));
  // one encoding per byte string: reject texts whose unused low bits are set
  return out && toBase64Url(out) === text ? out : undefined;
}
