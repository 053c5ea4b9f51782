// A growable big-endian byte writer with nested ISO BMFF boxes: `box('moov', () => ...)` writes the header,
// runs the body, then patches the size. For init segments and other cold paths; the media-segment hot path
// (fragment.ts) writes into one buffer of exactly computed size instead.

export class BoxWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }

  i16(v: number): this {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }

  u24(v: number): this {
    return this.u8((v >>> 16) & 0xff).u16(v & 0xffff);
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  u64(v: number): this {
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(v / 2 ** 32));
    this.view.setUint32(this.pos + 4, v >>> 0);
    this.pos += 8;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Four ASCII characters. */
  fourcc(s: string): this {
    if (s.length !== 4) throw new TypeError(`not a four-character code: ${s}`);
    for (let i = 0; i < 4; i++) this.u8(s.charCodeAt(i));
    return this;
  }

  /** A box: 32-bit size, type, then whatever `body` writes. */
  box(type: string, body: () => void): this {
    const start = this.pos;
    this.u32(0).fourcc(type);
    body();
    this.view.setUint32(start, this.pos - start);
    return this;
  }

  /** A full box: a box whose body starts with version (u8) and flags (u24). */
  fullBox(type: string, version: number, flags: number, body: () => void = () => undefined): this {
    return this.box(type, () => {
      this.u8(version).u24(flags);
      body();
    });
  }

  /** The bytes written (a copy, trimmed). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
