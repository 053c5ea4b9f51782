// Every fuzz target, in the order of the summary.
import type { Target } from '../lib/harness.ts';
import { apiTarget, wsFramesTarget } from './api.ts';
import { codecTargets } from './codecs.ts';
import { mediaTargets } from './media.ts';
import { netTargets } from './net.ts';
import { rtspParser } from './rtsp.ts';

export const TARGETS: Target[] = [...codecTargets, apiTarget, wsFramesTarget, ...mediaTargets, rtspParser, ...netTargets];
