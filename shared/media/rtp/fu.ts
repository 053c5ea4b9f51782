// Fragmentation units, shared by H.264 FU-A (RFC 6184 §5.8) and H.265 FU (RFC 7798 §4.4.3): the NAL
// header (`skip` bytes) is replaced by `prefix` (the payload header), each fragment carries an FU header
// (start bit, end bit, the NAL type) and at most `maxPayload` bytes in all.
export function fragmentNal(nal: Uint8Array, skip: number, prefix: readonly number[], type: number, maxPayload: number): Uint8Array[] {
  const head = prefix.length + 1;
  const chunk = maxPayload - head;
  const out: Uint8Array[] = [];
  for (let off = skip; off < nal.length; off += chunk) {
    const end = Math.min(nal.length, off + chunk);
    const p = new Uint8Array(head + end - off);
    p.set(prefix);
    p[prefix.length] = (off === skip ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
    p.set(nal.subarray(off, end), head);
    out.push(p);
  }
  return out;
}
