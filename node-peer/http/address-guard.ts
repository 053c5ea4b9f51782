// Limits per remote address for the servers that take connections from anyone (HTTP, RTSP, the State API
// over WebRTC): connections at once per address and in all, and invalid requests per address (malformed,
// oversized, refused by the parser): past `invalidLimit` within `windowMs` the address is refused for
// `banMs` (its open connections finish what they are doing and are closed). docs/SECURITY.md.

export interface AddressLimits {
  /** Connections at once from one address. */
  perAddress: number;
  /** Connections at once in all. */
  total: number;
  /** Invalid requests from one address within `windowMs` before it is refused; 0: never. */
  invalidLimit: number;
  windowMs: number;
  banMs: number;
}

export const DEFAULT_ADDRESS_LIMITS: AddressLimits = { perAddress: 128, total: 2048, invalidLimit: 50, windowMs: 60_000, banMs: 300_000 };

export type Admission = 'ok' | 'busy' | 'too-many-from-address' | 'banned';

/** IPv4-mapped IPv6 and IPv4 are one address. */
const key = (addr: string | undefined): string => (addr ?? '?').replace(/^::ffff:(?=\d+\.)/i, '');

export class AddressGuard {
  readonly limits: AddressLimits;
  private readonly open = new Map<string, number>();
  private total = 0;
  private readonly invalids = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();

  constructor(
    limits: Partial<AddressLimits> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.limits = { ...DEFAULT_ADDRESS_LIMITS, ...limits };
  }

  /** May a new connection from `addr` be taken? When 'ok', call release() once it closes. */
  admit(addr: string | undefined): Admission {
    const k = key(addr);
    if (this.banned(k)) return 'banned';
    if (this.total >= this.limits.total) return 'busy';
    const n = this.open.get(k) ?? 0;
    if (n >= this.limits.perAddress) return 'too-many-from-address';
    this.open.set(k, n + 1);
    this.total++;
    return 'ok';
  }

  release(addr: string | undefined): void {
    const k = key(addr);
    const n = this.open.get(k);
    if (n === undefined) return;
    if (n <= 1) this.open.delete(k);
    else this.open.set(k, n - 1);
    this.total--;
  }

  /** Counts an invalid request from `addr`; true when that puts it past the limit (refused from now on). */
  invalid(addr: string | undefined): boolean {
    if (this.limits.invalidLimit <= 0) return false;
    const k = key(addr);
    const t = this.now();
    const recent = (this.invalids.get(k) ?? []).filter((x) => t - x < this.limits.windowMs);
    recent.push(t);
    if (this.invalids.size >= 10_000 && !this.invalids.has(k)) this.invalids.clear(); // bounded memory under a spray of addresses
    this.invalids.set(k, recent);
    if (recent.length < this.limits.invalidLimit) return false;
    this.invalids.delete(k);
    this.bans.set(k, t + this.limits.banMs);
    return true;
  }

  banned(addr: string | undefined): boolean {
    const k = key(addr);
    const until = this.bans.get(k);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.bans.delete(k);
    return false;
  }

  /** Connections open now from `addr` (tests, /api/health). */
  count(addr?: string): number {
    return addr === undefined ? this.total : (this.open.get(key(addr)) ?? 0);
  }
}

/** What a refused connection is told. */
export function refusal(a: Exclude<Admission, 'ok'>, addr: string | undefined, limits: AddressLimits): { status: number; reason: string } {
  if (a === 'banned') return { status: 429, reason: `${key(addr)} sent too many invalid requests; refused for ${Math.round(limits.banMs / 1000)} s` };
  if (a === 'busy') return { status: 503, reason: `${limits.total} connections open; try again later` };
  return { status: 503, reason: `too many connections from ${key(addr)} (at most ${limits.perAddress})` };
}
