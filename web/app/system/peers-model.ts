// The cluster as a graph, from GET /api/peers of the serving server and of the servers it is connected to
// (each server reports its own sessions; a link reported by both ends is drawn once). Bytes per second on
// a link come from two successive polls of the same reporter: the counters' difference over the time
// between the two requests. Pure: documents in, a graph out.

export interface CatchUpDoc {
  direction: string;
  expected: number;
  stus: number;
  bytes: number;
  done: boolean;
  ms: number;
}

export interface PeerRow {
  server: string | undefined;
  role: string | undefined;
  state: string;
  how: string;
  backend: string | undefined;
  connectedAt: string;
  inSync: boolean;
  peerBehind: number;
  weBehind: number;
  url: string | undefined;
  bytesIn: number;
  bytesOut: number;
  stusIn: number;
  stusOut: number;
  catchUp: { in?: CatchUpDoc; out?: CatchUpDoc };
}

export interface PeersDoc {
  server: string;
  /** Metadata STUs held: the sum of the vector's upTo. */
  held: number;
  peers: PeerRow[];
}

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function catchUp(v: unknown): CatchUpDoc | undefined {
  if (!isRec(v)) return undefined;
  return { direction: str(v.direction) ?? '', expected: num(v.expected), stus: num(v.stus), bytes: num(v.bytes), done: v.done === true, ms: num(v.ms) };
}

/** Reads a /api/peers answer; throws when it is not one. */
export function parsePeersDoc(json: unknown): PeersDoc {
  if (!isRec(json) || typeof json.server !== 'string' || !Array.isArray(json.peers)) throw new Error('not a /api/peers document');
  const held = Array.isArray(json.held) ? json.held.reduce((n: number, e: unknown) => n + (isRec(e) ? num(e.upTo) : 0), 0) : 0;
  const peers = json.peers.filter(isRec).map((p): PeerRow => {
    const stats = isRec(p.stats) ? p.stats : {};
    const info = isRec(p.info) ? p.info : {};
    const cu = isRec(p.catchUp) ? p.catchUp : {};
    return {
      server: str(p.server),
      role: str(p.role),
      state: str(p.state) ?? '?',
      how: str(p.how) ?? '',
      backend: str(p.backend),
      connectedAt: str(p.connectedAt) ?? '',
      inSync: p.inSync === true,
      peerBehind: num(p.peerBehind),
      weBehind: num(p.weBehind),
      url: str(info.url) || undefined,
      bytesIn: num(stats.bytesIn),
      bytesOut: num(stats.bytesOut),
      stusIn: num(stats.stusIn),
      stusOut: num(stats.stusOut),
      catchUp: { in: catchUp(cu.in), out: catchUp(cu.out) },
    };
  });
  return { server: json.server, held, peers };
}

export interface Snapshot {
  /** performance.now() when it was asked for. */
  at: number;
  /** By server GUID: the serving server's document first. */
  docs: Map<string, PeersDoc>;
  /** Servers whose /api/peers could not be read, and why. */
  unreachable: Map<string, string>;
}

export interface GraphNode {
  id: string;
  role: 'server' | 'viewer' | 'unknown';
  /** The server that served this page. */
  self: boolean;
  /** This browser (its viewer GUID). */
  you: boolean;
  leader: boolean;
  url: string | undefined;
  /** Its /api/peers was read (servers only). */
  reported: boolean;
  held: number | undefined;
  unreachable: string | undefined;
}

export interface GraphLink {
  id: string;
  /** The reporting end (a server whose /api/peers lists the link) and the other end. */
  from: string;
  to: string;
  state: string;
  inSync: boolean;
  /** Metadata STUs one end lacks, by the last vectors: the larger of the two directions. */
  behind: number;
  how: string;
  backend: string | undefined;
  /** Bytes per second, from → to and to → from; undefined on the first poll. */
  rateOut: number | undefined;
  rateIn: number | undefined;
  bytesOut: number;
  bytesIn: number;
  stus: number;
  catchUp: PeerRow['catchUp'];
}

export interface Graph {
  nodes: GraphNode[];
  links: GraphLink[];
  /** The serving server's group leader: the lowest GUID among it and its live server peers. */
  leader: string | undefined;
}

const linkId = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

/** The graph of `now`, with rates against `prev` (the poll before). */
export function buildGraph(now: Snapshot, prev: Snapshot | undefined, you?: string): Graph {
  const nodes = new Map<string, GraphNode>();
  const node = (id: string, role: GraphNode['role']): GraphNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, role, self: false, you: id === you, leader: false, url: undefined, reported: false, held: undefined, unreachable: now.unreachable.get(id) };
      nodes.set(id, n);
    } else if (n.role === 'unknown') n.role = role;
    return n;
  };
  const links = new Map<string, GraphLink>();
  const dt = prev ? (now.at - prev.at) / 1000 : 0;
  let first = true;
  for (const doc of now.docs.values()) {
    const me = node(doc.server, 'server');
    me.reported = true;
    me.held = doc.held;
    if (first) me.self = true;
    first = false;
    for (const p of doc.peers) {
      if (!p.server) continue; // still admitting: no GUID yet
      const other = node(p.server, p.role === 'viewer' ? 'viewer' : p.role === 'server' ? 'server' : 'unknown');
      if (p.url) other.url = p.url;
      const id = linkId(doc.server, p.server);
      if (links.has(id)) continue; // the other end reported it first
      const before = prev?.docs.get(doc.server)?.peers.find((q) => q.server === p.server && q.connectedAt === p.connectedAt);
      const rate = (a: number, b: number | undefined) => (b === undefined || dt <= 0 || a < b ? undefined : (a - b) / dt);
      links.set(id, {
        id,
        from: doc.server,
        to: p.server,
        state: p.state,
        inSync: p.inSync,
        behind: Math.max(p.peerBehind, p.weBehind),
        how: p.how,
        backend: p.backend,
        rateOut: rate(p.bytesOut, before?.bytesOut),
        rateIn: rate(p.bytesIn, before?.bytesIn),
        bytesOut: p.bytesOut,
        bytesIn: p.bytesIn,
        stus: p.stusIn + p.stusOut,
        catchUp: p.catchUp,
      });
    }
  }
  const selfDoc = now.docs.values().next().value as PeersDoc | undefined;
  let leader: string | undefined;
  if (selfDoc) {
    const group = [selfDoc.server, ...selfDoc.peers.filter((p) => p.role === 'server' && p.state === 'live' && p.server).map((p) => p.server!)];
    leader = group.reduce((a, b) => (b < a ? b : a));
    const l = nodes.get(leader);
    if (l) l.leader = true;
  }
  return { nodes: [...nodes.values()], links: [...links.values()], leader };
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Where the nodes go in a w×h picture: servers on a circle (the serving server at the top; alone, in the
 * middle), each server's viewers fanned out beyond it, away from the centre.
 */
export function placeNodes(g: Graph, w: number, h: number): Map<string, Point> {
  const at = new Map<string, Point>();
  const cx = w / 2;
  const cy = h / 2;
  const servers = g.nodes.filter((n) => n.role !== 'viewer').sort((a, b) => (a.self ? -1 : b.self ? 1 : a.id < b.id ? -1 : 1));
  const alone = servers.length <= 1;
  const r = alone ? 0 : servers.length === 2 ? w * 0.22 : Math.min(w, h) * 0.3;
  // one server: a little above the middle, its viewers in a fan below it
  const oy = alone ? cy - h * 0.2 : cy;
  // two servers side by side (the picture is wide), more around a circle from the top
  const start = servers.length === 2 ? Math.PI : -Math.PI / 2;
  servers.forEach((n, i) => {
    const a = start + (2 * Math.PI * i) / servers.length;
    at.set(n.id, { x: cx + r * Math.cos(a), y: oy + r * Math.sin(a) });
  });
  const viewersOf = new Map<string, string[]>();
  const roleOf = (id: string) => g.nodes.find((n) => n.id === id)?.role;
  for (const l of g.links) {
    const [s, v] = roleOf(l.to) === 'viewer' ? [l.from, l.to] : roleOf(l.from) === 'viewer' ? [l.to, l.from] : [];
    if (!s || !v) continue;
    viewersOf.set(s, [...(viewersOf.get(s) ?? []), v]);
  }
  for (const [s, vs] of viewersOf) {
    const p = at.get(s) ?? { x: cx, y: cy };
    const out = alone ? Math.PI / 2 : Math.atan2(p.y - cy, p.x - cx);
    const spread = Math.min(alone ? Math.PI * 0.9 : Math.PI * 0.7, 0.45 * (vs.length - 1));
    const d = alone ? h * 0.42 : Math.min(w, h) * 0.27;
    vs.sort().forEach((v, i) => {
      const a = vs.length === 1 ? out : out - spread / 2 + (spread * i) / (vs.length - 1);
      at.set(v, { x: p.x + d * Math.cos(a), y: p.y + d * Math.sin(a) });
    });
  }
  for (const n of g.nodes) if (!at.has(n.id)) at.set(n.id, { x: cx, y: cy });
  return at;
}
