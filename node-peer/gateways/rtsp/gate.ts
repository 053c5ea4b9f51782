// At most `limit` tasks at once, the others queued in order. The RTSP players read their frames through one
// gate per server: reads run ahead of need, so they can wait, and a burst of them (viewers who started
// together reading their next window at the same moment) would otherwise hold the event loop long enough
// to make every session's frames late (measured: 20 windows of 4 s at once, 120-200 ms without the gate,
// 11-25 ms with it). A task that takes longer than `holdMs` (frames being fetched from other servers) gives
// up its place and goes on outside the gate, so it cannot stall the others.
export class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly limit: number,
    readonly holdMs = 250,
  ) {}

  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
    const timer = setTimeout(release, this.holdMs);
    try {
      signal?.throwIfAborted();
      return await task();
    } finally {
      clearTimeout(timer);
      release();
    }
  }
}
