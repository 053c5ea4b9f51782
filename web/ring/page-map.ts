// Where a byte of a section lives in IndexedDB: the superblock area (the ring's first REGION_START bytes)
// is cut into small head pages, so a checkpoint rewrites one 4 KiB value; the record region after it into
// pages of `pageSize`. Page numbers run on across both: 0 and 1 are the superblock copies, 2… the region.
import { REGION_START, SUPERBLOCK_SIZE } from '../../shared/ring/record.ts';

export interface PageLayout {
  /** Bytes at the start of the section cut into head pages. */
  headBytes: number;
  headPageSize: number;
  pageSize: number;
}

export const RING_HEAD = { headBytes: REGION_START, headPageSize: SUPERBLOCK_SIZE } as const;

export class PageMap {
  private readonly headPages: number;

  constructor(
    readonly size: number,
    readonly layout: PageLayout,
  ) {
    if (layout.headBytes % layout.headPageSize !== 0) throw new RangeError(`head of ${layout.headBytes} bytes is not whole pages of ${layout.headPageSize}`);
    this.headPages = layout.headBytes / layout.headPageSize;
  }

  pageOf(offset: number): number {
    const { headBytes, headPageSize, pageSize } = this.layout;
    return offset < headBytes ? Math.floor(offset / headPageSize) : this.headPages + Math.floor((offset - headBytes) / pageSize);
  }

  start(p: number): number {
    const { headBytes, headPageSize, pageSize } = this.layout;
    return p < this.headPages ? p * headPageSize : headBytes + (p - this.headPages) * pageSize;
  }

  /** The page's length: its page size, less where the section ends. */
  length(p: number): number {
    const full = p < this.headPages ? this.layout.headPageSize : this.layout.pageSize;
    return Math.max(0, Math.min(full, this.size - this.start(p)));
  }
}
