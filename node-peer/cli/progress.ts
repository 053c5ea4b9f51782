// A progress bar on stderr for long work (ingest, sync, benchmarks). Quiet when stderr is not a terminal,
// except for a final line, unless forced.

export interface Progress {
  update(done: number, total: number, note?: string): void;
  finish(note?: string): void;
}

export function progressBar(label: string, opts: { stream?: NodeJS.WriteStream; force?: boolean; unit?: 'bytes' | 'STUs' } = {}): Progress {
  const out = opts.stream ?? process.stderr;
  const live = opts.force || out.isTTY;
  const start = performance.now();
  let last = 0;
  let lastLine = '';
  const render = (done: number, total: number, note = '') => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 28;
    const fill = Math.round(frac * width);
    const secs = (performance.now() - start) / 1000;
    const bar = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(1).padStart(5)}%`;
    if (opts.unit === 'STUs') return `${bar} ${done}/${total} STUs ${Math.round(secs > 0 ? done / secs : 0)}/s ${note}`;
    const rate = secs > 0 ? done / secs / 1048576 : 0;
    return `${bar} ${mib(done)}/${mib(total)} MiB ${rate.toFixed(1)} MiB/s ${note}`;
  };
  return {
    update(done, total, note) {
      lastLine = render(done, total, note);
      const now = performance.now();
      if (!live || now - last < 100) return;
      last = now;
      out.write(`\r${lastLine}\x1b[K`);
    },
    finish(note) {
      const line = note ? `${label}: ${note}` : lastLine;
      out.write(live ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}

const mib = (n: number) => (n / 1048576).toFixed(1);
