/**
 * Progress of several files and their total: bars redrawn in place on a TTY (stderr, so stdout stays for results).
 * Our own ~60 lines rather than a library: the layout is fixed, and nothing to install for the CLI to stay small.
 */
export interface FileProgress {
  name: string;
  total: number;
  done: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export function bytes(n: number): string {
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${UNITS[i]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${s}s`;
}

function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

export class ProgressView {
  readonly files = new Set<FileProgress>();
  private readonly started = Date.now();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly out: NodeJS.WriteStream;
  totalBytes = 0;
  /** Bytes of this run and bytes skipped (already on the server): the rate counts only what was sent. */
  sentBytes = 0;
  skippedBytes = 0;

  constructor(out: NodeJS.WriteStream) {
    this.out = out;
    this.timer = setInterval(() => this.draw(), 200);
    this.timer.unref();
  }

  /** A line that stays (a file finished, a failure), printed above the bars. */
  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw();
    this.drawn = 0;
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const width = Math.max(40, this.out.columns ?? 80);
    const lines = [...this.files].map((f) => {
      const name = f.name.length > 24 ? `…${f.name.slice(-23)}` : f.name.padEnd(24);
      const pct = f.total ? (100 * f.done) / f.total : 100;
      return `${name} ${bar(f.done / (f.total || 1), 20)} ${pct.toFixed(0).padStart(3)}% ${bytes(f.done)}/${bytes(f.total)}`;
    });
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = this.sentBytes / Math.max(elapsed, 0.001);
    const left = this.totalBytes - this.sentBytes - this.skippedBytes;
    lines.push(
      `total ${bytes(this.sentBytes + this.skippedBytes)}/${bytes(this.totalBytes)}  ${bytes(rate)}/s  ETA ${duration(left / rate)}`,
    );
    for (const line of lines) this.out.write(`${line.slice(0, width - 1)}\n`);
    this.drawn = lines.length;
  }
}
