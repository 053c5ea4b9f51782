// Fragmented MP4 from stored frames: init segments (init.ts), media segments (fragment.ts), in-band
// parameter sets (parameter-sets.ts). Isomorphic; layout in docs/MEDIA.md, "Segments and HLS".
export { av1CFromCodec, buildInit, dOpsFromOpusHead, hlsCodec, type InitTrack, packLanguage, sampleEntryType, type SampleEntryType, vpcCFromCodec } from './init.ts';
export { buildFragment, type Fragment, type FragmentSample, retimeMoof, type TrackFragment } from './fragment.ts';
export { parameterSets, type ParameterSets, startsWithParameterSet } from './parameter-sets.ts';
export { BoxWriter } from './writer.ts';
