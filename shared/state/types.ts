// Public types of the business-object engine. The rules behind them are in docs/STATE.md.
import type { Guid, Hlc, Stu } from '../stu/index.ts';

/**
 * How a chain's collisions (two STUs with the same preceding timestamp) are resolved.
 * - 'first-wins': only the branch of the first child (by ts, origin, seq) is applied; the others are rejected.
 * - 'merge': every connected STU is applied, in (ts, origin, seq) order.
 */
export type Policy = 'first-wins' | 'merge';

/** A state application: turns the metadata STUs of its types into business objects. */
export interface StateApp<S = unknown> {
  types: readonly number[];
  policy: Policy;
  /**
   * Returns the state after `stu`. `state` is undefined for the first STU of a chain and for a summary STU,
   * whose body is the whole state. Throwing rejects that STU (reported, never fatal); `state` stays as it was.
   * Must be deterministic: every replica runs it on the same STUs.
   */
  apply(state: S | undefined, stu: Stu): S;
  /** The body of a summary STU for `state`: `apply(undefined, summaryStu)` must give the state back. */
  summarize?(state: S): Uint8Array;
}

/** A business object: one (object GUID, STU type) chain as its application built it. */
export interface BusinessObject<S = unknown> {
  id: Guid;
  type: number;
  state: S | undefined;
  /** Timestamp of the latest applied STU (summary included). */
  ts: Hlc;
  /** User GUID of the first applied STU (of the summary, once the chain is summarized). */
  owner: Guid;
  deleted: boolean;
}

export type ChangeKind = 'created' | 'updated' | 'deleted' | 'removed';

export interface ChangeEvent {
  kind: ChangeKind;
  object: BusinessObject;
}

export type RejectCode =
  | 'collision' // lost a first-wins collision to an earlier sibling
  | 'branch' // descends from a rejected STU (first-wins)
  | 'stale' // written against history a summary replaced (first-wins)
  | 'deleted' // comes after the tombstone that deleted the object
  | 'invalid'; // the application could not apply it (its error message is the reason)

export interface Rejection {
  id: string;
  object: Guid;
  type: number;
  ts: Hlc;
  code: RejectCode;
  reason: string;
}

export interface Gap {
  object: Guid;
  type: number;
  /** The preceding timestamp nobody here has an STU for. */
  missingTs: Hlc;
  /** STUs held (not applied) until it arrives. */
  heldCount: number;
}

export interface Collision {
  object: Guid;
  type: number;
  policy: Policy;
  prevTs: Hlc;
  /** The colliding STUs in resolution order: (ts, origin, seq). */
  ids: string[];
  /** 'first-wins': the applied one (ids[0]); 'merge': undefined, every one is applied. */
  winner: string | undefined;
}

/** Two different STUs with the same (origin, seq) id. The lower canonical form is kept. */
export interface Conflict {
  id: string;
  kept: string;
  dropped: string;
}

export interface ChainStatus {
  object: Guid;
  type: number;
  /** Id of the summary the chain starts from, if any. */
  base: string | undefined;
  /** Every STU up to this timestamp is applied: the latest applied one below the first gap. */
  syncedTo: Hlc;
  /** Applied STU ids in order (the base summary first when there is one). */
  applied: string[];
  held: string[];
}

export type IngestStatus =
  | 'applied'
  | 'held' // waiting for its predecessor
  | 'rejected' // see rejected()
  | 'superseded' // sorts before the chain's summary: nothing to do
  | 'pending' // no application registered for its type yet
  | 'duplicate'
  | 'conflict' // same id as a different STU: see conflicts()
  | 'ignored'; // a data STU: not chained

export interface IngestResult {
  id: string;
  status: IngestStatus;
}
