export * from './admission.ts';
export * from './held.ts';
export * from './hub.ts';
export * from './session.ts';
export * from './store.ts';
export * from './wire.ts';
export * from './discovery.ts';
