export * from './crc32c.ts';
export * from './errors.ts';
export * from './guid.ts';
export * from './header.ts';
export * from './hlc.ts';
export * from './origin.ts';
