// The business-object engine: chains, gaps, collisions, summaries, tombstones, the object-cache snapshot.
export * from './types.ts';
export * from './order.ts';
export * from './resolve.ts';
export * from './chain.ts';
export * from '../util/emitter.ts';
export * from './errors.ts';
export * from './snapshot.ts';
export * from './engine.ts';
