// Admission of a server into the cluster. Over a new signaling channel each server sends Hello with a proof:
//   HMAC-SHA256(cluster key, "stateos-admit/1" LF role LF sender GUID LF sender's DTLS fingerprint LF
//               receiver's DTLS fingerprint)
// The receiver computes it from the fingerprints it saw in the two SDPs. DTLS has already proved that the
// peer holds the private key of its fingerprint, so a proof copied from another connection (other
// fingerprints) or made without the key fails; a man in the middle terminates DTLS with its own
// certificate and cannot make a proof for it. Web Crypto, so the same code runs in Node and browsers.
import { fromBase64, toBase64 } from '../util/base64.ts';

/** A fingerprint as it appears in SDP, normalized: "sha-256 AB:CD:…". */
export type FingerprintText = string;

export const fingerprintText = (fp: { algorithm: string; value: string } | undefined): FingerprintText =>
  fp ? `${fp.algorithm.toLowerCase()} ${fp.value.toUpperCase()}` : 'none';

const MIN_KEY_CHARS = 16;

export class ClusterKey {
  private constructor(
    private readonly key: CryptoKey,
    /** A short public hint of which key this is (first 8 hex digits of SHA-256 of it), for logs. */
    readonly id: string,
  ) {}

  static async from(secret: string): Promise<ClusterKey> {
    if (secret.length < MIN_KEY_CHARS) throw new RangeError(`a cluster key has at least ${MIN_KEY_CHARS} characters`);
    const raw = new TextEncoder().encode(secret);
    const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', raw));
    return new ClusterKey(key, [...digest.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  }

  /** A new random key: 32 bytes, base64url. */
  static generate(): string {
    return toBase64(crypto.getRandomValues(new Uint8Array(32)))
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .replace(/=+$/, '');
  }

  /** HMAC-SHA256 of `data` under the cluster key (tickets: shared/api/ticket.ts). */
  async mac(data: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign('HMAC', this.key, new Uint8Array(data)));
  }

  async checkMac(data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    return mac.length === 32 && crypto.subtle.verify('HMAC', this.key, new Uint8Array(mac), new Uint8Array(data));
  }

  async prove(role: string, sender: string, senderFp: FingerprintText, receiverFp: FingerprintText): Promise<string> {
    const sig = await crypto.subtle.sign('HMAC', this.key, statement(role, sender, senderFp, receiverFp));
    return toBase64(new Uint8Array(sig));
  }

  async verify(proof: string, role: string, sender: string, senderFp: FingerprintText, receiverFp: FingerprintText): Promise<boolean> {
    const sig = fromBase64(proof);
    if (!sig || sig.length !== 32) return false;
    return crypto.subtle.verify('HMAC', this.key, new Uint8Array(sig), statement(role, sender, senderFp, receiverFp));
  }
}

function statement(role: string, sender: string, senderFp: string, receiverFp: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(['stateos-admit/1', role, sender, senderFp, receiverFp].join('\n'));
}
