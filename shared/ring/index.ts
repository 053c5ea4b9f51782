export * from './types.ts';
export * from './ring.ts';
export * from './memory.ts';
export { REGION_START, PREFIX_SIZE, SUPERBLOCK_SIZE } from './record.ts';
