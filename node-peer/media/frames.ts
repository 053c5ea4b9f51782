// Where the gateways (HLS, RTSP) get media from: the node's ring and time index, through the isomorphic
// RingMediaSource (shared/media/frame-source.ts, also used by the in-tab demo's servers). Frames not held
// here are asked for through `fetchMissing` (data discovery across servers) and waited for up to `waitMs`;
// then the request fails with MediaUnavailableError, which a gateway turns into a clear error (HTTP 504,
// RTSP 504).
import { RingMediaSource, type RingMediaSourceOptions } from '../../shared/media/frame-source.ts';
import type { StateNode } from '../node.ts';

export { type Frame, type MediaSource, MediaUnavailableError, type Play } from '../../shared/media/frame-source.ts';

export type NodeMediaSourceOptions = RingMediaSourceOptions;

export class NodeMediaSource extends RingMediaSource {
  constructor(node: StateNode, opts: NodeMediaSourceOptions = {}) {
    super({ index: node.index, ring: node.ring }, opts);
  }
}
