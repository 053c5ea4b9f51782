// The live records of a section, oldest first: a growable circular queue of (offset, recSeq, size, kind).

export const enum Kind {
  Record = 0,
  Wrap = 1,
  Corrupt = 2,
}

export class RecordQueue {
  private off = new Float64Array(1024);
  private seq = new Float64Array(1024);
  private size = new Uint32Array(1024);
  private kind = new Uint8Array(1024);
  private start = 0;
  length = 0;

  push(offset: number, recSeq: number, size: number, kind: Kind): void {
    if (this.length === this.off.length) this.grow();
    const i = (this.start + this.length) % this.off.length;
    this.off[i] = offset;
    this.seq[i] = recSeq;
    this.size[i] = size;
    this.kind[i] = kind;
    this.length++;
  }

  shift(): void {
    this.start = (this.start + 1) % this.off.length;
    this.length--;
  }

  offsetAt(k: number): number {
    return this.off[(this.start + k) % this.off.length];
  }
  recSeqAt(k: number): number {
    return this.seq[(this.start + k) % this.off.length];
  }
  sizeAt(k: number): number {
    return this.size[(this.start + k) % this.off.length];
  }
  kindAt(k: number): Kind {
    return this.kind[(this.start + k) % this.off.length];
  }

  setKind(k: number, kind: Kind): void {
    this.kind[(this.start + k) % this.off.length] = kind;
  }

  /** Index of the record with this recSeq, by binary search (recSeqs grow along the queue). */
  find(recSeq: number): number {
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.recSeqAt(mid);
      if (s === recSeq) return mid;
      if (s < recSeq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private grow(): void {
    const n = this.off.length * 2;
    const remap = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, b: T): T => {
      for (let k = 0; k < this.length; k++) b[k] = a[(this.start + k) % a.length];
      return b;
    };
    this.off = remap(this.off, new Float64Array(n));
    this.seq = remap(this.seq, new Float64Array(n));
    this.size = remap(this.size, new Uint32Array(n));
    this.kind = remap(this.kind, new Uint8Array(n));
    this.start = 0;
  }
}
