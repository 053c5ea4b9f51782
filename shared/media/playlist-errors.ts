// One error type for the playlist, channel and usage commands: parsing their XML (untrusted bytes from any
// server) and editing the objects (a user's request). The HTTP API turns the code into a status.

export type CommandErrorCode =
  | 'BAD_XML' // not well-formed, a DTD or an entity, a comment, over an element or depth limit
  | 'BAD_COMMAND' // well-formed XML that is not a valid command (unknown op, bad attribute, wrong object)
  | 'TOO_LARGE' // a body over the size limit, or a playlist or channel over its count limit
  | 'BAD_INPUT' // a request that cannot be written as a command (start ≥ end, unknown media, bad name)
  | 'NOT_FOUND' // the playlist or channel the request is about does not exist (or was deleted)
  | 'NAME_TAKEN' // a channel of that name exists
  | 'REJECTED'; // written, but the engine refused it (a concurrent change won)

export class CommandError extends Error {
  readonly code: CommandErrorCode;
  constructor(code: CommandErrorCode, message: string) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
  }
}

export const isCommandError = (e: unknown, code?: CommandErrorCode): e is CommandError =>
  e instanceof CommandError && (code === undefined || e.code === code);

export const badInput = (msg: string): CommandError => new CommandError('BAD_INPUT', msg);
export const notFound = (msg: string): CommandError => new CommandError('NOT_FOUND', msg);
export const badCommand = (msg: string): CommandError => new CommandError('BAD_COMMAND', msg);
