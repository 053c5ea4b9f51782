// Samples of one movie fragment (moof: traf, tfhd, tfdt, trun), ISO/IEC 14496-12 §8.8. Parsed here rather
// than by mp4box: a few fields, every count checked against the bytes that are there.
import { corrupt } from '../errors.ts';
import { childBoxes } from './boxes.ts';
import type { SampleInfo } from './mp4-tables.ts';

export interface TrackDefaults {
  duration: number;
  size: number;
  flags: number;
}

/** A sample of a fragment: the same facts as a sample-table sample, and its track. */
export interface FragmentSample extends SampleInfo {
  trackId: number;
}

const NON_SYNC = 0x10000;

/**
 * Lists the samples of the moof box `moof` (its whole bytes) found at file offset `moofStart`.
 * `nextDts` holds each track's decode time after the previous fragment (used when tfdt is absent) and is
 * updated. Tracks not in `defaults` are skipped. A fragment lists at most `maxSamples` samples (the file's
 * size: a trun without per-sample fields costs 8 bytes whatever its count).
 */
export function fragmentSamples(
  moof: Uint8Array,
  moofStart: number,
  defaults: ReadonlyMap<number, TrackDefaults>,
  nextDts: Map<number, number>,
  maxSamples = Infinity,
): FragmentSample[] {
  const out: FragmentSample[] = [];
  const v = new DataView(moof.buffer, moof.byteOffset, moof.length);
  const hdr = moof.length >= 8 && v.getUint32(0) === 1 ? 16 : 8;
  let prevTrafEnd = moofStart;
  for (const traf of childBoxes(moof, hdr, moof.length, 0)) {
    if (traf.type !== 'traf') continue;
    const trafEnd = traf.start + traf.size;
    let tfhd: { trackId: number; flags: number; base?: number; duration?: number; size?: number; sampleFlags?: number } | undefined;
    let tfdt: number | undefined;
    const truns: Array<{ start: number; end: number }> = [];
    for (const b of childBoxes(moof, traf.start + traf.hdr, trafEnd, 0)) {
      const p = b.start + b.hdr;
      const end = b.start + b.size;
      if (b.type === 'tfhd') {
        if (end - p < 8) throw corrupt(`tfhd too short in moof at ${moofStart}`);
        const flags = v.getUint32(p) & 0xffffff;
        let at = p + 8;
        const need = (n: number) => {
          if (at + n > end) throw corrupt(`tfhd fields cut in moof at ${moofStart}`);
          const r = at;
          at += n;
          return r;
        };
        const h: NonNullable<typeof tfhd> = { trackId: v.getUint32(p + 4), flags };
        if (flags & 0x1) h.base = Number(v.getBigUint64(need(8)));
        if (flags & 0x2) need(4);
        if (flags & 0x8) h.duration = v.getUint32(need(4));
        if (flags & 0x10) h.size = v.getUint32(need(4));
        if (flags & 0x20) h.sampleFlags = v.getUint32(need(4));
        tfhd = h;
      } else if (b.type === 'tfdt') {
        if (end - p < 8) throw corrupt(`tfdt too short in moof at ${moofStart}`);
        const version = v.getUint8(p);
        if (version === 1) {
          if (end - p < 12) throw corrupt(`tfdt too short in moof at ${moofStart}`);
          tfdt = Number(v.getBigUint64(p + 4));
        } else tfdt = v.getUint32(p + 4);
      } else if (b.type === 'trun') {
        truns.push({ start: p, end });
      }
    }
    if (!tfhd) throw corrupt(`traf without tfhd in moof at ${moofStart}`);
    const def = defaults.get(tfhd.trackId);
    if (!def) continue; // a track we do not ingest
    const base = tfhd.base !== undefined ? tfhd.base : tfhd.flags & 0x20000 ? moofStart : prevTrafEnd;
    let dataPos = base;
    let dts = tfdt ?? nextDts.get(tfhd.trackId) ?? 0;
    for (const r of truns) {
      if (r.end - r.start < 8) throw corrupt(`trun too short in moof at ${moofStart}`);
      const flags = v.getUint32(r.start) & 0xffffff;
      const count = v.getUint32(r.start + 4);
      let at = r.start + 8;
      if (flags & 0x1) {
        if (at + 4 > r.end) throw corrupt(`trun cut in moof at ${moofStart}`);
        dataPos = base + v.getInt32(at);
        at += 4;
      }
      let firstFlags: number | undefined;
      if (flags & 0x4) {
        if (at + 4 > r.end) throw corrupt(`trun cut in moof at ${moofStart}`);
        firstFlags = v.getUint32(at);
        at += 4;
      }
      const per = ((flags & 0x100) !== 0 ? 4 : 0) + ((flags & 0x200) !== 0 ? 4 : 0) + ((flags & 0x400) !== 0 ? 4 : 0) + ((flags & 0x800) !== 0 ? 4 : 0);
      if (count * per > r.end - at) throw corrupt(`trun of ${count} samples does not fit its box in moof at ${moofStart}`);
      if (per === 0 && count > 1e7) throw corrupt(`trun of ${count} samples in moof at ${moofStart}`);
      if (out.length + count > maxSamples) throw corrupt(`trun of ${count} samples in moof at ${moofStart}: more samples than the file has bytes`);
      for (let i = 0; i < count; i++) {
        const duration = flags & 0x100 ? v.getUint32((at += 4) - 4) : (tfhd.duration ?? def.duration);
        const size = flags & 0x200 ? v.getUint32((at += 4) - 4) : (tfhd.size ?? def.size);
        let sflags = flags & 0x400 ? v.getUint32((at += 4) - 4) : (tfhd.sampleFlags ?? def.flags);
        if (i === 0 && firstFlags !== undefined) sflags = firstFlags;
        const cto = flags & 0x800 ? v.getInt32((at += 4) - 4) : 0; // v0 is unsigned on paper; read signed like everyone
        out.push({ trackId: tfhd.trackId, offset: dataPos, size, dts, cts: dts + cto, duration, key: (sflags & NON_SYNC) === 0 });
        dataPos += size;
        dts += duration;
      }
    }
    nextDts.set(tfhd.trackId, dts);
    prevTrafEnd = dataPos;
  }
  return out;
}
