// Test helpers: STUs built through the real codec, and small applications that exercise the engine.
import { decodeStu, encodeStu, type Guid, isSummary, type Stu, stuId } from '../../../shared/stu/index.ts';
import type { Policy, StateApp } from '../../../shared/state/index.ts';

export const OBJ: Guid = '0b1ec700-0000-4000-8000-000000000001';
export const OBJ2: Guid = '0b1ec700-0000-4000-8000-000000000002';
export const ORIGINS: Guid[] = [
  'a0000000-0000-4000-8000-00000000000a',
  'b0000000-0000-4000-8000-00000000000b',
  'c0000000-0000-4000-8000-00000000000c',
];
export const USERS: Guid[] = ['5e700000-0000-4000-8000-000000000001', '5e700000-0000-4000-8000-000000000002'];
export const COUNTER = 0x0100;
export const KV = 0x0200;
export const LOG = 0x0300;

const enc = new TextEncoder();
const dec = new TextDecoder();

export interface StuSpec {
  ts: bigint | number;
  prev?: bigint | number;
  seq: number;
  origin?: Guid;
  object?: Guid;
  type?: number;
  flags?: number;
  user?: Guid;
  body?: unknown;
}

/** An STU encoded and decoded by the real codec, as a peer would deliver it. */
export function mk(s: StuSpec): Stu {
  const body = s.body instanceof Uint8Array ? s.body : s.body === undefined ? new Uint8Array(0) : enc.encode(JSON.stringify(s.body));
  const bytes = encodeStu(
    {
      type: s.type ?? COUNTER,
      object: s.object ?? OBJ,
      ts: BigInt(s.ts),
      prevTs: BigInt(s.prev ?? 0),
      origin: s.origin ?? ORIGINS[0],
      seq: s.seq,
      flags: s.flags ?? 0,
      user: s.user ?? USERS[0],
    },
    body,
  );
  const r = decodeStu(bytes);
  if (!r.ok) throw r.error;
  return r.value;
}

export const json = (stu: Stu): any => JSON.parse(dec.decode(stu.body));
export const bytes = (x: unknown): Uint8Array => enc.encode(JSON.stringify(x));

/** A counter: changes are {add: n}, a summary is {value: n}. Anything else is rejected. */
export function counterApp(policy: Policy, types = [COUNTER]): StateApp<{ value: number }> {
  return {
    types,
    policy,
    apply(state, stu) {
      const b = json(stu);
      if (isSummary(stu.header)) {
        if (typeof b?.value !== 'number') throw new Error('counter summary without a value');
        return { value: b.value };
      }
      if (typeof b?.add !== 'number') throw new Error('not a counter change');
      return { value: (state?.value ?? 0) + b.add };
    },
    summarize: (state) => bytes({ value: state.value }),
  };
}

/** A key-value object: changes are {set: {k: v}, del: [k]}, a summary is the whole record. */
export function kvApp(policy: Policy = 'first-wins', types = [KV]): StateApp<Record<string, string>> {
  return {
    types,
    policy,
    apply(state, stu) {
      const b = json(stu);
      if (isSummary(stu.header)) return { ...b };
      const next = { ...(state ?? {}), ...(b.set ?? {}) };
      for (const k of b.del ?? []) delete next[k];
      return next;
    },
    summarize: (state) => bytes(state),
  };
}

/** Records the order it was given STUs in: the strictest check of an order. A summary carries the list. */
export function logApp(policy: Policy, types = [LOG]): StateApp<string[]> & { calls: number } {
  const app = {
    types,
    policy,
    calls: 0,
    apply(state: string[] | undefined, stu: Stu): string[] {
      app.calls++;
      if (isSummary(stu.header)) return [...(json(stu) as string[])];
      return [...(state ?? []), stuId(stu.header)];
    },
    summarize: (state: string[]) => bytes(state),
  };
  return app;
}

/** Everything an engine reports, in a form toEqual compares. */
export function observe(e: {
  list(): unknown;
  listDeleted(): unknown;
  gaps(): unknown;
  collisions(): unknown;
  rejected(): unknown;
  conflicts(): unknown;
}): unknown {
  return {
    list: e.list(),
    deleted: e.listDeleted(),
    gaps: e.gaps(),
    collisions: e.collisions(),
    rejected: e.rejected(),
    conflicts: e.conflicts(),
  };
}
