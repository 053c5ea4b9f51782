// The media application's core: STU types, frame fields, metadata XML, ingest, and the time index.
export * from './stu-types.ts';
export * from './errors.ts';
export * from './frame.ts';
export * from './metadata.ts';
export * from './byte-source.ts';
export * from './ingest.ts';
export * from './time-index.ts';
export type { CodecConfig, ConfigFormat, ContainerName, DemuxTrack, TrackKind } from './demux/types.ts';
export { CONFIG_FORMATS } from './demux/types.ts';
export { openDemuxer, sniff } from './demux/open.ts';
export { Timeline, type TimedFrame } from './timeline.ts';
