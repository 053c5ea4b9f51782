// The method table of the signaling channel. Parameters of each method are in docs/PROTOCOL.md; a handler
// is registered per method on a SignalingConnection (connection.ts). Ack and Reply are answers, matched to
// requests by id, and are handled by the connection itself.

export const Method = {
  Hello: 'Hello',
  Register: 'Register',
  Unregister: 'Unregister',
  UpdateSTU: 'UpdateSTU',
  GetSTU: 'GetSTU',
  Peers: 'Peers',
  Offer: 'Offer',
  Servers: 'Servers',
  Ack: 'Ack',
  Reply: 'Reply',
} as const;
export type MethodName = (typeof Method)[keyof typeof Method];

export interface MethodSpec {
  /** request: carries an id, answered by Reply or Ack; one-way: no id; either: an id asks for an Ack. */
  kind: 'request' | 'one-way' | 'either' | 'answer';
  /** Where the handler lives. */
  handledIn: 'stx' | 'sync';
}

export const METHODS: Record<MethodName, MethodSpec> = {
  Hello: { kind: 'request', handledIn: 'sync' },
  Register: { kind: 'request', handledIn: 'sync' },
  Unregister: { kind: 'one-way', handledIn: 'sync' },
  UpdateSTU: { kind: 'either', handledIn: 'sync' },
  GetSTU: { kind: 'request', handledIn: 'sync' },
  Peers: { kind: 'one-way', handledIn: 'sync' },
  Offer: { kind: 'request', handledIn: 'sync' },
  Servers: { kind: 'request', handledIn: 'sync' },
  Ack: { kind: 'answer', handledIn: 'stx' },
  Reply: { kind: 'answer', handledIn: 'stx' },
};

/** Answers are matched to requests by the connection; no handler may be registered for them. */
export const isAnswer = (method: string): boolean => method === Method.Ack || method === Method.Reply;
