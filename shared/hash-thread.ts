import { Worker } from 'node:worker_threads';

/**
 * SHA-256 on a thread of its own, so hashing a stream overlaps with receiving it: on the main thread the two
 * take turns, and the socket waits while the hash runs. Bytes are copied into batches whose memory moves to the
 * thread (no second copy); at most MAX_IN_FLIGHT bytes are on their way, so a fast network cannot outrun it.
 */

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'update') {
    let hash = jobs.get(m.id);
    if (!hash) jobs.set(m.id, (hash = createHash('sha256')));
    hash.update(new Uint8Array(m.buf, 0, m.length));
    parentPort.postMessage({ id: m.id, ack: m.length, buf: m.buf }, [m.buf]);
  } else if (m.op === 'digest') {
    const hash = jobs.get(m.id) ?? createHash('sha256');
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
  } else if (m.op === 'drop') {
    jobs.delete(m.id);
  }
});
`;

const BATCH_BYTES = 1024 * 1024;
const MAX_IN_FLIGHT = 8 * BATCH_BYTES;

interface Job {
  acked(bytes: number, buf: ArrayBuffer): void;
  digested(hex: string): void;
  failed(err: Error): void;
}

let thread: Worker | undefined;
const jobs = new Map<number, Job>();
let nextId = 1;

function hashThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(SOURCE, { eval: true });
  worker.unref(); // an idle hashing thread must not keep the process alive
  worker.on('message', (m: { id: number; ack?: number; buf?: ArrayBuffer; hex?: string }) => {
    const job = jobs.get(m.id);
    if (m.ack !== undefined && m.buf) job?.acked(m.ack, m.buf);
    if (m.hex !== undefined) job?.digested(m.hex);
  });
  const fail = (err: Error) => {
    thread = undefined;
    for (const job of jobs.values()) job.failed(err);
    jobs.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the hashing thread exited with code ${code}`)));
  thread = worker;
  return worker;
}

/** An incremental SHA-256 computed on the hashing thread. */
export class ThreadedSha256 {
  private readonly id = nextId++;
  private readonly worker = hashThread();
  private batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  /**
   * Batches come back with their acknowledgement and are filled again: a stream of gigabytes allocates a handful of
   * them, instead of a new one per megabyte left for the thread's rare garbage collections to free.
   */
  private readonly spare: ArrayBuffer[] = [];
  private filled = 0;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private error: Error | undefined;
  private result: ((hex: string) => void) | undefined;

  constructor() {
    jobs.set(this.id, {
      acked: (bytes, buf) => {
        this.inFlight -= bytes;
        this.spare.push(buf);
        for (const wake of this.waiters.splice(0)) wake();
      },
      digested: (hex) => this.result?.(hex),
      failed: (err) => {
        this.error = err;
        for (const wake of this.waiters.splice(0)) wake();
        this.result?.('');
      },
    });
  }

  /** Resolves once the bytes are handed over and the thread is not too far behind. */
  async update(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length;) {
      const take = Math.min(BATCH_BYTES - this.filled, data.length - at);
      data.copy(this.batch, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === BATCH_BYTES) await this.send();
    }
  }

  async digest(): Promise<string> {
    if (this.filled > 0) await this.send();
    this.throwIfFailed();
    const hex = await new Promise<string>((resolve) => {
      this.result = resolve;
      this.worker.postMessage({ op: 'digest', id: this.id });
    });
    jobs.delete(this.id);
    this.throwIfFailed();
    return hex;
  }

  /** Forgets an abandoned hash (the stream failed). */
  discard(): void {
    jobs.delete(this.id);
    this.worker.postMessage({ op: 'drop', id: this.id });
  }

  /**
   * The free end of the batch being filled, for a socket to read straight into (no copy, no allocation); the bytes
   * count once passed to commit().
   */
  space(): Buffer {
    return this.batch.subarray(this.filled);
  }

  /** Counts n bytes written into space(); false when the thread is too far behind: wait for drained(). */
  commit(n: number): boolean {
    this.filled += n;
    if (this.filled === BATCH_BYTES) this.hand();
    return this.inFlight <= MAX_IN_FLIGHT;
  }

  /** Resolves once the thread has caught up (or failed: the next call says so). */
  async drained(): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT && !this.error) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private async send(): Promise<void> {
    this.hand();
    await this.drained();
  }

  private hand(): void {
    this.throwIfFailed();
    // The batch owns its whole ArrayBuffer (allocUnsafeSlow, or one returned), so it can be transferred, not copied.
    const buf = this.batch.buffer as ArrayBuffer;
    this.inFlight += this.filled;
    this.worker.postMessage({ op: 'update', id: this.id, buf, length: this.filled }, [buf]);
    const reuse = this.spare.pop();
    this.batch = reuse ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.filled = 0;
  }

  private throwIfFailed(): void {
    if (this.error) throw this.error;
  }
}
