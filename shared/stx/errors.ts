// One error type with a code, made by small factories (the style of shared/stu/errors.ts). Decoders return
// these in a Result and never throw; encoders and callers' mistakes throw them. Codes are listed in
// docs/PROTOCOL.md ("Error codes"): a code is part of the protocol once it travels in a Reply.
import type { Result } from '../stu/errors.ts';

export type StxErrorCode =
  // bytes: message and batch codecs
  | 'TRUNCATED'
  | 'BAD_LENGTH'
  | 'BAD_VERSION'
  | 'TOO_LARGE'
  | 'TOO_MANY'
  | 'NO_SEPARATOR'
  | 'BAD_UTF8'
  | 'DTD_REFUSED'
  | 'BAD_XML'
  | 'XML_LIMIT'
  | 'BAD_HEADER'
  | 'BAD_PARAM'
  // requests and connections
  | 'UNKNOWN_METHOD'
  | 'UNKNOWN_REPLY'
  | 'TOO_MANY_REQUESTS'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'CLOSED'
  | 'QUEUE_FULL'
  | 'BUSY'
  | 'HANDLER_FAILED'
  | 'REMOTE_ERROR'
  | 'TOO_MANY_INVALID'
  | 'UNSUPPORTED'
  // data-channel transfers (transfer.ts)
  | 'REFUSED'
  | 'NOT_FOUND'
  | 'ABORTED'
  | 'BAD_FRAME'
  // the State API (shared/api)
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'CONFLICT';

export class StxError extends Error {
  readonly code: StxErrorCode;
  /** Byte offset (inside the buffer given to the decoder) where the problem was found, when known. */
  readonly offset: number | undefined;
  /** For REMOTE_ERROR: the code the peer put in its Reply (any string; peers are not trusted). */
  readonly remoteCode: string | undefined;
  constructor(code: StxErrorCode, message: string, extra: { offset?: number; remoteCode?: string } = {}) {
    super(`${code}: ${message}`);
    this.name = 'StxError';
    this.code = code;
    this.offset = extra.offset;
    this.remoteCode = extra.remoteCode;
  }
}

export type StxResult<T> = Result<T, StxError>;

export const ok = <T>(value: T): StxResult<T> => ({ ok: true, value });
export const err = (code: StxErrorCode, message: string, offset?: number): StxError => new StxError(code, message, { offset });
export const fail = (code: StxErrorCode, message: string, offset?: number): StxResult<never> => ({ ok: false, error: err(code, message, offset) });

export const closedError = (reason: string): StxError => new StxError('CLOSED', `connection closed: ${reason}`);
export const remoteError = (code: string, reason: string): StxError =>
  new StxError('REMOTE_ERROR', `peer replied ${code}${reason ? `: ${reason}` : ''}`, { remoteCode: code });
export const isStxError = (e: unknown, code?: StxErrorCode): e is StxError => e instanceof StxError && (code === undefined || e.code === code);
