// One error type for the media application, with a code, made by small factories. Demuxers, the metadata
// parser and ingest return or throw only these; anything thrown from inside a library is wrapped.

export type MediaErrorCode =
  | 'NOT_MEDIA' // not a container we know (random bytes, a text file)
  | 'UNSUPPORTED' // a container or codec we do not ingest
  | 'TRUNCATED' // the file ends before its own structure says it does
  | 'CORRUPT' // the structure contradicts itself (bad sizes, tables, timestamps)
  | 'TOO_LARGE' // a box, element or frame over a cap
  | 'BAD_XML' // a metadata body that is not well-formed XML, or uses a DTD
  | 'BAD_METADATA' // well-formed XML that is not a media metadata command
  | 'BAD_FRAME' // a frame STU whose type-specific area does not decode
  | 'BAD_INPUT' // a caller mistake (title too long, bad option)
  | 'IO' // the byte source failed
  | 'SINK' // the ring (or sink) refused an STU
  | 'ABORTED';

export class MediaError extends Error {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'MediaError';
    this.code = code;
  }
}

export const isMediaError = (e: unknown): e is MediaError => e instanceof MediaError;

export const notMedia = (what: string) => new MediaError('NOT_MEDIA', `not a media file (${what})`);
export const unsupported = (what: string) => new MediaError('UNSUPPORTED', what);
export const unsupportedCodec = (codec: string, track: number) =>
  new MediaError('UNSUPPORTED', `unsupported codec ${codec} (track ${track})`);
export const truncated = (what: string) => new MediaError('TRUNCATED', `file is truncated: ${what}`);
export const corrupt = (what: string) => new MediaError('CORRUPT', what);
export const tooLarge = (what: string) => new MediaError('TOO_LARGE', what);

/** Wraps anything thrown by a library (or by us) into a MediaError with `code`, keeping MediaErrors as they are. */
export function asMediaError(e: unknown, code: MediaErrorCode, context: string): MediaError {
  if (e instanceof MediaError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new MediaError(code, `${context}: ${msg}`, { cause: e });
}
