// Byte strings joined into one (the ring's batched writes, the frame codec, fMP4 boxes, segment parts).

/** `parts` end to end in a new array; `total` when the caller already knows the length. */
export function concatBytes(parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
