// One error type with a code, made by small factories. Decoders return these; they never throw from deep inside.

export type StuErrorCode =
  | 'TRUNCATED'
  | 'BAD_MAGIC'
  | 'BAD_VERSION'
  | 'BAD_HEADER_LENGTH'
  | 'BAD_HEADER_CHECKSUM'
  | 'BAD_BODY_CHECKSUM'
  | 'TOO_LARGE'
  | 'BAD_FIELD';

export class StuError extends Error {
  readonly code: StuErrorCode;
  /** Byte offset (inside the buffer given to the decoder) where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(code: StuErrorCode, message: string, offset?: number) {
    super(`${code}: ${message}`);
    this.name = 'StuError';
    this.code = code;
    this.offset = offset;
  }
}

export type Result<T, E = StuError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const fail = (code: StuErrorCode, message: string, offset?: number): Result<never> => ({
  ok: false,
  error: new StuError(code, message, offset),
});
