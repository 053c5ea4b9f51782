// Structured logging: one JSON object per line, quiet by default. The sink is chosen by the platform.

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(level: Level, write: (line: string) => void, base: Record<string, unknown> = {}): Logger {
  const at = (l: Exclude<Level, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (RANK[l] < RANK[level]) return;
    write(JSON.stringify({ t: new Date().toISOString(), level: l, msg, ...base, ...fields }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => createLogger(level, write, { ...base, ...fields }),
  };
}

export const silentLogger: Logger = createLogger('silent', () => undefined);

export function isLevel(s: string): s is Level {
  return s in RANK;
}
