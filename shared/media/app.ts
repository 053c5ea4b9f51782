// The media application as the business-object engine sees it: a MEDIA_META chain is a media object whose
// state is its metadata. Each metadata STU carries the whole document; the latest applied one wins.
import type { StateApp } from '../state/types.ts';
import { encodeMetadata, type MediaMetadata, parseMetadataOrThrow } from './metadata.ts';
import { MEDIA_META } from './stu-types.ts';

export const mediaApp: StateApp<MediaMetadata> = {
  types: [MEDIA_META],
  policy: 'first-wins',
  apply(_state, stu) {
    const m = parseMetadataOrThrow(stu.body);
    if (m.id !== stu.header.object) throw new Error(`metadata of ${m.id} in an STU of object ${stu.header.object}`);
    return m;
  },
  summarize: (state) => encodeMetadata(state),
};
