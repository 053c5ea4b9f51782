// A media segment of a fragmented MP4: moof (mfhd, then per track a traf: tfhd with default-base-is-moof,
// tfdt version 1, trun version 1 with each sample's duration, size, flags and signed composition offset)
// and one mdat with the tracks' samples, each track's contiguous, in traf order. Written into one buffer
// whose size is computed first: no growing, one copy of each sample's bytes.

/** One sample of a track fragment. */
export interface FragmentSample {
  /** The sample's bytes, copied verbatim into the mdat. */
  data: Uint8Array;
  /** Ticks until the next sample's decode time. */
  duration: number;
  /** Presentation minus decode time, ticks (may be negative: trun version 1). */
  cto: number;
  /** A sync sample (key frame). */
  key: boolean;
  /** Bytes written before `data` (in-band parameter sets), counted in the sample's size. */
  prefix?: Uint8Array;
}

export interface TrackFragment {
  /** track_ID, as in the init segment's tkhd/trex. */
  id: number;
  /** Decode time of the first sample, in the track's timescale (tfdt). Never negative. */
  baseDecodeTime: number;
  samples: readonly FragmentSample[];
}

export interface Fragment {
  /** moof + mdat. */
  bytes: Uint8Array;
  /** Size of the moof box: the mdat starts there. */
  moofSize: number;
  /** Byte offset of each traf's tfdt baseMediaDecodeTime (u64), in traf order: patched to retime a segment. */
  tfdtOffsets: number[];
  /** Byte offset of mfhd's sequence_number (u32). */
  sequenceOffset: number;
}

// sample_depends_on = 2 (an I frame); sample_depends_on = 1 and sample_is_non_sync_sample.
const FLAGS_SYNC = 0x0200_0000;
const FLAGS_NON_SYNC = 0x0101_0000;
// trun: data-offset, sample-duration, sample-size, sample-flags, sample-composition-time-offset present.
const TRUN_FLAGS = 0x000f01;
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;

const U32 = 0xffff_ffff;

/** Builds moof + mdat. `sequence` is mfhd's sequence_number (1, 2, ...). Throws TypeError on impossible input. */
export function buildFragment(sequence: number, tracks: readonly TrackFragment[]): Fragment {
  let moofSize = 8 + 16; // moof header, mfhd
  let dataSize = 0;
  for (const t of tracks) {
    moofSize += 8 + 16 + 20 + 20 + 16 * t.samples.length; // traf, tfhd, tfdt v1, trun header + count + data_offset
    for (const s of t.samples) dataSize += s.data.length + (s.prefix?.length ?? 0);
  }
  const mdatHeader = 8 + dataSize > U32 ? 16 : 8;
  const total = moofSize + mdatHeader + dataSize;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  const tfdtOffsets: number[] = [];
  let p = 0;
  const head = (size: number, type: number) => {
    v.setUint32(p, size);
    v.setUint32(p + 4, type);
    p += 8;
  };

  head(moofSize, 0x6d6f6f66); // 'moof'
  head(16, 0x6d666864); // 'mfhd'
  v.setUint32(p, 0);
  v.setUint32(p + 4, sequence >>> 0);
  const sequenceOffset = p + 4;
  p += 8;

  let dataAt = moofSize + mdatHeader; // where this track's first sample goes, from the moof's first byte
  for (const t of tracks) {
    if (!Number.isSafeInteger(t.baseDecodeTime) || t.baseDecodeTime < 0) throw new TypeError(`track ${t.id}: decode time ${t.baseDecodeTime} is not a non-negative integer`);
    const n = t.samples.length;
    head(8 + 16 + 20 + 20 + 16 * n, 0x74726166); // 'traf'
    head(16, 0x74666864); // 'tfhd'
    v.setUint32(p, TFHD_DEFAULT_BASE_IS_MOOF); // version 0, flags
    v.setUint32(p + 4, t.id);
    p += 8;
    head(20, 0x74666474); // 'tfdt'
    v.setUint32(p, 0x0100_0000); // version 1
    tfdtOffsets.push(p + 4);
    v.setUint32(p + 4, Math.floor(t.baseDecodeTime / 2 ** 32));
    v.setUint32(p + 8, t.baseDecodeTime >>> 0);
    p += 12;
    head(20 + 16 * n, 0x7472756e); // 'trun'
    v.setUint32(p, 0x0100_0000 | TRUN_FLAGS); // version 1
    v.setUint32(p + 4, n);
    v.setInt32(p + 8, dataAt);
    p += 12;
    for (const s of t.samples) {
      const size = s.data.length + (s.prefix?.length ?? 0);
      v.setUint32(p, s.duration);
      v.setUint32(p + 4, size);
      v.setUint32(p + 8, s.key ? FLAGS_SYNC : FLAGS_NON_SYNC);
      v.setInt32(p + 12, s.cto);
      p += 16;
      dataAt += size;
    }
  }

  if (mdatHeader === 8) head(8 + dataSize, 0x6d646174); // 'mdat'
  else {
    v.setUint32(p, 1);
    v.setUint32(p + 4, 0x6d646174);
    v.setUint32(p + 8, Math.floor((16 + dataSize) / 2 ** 32));
    v.setUint32(p + 12, (16 + dataSize) >>> 0);
    p += 16;
  }
  for (const t of tracks) {
    for (const s of t.samples) {
      if (s.prefix) {
        out.set(s.prefix, p);
        p += s.prefix.length;
      }
      out.set(s.data, p);
      p += s.data.length;
    }
  }
  return { bytes: out, moofSize, tfdtOffsets, sequenceOffset };
}

/**
 * A copy of a fragment's moof with each traf's decode time moved by `delta[i]` ticks and a new sequence
 * number: the mdat is unchanged, so the caller sends [moof, fragment.bytes.subarray(moofSize)].
 */
export function retimeMoof(f: Fragment, delta: readonly number[], sequence: number): Uint8Array {
  const moof = f.bytes.slice(0, f.moofSize);
  const v = new DataView(moof.buffer);
  v.setUint32(f.sequenceOffset, sequence >>> 0);
  f.tfdtOffsets.forEach((at, i) => {
    const t = v.getUint32(at) * 2 ** 32 + v.getUint32(at + 4) + (delta[i] ?? 0);
    if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`retimed decode time ${t} out of range`);
    v.setUint32(at, Math.floor(t / 2 ** 32));
    v.setUint32(at + 4, t >>> 0);
  });
  return moof;
}
