// Redirect (seed 002: "redirect to a nearer server"): when a client registers, a server may send it to
// another server of the cluster that is nearer to it or less loaded. Pure: the server gives what it knows of
// itself and of its server peers (their URL and load, from their Register info, refreshed every sync
// round), and the client's address. The client follows one redirect, never a chain (it says `redirected`).
//   nearer:      the client's address is in the same subnet (IPv4 /24, IPv6 /64) as a peer's URL host and
//                not as ours;
//   less loaded: we serve more than `over` clients more than the least loaded peer.

export interface RedirectSelf {
  url?: string;
  load: number;
}

export interface RedirectPeer {
  url?: string;
  load?: number;
}

export interface RedirectPolicy {
  /** Redirect for load only when we serve more than this many clients more than a peer. Default 16. */
  over?: number;
}

export interface Redirect {
  url: string;
  reason: string;
}

/** The subnet key of an IP address literal (IPv4 /24, IPv6 /64); undefined for names and bad input. */
export function subnetOf(address: string): string | undefined {
  const a = address.replace(/^\[|\]$/g, '').replace(/^::ffff:(?=\d+\.)/i, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (v4) return v4.slice(1).every((x) => Number(x) <= 255) ? `4:${v4[1]}.${v4[2]}.${v4[3]}` : undefined;
  if (!/^[0-9a-f:]+$/i.test(a) || !a.includes(':')) return undefined;
  const [head, tail] = a.toLowerCase().split('::');
  if (a.split('::').length > 2) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return `6:${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}`;
}

const hostOf = (url: string | undefined): string | undefined => {
  if (!url) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
};

/** Where to send a client registering from `address`, or undefined to keep it. */
export function chooseRedirect(self: RedirectSelf, peers: RedirectPeer[], address: string | undefined, policy: RedirectPolicy = {}): Redirect | undefined {
  const candidates = peers.filter((p): p is Required<Pick<RedirectPeer, 'url'>> & RedirectPeer => p.url !== undefined && p.url !== self.url);
  if (candidates.length === 0) return undefined;
  const net = address === undefined ? undefined : subnetOf(address);
  if (net !== undefined && subnetOf(hostOf(self.url) ?? '') !== net) {
    const near = candidates.filter((p) => subnetOf(hostOf(p.url) ?? '') === net).sort((a, b) => (a.load ?? 0) - (b.load ?? 0))[0];
    if (near) return { url: near.url, reason: `nearer: ${near.url} is in your subnet` };
  }
  const over = policy.over ?? 16;
  const least = candidates.filter((p) => p.load !== undefined).sort((a, b) => a.load! - b.load!)[0];
  if (least && self.load - least.load! > over) return { url: least.url, reason: `less loaded: ${least.load} clients there, ${self.load} here` };
  return undefined;
}
